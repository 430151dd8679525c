package hubspottest

import (
	"cmp"
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
)

// recordJSON is a record in HubSpot's wire form.
type recordJSON struct {
	ID         string             `json:"id"`
	Properties map[string]*string `json:"properties"`
	CreatedAt  string             `json:"createdAt"`
	UpdatedAt  string             `json:"updatedAt"`
	Archived   bool               `json:"archived"`
}

// wireProps picks the properties to return: the requested ones (null when unset,
// omitted when undefined) or the type's defaults, plus the system properties.
func (o *objectStore) wireProps(rec *record, props map[string]string, updated time.Time, requested []string) map[string]*string {
	names := requested
	if len(names) == 0 {
		names = o.defaultProps
	}
	out := make(map[string]*string, len(names)+3)
	add := func(n string) {
		if v, ok := o.systemValue(rec, updated, n); ok {
			out[n] = &v
		} else if v, ok := props[n]; ok {
			v = o.wireValue(n, v)
			out[n] = &v
		} else if _, defined := o.props[n]; defined {
			out[n] = nil
		}
	}
	for _, n := range names {
		add(n)
	}
	for _, n := range []string{propObjectID, propCreateDate, o.lastModProp} {
		add(n)
	}
	return out
}

func (o *objectStore) wire(rec *record, props map[string]string, updated time.Time, archived bool, requested []string) recordJSON {
	return recordJSON{ID: rec.id, Properties: o.wireProps(rec, props, updated, requested), CreatedAt: isoMillis(rec.created), UpdatedAt: isoMillis(updated), Archived: archived}
}

// objectType resolves the {type} path value, answering 400 for unknown types (caller holds mu).
func (s *Server) objectType(w http.ResponseWriter, r *http.Request) *objectStore {
	name := r.PathValue("type")
	o := s.lookupType(name)
	if o == nil {
		s.badRequest(w, "Unable to infer object type from: %s", name)
	}
	return o
}

// splitProperties reads ?properties=a,b&properties=c.
func splitProperties(vals []string) []string {
	var out []string
	for _, v := range vals {
		for _, p := range strings.Split(v, ",") {
			if p = strings.TrimSpace(p); p != "" {
				out = append(out, p)
			}
		}
	}
	return out
}

func (s *Server) handleList(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	limit := defaultListLimit
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > maxListLimit {
			s.badRequest(w, "limit must be between 1 and %d, got %q", maxListLimit, v)
			return
		}
		limit = n
	}
	var after int64
	if v := q.Get("after"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < 0 {
			s.badRequest(w, "invalid after %q", v)
			return
		}
		after = n
	}
	archived := q.Get("archived") == "true"
	props := splitProperties(q["properties"])
	s.mu.Lock()
	defer s.mu.Unlock()
	o := s.objectType(w, r)
	if o == nil {
		return
	}
	type paging struct {
		Next struct {
			After string `json:"after"`
			Link  string `json:"link"`
		} `json:"next"`
	}
	resp := struct {
		Results []recordJSON `json:"results"`
		Paging  *paging      `json:"paging,omitempty"`
	}{Results: []recordJSON{}}
	if stateOf(r).emptyWrite {
		writeJSON(w, http.StatusOK, resp)
		return
	}
	start, _ := slices.BinarySearchFunc(o.order, after, func(rec *record, n int64) int { return cmp.Compare(rec.num, n) })
	for _, rec := range o.order[start:] {
		if rec.mergedInto != "" || rec.archived != archived {
			continue
		}
		if len(resp.Results) == limit {
			resp.Paging = &paging{}
			resp.Paging.Next.After = rec.id
			resp.Paging.Next.Link = fmt.Sprintf("%s?after=%s", r.URL.Path, rec.id)
			break
		}
		resp.Results = append(resp.Results, o.wire(rec, rec.props, rec.updated, rec.archived, props))
	}
	writeJSON(w, http.StatusOK, resp)
}

func (s *Server) handleGet(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	props := splitProperties(q["properties"])
	s.mu.Lock()
	defer s.mu.Unlock()
	o := s.objectType(w, r)
	if o == nil {
		return
	}
	rec := s.findByIDProperty(o, r.PathValue("id"), q.Get("idProperty"))
	if rec == nil || rec.archived || stateOf(r).emptyWrite {
		s.writeError(w, http.StatusNotFound, "OBJECT_NOT_FOUND", "resource not found", nil)
		return
	}
	writeJSON(w, http.StatusOK, o.wire(rec, rec.props, rec.updated, false, props))
}

