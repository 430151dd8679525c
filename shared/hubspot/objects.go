package hubspot

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"iter"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/pilotsync/pilotsync/shared/identity"
)

// HubSpot CRM limits (https://developers.hubspot.com/docs/api/crm/search; batch read and update:
// https://developers.hubspot.com/docs/api-reference/crm-objects-v3/basic/post-crm-v3-objects-objectType-batch-read).
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

// SearchRequest is one search page request. HubSpot's PublicObjectSearchRequest requires
// every field, so Search sends empty lists and after "0" (the first page) for unset ones.
type SearchRequest struct {
	FilterGroups []FilterGroup `json:"filterGroups"`
	Sorts        []Sort        `json:"sorts"`
	Properties   []string      `json:"properties"`
	// Limit defaults to MaxSearchLimit.
	Limit int    `json:"limit"`
	After string `json:"after"`
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
	if req.Sorts == nil {
		req.Sorts = []Sort{}
	}
	if req.Properties == nil {
		req.Properties = []string{}
	}
	if req.After == "" {
		req.After = "0"
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
	// Every requested id is in exactly one of ByRequest and NotFound.
	ByRequest map[string]string
}

type batchResponse struct {
	Status    string       `json:"status"`
	Results   []recordJSON `json:"results"`
	NumErrors int          `json:"numErrors"`
	Errors    []batchError `json:"errors"`
}

type batchError struct {
	ID       string         `json:"id"`
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
	// properties and propertiesWithHistory are required by BatchReadInputSimplePublicObjectId.
	body := struct {
		Inputs                []input  `json:"inputs"`
		Properties            []string `json:"properties"`
		PropertiesWithHistory []string `json:"propertiesWithHistory"`
		IDProperty            string   `json:"idProperty,omitempty"`
	}{Properties: props, PropertiesWithHistory: []string{}, IDProperty: idProperty}
	if body.Properties == nil {
		body.Properties = []string{}
	}
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
