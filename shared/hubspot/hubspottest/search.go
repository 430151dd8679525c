package hubspottest

import (
	"bytes"
	"cmp"
	"encoding/json"
	"fmt"
	"hash/fnv"
	"io"
	"net/http"
	"path"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"
)

type filterJSON struct {
	PropertyName string            `json:"propertyName"`
	Operator     string            `json:"operator"`
	Value        json.RawMessage   `json:"value"`
	HighValue    json.RawMessage   `json:"highValue"`
	Values       []json.RawMessage `json:"values"`
}

type searchRequest struct {
	FilterGroups []struct {
		Filters []filterJSON `json:"filters"`
	} `json:"filterGroups"`
	Sorts      []json.RawMessage `json:"sorts"`
	Properties []string          `json:"properties"`
	Limit      json.RawMessage   `json:"limit"`
	After      json.RawMessage   `json:"after"`
	Query      string            `json:"query"`
}

// valueKind says where a property's value lives.
type valueKind int

const (
	kindProp valueKind = iota
	kindID
	kindUpdated
	kindCreated
)

// cfilter is a compiled filter.
type cfilter struct {
	op      string
	prop    string
	kind    valueKind
	ptype   string
	numeric bool
	num, hi float64
	nums    []float64
	str, hs string
	strs    []string
}

type csort struct {
	prop    string
	kind    valueKind
	ptype   string
	numeric bool
	desc    bool
}

var operators = map[string]bool{"EQ": true, "NEQ": true, "LT": true, "LTE": true, "GT": true, "GTE": true, "BETWEEN": true,
	"IN": true, "NOT_IN": true, "HAS_PROPERTY": true, "NOT_HAS_PROPERTY": true, "CONTAINS_TOKEN": true, "NOT_CONTAINS_TOKEN": true}

// classify says how a property's values compare (caller holds mu).
func (o *objectStore) classify(name string) (kind valueKind, ptype string, numeric bool, ok bool) {
	p := o.props[name]
	if p == nil {
		return 0, "", false, false
	}
	switch name {
	case propObjectID:
		kind = kindID
	case o.lastModProp:
		kind = kindUpdated
	case propCreateDate:
		kind = kindCreated
	}
	numeric = kind != kindProp || p.Type == "number" || p.Type == "date" || p.Type == "datetime"
	return kind, p.Type, numeric, true
}

// parseFilterValue reads a filter value: a number, or for dates epoch
// milliseconds only (https://developers.hubspot.com/docs/api/crm/search), so a client sending ISO dates is caught.
func parseFilterValue(ptype, v string) (float64, bool) {
	if ptype == "date" || ptype == "datetime" {
		n, err := strconv.ParseInt(v, 10, 64)
		return float64(n), err == nil
	}
	f, err := strconv.ParseFloat(v, 64)
	return f, err == nil
}

// parseStoredNumber reads a stored value: numbers, or dates in any format HubSpot stores.
func parseStoredNumber(ptype, v string) (float64, bool) {
	if ptype == "date" || ptype == "datetime" {
		n, ok := parseTimeMS(v)
		return float64(n), ok
	}
	f, err := strconv.ParseFloat(v, 64)
	return f, err == nil
}

func (o *objectStore) compileFilter(f filterJSON) (*cfilter, error) {
	if !operators[f.Operator] {
		return nil, fmt.Errorf("operator %q is not supported", f.Operator)
	}
	kind, ptype, numeric, ok := o.classify(f.PropertyName)
	if !ok {
		return nil, fmt.Errorf("property %q does not exist", f.PropertyName)
	}
	c := &cfilter{op: f.Operator, prop: f.PropertyName, kind: kind, ptype: ptype, numeric: numeric}
	if kind == kindUpdated || kind == kindCreated {
		c.ptype = "datetime"
	}
	val, hasVal := scalarString(f.Value)
	switch f.Operator {
	case "HAS_PROPERTY", "NOT_HAS_PROPERTY":
		return c, nil
	case "IN", "NOT_IN":
		if len(f.Values) == 0 {
			return nil, fmt.Errorf("operator %s on %s needs values", f.Operator, f.PropertyName)
		}
		for _, raw := range f.Values {
			v, _ := scalarString(raw)
			if numeric {
				n, ok := parseFilterValue(c.ptype, v)
				if !ok {
					return nil, fmt.Errorf("%q is not a valid value for %s", v, f.PropertyName)
				}
				c.nums = append(c.nums, n)
			}
			c.strs = append(c.strs, strings.ToLower(v))
		}
		return c, nil
	}
	if !hasVal {
		return nil, fmt.Errorf("operator %s on %s needs a value", f.Operator, f.PropertyName)
	}
	c.str = strings.ToLower(val)
	if f.Operator == "CONTAINS_TOKEN" || f.Operator == "NOT_CONTAINS_TOKEN" {
		return c, nil
	}
	if numeric {
		n, ok := parseFilterValue(c.ptype, val)
		if !ok {
			return nil, fmt.Errorf("%q is not a valid value for %s (dates are epoch milliseconds)", val, f.PropertyName)
		}
		c.num = n
	}
	if f.Operator == "BETWEEN" {
		hv, ok := scalarString(f.HighValue)
		if !ok {
			return nil, fmt.Errorf("BETWEEN on %s needs a highValue", f.PropertyName)
		}
		c.hs = strings.ToLower(hv)
		if numeric {
			n, ok := parseFilterValue(c.ptype, hv)
			if !ok {
				return nil, fmt.Errorf("%q is not a valid highValue for %s", hv, f.PropertyName)
			}
			c.hi = n
		}
	}
	return c, nil
}

