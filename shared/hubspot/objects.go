package hubspot

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/pilotsync/pilotsync/shared/identity"
	"iter"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
)

// HubSpot CRM limits (HUBSPOT.md "Search", "Batch read / update").
const (
	// MaxBatchInputs is the most inputs one batch read or update takes.
	MaxBatchInputs = 100
	// MaxSearchLimit is the largest search page.
	MaxSearchLimit = 200
	// MaxSearchResults is the most results one search query returns; asking past it is a 400.
	MaxSearchResults = 10_000
	// MaxSearchBody is the largest search request body, in characters.
	MaxSearchBody = 3000
	// MaxFilterGroups and MaxFiltersPerGroup bound a search's filters (OR of ANDs).
	MaxFilterGroups    = 5
	MaxFiltersPerGroup = 6
	// MaxListLimit is the largest list page.
	MaxListLimit = 100
)

// Record is one CRM object.
type Record struct {
	ID string
	// Properties holds the requested properties; a null or absent value is not in the map.
	Properties map[string]string
	CreatedAt  time.Time
	UpdatedAt  time.Time
	Archived   bool
}

type recordJSON struct {
	ID         string             `json:"id"`
	Properties map[string]*string `json:"properties"`
	CreatedAt  string             `json:"createdAt"`
	UpdatedAt  string             `json:"updatedAt"`
	Archived   bool               `json:"archived"`
}

func (r recordJSON) record() Record {
	out := Record{ID: r.ID, Archived: r.Archived, Properties: make(map[string]string, len(r.Properties))}
	for k, v := range r.Properties {
		if v != nil {
			out.Properties[k] = *v
		}
	}
	out.CreatedAt, _ = parseTime(r.CreatedAt)
	out.UpdatedAt, _ = parseTime(r.UpdatedAt)
	return out
}

func records(in []recordJSON) []Record {
	out := make([]Record, len(in))
	for i, r := range in {
		out[i] = r.record()
	}
	return out
}

type paging struct {
	Next *struct {
		After string `json:"after"`
	} `json:"next"`
}

func (p *paging) after() string {
	if p == nil || p.Next == nil {
		return ""
	}
	return p.Next.After
}

// Filter is one search condition. Value holds the operand of most operators, Value and
// HighValue those of BETWEEN, Values those of IN and NOT_IN.
type Filter struct {
	PropertyName string   `json:"propertyName"`
	Operator     string   `json:"operator"`
	Value        string   `json:"value,omitempty"`
	HighValue    string   `json:"highValue,omitempty"`
	Values       []string `json:"values,omitempty"`
}

// FilterGroup ANDs its filters; a search ORs its groups.
type FilterGroup struct {
	Filters []Filter `json:"filters"`
}

// Sort orders search results; HubSpot allows one.
type Sort struct {
	PropertyName string `json:"propertyName"`
	Direction    string `json:"direction"` // ASCENDING or DESCENDING
}

// SearchRequest is one search page request.
type SearchRequest struct {
	FilterGroups []FilterGroup `json:"filterGroups"`
	Sorts        []Sort        `json:"sorts,omitempty"`
	Properties   []string      `json:"properties,omitempty"`
	// Limit defaults to MaxSearchLimit.
	Limit int    `json:"limit"`
	After string `json:"after,omitempty"`
}

// SearchPage is one page of search results.
type SearchPage struct {
	Total   int
	Results []Record
	// After is the next page token, "" on the last page.
	After string
}

type searchResponse struct {
	Total   int          `json:"total"`
	Results []recordJSON `json:"results"`
	Paging  *paging      `json:"paging"`
}

