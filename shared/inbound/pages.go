package inbound

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"time"

	"github.com/pilotsync/pilotsync/shared/hubspot"
	"github.com/pilotsync/pilotsync/shared/store"
)

// object runs one object type from its checkpoint.
func (r *run) object(ctx context.Context, obj Object, mode Mode) (ObjectReport, error) {
	or := ObjectReport{Object: obj.name(), HubSpotObject: obj.HubSpotObject, Mode: ModeIncremental}
	if r.outOfTime() {
		or.Message = "not started: " + budgetSpent
		return or, errOutOfTime
	}
	r.mark = time.Now()
	name := cursorName(obj)
	raw, err := r.store.GetCursor(ctx, r.env, name)
	if err != nil {
		return or, fmt.Errorf("read cursor: %w", err)
	}
	cur, err := decodeCursor(raw)
	if err != nil {
		r.log.WarnContext(ctx, "inbound: unreadable cursor, running a full sync", "object", obj.name(), "err", err)
		raw = ""
	}
	if raw == "" || (mode == ModeFull && cur.Full == nil) {
		cur = cursorState{Full: &fullState{ResumeMS: r.now().Add(-r.overlap).UnixMilli()}}
	}
	if cur.Full != nil {
		or.Mode = ModeFull
		err = r.full(ctx, obj, &cur, &or)
	} else {
		err = r.incremental(ctx, obj, &cur, &or)
	}
	or.Complete = err == nil
	or.CursorAt, or.CursorLagSeconds = cur.lag(r.now()) // cursor.go
	return or, err
}

// incremental walks the records modified since the checkpoint.
func (r *run) incremental(ctx context.Context, obj Object, cur *cursorState, or *ObjectReport) error {
	// Search lags writes: a record modified at t may only show up at
	// t+overlap. Everything the walk yields at or before safe was visible
	// when it started, so the checkpoint never moves past safe; whatever
	// lies beyond it is read again next time (re-reads write nothing, the
	// hashes say so).
	safe := r.now().Add(-r.overlap).UnixMilli()
	// The walk is made once, so it cannot take each fetch's context: a fetch
	// that pages cancels cancels the walk through this one.
	wctx, cancelWalk := context.WithCancel(ctx)
	defer cancelWalk()
	next, stop := iter.Pull2(r.hs.WalkModified(wctx, obj.HubSpotObject, cur.walkCursor(), obj.properties()))
	defer stop()
	pos := *cur
	src := func(fctx context.Context) ([]hubspot.Record, cursorState, bool, error) {
		defer context.AfterFunc(fctx, cancelWalk)()
		page, err, ok := next()
		if !ok {
			return nil, cursorState{}, false, nil
		}
		if err != nil {
			return nil, cursorState{}, false, fmt.Errorf("walk %s: %w", obj.HubSpotObject, err)
		}
		r.count("hubspot.search", 1)
		n := cursorState{SinceMS: page.Next.Since.UnixMilli(), AfterID: page.Next.AfterID}
		if n.SinceMS > safe {
			n = cursorState{SinceMS: max(safe, pos.SinceMS)}
			if n.SinceMS == pos.SinceMS {
				n.AfterID = pos.AfterID
			}
		}
		pos = n
		return page.Records, n, true, nil
	}
	err := r.pages(ctx, obj, src, or, func(n cursorState) error {
		*cur = n
		return r.checkpoint(ctx, obj, n, or)
	})
	if err != nil {
		return err
	}
	// The walk is finished: every record up to the cursor's millisecond was
	// read, and that millisecond is settled (at or before safe), so the next
	// walk may start after it. That makes an idle poll one search call,
	// where resuming inside the millisecond by id would cost two.
	if cur.AfterID != "" && cur.SinceMS <= safe {
		*cur = cursorState{SinceMS: cur.SinceMS + 1}
		if err := r.store.PutCursorLeased(ctx, r.env, cursorName(obj), cur.encode(), leaseName, r.id); err != nil {
			return fmt.Errorf("checkpoint: %w", err)
		}
	}
	return nil
}