// findByIDProperty finds a live record by id (following merges) or by a unique
// property such as email (caller holds mu).
func (s *Server) findByIDProperty(o *objectStore, id, idProperty string) *record {
	switch idProperty {
	case "", propObjectID:
		return o.resolve(id)
	case propEmail:
		e := strings.ToLower(strings.TrimSpace(id))
		if rec := o.byEmail[e]; rec != nil {
			return rec
		}
		if !s.opts.BatchReadMatchesAdditionalEmails {
			return nil
		}
		for _, rec := range o.order {
			if rec.archived || rec.mergedInto != "" {
				continue
			}
			for _, x := range strings.Split(rec.props[propAddEmails], ";") {
				if strings.EqualFold(strings.TrimSpace(x), e) {
					return rec
				}
			}
		}
		return nil
	default:
		for _, rec := range o.order {
			if !rec.archived && rec.mergedInto == "" && rec.props[idProperty] == id && id != "" {
				return rec
			}
		}
		return nil
	}
}

// batchError is one entry of a 207 body's errors.
type batchError struct {
	Status   string              `json:"status"`
	Category string              `json:"category"`
	Message  string              `json:"message"`
	Context  map[string][]string `json:"context"`
	Errors   []fieldError        `json:"errors,omitempty"`
}

// batchResponse is a batch answer (200 or 207).
type batchResponse struct {
	Status      string       `json:"status"`
	Results     []recordJSON `json:"results"`
	NumErrors   int          `json:"numErrors,omitempty"`
	Errors      []batchError `json:"errors,omitempty"`
	StartedAt   string       `json:"startedAt"`
	CompletedAt string       `json:"completedAt"`
}

func (s *Server) handleBatchRead(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Inputs []struct {
			ID json.RawMessage `json:"id"`
		} `json:"inputs"`
		Properties []string `json:"properties"`
		IDProperty string   `json:"idProperty"`
		Archived   bool     `json:"archived"`
	}
	if !s.decodeBody(w, r, &req) {
		return
	}
	if len(req.Inputs) > maxBatchInputs {
		s.badRequest(w, "Batch input limit exceeded: %d inputs, the limit is %d", len(req.Inputs), maxBatchInputs)
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	o := s.objectType(w, r)
	if o == nil {
		return
	}
	if req.IDProperty != "" && req.IDProperty != propEmail && req.IDProperty != propObjectID {
		if p := o.props[req.IDProperty]; p == nil || !p.HasUniqueValue {
			s.badRequest(w, "%s is not a unique identifier property", req.IDProperty)
			return
		}
	}
	now := s.now()
	resp := batchResponse{Status: "COMPLETE", Results: []recordJSON{}, StartedAt: isoMillis(now), CompletedAt: isoMillis(now)}
	if stateOf(r).emptyWrite {
		writeJSON(w, http.StatusOK, resp)
		return
	}
	seen := map[string]bool{}
	var missing []string
	for _, in := range req.Inputs {
		id, _ := scalarString(in.ID)
		rec := s.findByIDProperty(o, id, req.IDProperty)
		if rec == nil || rec.archived != req.Archived {
			missing = append(missing, id)
			continue
		}
		if seen[rec.id] {
			continue
		}
		seen[rec.id] = true
		resp.Results = append(resp.Results, o.wire(rec, rec.props, rec.updated, rec.archived, req.Properties))
	}
	if len(missing) == 0 {
		writeJSON(w, http.StatusOK, resp)
		return
	}
	resp.NumErrors = 1
	resp.Errors = []batchError{{Status: "error", Category: "OBJECT_NOT_FOUND",
		Message: fmt.Sprintf("Could not get some %s objects, they may be deleted or not exist. Check that ids are valid.", strings.ToUpper(o.eventName)),
		Context: map[string][]string{"ids": missing}}}
	writeJSON(w, http.StatusMultiStatus, resp)
}

// propertyErrorMessage renders validation errors the way HubSpot's message does.
func propertyErrorMessage(errs []*validationError) string {
	type item struct {
		IsValid bool   `json:"isValid"`
		Message string `json:"message"`
		Error   string `json:"error"`
		Name    string `json:"name"`
	}
	items := make([]item, len(errs))
	for i, e := range errs {
		items[i] = item{Message: e.message, Error: e.code, Name: e.property}
	}
	b, _ := json.Marshal(items)
	return "Property values were not valid: " + string(b)
}