// numValue reads a numeric value from a search snapshot.
func numValue(rec *record, snap *snapshot, kind valueKind, ptype, prop string) (float64, bool) {
	switch kind {
	case kindID:
		return float64(rec.num), true
	case kindUpdated:
		return float64(snap.updated.UnixMilli()), true
	case kindCreated:
		return float64(rec.created.UnixMilli()), true
	}
	v, ok := snap.props[prop]
	if !ok || v == "" {
		return 0, false
	}
	return parseStoredNumber(ptype, v)
}

// tokens splits a value the way CONTAINS_TOKEN sees it.
func tokens(v string) []string {
	return strings.FieldsFunc(strings.ToLower(v), func(r rune) bool {
		return r == ';' || r == ',' || r == ' ' || r == '\t' || r == '\n'
	})
}

func (c *cfilter) match(rec *record, snap *snapshot) bool {
	var (
		present bool
		n       float64
		s       string
	)
	if c.numeric {
		n, present = numValue(rec, snap, c.kind, c.ptype, c.prop)
	} else {
		s, present = snap.props[c.prop]
		present = present && s != ""
		s = strings.ToLower(s)
	}
	switch c.op {
	case "HAS_PROPERTY":
		return present
	case "NOT_HAS_PROPERTY":
		return !present
	case "NEQ":
		return !present || !c.eq(n, s)
	case "NOT_IN":
		return !present || !c.in(n, s)
	case "NOT_CONTAINS_TOKEN":
		return !present || !c.token(rec, snap)
	}
	if !present {
		return false
	}
	switch c.op {
	case "EQ":
		return c.eq(n, s)
	case "IN":
		return c.in(n, s)
	case "CONTAINS_TOKEN":
		return c.token(rec, snap)
	case "LT":
		return c.cmp(n, s, c.num, c.str) < 0
	case "LTE":
		return c.cmp(n, s, c.num, c.str) <= 0
	case "GT":
		return c.cmp(n, s, c.num, c.str) > 0
	case "GTE":
		return c.cmp(n, s, c.num, c.str) >= 0
	case "BETWEEN":
		return c.cmp(n, s, c.num, c.str) >= 0 && c.cmp(n, s, c.hi, c.hs) <= 0
	}
	return false
}

func (c *cfilter) cmp(n float64, s string, wn float64, ws string) int {
	if c.numeric {
		switch {
		case n < wn:
			return -1
		case n > wn:
			return 1
		}
		return 0
	}
	return strings.Compare(s, ws)
}

func (c *cfilter) eq(n float64, s string) bool {
	if c.numeric {
		return n == c.num
	}
	if s == c.str {
		return true
	}
	if c.ptype == "enumeration" {
		return slices.Contains(strings.Split(s, ";"), c.str)
	}
	return false
}

func (c *cfilter) in(n float64, s string) bool {
	if c.numeric {
		return slices.Contains(c.nums, n)
	}
	if slices.Contains(c.strs, s) {
		return true
	}
	if c.ptype == "enumeration" {
		for _, part := range strings.Split(s, ";") {
			if slices.Contains(c.strs, part) {
				return true
			}
		}
	}
	return false
}

