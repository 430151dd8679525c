package hubspot

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// searchRec is one record of searchFake: its id, the last-modified value searches filter and
// sort on (ms), the property value it returns (lm, omitted when nil) and its updatedAt.
type searchRec struct {
	id      string
	ms      int64
	lm      *string
	updated time.Time
}

// searchFake answers CRM searches over recs the way HubSpot does for the filters and sorts a
// walk sends (https://developers.hubspot.com/docs/api-reference/2026-03/crm/objects/search):
// filters of one group ANDed, one ascending sort, limit and after as an offset, a next page
// token while results remain. fail, when it returns a status, answers that call with it.
type searchFake struct {
	t    *testing.T
	lm   string
	recs []searchRec
	fail func(call int) int
	call int
}

func (s *searchFake) answer(r seenRequest) reply {
	s.call++
	if s.fail != nil {
		if st := s.fail(s.call); st != 0 {
			return reply{status: st, body: `{"status":"error","category":"VALIDATION_ERROR","message":"There was a problem with the request."}`}
		}
	}
	var req SearchRequest
	if err := json.Unmarshal(r.Body, &req); err != nil {
		s.t.Errorf("search body: %v", err)
	}
	var out []searchRec
	for _, rec := range s.recs {
		if len(req.FilterGroups) == 0 || s.match(rec, req.FilterGroups[0].Filters) {
			out = append(out, rec)
		}
	}
	byID := len(req.Sorts) == 1 && req.Sorts[0].PropertyName == objectIDProperty
	slices.SortStableFunc(out, func(a, b searchRec) int {
		if !byID && a.ms != b.ms {
			return int(a.ms - b.ms)
		}
		return numCompare(a.id, b.id)
	})
	off, _ := strconv.Atoi(req.After)
	out = out[min(off, len(out)):]
	next := ""
	if len(out) > req.Limit {
		out, next = out[:req.Limit], strconv.Itoa(off+req.Limit)
	}
	var rs []string
	for _, rec := range out {
		props := "{}"
		if rec.lm != nil {
			props = fmt.Sprintf(`{%q:%q}`, s.lm, *rec.lm)
		}
		rs = append(rs, fmt.Sprintf(`{"id":%q,"properties":%s,"createdAt":"2026-01-01T00:00:00Z","updatedAt":%q,"archived":false}`,
			rec.id, props, rec.updated.UTC().Format(time.RFC3339Nano)))
	}
	body := fmt.Sprintf(`{"total":%d,"results":[%s]`, len(s.recs), strings.Join(rs, ","))
	if next != "" {
		body += fmt.Sprintf(`,"paging":{"next":{"after":%q}}`, next)
	}
	return reply{body: body + "}"}
}

func (s *searchFake) match(rec searchRec, filters []Filter) bool {
	for _, f := range filters {
		var c int
		switch f.PropertyName {
		case s.lm:
			v, _ := strconv.ParseInt(f.Value, 10, 64)
			c = int(rec.ms - v)
		case objectIDProperty:
			c = numCompare(rec.id, f.Value)
		default:
			s.t.Errorf("filter on %s", f.PropertyName)
		}
		ok := map[string]bool{"EQ": c == 0, "GT": c > 0, "GTE": c >= 0}[f.Operator]
		if !ok {
			return false
		}
	}
	return true
}

func numCompare(a, b string) int {
	x, _ := strconv.ParseInt(a, 10, 64)
	y, _ := strconv.ParseInt(b, 10, 64)
	return int(x - y)
}

var walkBase = time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)

func msValue(ms int64) *string {
	s := strconv.FormatInt(walkBase.UnixMilli()+ms, 10)
	return &s
}

// walkAll runs one walk from cursor and returns its records' ids, the last Next and the errors.
func walkAll(t *testing.T, c *Client, objectType string, cursor WalkCursor) (ids []string, next WalkCursor, errs []error) {
	t.Helper()
	for p, err := range c.WalkModified(context.Background(), objectType, cursor, nil) {
		if err != nil {
			if p != nil {
				t.Errorf("a page with the error %v", err)
			}
			errs = append(errs, err)
			continue
		}
		for _, r := range p.Records {
			ids = append(ids, r.ID)
		}
		next = p.Next
	}
	return ids, next, errs
}