func (s *Server) handleBatchUpdate(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Inputs []struct {
			ID                 json.RawMessage            `json:"id"`
			IDProperty         string                     `json:"idProperty"`
			ObjectWriteTraceID string                     `json:"objectWriteTraceId"`
			Properties         map[string]json.RawMessage `json:"properties"`
		} `json:"inputs"`
	}
	if !s.decodeBody(w, r, &req) {
		return
	}
	// HubSpot answers per record (207) only when every input carries a unique
	// objectWriteTraceId; its errors then name the trace id.
	traced := len(req.Inputs) > 0
	traces := map[string]bool{}
	for _, in := range req.Inputs {
		if in.ObjectWriteTraceID == "" || traces[in.ObjectWriteTraceID] {
			traced = false
		}
		traces[in.ObjectWriteTraceID] = true
	}
	mode := s.opts.BatchUpdateInvalid
	if mode == InvalidByTrace {
		mode = InvalidWhole400
		if traced {
			mode = InvalidPartial207
		}
	}
	if len(req.Inputs) > maxBatchInputs {
		s.badRequest(w, "Batch input limit exceeded: %d inputs, the limit is %d", len(req.Inputs), maxBatchInputs)
		return
	}
	if len(req.Inputs) == 0 {
		s.badRequest(w, "inputs must not be empty")
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	o := s.objectType(w, r)
	if o == nil {
		return
	}
	type planned struct {
		rec   *record
		props map[string]string
	}
	var (
		plans     []planned
		badErrs   []batchError
		allFields []fieldError
		notFound  []string
		missing   []string // trace ids of notFound (traced batches)
		seen      = map[string]bool{}
	)
	errContext := func(id, trace string) map[string][]string {
		if traced && s.opts.BatchUpdateInvalid == InvalidByTrace {
			return map[string][]string{"objectWriteTraceId": {trace}}
		}
		return map[string][]string{"ids": {id}}
	}
	for _, in := range req.Inputs {
		id, _ := scalarString(in.ID)
		if seen[id] {
			s.badRequest(w, "Duplicate IDs found in batch input: [%s]. IDs must be unique", id)
			return
		}
		seen[id] = true
		// Batch update takes record ids only and rejects pre-merge ids.
		rec := o.recs[id]
		if in.IDProperty != "" && in.IDProperty != propObjectID {
			rec = s.findByIDProperty(o, id, in.IDProperty)
		}
		if rec == nil || rec.archived || rec.mergedInto != "" {
			notFound = append(notFound, id)
			missing = append(missing, in.ObjectWriteTraceID)
			continue
		}
		props := make(map[string]string, len(in.Properties))
		var errs []*validationError
		for name, raw := range in.Properties {
			v, _ := scalarString(raw)
			if e := validateValue(o.props[name], name, v); e != nil {
				errs = append(errs, e)
				continue
			}
			props[name] = v
		}
		if len(errs) == 0 {
			plans = append(plans, planned{rec: rec, props: props})
			continue
		}
		slices.SortFunc(errs, func(a, b *validationError) int { return strings.Compare(a.property, b.property) })
		var names []string
		var fields []fieldError
		for _, e := range errs {
			names = append(names, e.property)
			fields = append(fields, fieldError{Message: e.message, Code: e.code, Context: map[string][]string{"propertyName": {e.property}}})
		}
		allFields = append(allFields, fields...)
		ctx := errContext(id, in.ObjectWriteTraceID)
		ctx["propertyName"] = names
		badErrs = append(badErrs, batchError{Status: "error", Category: "VALIDATION_ERROR", Message: propertyErrorMessage(errs),
			Context: ctx, Errors: fields})
	}
	if mode == InvalidWhole400 {
		if len(notFound) > 0 {
			s.writeError(w, http.StatusBadRequest, "OBJECT_NOT_FOUND",
				fmt.Sprintf("Could not find some %s objects, they may be deleted, merged or not exist.", strings.ToUpper(o.eventName)), nil)
			return
		}
		if len(badErrs) > 0 {
			var all []*validationError
			for _, f := range allFields {
				all = append(all, &validationError{property: f.Context["propertyName"][0], code: f.Code, message: f.Message})
			}
			s.writeError(w, http.StatusBadRequest, "VALIDATION_ERROR", propertyErrorMessage(all), allFields)
			return
		}
	}
	now := s.now()
	resp := batchResponse{Status: "COMPLETE", Results: []recordJSON{}, StartedAt: isoMillis(now), CompletedAt: isoMillis(now)}
	if stateOf(r).emptyWrite {
		writeJSON(w, http.StatusOK, resp)
		return
	}
	for _, p := range plans {
		s.applyLocked(o, p.rec, p.props, now)
		names := make([]string, 0, len(p.props))
		for n := range p.props {
			names = append(names, n)
		}
		resp.Results = append(resp.Results, o.wire(p.rec, p.rec.props, p.rec.updated, false, names))
	}
	if len(notFound) > 0 {
		ctx := map[string][]string{"ids": notFound}
		if traced && s.opts.BatchUpdateInvalid == InvalidByTrace {
			ctx = map[string][]string{"objectWriteTraceId": missing}
		}
		badErrs = append(badErrs, batchError{Status: "error", Category: "OBJECT_NOT_FOUND",
			Message: fmt.Sprintf("Could not find some %s objects, they may be deleted, merged or not exist.", strings.ToUpper(o.eventName)),
			Context: ctx})
	}
	if len(badErrs) == 0 {
		writeJSON(w, http.StatusOK, resp)
		return
	}
	resp.NumErrors, resp.Errors = len(badErrs), badErrs
	writeJSON(w, http.StatusMultiStatus, resp)
}

