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
// WalkCursor), ascending, in pages. It walks past HubSpot's 10,000-result cap by restarting the
// search from the last timestamp seen, and reads a block of records sharing one millisecond
// (a bulk edit) by hs_object_id ranges: "last-modified EQ ts AND hs_object_id GT last id",
// sorted by id, since HubSpot allows one sort. Records at the newest timestamp of a page are
// held back until that timestamp is complete, so nothing is yielded twice at the seams and
// every Next is exact.
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
		var switchToBlock bool
		done, switchToBlock, ok = w.walkRange(ctx)
		if !ok || done {
			return
		}
		block = switchToBlock
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

// walkBlock reads the records at w.pos.ts with id > w.pos.id, sorted by id, until the
// millisecond is exhausted (done) or the query reaches the result cap (not done: call again).
func (w *walker) walkBlock(ctx context.Context) (done, ok bool) {
	tsVal := strconv.FormatInt(w.pos.ts, 10)
	filters := []Filter{{PropertyName: w.lm, Operator: "EQ", Value: tsVal}}
	if w.pos.id != "" {
		filters = append(filters, Filter{PropertyName: objectIDProperty, Operator: "GT", Value: w.pos.id})
	}
	req := SearchRequest{FilterGroups: []FilterGroup{{Filters: filters}}, Sorts: []Sort{{PropertyName: objectIDProperty, Direction: "ASCENDING"}},
		Properties: w.props, Limit: MaxSearchLimit}
	fetched := 0
	for {
		page, ok := w.search(ctx, req)
		if !ok {
			return false, false
		}
		fetched += len(page.Results)
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
		if exhausted(page, fetched) {
			return true, true
		}
		if fetched >= MaxSearchResults {
			return false, true // restart: hs_object_id GT the last id
		}
		req.After = page.After
	}
}

// exhausted reports whether a query has no more pages. total is trusted only below the cap.
func exhausted(page *SearchPage, fetched int) bool {
	return page.After == "" || len(page.Results) == 0 || (page.Total < MaxSearchResults && fetched >= page.Total)
}

// walkRange reads records at or after w.pos sorted by last-modified. Records at a page's
// newest timestamp wait (pending) until a later timestamp proves them complete.
func (w *walker) walkRange(ctx context.Context) (done, switchToBlock, ok bool) {
	op := "GTE"
	if w.strict {
		op = "GT"
	}
	startTS := w.pos.ts
	req := SearchRequest{
		FilterGroups: []FilterGroup{{Filters: []Filter{{PropertyName: w.lm, Operator: op, Value: strconv.FormatInt(w.pos.ts, 10)}}}},
		Sorts:        []Sort{{PropertyName: w.lm, Direction: "ASCENDING"}},
		Properties:   w.props, Limit: MaxSearchLimit,
	}
	var pending []Record
	var pendingTS int64
	seen := map[string]bool{} // ids in this query, against a page boundary shifting under writes
	fetched := 0
	for {
		page, ok := w.search(ctx, req)
		if !ok {
			return false, false, false
		}
		fetched += len(page.Results)
		batch := pending
		for _, r := range page.Results {
			if w.after(r) && !seen[r.ID] {
				seen[r.ID] = true
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
		if exhausted(page, fetched) {
			if len(batch) > 0 {
				last := batch[len(batch)-1]
				w.pos = walkPos{ts: w.ts(last), id: last.ID}
				w.strict = false
				w.yield(&WalkPage{Records: batch, Next: WalkCursor{Since: time.UnixMilli(w.pos.ts).UTC(), AfterID: w.pos.id}}, nil)
			}
			return true, false, true
		}
		if len(batch) == 0 {
			req.After = page.After
			continue
		}
		pendingTS = w.ts(batch[len(batch)-1])
		cut := slices.IndexFunc(batch, func(r Record) bool { return w.ts(r) == pendingTS })
		ready := batch[:cut]
		pending = slices.Clone(batch[cut:])
		if len(ready) > 0 {
			// Everything before pendingTS is complete; nothing at pendingTS is yielded yet.
			w.pos, w.strict = walkPos{ts: pendingTS}, false
			if !w.yield(&WalkPage{Records: ready, Next: WalkCursor{Since: time.UnixMilli(pendingTS).UTC()}}, nil) {
				return false, false, false
			}
		}
		if len(pending) >= blockThreshold {
			// A bulk-edit block: read it by id (the pending records are re-read, in order).
			w.pos, w.strict = walkPos{ts: pendingTS, id: posIDFor(w.pos, pendingTS)}, false
			return false, true, true
		}
		if fetched >= MaxSearchResults {
			if pendingTS == startTS {
				// No progress possible by time: the cap fell inside one millisecond.
				w.pos, w.strict = walkPos{ts: pendingTS, id: posIDFor(w.pos, pendingTS)}, false
				return false, true, true
			}
			w.pos, w.strict = walkPos{ts: pendingTS}, false
			return false, false, true // restart at pendingTS (GTE); pending is re-read
		}
		req.After = page.After
	}
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