// token matches CONTAINS_TOKEN: a whole token (or the whole value), '*' wildcards allowed.
func (c *cfilter) token(rec *record, snap *snapshot) bool {
	var v string
	if c.kind == kindID {
		v = rec.id
	} else {
		v = strings.ToLower(snap.props[c.prop])
	}
	if ok, _ := path.Match(c.str, v); ok || v == c.str {
		return true
	}
	for _, t := range tokens(v) {
		if ok, _ := path.Match(c.str, t); ok || t == c.str {
			return true
		}
	}
	return false
}

// searchError answers 400 the way HubSpot's search does.
func (s *Server) searchError(w http.ResponseWriter, format string, args ...any) {
	s.writeError(w, http.StatusBadRequest, "VALIDATION_ERROR", fmt.Sprintf(format, args...), nil)
}

func (s *Server) handleSearch(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	if n := utf8.RuneCount(body); n > maxSearchBodyChars {
		s.searchError(w, "Request body is %d characters; the search limit is %d.", n, maxSearchBodyChars)
		return
	}
	var req searchRequest
	dec := json.NewDecoder(bytes.NewReader(body))
	if err := dec.Decode(&req); err != nil {
		s.searchError(w, "Invalid input JSON on line 1: %v", err)
		return
	}
	limit := defaultSearchLimit
	if v, ok := scalarString(req.Limit); ok {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 || n > maxSearchLimit {
			s.searchError(w, "limit must be between 0 and %d, got %s", maxSearchLimit, v)
			return
		}
		limit = n
	}
	after := 0
	if v, ok := scalarString(req.After); ok && v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			s.searchError(w, "after must be a non-negative integer, got %q", v)
			return
		}
		after = n
	}
	if after >= searchResultCap {
		s.searchError(w, "Search results are limited to %d; after %d is past the end of the results.", searchResultCap, after)
		return
	}
	if len(req.FilterGroups) > maxFilterGroups {
		s.searchError(w, "Too many filter groups: %d, the limit is %d.", len(req.FilterGroups), maxFilterGroups)
		return
	}
	total := 0
	for _, g := range req.FilterGroups {
		if len(g.Filters) > maxFiltersPerGroup {
			s.searchError(w, "Too many filters in a group: %d, the limit is %d.", len(g.Filters), maxFiltersPerGroup)
			return
		}
		total += len(g.Filters)
	}
	if total > maxFiltersTotal {
		s.searchError(w, "Too many filters: %d, the limit is %d.", total, maxFiltersTotal)
		return
	}
	if len(req.Sorts) > 1 {
		s.searchError(w, "Only one sort is supported, got %d.", len(req.Sorts))
		return
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	o := s.objectType(w, r)
	if o == nil {
		return
	}
	groups := make([][]*cfilter, 0, len(req.FilterGroups))
	for _, g := range req.FilterGroups {
		var cg []*cfilter
		for _, f := range g.Filters {
			c, err := o.compileFilter(f)
			if err != nil {
				s.searchError(w, "%v", err)
				return
			}
			cg = append(cg, c)
		}
		groups = append(groups, cg)
	}
	sorter := csort{prop: propObjectID, kind: kindID, numeric: true}
	if len(req.Sorts) == 1 {
		var so struct {
			PropertyName string `json:"propertyName"`
			Direction    string `json:"direction"`
		}
		if err := json.Unmarshal(req.Sorts[0], &so); err != nil {
			var name string
			if json.Unmarshal(req.Sorts[0], &name) != nil {
				s.searchError(w, "invalid sort: %v", err)
				return
			}
			so.PropertyName, so.Direction = strings.TrimPrefix(name, "-"), "ASCENDING"
			if strings.HasPrefix(name, "-") {
				so.Direction = "DESCENDING"
			}
		}
		kind, ptype, numeric, ok := o.classify(so.PropertyName)
		if !ok {
			s.searchError(w, "sort property %q does not exist", so.PropertyName)
			return
		}
		if so.Direction != "" && so.Direction != "ASCENDING" && so.Direction != "DESCENDING" {
			s.searchError(w, "sort direction %q is not ASCENDING or DESCENDING", so.Direction)
			return
		}
		sorter = csort{prop: so.PropertyName, kind: kind, ptype: ptype, numeric: numeric, desc: so.Direction == "DESCENDING"}
	}
	query := strings.ToLower(strings.TrimSpace(req.Query))

	now := s.clock()
	var hits []hit
	cacheKey, _ := json.Marshal([]any{req.FilterGroups, req.Sorts, query})
	cached := o.searchCache[string(cacheKey)]
	switch {
	case stateOf(r).emptyWrite:
	case cached != nil && cached.gen == o.gen:
		hits = cached.hits
	default:
		for _, rec := range o.order {
			snap := rec.visible(now)
			if snap == nil || snap.hidden {
				continue
			}
			if !matchGroups(groups, rec, snap) || (query != "" && !o.matchQuery(query, snap)) {
				continue
			}
			h := hit{rec: rec, snap: snap}
			if sorter.numeric {
				h.n, h.has = numValue(rec, snap, sorter.kind, sorter.ptype, sorter.prop)
			} else {
				h.s, h.has = snap.props[sorter.prop]
				h.s = strings.ToLower(h.s)
				h.has = h.has && h.s != ""
			}
			hits = append(hits, h)
		}
		var tieSalt uint64
		if s.opts.UnstableTies && sorter.kind != kindID {
			h := fnv.New64a()
			_, _ = h.Write(cacheKey)
			tieSalt = h.Sum64() | 1
		}
		sortHits(hits, sorter, tieSalt)
		if !now.Before(o.visibleAllAt) {
			// Every write is visible, so until the next write this answer stays exact.
			if o.searchCache == nil || len(o.searchCache) >= maxCachedSearches {
				o.searchCache = map[string]*cachedSearch{}
			}
			o.searchCache[string(cacheKey)] = &cachedSearch{gen: o.gen, hits: hits}
		}
	}
	end := min(after+limit, len(hits), searchResultCap)
	type paging struct {
		Next struct {
			After string `json:"after"`
		} `json:"next"`
	}
	resp := struct {
		Total   int          `json:"total"`
		Results []recordJSON `json:"results"`
		Paging  *paging      `json:"paging,omitempty"`
	}{Total: len(hits), Results: []recordJSON{}}
	for i := after; i < end; i++ {
		h := hits[i]
		resp.Results = append(resp.Results, o.wire(h.rec, h.snap.props, h.snap.updated, false, req.Properties))
	}
	if end < len(hits) && limit > 0 {
		resp.Paging = &paging{}
		resp.Paging.Next.After = strconv.Itoa(end)
	}
	writeJSON(w, http.StatusOK, resp)
}