// propertyJSON is a property definition in HubSpot's wire form.
type propertyJSON struct {
	Name                 string           `json:"name"`
	Label                string           `json:"label"`
	Type                 string           `json:"type"`
	FieldType            string           `json:"fieldType"`
	Description          string           `json:"description"`
	GroupName            string           `json:"groupName"`
	Options              []PropertyOption `json:"options"`
	DisplayOrder         int              `json:"displayOrder"`
	Calculated           bool             `json:"calculated"`
	ExternalOptions      bool             `json:"externalOptions"`
	HasUniqueValue       bool             `json:"hasUniqueValue"`
	Hidden               bool             `json:"hidden"`
	HubspotDefined       bool             `json:"hubspotDefined"`
	FormField            bool             `json:"formField"`
	ModificationMetadata struct {
		Archivable         bool `json:"archivable"`
		ReadOnlyDefinition bool `json:"readOnlyDefinition"`
		ReadOnlyValue      bool `json:"readOnlyValue"`
	} `json:"modificationMetadata"`
}

func toWireProperty(p *Property) propertyJSON {
	out := propertyJSON{Name: p.Name, Label: p.Label, Type: p.Type, FieldType: p.FieldType, Description: p.Description,
		GroupName: p.GroupName, Options: p.Options, Calculated: p.Calculated, HasUniqueValue: p.HasUniqueValue,
		HubspotDefined: p.HubSpotDefined, FormField: !p.ReadOnlyValue}
	if out.Options == nil {
		out.Options = []PropertyOption{}
	}
	out.ModificationMetadata.Archivable = !p.HubSpotDefined
	out.ModificationMetadata.ReadOnlyDefinition = p.HubSpotDefined
	out.ModificationMetadata.ReadOnlyValue = p.ReadOnlyValue || p.Calculated
	return out
}

func (s *Server) handleListProperties(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	o := s.objectType(w, r)
	if o == nil {
		return
	}
	out := make([]propertyJSON, 0, len(o.propOrder))
	for _, n := range o.propOrder {
		out = append(out, toWireProperty(o.props[n]))
	}
	writeJSON(w, http.StatusOK, map[string]any{"results": out})
}

func (s *Server) handleGetProperty(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	o := s.objectType(w, r)
	if o == nil {
		return
	}
	p := o.props[r.PathValue("name")]
	if p == nil {
		s.writeError(w, http.StatusNotFound, "OBJECT_NOT_FOUND", fmt.Sprintf("Unable to find property %s", r.PathValue("name")), nil)
		return
	}
	writeJSON(w, http.StatusOK, toWireProperty(p))
}

