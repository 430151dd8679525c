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
// ignoreIDFilter drops hs_object_id filters (a server returning more than asked);
// emptyWithNext answers no results but a next page token (to the first five calls).
type searchFake struct {
	t              *testing.T
	lm             string
	recs           []searchRec
	fail           func(call int) int
	call           int
	ignoreIDFilter bool
	emptyWithNext  bool
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
	if s.emptyWithNext && s.call <= 5 {
		return reply{body: fmt.Sprintf(`{"total":%d,"results":[],"paging":{"next":{"after":"200"}}}`, len(s.recs))}
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
			if s.ignoreIDFilter {
				continue
			}
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
		if len(p.Records) == 0 {
			t.Errorf("an empty page (next %+v)", p.Next)
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

// TestWalkBulkEditMillisecond: a millisecond holding more than a page of records (a bulk
// edit) is read by id: every page holds records, each record comes once in (last-modified,
// id) order, and a walk resumed from any page's Next yields exactly the rest.
func TestWalkBulkEditMillisecond(t *testing.T) {
	var recs []searchRec
	var want []string
	for i := range 280 {
		ms := int64(5)
		if i >= 250 {
			ms = int64(i) // 30 records after the bulk edit, one per millisecond
		}
		id := fmt.Sprint(9001 - i) // ids descend while time ascends: order is by time first
		if i < 250 {
			id = fmt.Sprint(8000 + i*7%250) // the block's ids out of insertion order
		}
		recs = append(recs, searchRec{id: id, ms: walkBase.UnixMilli() + ms, lm: msValue(ms), updated: walkBase})
	}
	for i := range 250 {
		want = append(want, fmt.Sprint(8000+i))
	}
	for i := 250; i < 280; i++ {
		want = append(want, fmt.Sprint(9001-i))
	}
	s := &searchFake{t: t, lm: "lastmodifieddate", recs: recs}
	f := newFake(t)
	f.handler = s.answer
	c := f.client(t, newFakeClock())
	var nexts []WalkCursor
	var cum []int // records yielded up to each page
	var got []string
	for p, err := range c.WalkModified(context.Background(), "contacts", WalkCursor{Since: walkBase}, nil) {
		if err != nil {
			t.Fatal(err)
		}
		if len(p.Records) == 0 {
			t.Errorf("an empty page (next %+v)", p.Next)
		}
		for _, r := range p.Records {
			got = append(got, r.ID)
		}
		nexts = append(nexts, p.Next)
		cum = append(cum, len(got))
	}
	if !slices.Equal(got, want) {
		t.Fatalf("walked %d records %v\nwant %d %v", len(got), got, len(want), want)
	}
	for i, next := range nexts[:len(nexts)-1] {
		rest, _, errs := walkAll(t, c, "contacts", next)
		if len(errs) > 0 {
			t.Fatal(errs)
		}
		if !slices.Equal(rest, want[cum[i]:]) {
			t.Errorf("resumed after page %d (%+v): %d records, want the %d after it", i, next, len(rest), len(want)-cum[i])
		}
	}
	if last := nexts[len(nexts)-1]; last != (WalkCursor{Since: walkBase.Add(279 * time.Millisecond), AfterID: "8722"}) {
		t.Errorf("last next = %+v", last)
	}
}

// TestWalkResumeNeverRepeatsTheCursorRecord: resumed inside a millisecond, the walk yields
// only the records after the cursor's id, each once, even from a search that returns more
// than the id filter asks for.
func TestWalkResumeNeverRepeatsTheCursorRecord(t *testing.T) {
	var recs []searchRec
	for i := range 150 {
		recs = append(recs, searchRec{id: fmt.Sprint(1001 + i), ms: walkBase.UnixMilli() + 7, lm: msValue(7), updated: walkBase})
	}
	s := &searchFake{t: t, lm: "lastmodifieddate", recs: recs, ignoreIDFilter: true}
	f := newFake(t)
	f.handler = s.answer
	c := f.client(t, newFakeClock())
	ids, next, errs := walkAll(t, c, "contacts", WalkCursor{Since: walkBase.Add(7 * time.Millisecond), AfterID: "1100"})
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	var want []string
	for i := 100; i < 150; i++ {
		want = append(want, fmt.Sprint(1001+i))
	}
	if !slices.Equal(ids, want) {
		t.Errorf("walked %v\nwant %v (after 1100 only)", ids, want)
	}
	if want := (WalkCursor{Since: walkBase.Add(7 * time.Millisecond), AfterID: "1150"}); next != want {
		t.Errorf("next = %+v, want %+v", next, want)
	}
}

// TestWalkEmptyPageEndsWalk: an answer with no records ends the walk even when it offers a
// next page token, instead of searching again and again for nothing.
func TestWalkEmptyPageEndsWalk(t *testing.T) {
	s := &searchFake{t: t, lm: "lastmodifieddate", emptyWithNext: true,
		recs: []searchRec{{id: "1001", ms: walkBase.UnixMilli(), lm: msValue(0), updated: walkBase}}}
	f := newFake(t)
	f.handler = s.answer
	c := f.client(t, newFakeClock())
	ids, _, errs := walkAll(t, c, "contacts", WalkCursor{Since: walkBase})
	if len(ids) != 0 || len(errs) != 0 {
		t.Errorf("walked %v, errors %v; want nothing", ids, errs)
	}
	if s.call != 1 {
		t.Errorf("%d searches, want 1", s.call)
	}
}

// TestWalkIDOrderWithinAMillisecond: records sharing a millisecond come in id order,
// numeric when both ids are numbers (HubSpot's are: "9" before "10" before "100") and by
// text otherwise, as idCompare documents, so a cursor's AfterID splits them the same way
// on every walk.
func TestWalkIDOrderWithinAMillisecond(t *testing.T) {
	var recs []searchRec
	for _, id := range []string{"b", "100", "9a", "10", "aa", "9"} {
		recs = append(recs, searchRec{id: id, ms: walkBase.UnixMilli() + 3, lm: msValue(3), updated: walkBase})
	}
	s := &searchFake{t: t, lm: "lastmodifieddate", recs: recs}
	f := newFake(t)
	f.handler = s.answer
	c := f.client(t, newFakeClock())
	ids, _, errs := walkAll(t, c, "contacts", WalkCursor{Since: walkBase})
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	if want := []string{"9", "10", "100", "9a", "aa", "b"}; !slices.Equal(ids, want) {
		t.Errorf("walked %v, want %v", ids, want)
	}
}

// TestTrimZeros: record ids compare as numbers, so leading zeros go; an id
// of zeros keeps one, and the empty id stays empty.
func TestTrimZeros(t *testing.T) {
	for in, want := range map[string]string{"007": "7", "0": "0", "000": "0", "10": "10", "": "", "100": "100"} {
		if got := trimZeros(in); got != want {
			t.Errorf("trimZeros(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestIDCompareEqualIDs: an id compares equal to itself, numerically and as
// text, so the walk's cursor never treats the record it stopped at as after
// itself.
func TestIDCompareEqualIDs(t *testing.T) {
	for _, tc := range []struct {
		a, b string
		want int
	}{
		{"12", "12", 0}, {"012", "12", 0}, {"abc", "abc", 0},
		{"abd", "abc", 1}, {"abc", "abd", -1}, {"9", "10", -1}, {"10", "9", 1},
	} {
		if got := idCompare(tc.a, tc.b); got != tc.want {
			t.Errorf("idCompare(%q, %q) = %d, want %d", tc.a, tc.b, got, tc.want)
		}
	}
}