// Search runs one search page. It checks HubSpot's filter and body limits before sending.
func (c *Client) Search(ctx context.Context, objectType string, req SearchRequest) (*SearchPage, error) {
	if req.Limit <= 0 || req.Limit > MaxSearchLimit {
		req.Limit = MaxSearchLimit
	}
	if req.FilterGroups == nil {
		req.FilterGroups = []FilterGroup{}
	}
	if len(req.Sorts) > 1 {
		return nil, fmt.Errorf("hubspot: search %s: %d sorts, hubspot allows one", objectType, len(req.Sorts))
	}
	if len(req.FilterGroups) > MaxFilterGroups {
		return nil, fmt.Errorf("hubspot: search %s: %d filter groups, hubspot allows %d", objectType, len(req.FilterGroups), MaxFilterGroups)
	}
	for _, g := range req.FilterGroups {
		if len(g.Filters) > MaxFiltersPerGroup {
			return nil, fmt.Errorf("hubspot: search %s: %d filters in a group, hubspot allows %d", objectType, len(g.Filters), MaxFiltersPerGroup)
		}
	}
	if off, err := strconv.Atoi(req.After); err == nil && off+1 > MaxSearchResults {
		return nil, fmt.Errorf("hubspot: search %s: offset %d is past the %d-result cap", objectType, off, MaxSearchResults)
	}
	body, err := json.Marshal(req)
	if err != nil {
		return nil, fmt.Errorf("hubspot: search %s: %w", objectType, err)
	}
	if len(body) > MaxSearchBody {
		return nil, fmt.Errorf("hubspot: search %s: body of %d characters, limit %d: %w", objectType, len(body), MaxSearchBody, ErrBodyTooLarge)
	}
	var out searchResponse
	if _, err := c.do(ctx, &request{endpoint: "search", method: http.MethodPost, path: apiPath(c.version, "objects", objectType, "search"),
		body: json.RawMessage(body), search: true}, &out); err != nil {
		return nil, err
	}
	return &SearchPage{Total: out.Total, Results: records(out.Results), After: out.Paging.after()}, nil
}

// ListPage is one page of a list call.
type ListPage struct {
	Results []Record
	// After is the next page token, "" on the last page.
	After string
}

type listResponse struct {
	Results []recordJSON `json:"results"`
	Paging  *paging      `json:"paging"`
}

// List reads one page of non-archived records in id order; limit defaults to (and is capped
// at) MaxListLimit.
func (c *Client) List(ctx context.Context, objectType string, properties []string, after string, limit int) (*ListPage, error) {
	if limit <= 0 || limit > MaxListLimit {
		limit = MaxListLimit
	}
	q := url.Values{"limit": {strconv.Itoa(limit)}, "archived": {"false"}}
	if after != "" {
		q.Set("after", after)
	}
	if len(properties) > 0 {
		q.Set("properties", strings.Join(properties, ","))
	}
	var out listResponse
	if _, err := c.do(ctx, &request{endpoint: "list", method: http.MethodGet, path: apiPath(c.version, "objects", objectType), query: q}, &out); err != nil {
		return nil, err
	}
	return &ListPage{Results: records(out.Results), After: out.Paging.after()}, nil
}

// ListAll iterates over every page of List; it stops after the first error.
func (c *Client) ListAll(ctx context.Context, objectType string, properties []string) iter.Seq2[*ListPage, error] {
	return func(yield func(*ListPage, error) bool) {
		after := ""
		for {
			page, err := c.List(ctx, objectType, properties, after, MaxListLimit)
			if err != nil {
				yield(nil, err)
				return
			}
			if !yield(page, nil) || page.After == "" {
				return
			}
			after = page.After
		}
	}
}

// BatchReadResult is the outcome of BatchRead.
type BatchReadResult struct {
	Results []Record
	// NotFound lists requested ids (or property values) HubSpot does not know.
	NotFound []string
	// Merged maps a requested record id to the surviving record's id, for ids merged away.
	Merged map[string]string
	// ByRequest maps each found requested id (or property value, as given) to its record id.
	ByRequest map[string]string
}

type batchResponse struct {
	Status    string       `json:"status"`
	Results   []recordJSON `json:"results"`
	NumErrors int          `json:"numErrors"`
	Errors    []batchError `json:"errors"`
}

type batchError struct {
	Status   string         `json:"status"`
	Category string         `json:"category"`
	Message  string         `json:"message"`
	Context  map[string]any `json:"context"`
	Errors   []struct {
		Message string         `json:"message"`
		Code    string         `json:"code"`
		Context map[string]any `json:"context"`
	} `json:"errors"`
}

func (e batchError) ids() []string { return contextStrings(e.Context)["ids"] }

func (e batchError) property() string {
	if p := contextStrings(e.Context)["propertyName"]; len(p) > 0 {
		return p[0]
	}
	for _, fe := range e.Errors {
		if p := contextStrings(fe.Context)["propertyName"]; len(p) > 0 {
			return p[0]
		}
	}
	return ""
}

