package hubspot

import (
	"context"
	"iter"
	"slices"
	"strconv"
	"time"
)

// WalkCursor is a position in the (last-modified, id) order: a walk from it yields records
// modified after Since, and those modified within Since's millisecond whose id is greater than
// AfterID ("" = all of them).
type WalkCursor struct {
	Since   time.Time
	AfterID string
}

// WalkPage is one batch of records from WalkModified, ascending by (last-modified, id).
type WalkPage struct {
	Records []Record
	// Next resumes a later walk exactly after this page: it yields what this walk had not yet
	// yielded (plus records modified again since).
	Next WalkCursor
}

// objectIDProperty is every object's id as a searchable number property.
const objectIDProperty = "hs_object_id"

// WalkModified yields every record whose last-modified time is at or after from (see
// WalkCursor), ascending, in pages. Every request is a new search from the last position
// (keyset paging), never a later page of an earlier one: HubSpot's "after" is an offset, so
// records edited during the walk (which leave their place in the list) would shift unread
// records into pages already read, and an offset cannot pass 10,000 results. HubSpot orders
// records that tie on the sort arbitrarily, so records at a page's newest timestamp are held
// back and re-read from that timestamp, and a block sharing one millisecond (a bulk edit) is
// read by hs_object_id: "last-modified EQ ts AND hs_object_id GT last id", sorted by id,
// since HubSpot allows one sort. Nothing is yielded twice at the seams and every Next is exact.
//
// Keep properties few: the search body must stay under 3,000 characters (read wide property
// sets with BatchRead). The last-modified property is always requested.
func (c *Client) WalkModified(ctx context.Context, objectType string, from WalkCursor, properties []string) iter.Seq2[*WalkPage, error] {
	return func(yield func(*WalkPage, error) bool) {
		w := &walker{c: c, objectType: objectType, lm: LastModifiedProperty(objectType), yield: yield}
		w.props = appendMissing(slices.Clone(properties), w.lm)
		w.pos = walkPos{ts: from.Since.UnixMilli(), id: from.AfterID}
		w.run(ctx)
	}
}

// walkPos is the last position yielded: records after it are (ts, id) > (pos.ts, pos.id),
// with id "" below every id.
type walkPos struct {
	ts int64
	id string
}

type walker struct {
	c          *Client
	objectType string
	lm         string
	props      []string
	yield      func(*WalkPage, error) bool
	pos        walkPos
	// strict: every record at pos.ts has been yielded; the next query filters GT pos.ts.
	strict bool
}

// blockThreshold: when this many records at the page's newest timestamp are pending, the
// walker treats the timestamp as a bulk-edit block and reads it by id ranges.
const blockThreshold = MaxSearchLimit / 2

func (w *walker) ts(r Record) int64 {
	if v, ok := r.Properties[w.lm]; ok {
		if t, err := parseTime(v); err == nil {
			return t.UnixMilli()
		}
	}
	return r.UpdatedAt.UnixMilli()
}

func (w *walker) after(r Record) bool {
	t := w.ts(r)
	if t != w.pos.ts {
		return t > w.pos.ts
	}
	return !w.strict && idLess(w.pos.id, r.ID)
}

func (w *walker) run(ctx context.Context) {
	block := w.pos.id != "" // resume inside a millisecond: finish it by id first
	for {
		var done, ok bool
		if block {
			done, ok = w.walkBlock(ctx)
			if !ok {
				return
			}
			if done { // the millisecond is complete: continue after it
				w.strict, block = true, false
			}
			continue
		}
		done, block, ok = w.walkRange(ctx)
		if !ok || done {
			return
		}
	}
}

func (w *walker) search(ctx context.Context, req SearchRequest) (*SearchPage, bool) {
	page, err := w.c.Search(ctx, w.objectType, req)
	if err != nil {
		w.yield(nil, err)
		return nil, false
	}
	return page, true
}

// more reports whether a query has results past this page.
func more(page *SearchPage) bool { return page.After != "" && len(page.Results) > 0 }