func matchGroups(groups [][]*cfilter, rec *record, snap *snapshot) bool {
	if len(groups) == 0 {
		return true
	}
	for _, g := range groups {
		ok := true
		for _, f := range g {
			if !f.match(rec, snap) {
				ok = false
				break
			}
		}
		if ok {
			return true
		}
	}
	return false
}

// matchQuery is the free-text "query": a prefix of a token of a default searchable property.
func (o *objectStore) matchQuery(q string, snap *snapshot) bool {
	for _, p := range []string{propEmail, "firstname", "lastname", "phone", "company", "name", "domain", "website"} {
		for _, t := range tokens(snap.props[p]) {
			if strings.HasPrefix(t, q) {
				return true
			}
		}
		if strings.HasPrefix(strings.ToLower(snap.props[p]), q) {
			return true
		}
	}
	return false
}

// hit is one search match with its sort key.
type hit struct {
	rec  *record
	snap *snapshot
	n    float64
	has  bool
	s    string
}

// cachedSearch is a sorted match list, exact while the object type's gen is unchanged.
type cachedSearch struct {
	gen  uint64
	hits []hit
}

// maxCachedSearches bounds the per-type cache of sorted search results.
const maxCachedSearches = 16

// sortHits orders matches by the sort, records without a value last, ties by id.
// A non-zero tieSalt orders ties by a salted hash of the id instead.
func sortHits(hits []hit, sorter csort, tieSalt uint64) {
	slices.SortFunc(hits, func(a, b hit) int {
		// Records without a value sort last either way; ties break by id.
		if a.has != b.has {
			if a.has {
				return -1
			}
			return 1
		}
		c := 0
		if a.has {
			if sorter.numeric {
				switch {
				case a.n < b.n:
					c = -1
				case a.n > b.n:
					c = 1
				}
			} else {
				c = strings.Compare(a.s, b.s)
			}
			if sorter.desc {
				c = -c
			}
		}
		if c == 0 && tieSalt != 0 {
			c = cmp.Compare(mix(uint64(a.rec.num)^tieSalt), mix(uint64(b.rec.num)^tieSalt))
		}
		if c == 0 {
			c = cmp.Compare(a.rec.num, b.rec.num)
		}
		return c
	})
}

// mix is splitmix64's finalizer: a cheap, well-spread hash of an id.
func mix(x uint64) uint64 {
	x ^= x >> 30
	x *= 0xbf58476d1ce4e5b9
	x ^= x >> 27
	x *= 0x94d049bb133111eb
	x ^= x >> 31
	return x
}