// mergedIDsProperty lists the ids merged into a record.
const mergedIDsProperty = identity.PropMergedIDs

// BatchRead reads records by id (idProperty "") or by a unique property such as "email", in
// chunks of MaxBatchInputs. Records that were merged come back under the surviving id; Merged
// maps the requested id to it.
func (c *Client) BatchRead(ctx context.Context, objectType string, ids []string, idProperty string, properties []string) (*BatchReadResult, error) {
	res := &BatchReadResult{Merged: map[string]string{}, ByRequest: map[string]string{}}
	ids = uniqueNonEmpty(ids)
	props := slices.Clone(properties)
	if idProperty == "" {
		props = appendMissing(props, mergedIDsProperty)
	} else {
		props = appendMissing(props, idProperty)
	}
	for chunk := range slices.Chunk(ids, MaxBatchInputs) {
		if err := c.batchReadChunk(ctx, objectType, chunk, idProperty, props, res); err != nil {
			return res, fmt.Errorf("hubspot: batch read %d %s: %w", len(ids), objectType, err)
		}
	}
	return res, nil
}

func (c *Client) batchReadChunk(ctx context.Context, objectType string, chunk []string, idProperty string, props []string, res *BatchReadResult) error {
	type input struct {
		ID string `json:"id"`
	}
	body := struct {
		Inputs     []input  `json:"inputs"`
		Properties []string `json:"properties"`
		IDProperty string   `json:"idProperty,omitempty"`
	}{Properties: props, IDProperty: idProperty}
	for _, id := range chunk {
		body.Inputs = append(body.Inputs, input{id})
	}
	var out batchResponse
	_, err := c.do(ctx, &request{endpoint: "batch_read", method: http.MethodPost, path: apiPath(c.version, "objects", objectType, "batch", "read"), body: body}, &out)
	if errors.Is(err, ErrNotFound) {
		res.NotFound = append(res.NotFound, chunk...) // nothing found at all
		return nil
	}
	if err != nil {
		return err
	}
	// Match results to requests: by id, by the id property's value, then by merged ids.
	key := func(s string) string { return s }
	if idProperty != "" {
		key = identity.Normalize // unique values compare case-insensitively (emails, domains)
	}
	pending := make(map[string]string, len(chunk)) // key -> requested as given
	for _, id := range chunk {
		pending[key(id)] = id
	}
	var unmatched []Record
	for _, rj := range out.Results {
		r := rj.record()
		res.Results = append(res.Results, r)
		matched := false
		if idProperty == "" {
			if req, ok := pending[r.ID]; ok {
				res.ByRequest[req] = r.ID
				delete(pending, r.ID)
				matched = true
			}
			for _, old := range splitMulti(r.Properties[mergedIDsProperty]) {
				if req, ok := pending[old]; ok {
					res.ByRequest[req] = r.ID
					res.Merged[req] = r.ID
					delete(pending, old)
					matched = true
				}
			}
		} else if req, ok := pending[key(r.Properties[idProperty])]; ok {
			res.ByRequest[req] = r.ID
			delete(pending, key(req))
			matched = true
		}
		if !matched {
			unmatched = append(unmatched, r)
		}
	}
	for _, e := range out.Errors {
		for _, id := range e.ids() {
			if req, ok := pending[key(id)]; ok {
				res.NotFound = append(res.NotFound, req)
				delete(pending, key(id))
			}
		}
	}
	// One result and one request left over: HubSpot answered an id with another record
	// (a merge whose old id is not listed in hs_merged_object_ids).
	if idProperty == "" && len(unmatched) == 1 && len(pending) == 1 {
		for _, req := range pending {
			res.ByRequest[req] = unmatched[0].ID
			res.Merged[req] = unmatched[0].ID
		}
		clear(pending)
	}
	for _, id := range chunk {
		if _, ok := pending[key(id)]; ok {
			res.NotFound = append(res.NotFound, id)
		}
	}
	return nil
}

// additionalEmailsProperty holds a contact's secondary emails, ";"-separated.
const additionalEmailsProperty = identity.PropAdditionalEmails