// TestWalkOrdersByLastModifiedProperty: the walk orders records and sets its cursor by the
// last-modified property it filters on, not by updatedAt (which may differ); a record
// whose answer leaves the property out (or holds no time) falls back to its updatedAt.
func TestWalkOrdersByLastModifiedProperty(t *testing.T) {
	garbage := "not a time"
	s := &searchFake{t: t, lm: "hs_lastmodifieddate", recs: []searchRec{
		{id: "11", ms: walkBase.UnixMilli() + 30, lm: msValue(30), updated: walkBase.Add(time.Hour)},
		{id: "12", ms: walkBase.UnixMilli() + 10, lm: msValue(10), updated: walkBase.Add(3 * time.Hour)},
		{id: "13", ms: walkBase.UnixMilli() + 20, updated: walkBase.Add(20 * time.Millisecond)},
		{id: "14", ms: walkBase.UnixMilli() + 40, lm: &garbage, updated: walkBase.Add(40 * time.Millisecond)},
	}}
	f := newFake(t)
	f.handler = s.answer
	c := f.client(t, newFakeClock())
	ids, next, errs := walkAll(t, c, "companies", WalkCursor{Since: walkBase})
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	if want := []string{"12", "13", "11", "14"}; !slices.Equal(ids, want) {
		t.Errorf("walked %v, want %v (by last-modified)", ids, want)
	}
	if want := (WalkCursor{Since: walkBase.Add(40 * time.Millisecond), AfterID: "14"}); next != want {
		t.Errorf("next = %+v, want %+v", next, want)
	}
}

// TestWalkSearchFailureEndsWalk: a search HubSpot refuses ends the walk with that error,
// once, after the pages already read, whether it is the first range query, a later one, or
// a read of a millisecond by id.
func TestWalkSearchFailureEndsWalk(t *testing.T) {
	var recs []searchRec
	for i := range 300 {
		ms := int64(i)
		if i >= 100 && i < 270 {
			ms = 100 // a 170-record millisecond: half of the first page, read by id
		}
		recs = append(recs, searchRec{id: fmt.Sprint(1001 + i), ms: walkBase.UnixMilli() + ms, lm: msValue(ms), updated: walkBase})
	}
	tests := []struct {
		name     string
		cursor   WalkCursor
		failCall int
		wantRecs int
	}{
		{"first range query", WalkCursor{Since: walkBase}, 1, 0},
		{"millisecond read by id", WalkCursor{Since: walkBase}, 2, 100},
		{"range query after the millisecond", WalkCursor{Since: walkBase}, 3, 270},
		{"resumed inside a millisecond", WalkCursor{Since: walkBase.Add(100 * time.Millisecond), AfterID: "1200"}, 1, 0},
		{"after the resumed millisecond", WalkCursor{Since: walkBase.Add(100 * time.Millisecond), AfterID: "1200"}, 2, 70},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := &searchFake{t: t, lm: "lastmodifieddate", recs: recs, fail: func(call int) int {
				if call == tc.failCall {
					return 400
				}
				return 0
			}}
			f := newFake(t)
			f.handler = s.answer
			c := f.client(t, newFakeClock())
			ids, _, errs := walkAll(t, c, "contacts", tc.cursor)
			var ae *APIError
			if len(errs) != 1 || !errors.As(errs[0], &ae) || ae.Status != 400 {
				t.Fatalf("errors %v, want the 400 once", errs)
			}
			if len(ids) != tc.wantRecs {
				t.Errorf("%d records before the failure, want %d", len(ids), tc.wantRecs)
			}
			if s.call != tc.failCall {
				t.Errorf("%d searches, want %d (none after the failure)", s.call, tc.failCall)
			}
		})
	}
}