var (
	propertyNamePattern = regexp.MustCompile(`^[a-z][a-z0-9_]{0,99}$`)
	validTypes          = map[string][]string{
		"string":       {"text", "textarea", "html", "file", "phonenumber"},
		"number":       {"number", "calculation_equation"},
		"date":         {"date"},
		"datetime":     {"date"},
		"bool":         {"booleancheckbox", "checkbox", "radio", "select"},
		"enumeration":  {"select", "checkbox", "radio", "booleancheckbox"},
		"phone_number": {"phonenumber", "text"},
	}
)

func (s *Server) handleCreateProperty(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Name           string           `json:"name"`
		Label          string           `json:"label"`
		Type           string           `json:"type"`
		FieldType      string           `json:"fieldType"`
		GroupName      string           `json:"groupName"`
		Description    string           `json:"description"`
		Options        []PropertyOption `json:"options"`
		HasUniqueValue bool             `json:"hasUniqueValue"`
		Hidden         bool             `json:"hidden"`
		FormField      bool             `json:"formField"`
	}
	if !s.decodeBody(w, r, &req) {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	o := s.objectType(w, r)
	if o == nil {
		return
	}
	var errs []fieldError
	if !propertyNamePattern.MatchString(req.Name) {
		errs = append(errs, fieldError{Message: fmt.Sprintf("name %q must be lower-case letters, digits and underscores", req.Name), Code: "INVALID_PROPERTY_NAME"})
	}
	if req.Label == "" {
		errs = append(errs, fieldError{Message: "label is required", Code: "REQUIRED_FIELD"})
	}
	fieldTypes, ok := validTypes[req.Type]
	if !ok {
		errs = append(errs, fieldError{Message: fmt.Sprintf("type %q is not one of bool, date, datetime, enumeration, number, phone_number, string", req.Type), Code: "INVALID_TYPE"})
	} else if !slices.Contains(fieldTypes, req.FieldType) {
		errs = append(errs, fieldError{Message: fmt.Sprintf("fieldType %q is not valid for type %s", req.FieldType, req.Type), Code: "INVALID_FIELD_TYPE"})
	}
	if req.Type == "enumeration" && len(req.Options) == 0 {
		errs = append(errs, fieldError{Message: "enumeration properties need options", Code: "REQUIRED_FIELD"})
	}
	if req.GroupName == "" || o.groups[req.GroupName] == nil {
		errs = append(errs, fieldError{Message: fmt.Sprintf("property group %q does not exist", req.GroupName), Code: "INVALID_GROUP"})
	}
	if len(errs) > 0 {
		s.writeError(w, http.StatusBadRequest, "VALIDATION_ERROR", errs[0].Message, errs)
		return
	}
	if o.props[req.Name] != nil {
		s.writeError(w, http.StatusConflict, "OBJECT_ALREADY_EXISTS", fmt.Sprintf("Property named '%s' already exists.", req.Name), nil)
		return
	}
	p := Property{Name: req.Name, Label: req.Label, Type: req.Type, FieldType: req.FieldType, GroupName: req.GroupName,
		Description: req.Description, Options: req.Options, HasUniqueValue: req.HasUniqueValue}
	o.addProperty(p)
	writeJSON(w, http.StatusCreated, toWireProperty(o.props[p.Name]))
}

func (s *Server) handleListGroups(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	o := s.objectType(w, r)
	if o == nil {
		return
	}
	out := make([]PropertyGroup, 0, len(o.groupOrder))
	for _, n := range o.groupOrder {
		out = append(out, *o.groups[n])
	}
	writeJSON(w, http.StatusOK, map[string]any{"results": out})
}

func (s *Server) handleCreateGroup(w http.ResponseWriter, r *http.Request) {
	var req PropertyGroup
	if !s.decodeBody(w, r, &req) {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	o := s.objectType(w, r)
	if o == nil {
		return
	}
	if !propertyNamePattern.MatchString(req.Name) || req.Label == "" {
		s.badRequest(w, "a property group needs a lower-case name and a label")
		return
	}
	if o.groups[req.Name] != nil {
		s.writeError(w, http.StatusConflict, "OBJECT_ALREADY_EXISTS", fmt.Sprintf("Property group named '%s' already exists.", req.Name), nil)
		return
	}
	g := &PropertyGroup{Name: req.Name, Label: req.Label, DisplayOrder: req.DisplayOrder}
	o.groups[g.Name] = g
	o.groupOrder = append(o.groupOrder, g.Name)
	writeJSON(w, http.StatusCreated, g)
}
