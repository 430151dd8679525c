package userpilottest

import (
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"time"
)

// Error codes the sandbox answers with. Userpilot documents the body shape,
// not its codes; these are the sandbox's.
const (
	CodeInvalidJSON      = "invalid_json"
	CodeMissingUserID    = "missing_user_id"
	CodeMissingCompanyID = "missing_company_id"
	CodeMissingEventName = "missing_event_name"
	CodeInvalidMetadata  = "invalid_metadata"
	CodeUserNotFound     = "user_not_found"
	CodeTooManyRecords   = "too_many_records"
	CodeJobInProgress    = "job_in_progress"
	CodeJobNotFound      = "job_not_found"
)

// badInput is a 400 with the documented error body.
type badInput struct{ code, msg, details string }

func (b *badInput) write(w http.ResponseWriter) {
	writeError(w, http.StatusBadRequest, "Bad Request", b.code, b.msg, b.details)
}

func decodeObject(body []byte) (map[string]any, *badInput) {
	var m map[string]any
	if err := json.Unmarshal(body, &m); err != nil || m == nil {
		return nil, &badInput{CodeInvalidJSON, "request body must be a JSON object", ""}
	}
	return m, nil
}

// requiredString reads a non-empty string field.
func requiredString(m map[string]any, key, where, code string) (string, *badInput) {
	v, ok := m[key].(string)
	if !ok || v == "" {
		return "", &badInput{code, key + " is required and must be a non-empty string", where + key}
	}
	return v, nil
}

// metadataOf validates that m[key] is absent, null or an object of
// primitives (string, number, boolean, null).
func metadataOf(m map[string]any, key, where string) (map[string]any, *badInput) {
	raw, ok := m[key]
	if !ok || raw == nil {
		return nil, nil
	}
	md, ok := raw.(map[string]any)
	if !ok {
		return nil, &badInput{CodeInvalidMetadata, key + " must be an object", where + key}
	}
	for _, k := range slices.Sorted(maps.Keys(md)) {
		if bad := checkPrimitive(md[k], where+key+"."+k); bad != nil {
			return nil, bad
		}
	}
	return md, nil
}

// recordOf reads what every identify record carries: its non-empty id
// (m[idKey], missingCode when absent) and its optional metadata object.
func recordOf(m map[string]any, idKey, where, missingCode string) (string, map[string]any, *badInput) {
	id, bad := requiredString(m, idKey, where, missingCode)
	if bad != nil {
		return "", nil, bad
	}
	md, bad := metadataOf(m, "metadata", where)
	if bad != nil {
		return "", nil, bad
	}
	return id, md, nil
}

func checkPrimitive(v any, where string) *badInput {
	switch v.(type) {
	case nil, string, float64, bool:
		return nil
	}
	return &badInput{CodeInvalidMetadata, "metadata values must be strings, numbers, booleans or null", where}
}

func (s *Server) handleIdentify(w http.ResponseWriter, r *http.Request) {
	m, bad := decodeObject(bodyOf(r))
	if bad != nil {
		bad.write(w)
		return
	}
	uid, md, bad := recordOf(m, "user_id", "", CodeMissingUserID)
	if bad != nil {
		bad.write(w)
		return
	}
	var cid string
	var cmd map[string]any
	if raw, ok := m["company"]; ok && raw != nil {
		co, ok := raw.(map[string]any)
		if !ok {
			(&badInput{CodeMissingCompanyID, "company must be an object", "company"}).write(w)
			return
		}
		keys := []string{"id", "company_id"}
		if s.opts.IdentifyCompanyKey != "" {
			keys = []string{s.opts.IdentifyCompanyKey}
		}
		for _, k := range keys {
			if v, ok := co[k].(string); ok && v != "" {
				cid = v
				break
			}
		}
		if cid == "" {
			(&badInput{CodeMissingCompanyID, "company must have a non-empty " + keys[0], "company." + keys[0]}).write(w)
			return
		}
		cmd = map[string]any{}
		for k, v := range co {
			if slices.Contains(keys, k) {
				continue
			}
			if bad := checkPrimitive(v, "company."+k); bad != nil {
				bad.write(w)
				return
			}
			cmd[k] = v
		}
	}
	if !isEmpty2xx(r) {
		s.mu.Lock()
		now := s.now()
		s.upsertUser(uid, cid, md, now)
		if cid != "" {
			s.upsertCompany(cid, cmd, now)
		}
		s.mu.Unlock()
	}
	w.WriteHeader(http.StatusAccepted)
}

func (s *Server) handleCompaniesIdentify(w http.ResponseWriter, r *http.Request) {
	m, bad := decodeObject(bodyOf(r))
	if bad != nil {
		bad.write(w)
		return
	}
	cid, md, bad := recordOf(m, "company_id", "", CodeMissingCompanyID)
	if bad != nil {
		bad.write(w)
		return
	}
	if !isEmpty2xx(r) {
		s.mu.Lock()
		s.upsertCompany(cid, md, s.now())
		s.mu.Unlock()
	}
	w.WriteHeader(http.StatusAccepted)
}