// FindByEmails finds records by email: a batch read on "email", then, for the misses, a search
// of hs_additional_emails (five emails per search, one filter group each). The map is keyed by
// normalized email; emails found nowhere are absent.
func (c *Client) FindByEmails(ctx context.Context, objectType string, emails []string, properties []string) (map[string]Record, error) {
	var norm []string
	for _, e := range emails {
		norm = append(norm, identity.Normalize(e))
	}
	norm = uniqueNonEmpty(norm)
	props := appendMissing(slices.Clone(properties), "email")
	props = appendMissing(props, additionalEmailsProperty)
	found := make(map[string]Record, len(norm))
	br, err := c.BatchRead(ctx, objectType, norm, "email", props)
	if err != nil {
		return found, fmt.Errorf("hubspot: find by emails: %w", err)
	}
	byID := make(map[string]Record, len(br.Results))
	for _, r := range br.Results {
		byID[r.ID] = r
	}
	for req, id := range br.ByRequest {
		found[identity.Normalize(req)] = byID[id]
	}
	var misses []string
	for _, e := range norm {
		if _, ok := found[e]; !ok {
			misses = append(misses, e)
		}
	}
	// Search properties stay few (the 3,000-character body limit): the caller's wide set is
	// read by batch read afterwards only if the search finds something.
	searchProps := []string{"email", additionalEmailsProperty}
	var hitIDs []string
	hits := map[string]string{} // email -> record id
	for chunk := range slices.Chunk(misses, MaxFilterGroups) {
		req := SearchRequest{Properties: searchProps, Limit: MaxSearchLimit}
		for _, e := range chunk {
			req.FilterGroups = append(req.FilterGroups, FilterGroup{Filters: []Filter{{PropertyName: additionalEmailsProperty, Operator: "CONTAINS_TOKEN", Value: e}}})
		}
		for {
			page, err := c.Search(ctx, objectType, req)
			if err != nil {
				return found, fmt.Errorf("hubspot: find by emails: additional emails: %w", err)
			}
			for _, r := range page.Results {
				for _, extra := range splitMulti(r.Properties[additionalEmailsProperty]) {
					e := identity.Normalize(extra)
					if slices.Contains(chunk, e) {
						if _, dup := hits[e]; !dup {
							hits[e] = r.ID
							hitIDs = append(hitIDs, r.ID)
						}
					}
				}
			}
			if page.After == "" {
				break
			}
			req.After = page.After
		}
	}
	if len(hits) == 0 {
		return found, nil
	}
	full, err := c.BatchRead(ctx, objectType, hitIDs, "", props)
	if err != nil {
		return found, fmt.Errorf("hubspot: find by emails: read additional-email matches: %w", err)
	}
	byID = map[string]Record{}
	for _, r := range full.Results {
		byID[r.ID] = r
	}
	for e, id := range hits {
		if got, ok := full.ByRequest[id]; ok {
			found[e] = byID[got]
		}
	}
	return found, nil
}

// UpdateInput is one record's update: HubSpot-encoded values ("" clears a value).
type UpdateInput struct {
	ID         string
	Properties map[string]string
}

// RecordError is one record's failure in a batch.
type RecordError struct {
	ID       string
	Category string // HubSpot's category, or NOT_WRITTEN, or the error's kind
	Message  string
	Property string
	// Retryable is true when sending the same update again may succeed.
	Retryable bool
}

// Error names the record and why HubSpot refused it.
func (e RecordError) Error() string {
	s := fmt.Sprintf("hubspot: record %s: %s", e.ID, e.Category)
	if e.Property != "" {
		s += " (" + e.Property + ")"
	}
	if e.Message != "" {
		s += ": " + e.Message
	}
	return s
}

// CategoryNotWritten marks records a 2xx answer did not return: nothing was written for them.
const CategoryNotWritten = "NOT_WRITTEN"

// BatchUpdateResult is the per-record outcome of BatchUpdate. Every input is in exactly one
// of Updated and Failed.
type BatchUpdateResult struct {
	Updated []Record
	Failed  []RecordError
}