// walkBlock reads one page of the records at w.pos.ts with id > w.pos.id, sorted by id, and
// reports whether the millisecond is exhausted. Every page is a new query from the last id
// (keyset paging), never "after": records edited during the walk leave the millisecond, and an
// offset into a list that shrank skips the records that moved up into pages already read.
func (w *walker) walkBlock(ctx context.Context) (done, ok bool) {
	filters := []Filter{{PropertyName: w.lm, Operator: "EQ", Value: strconv.FormatInt(w.pos.ts, 10)}}
	if w.pos.id != "" {
		filters = append(filters, Filter{PropertyName: objectIDProperty, Operator: "GT", Value: w.pos.id})
	}
	page, ok := w.search(ctx, SearchRequest{FilterGroups: []FilterGroup{{Filters: filters}},
		Sorts: []Sort{{PropertyName: objectIDProperty, Direction: "ASCENDING"}}, Properties: w.props, Limit: MaxSearchLimit})
	if !ok {
		return false, false
	}
	var recs []Record
	for _, r := range page.Results {
		if w.ts(r) == w.pos.ts && w.after(r) {
			recs = append(recs, r)
		}
	}
	slices.SortFunc(recs, func(a, b Record) int { return idCompare(a.ID, b.ID) })
	if len(recs) > 0 {
		w.pos.id = recs[len(recs)-1].ID
		if !w.yield(&WalkPage{Records: recs, Next: WalkCursor{Since: time.UnixMilli(w.pos.ts).UTC(), AfterID: w.pos.id}}, nil) {
			return false, false
		}
	}
	// No progress on a full page would loop forever: treat it as the end of the millisecond.
	return !more(page) || len(recs) == 0, true
}

// walkRange reads one page of records at or after w.pos sorted by last-modified, as a new
// query from the position (keyset paging; see walkBlock for why never "after"). HubSpot
// orders records that tie on the sort arbitrarily, and differently per query, but one answer
// is one sorted list: every timestamp before the page's last is complete in it. Records at
// the last timestamp may continue past the page, so they are not yielded: the next query
// starts at that timestamp (GTE) and reads them again, or, when they fill half a page or
// more (a bulk edit), the walk reads that millisecond by id (block).
func (w *walker) walkRange(ctx context.Context) (done, block, ok bool) {
	op := "GTE"
	if w.strict {
		op = "GT"
	}
	page, ok := w.search(ctx, SearchRequest{
		FilterGroups: []FilterGroup{{Filters: []Filter{{PropertyName: w.lm, Operator: op, Value: strconv.FormatInt(w.pos.ts, 10)}}}},
		Sorts:        []Sort{{PropertyName: w.lm, Direction: "ASCENDING"}},
		Properties:   w.props, Limit: MaxSearchLimit,
	})
	if !ok {
		return false, false, false
	}
	var batch []Record
	for _, r := range page.Results {
		if w.after(r) {
			batch = append(batch, r)
		}
	}
	slices.SortFunc(batch, func(a, b Record) int {
		if ta, tb := w.ts(a), w.ts(b); ta != tb {
			if ta < tb {
				return -1
			}
			return 1
		}
		return idCompare(a.ID, b.ID)
	})
	if !more(page) {
		if len(batch) > 0 {
			last := batch[len(batch)-1]
			w.pos, w.strict = walkPos{ts: w.ts(last), id: last.ID}, false
			w.yield(&WalkPage{Records: batch, Next: WalkCursor{Since: time.UnixMilli(w.pos.ts).UTC(), AfterID: w.pos.id}}, nil)
		}
		return true, false, true
	}
	if len(batch) == 0 {
		// A full page of records at or before the position (the server ignored the filter):
		// read the position's millisecond by id, which always progresses.
		w.pos.id, w.strict = posIDFor(w.pos, w.pos.ts), false
		return false, true, true
	}
	lastTS := w.ts(batch[len(batch)-1])
	cut := slices.IndexFunc(batch, func(r Record) bool { return w.ts(r) == lastTS })
	if ready := batch[:cut]; len(ready) > 0 {
		// Everything before lastTS is complete; nothing at lastTS is yielded yet.
		w.pos, w.strict = walkPos{ts: lastTS}, false
		if !w.yield(&WalkPage{Records: ready, Next: WalkCursor{Since: time.UnixMilli(lastTS).UTC()}}, nil) {
			return false, false, false
		}
	}
	if tail := len(batch) - cut; cut == 0 || tail >= blockThreshold {
		// The page is one millisecond, or its last millisecond is big: read it by id.
		w.pos, w.strict = walkPos{ts: lastTS, id: posIDFor(w.pos, lastTS)}, false
		return false, true, true
	}
	return false, false, true
}

// posIDFor keeps the id part of pos when it is inside ts (a resumed cursor), else "".
func posIDFor(pos walkPos, ts int64) string {
	if pos.ts == ts {
		return pos.id
	}
	return ""
}

// idCompare orders record ids numerically when both are numbers (HubSpot ids are), else as text.
func idCompare(a, b string) int {
	if isDigits(a) && isDigits(b) {
		a, b = trimZeros(a), trimZeros(b)
		if len(a) != len(b) {
			if len(a) < len(b) {
				return -1
			}
			return 1
		}
	}
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// idLess reports a < b, with "" below every id.
func idLess(a, b string) bool {
	if a == "" {
		return b != ""
	}
	return idCompare(a, b) < 0
}

func isDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

func trimZeros(s string) string {
	for len(s) > 1 && s[0] == '0' {
		s = s[1:]
	}
	return s
}