func (s *Server) handleTrack(w http.ResponseWriter, r *http.Request) {
	m, bad := decodeObject(bodyOf(r))
	if bad != nil {
		bad.write(w)
		return
	}
	uid, bad := requiredString(m, "user_id", "", CodeMissingUserID)
	if bad != nil {
		bad.write(w)
		return
	}
	name, bad := requiredString(m, "event_name", "", CodeMissingEventName)
	if bad != nil {
		bad.write(w)
		return
	}
	md, bad := metadataOf(m, "metadata", "")
	if bad != nil {
		bad.write(w)
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.users[uid]; !ok {
		(&badInput{CodeUserNotFound, "user must be identified before events are tracked", "user_id"}).write(w)
		return
	}
	if !isEmpty2xx(r) {
		s.events = append(s.events, Event{UserID: uid, Name: name, Metadata: cloneMap(md), At: s.now()})
	}
	w.WriteHeader(http.StatusAccepted)
}

// upsertUser merges md into the user (null removes a property, unless
// Options.NullIgnored). Callers hold s.mu.
func (s *Server) upsertUser(id, companyID string, md map[string]any, now time.Time) {
	u, ok := s.users[id]
	if !ok {
		u = &User{ID: id, Metadata: map[string]any{}, CreatedAt: now}
		s.users[id] = u
	}
	s.mergeInto(u.Metadata, md)
	if companyID != "" {
		u.CompanyID = companyID
	}
	u.UpdatedAt = now
}

func (s *Server) upsertCompany(id string, md map[string]any, now time.Time) {
	c, ok := s.companies[id]
	if !ok {
		c = &Company{ID: id, Metadata: map[string]any{}, CreatedAt: now}
		s.companies[id] = c
	}
	s.mergeInto(c.Metadata, md)
	c.UpdatedAt = now
}

func (s *Server) mergeInto(dst, src map[string]any) {
	for k, v := range src {
		if v == nil {
			if !s.opts.NullIgnored {
				delete(dst, k)
			}
		} else {
			dst[k] = v
		}
	}
}

// bulkRow is one validated record of a bulk request.
type bulkRow struct {
	id, companyID string
	metadata      map[string]any
}

func (s *Server) handleUsersBulk(w http.ResponseWriter, r *http.Request) {
	s.handleBulk(w, r, "users", "user_id", "users_bulk_identify")
}

func (s *Server) handleCompaniesBulk(w http.ResponseWriter, r *http.Request) {
	s.handleBulk(w, r, "companies", "company_id", "companies_bulk_identify")
}

func (s *Server) handleBulk(w http.ResponseWriter, r *http.Request, field, idKey, typ string) {
	m, bad := decodeObject(bodyOf(r))
	if bad != nil {
		bad.write(w)
		return
	}
	list, ok := m[field].([]any)
	if !ok || len(list) == 0 {
		(&badInput{CodeInvalidJSON, field + " must be a non-empty array", field}).write(w)
		return
	}
	if len(list) > s.opts.MaxBulkRecords {
		(&badInput{CodeTooManyRecords, fmt.Sprintf("at most %d %s per request", s.opts.MaxBulkRecords, field), field}).write(w)
		return
	}
	missing := CodeMissingUserID
	if idKey == "company_id" {
		missing = CodeMissingCompanyID
	}
	rows := make([]bulkRow, len(list))
	for i, item := range list {
		where := fmt.Sprintf("%s[%d].", field, i)
		rec, ok := item.(map[string]any)
		if !ok {
			(&badInput{CodeInvalidJSON, "each record must be an object", fmt.Sprintf("%s[%d]", field, i)}).write(w)
			return
		}
		id, md, bad := recordOf(rec, idKey, where, missing)
		if bad != nil {
			bad.write(w)
			return
		}
		row := bulkRow{id: id, metadata: md}
		if idKey == "user_id" {
			if v, ok := rec["company_id"]; ok && v != nil {
				cid, ok := v.(string)
				if !ok {
					(&badInput{CodeMissingCompanyID, "company_id must be a string", where + "company_id"}).write(w)
					return
				}
				row.companyID = cid
			}
		}
		rows[i] = row
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	s.advanceLocked(now)
	if running := s.runningLocked(); running != nil {
		writeError(w, http.StatusConflict, "Conflict", CodeJobInProgress,
			"another bulk job is in progress; retry when it has finished", running.id)
		return
	}
	if isEmpty2xx(r) {
		w.WriteHeader(http.StatusAccepted)
		return
	}
	s.jobSeq++
	j := &job{
		id:      fmt.Sprintf("bulk:jobs:%s:%d:%06d", field, now.UnixMilli(), s.jobSeq),
		typ:     typ,
		kind:    field,
		created: now,
		rows:    rows,
		status:  statusQueued,
	}
	if s.failNext > 0 {
		s.failNext--
		j.fail = true
	}
	s.jobs[j.id] = j
	s.jobOrder = append(s.jobOrder, j.id)
	s.advanceLocked(now) // a zero-duration job completes at once
	writeJSON(w, http.StatusAccepted, j.view())
}

func (s *Server) handleJob(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("job_id")
	s.mu.Lock()
	defer s.mu.Unlock()
	s.advanceLocked(s.now())
	j, ok := s.jobs[id]
	if !ok {
		writeError(w, http.StatusNotFound, "Not Found", CodeJobNotFound, "no such job", "job_id")
		return
	}
	if isEmpty2xx(r) {
		w.WriteHeader(http.StatusOK)
		return
	}
	writeJSON(w, http.StatusOK, j.view())
}

func (s *Server) handleNotFound(w http.ResponseWriter, r *http.Request) {
	writeError(w, http.StatusNotFound, "Not Found", "not_found", "no such endpoint", r.URL.Path)
}

func cloneMap(m map[string]any) map[string]any {
	if m == nil {
		return map[string]any{}
	}
	return maps.Clone(m)
}