// BatchUpdate writes properties by record id in chunks of MaxBatchInputs. A 207 gives
// per-record errors; a whole-batch 400 is bisected to find the bad records; records a 2xx
// answer leaves out count as not written (retryable). If a call fails for a reason that is
// not about the records (auth, daily limit, retries exhausted), the remaining records are
// marked failed with that reason and the error is returned too.
func (c *Client) BatchUpdate(ctx context.Context, objectType string, inputs []UpdateInput) (*BatchUpdateResult, error) {
	res := &BatchUpdateResult{}
	chunks := slices.Collect(slices.Chunk(mergeDuplicateIDs(inputs), MaxBatchInputs))
	for i, chunk := range chunks {
		if err := c.updateChunk(ctx, objectType, chunk, res); err != nil {
			for _, rest := range chunks[i+1:] {
				failAll(res, rest, err)
			}
			return res, fmt.Errorf("hubspot: batch update %d %s: %w", len(inputs), objectType, err)
		}
	}
	return res, nil
}

// mergeDuplicateIDs folds inputs naming one id into the first of them, later values winning
// as two writes in order would: HubSpot rejects a whole batch holding an id twice ("Duplicate
// IDs found in batch input"), which would otherwise be split to single records at a 400 each.
func mergeDuplicateIDs(inputs []UpdateInput) []UpdateInput {
	at := make(map[string]int, len(inputs))
	var out []UpdateInput
	for _, u := range inputs {
		i, dup := at[u.ID]
		if !dup {
			at[u.ID] = len(out)
			out = append(out, u)
			continue
		}
		merged := maps.Clone(out[i].Properties)
		if merged == nil {
			merged = map[string]string{}
		}
		maps.Copy(merged, u.Properties)
		out[i].Properties = merged
	}
	if len(out) == len(inputs) {
		return inputs
	}
	return out
}

// propertyLevelCodes are HubSpot error codes about a property itself, not a value: every
// record setting the property fails with it.
var propertyLevelCodes = map[string]bool{"PROPERTY_DOESNT_EXIST": true, "READ_ONLY_VALUE": true}

func failAll(res *BatchUpdateResult, in []UpdateInput, err error) {
	cat := "ERROR"
	var ae *APIError
	var rl *RateLimitError
	switch {
	case errors.As(err, &rl):
		cat = "RATE_LIMIT"
	case errors.As(err, &ae) && ae.Category != "":
		cat = ae.Category
	}
	for _, u := range in {
		res.Failed = append(res.Failed, RecordError{ID: u.ID, Category: cat, Message: err.Error(), Retryable: IsRetryable(err)})
	}
}

// updateChunk updates up to 100 records; it returns an error only for a failure that is not
// about the records (and then has marked this chunk failed).
func (c *Client) updateChunk(ctx context.Context, objectType string, chunk []UpdateInput, res *BatchUpdateResult) error {
	if len(chunk) == 0 {
		return nil
	}
	type input struct {
		ID         string            `json:"id"`
		Properties map[string]string `json:"properties"`
	}
	body := struct {
		Inputs []input `json:"inputs"`
	}{}
	for _, u := range chunk {
		body.Inputs = append(body.Inputs, input{u.ID, u.Properties})
	}
	var out batchResponse
	_, err := c.do(ctx, &request{endpoint: "batch_update", method: http.MethodPost, path: apiPath(c.version, "objects", objectType, "batch", "update"), body: body}, &out)
	var ae *APIError
	if errors.As(err, &ae) && ae.Status == http.StatusBadRequest {
		return c.splitBadBatch(ctx, objectType, chunk, ae, res)
	}
	if err != nil {
		failAll(res, chunk, err)
		return err
	}
	done := map[string]bool{}
	for _, rj := range out.Results {
		res.Updated = append(res.Updated, rj.record())
		done[rj.ID] = true
	}
	var unattributed []batchError
	for _, e := range out.Errors {
		ids := e.ids()
		if len(ids) == 0 {
			unattributed = append(unattributed, e)
			continue
		}
		for _, id := range ids {
			if !done[id] && inChunk(chunk, id) {
				done[id] = true
				res.Failed = append(res.Failed, RecordError{ID: id, Category: e.Category, Message: redactEmails(e.Message), Property: e.property(), Retryable: false})
			}
		}
	}
	for _, u := range chunk {
		if done[u.ID] {
			continue
		}
		done[u.ID] = true
		if len(unattributed) == 1 && len(chunk) == 1 {
			e := unattributed[0]
			res.Failed = append(res.Failed, RecordError{ID: u.ID, Category: e.Category, Message: redactEmails(e.Message), Property: e.property()})
			continue
		}
		// A 2xx that does not return the record wrote nothing for it (HUBSPOT.md).
		res.Failed = append(res.Failed, RecordError{ID: u.ID, Category: CategoryNotWritten, Message: "hubspot answered 2xx without this record", Retryable: true})
	}
	return nil
}