// full lists every record, continuing a full sync in progress.
func (r *run) full(ctx context.Context, obj Object, cur *cursorState, or *ObjectReport) error {
	props := obj.properties()
	after, resume, done := cur.Full.After, cur.Full.ResumeMS, false
	src := func(fctx context.Context) ([]hubspot.Record, cursorState, bool, error) {
		if done {
			return nil, cursorState{}, false, nil
		}
		page, err := r.hs.List(fctx, obj.HubSpotObject, props, after, listPageSize)
		if err != nil {
			return nil, cursorState{}, false, fmt.Errorf("list %s: %w", obj.HubSpotObject, err)
		}
		r.count("hubspot.list", 1)
		after = page.After
		if after == "" {
			done = true
			return page.Results, cursorState{SinceMS: resume}, true, nil
		}
		return page.Results, cursorState{Full: &fullState{After: after, ResumeMS: resume}}, true, nil
	}
	return r.pages(ctx, obj, src, or, func(n cursorState) error {
		*cur = n
		err := r.checkpoint(ctx, obj, n, or)
		if n.Full == nil && errors.Is(err, errOutOfTime) {
			return nil // done: the budget only matters for what comes next
		}
		return err
	})
}

// pageSource returns the next page of records and the checkpoint after it;
// ok is false when there are no more. It only reads.
type pageSource func(ctx context.Context) (recs []hubspot.Record, next cursorState, ok bool, err error)

// pages runs the pages of src through prepare and commit, one at a time,
// calling checkpoint after each. While a page is written to Userpilot and
// saved, the next one is fetched and its profiles looked up: the lookups are
// reads, and the profiles the written page changed are carried over onto
// the next page (they are newer than what the lookup read), so the result
// is the same as one page after the other, in about half the time. When the
// run stops early the fetch in flight is cancelled, not waited out: it only
// reads, and its time belongs to the invocation's reserve.
func (r *run) pages(ctx context.Context, obj Object, src pageSource, or *ObjectReport, checkpoint func(cursorState) error) error {
	type fetched struct {
		in  *pageInput
		ok  bool
		err error
	}
	fctx, cancelFetch := context.WithCancel(ctx)
	defer cancelFetch()
	fetch := func() fetched {
		recs, next, ok, err := src(fctx)
		if err != nil || !ok {
			return fetched{ok: ok, err: err}
		}
		in, err := r.prepare(fctx, obj, recs)
		if err != nil {
			return fetched{err: err}
		}
		in.next = next
		return fetched{in: in, ok: true}
	}
	ch := make(chan fetched, 1)
	go func() { ch <- fetch() }()
	inFlight := true
	defer func() {
		if inFlight {
			cancelFetch()
			<-ch // src is not safe to use concurrently with the caller's cleanup
		}
	}()
	// Once the run has checkpointed a page, a read still going when the
	// budget ends is not waited for, and a page read after it is not
	// written: the run stops at its last checkpoint, partial, and the next
	// run reads that page again. Before any progress the read is waited
	// for, so a store or API that hangs fails the run (and alerts) instead
	// of leaving it partial forever.
	var budgetEnds <-chan time.Time
	if !r.budget.IsZero() {
		t := time.NewTimer(time.Until(r.budget))
		defer t.Stop()
		budgetEnds = t.C
	}
	var carried map[string]*store.Profile
	for {
		var f fetched
		var wait <-chan time.Time // armed once a page is checkpointed
		if r.pagesDone > 0 {
			wait = budgetEnds
		}
		select {
		case f = <-ch:
		case <-wait:
			cancelFetch()
			f, inFlight = <-ch, false
			if f.err == nil && !f.ok {
				return nil // there was no page left: done
			}
			return errOutOfTime
		}
		inFlight = false
		if f.err != nil || !f.ok {
			return f.err
		}
		if r.pagesDone > 0 && r.outOfTime() {
			return errOutOfTime
		}
		go func() { ch <- fetch() }()
		inFlight = true
		touched, err := r.commit(ctx, obj, f.in, carried, or)
		if err != nil {
			return err
		}
		carried = touched
		if err := checkpoint(f.in.next); err != nil {
			return err
		}
		r.reportProgress(ctx, obj, or) // progress.go
	}
}