// splitBadBatch handles a whole-batch 400: if the error names ids, those fail and the rest is
// resent; otherwise the batch is halved until single bad records are isolated.
func (c *Client) splitBadBatch(ctx context.Context, objectType string, chunk []UpdateInput, ae *APIError, res *BatchUpdateResult) error {
	recErr := func(id string) RecordError {
		re := RecordError{ID: id, Category: ae.Category, Message: ae.Message}
		for _, fe := range ae.Errors {
			if fe.Property != "" {
				re.Property = fe.Property
				if re.Message == "" {
					re.Message = fe.Message
				}
				break
			}
		}
		return re
	}
	if len(chunk) == 1 {
		res.Failed = append(res.Failed, recErr(chunk[0].ID))
		return nil
	}
	named := map[string]bool{}
	for _, fe := range ae.Errors {
		for _, id := range fe.Context["ids"] {
			if inChunk(chunk, id) {
				named[id] = true
			}
		}
	}
	if len(named) > 0 && len(named) < len(chunk) {
		var rest []UpdateInput
		for _, u := range chunk {
			if named[u.ID] {
				res.Failed = append(res.Failed, recErr(u.ID))
			} else {
				rest = append(rest, u)
			}
		}
		return c.updateChunk(ctx, objectType, rest, res)
	}
	// The error names properties: only records setting one of them can be at fault. A
	// property that is missing or read-only fails every record setting it, without a search.
	dead, suspect := map[string]bool{}, map[string]bool{}
	for _, fe := range ae.Errors {
		if fe.Property == "" {
			dead, suspect = nil, nil // an error not tied to a property: no narrowing
			break
		}
		suspect[fe.Property] = true
		if propertyLevelCodes[fe.Code] {
			dead[fe.Property] = true
		}
	}
	if len(suspect) > 0 {
		var innocent, suspects []UpdateInput
		for _, u := range chunk {
			if p := firstSet(u, dead); p != "" {
				re := recErr(u.ID)
				re.Property = p
				for _, fe := range ae.Errors {
					if fe.Property == p {
						re.Message = fe.Message
						break
					}
				}
				res.Failed = append(res.Failed, re)
				continue
			}
			if firstSet(u, suspect) != "" {
				suspects = append(suspects, u)
			} else {
				innocent = append(innocent, u)
			}
		}
		if len(innocent) < len(chunk) && len(suspects) < len(chunk) {
			if err := c.updateChunk(ctx, objectType, innocent, res); err != nil {
				failAll(res, suspects, err)
				return err
			}
			return c.updateChunk(ctx, objectType, suspects, res)
		}
	}
	mid := len(chunk) / 2
	if err := c.updateChunk(ctx, objectType, chunk[:mid], res); err != nil {
		failAll(res, chunk[mid:], err)
		return err
	}
	return c.updateChunk(ctx, objectType, chunk[mid:], res)
}

// firstSet returns the first (by name) of props that u sets, or "".
func firstSet(u UpdateInput, props map[string]bool) string {
	var found string
	for p := range props {
		if _, ok := u.Properties[p]; ok && (found == "" || p < found) {
			found = p
		}
	}
	return found
}

func inChunk(chunk []UpdateInput, id string) bool {
	return slices.ContainsFunc(chunk, func(u UpdateInput) bool { return u.ID == id })
}

func uniqueNonEmpty(in []string) []string {
	seen := make(map[string]bool, len(in))
	out := make([]string, 0, len(in))
	for _, s := range in {
		if s != "" && !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	return out
}

func appendMissing(list []string, names ...string) []string {
	for _, n := range names {
		if !slices.Contains(list, n) {
			list = append(list, n)
		}
	}
	return list
}

// splitMulti splits a ";"-separated HubSpot value, dropping empties.
func splitMulti(s string) []string { return identity.SplitMulti(s) }
