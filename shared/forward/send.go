package forward

import (
	"cmp"
	"context"
	"errors"
	"sync"
	"time"

	"github.com/pilotsync/pilotsync/shared/activity"
	"github.com/pilotsync/pilotsync/shared/internal/bisect"
)

// forward classifies, de-duplicates against the ledger, resolves and sends
// the activity events.
func (b *batch) forward(ctx context.Context, others []*pending) error {
	f := b.f
	now := f.now()
	var acts []*pending
	for _, p := range others {
		p.class = f.classifier.Classify(&p.ev)
		if p.class.Unknown != "" {
			switch p.class.Unknown {
			case activity.UnknownEventType:
				b.c.add(CountUnknownEventType, 1)
			case activity.UnknownEntityType:
				b.c.add(CountUnknownEntityType, 1)
			default:
				b.c.add(CountUnknownStatus, 1)
			}
			b.c.addUnknown(activity.UnclassifiedKey(&p.ev, p.class))
			continue
		}
		if p.class.Kind != activity.KindActivity {
			continue
		}
		b.c.add(CountActivity, 1)
		switch {
		case now.Sub(p.ev.InsertedAt) >= f.maxEventAge:
			// Neither the ledger nor HubSpot's uuid rule could recognise it
			// as delivered: sending it risks a duplicate.
			b.c.add(CountTooOld, 1)
		case !f.classifier.Enabled(p.class.Category, p.class.Status):
			b.c.add(CountCategoryFiltered, 1)
		case f.sink == nil:
			b.c.add(CountSinkNone, 1)
		default:
			acts = append(acts, p)
		}
	}
	if len(acts) == 0 {
		return f.step(ctx, StepResolved)
	}

	// Skip events already delivered.
	ids := make([]string, len(acts))
	for i, p := range acts {
		ids[i] = ledgerPrefix + p.ev.InternalEventID
	}
	seen, err := f.st.LedgerSeen(ctx, f.env, ids)
	if err != nil {
		f.log.WarnContext(ctx, "activity: ledger check", "events", len(acts), "err", err)
		for _, p := range acts {
			b.retry(p)
		}
		return f.step(ctx, StepResolved)
	}
	fresh := acts[:0]
	for _, p := range acts {
		if seen[ledgerPrefix+p.ev.InternalEventID] {
			b.c.add(CountDuplicateLedger, 1)
			continue
		}
		fresh = append(fresh, p)
	}
	acts = fresh

	// Resolve HubSpot ids.
	users := make([]string, 0, len(acts))
	dupUser := map[string]bool{}
	for _, p := range acts {
		if !dupUser[p.ev.UserID] {
			dupUser[p.ev.UserID] = true
			users = append(users, p.ev.UserID)
		}
	}
	objectIDs, resolveErr := f.resolve(ctx, b.c, users)
	if resolveErr != nil {
		f.log.WarnContext(ctx, "activity: resolve HubSpot ids", "users", len(users), "err", resolveErr)
		// A revoked token or the daily limit often shows first on the batch
		// read that resolves users: keep it so alerts name the cause.
		b.sinkFailed(resolveErr)
	}
	now = f.now()
	var ready []*pending
	for _, p := range acts {
		if _, ok := objectIDs[p.ev.UserID]; ok {
			ready = append(ready, p)
			continue
		}
		switch {
		case resolveErr != nil:
			b.c.add(CountResolveFailed, 1)
			b.retry(p)
		case inGrace(now.Sub(p.ev.InsertedAt), f.grace): // never with no grace
			b.c.add(CountUnmatchedWaiting, 1)
			b.retry(p)
		default:
			b.c.add(CountUnmatched, 1)
		}
	}
	if err := f.step(ctx, StepResolved); err != nil {
		return err
	}
	if len(ready) == 0 {
		return nil
	}

	// Targets (definitions, templates), then send in as few calls as allowed.
	names := map[string]activity.Pair{}
	items := make([]Item, 0, len(ready))
	for _, p := range ready {
		occ := f.classifier.Encode(&p.ev, p.class)
		items = append(items, Item{Occurrence: occ, ObjectID: objectIDs[p.ev.UserID]})
		names[occ.Name] = activity.Pair{Category: occ.Category, Status: occ.Status}
	}
	targets, err := f.sink.Prepare(ctx, names)
	if err != nil {
		f.log.WarnContext(ctx, "activity: prepare sink", "sink", f.sink.Name(), "err", err)
		b.sinkFailed(err)
		for _, p := range ready {
			b.retry(p)
		}
		return nil
	}
	byID := make(map[string]*pending, len(ready))
	sendable := items[:0]
	for i, it := range items {
		t, ok := targets[it.Name]
		if !ok {
			b.c.add(CountNoTarget, 1)
			continue
		}
		it.Target = t
		byID[it.EventID] = ready[i]
		sendable = append(sendable, it)
	}
	per := max(f.sink.MaxBatch(), 1)
	rec := &recorder{b: b, sema: make(chan struct{}, maxLedgerWriters)}
	var refused []rejection
	defer func() { b.recheck(ctx, refused, byID) }()
	for start := 0; start < len(sendable); start += per {
		if dl, ok := ctx.Deadline(); ok && f.margin > 0 && time.Until(dl) < f.margin {
			left := sendable[start:]
			b.c.add(CountDeferred, len(left))
			f.log.WarnContext(ctx, "activity: too close to the deadline to send: the rest is retried", "events", len(left))
			for _, it := range left {
				b.retry(byID[it.EventID])
			}
			break
		}
		chunk := sendable[start:min(start+per, len(sendable))]
		if err := f.step(ctx, StepSend); err != nil {
			return cmp.Or(rec.wait(), err)
		}
		delivered, failed, rejected := b.send(ctx, chunk)
		for _, it := range failed {
			b.retry(byID[it.EventID])
		}
		refused = append(refused, rejected...)
		if len(delivered) == 0 {
			continue
		}
		b.c.add(CountSent, len(delivered))
		if err := f.step(ctx, StepRecord); err != nil {
			return cmp.Or(rec.wait(), err)
		}
		// Record in the ledger while the next chunk is being sent.
		rec.start(ctx, delivered)
	}
	return rec.wait()
}

// inGrace reports whether an unmatched event of this age is still waited
// for: younger than the grace period, and stamped less than the grace period
// ahead. An event stamped further in the future (a bad client clock) would
// otherwise stay "younger than the grace period" for as long as the queue kept
// retrying it; this way no event is waited for longer than twice the period.
func inGrace(age, grace time.Duration) bool { return age > -grace && age < grace }

// recorder writes delivered events to the ledger in the background, one
// write per sent chunk.
type recorder struct {
	b    *batch
	wg   sync.WaitGroup
	mu   sync.Mutex
	err  error
	sema chan struct{}
}

func (r *recorder) start(ctx context.Context, delivered []Item) {
	f := r.b.f
	ids := make([]string, len(delivered))
	for i, it := range delivered {
		ids[i] = ledgerPrefix + it.EventID
	}
	r.sema <- struct{}{}
	r.wg.Go(func() {
		defer func() { <-r.sema }()
		r.countConcurrent(ctx, ids) // concurrent.go
		if err := f.st.LedgerRecord(ctx, f.env, ids, f.ledgerTTL); err != nil {
			// Delivered is delivered: a redelivery re-sends with the same id and
			// HubSpot drops the repeat, so the messages still count as done.
			r.b.c.add(CountLedgerErrors, len(ids))
			f.log.WarnContext(ctx, "activity: ledger record", "events", len(ids), "err", err)
		}
		if err := f.step(ctx, StepRecorded); err != nil {
			r.mu.Lock()
			r.err = cmp.Or(r.err, err)
			r.mu.Unlock()
		}
	})
}

// wait waits for the ledger writes and returns the first abort.
func (r *recorder) wait() error {
	r.wg.Wait()
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.err
}

type rejection struct {
	item   Item
	reason string
}

// send delivers one chunk. A permanent error on a chunk of several items is
// split in halves (shared/internal/bisect, the one batch bisection) to find
// the items HubSpot refuses; the rest still go.
func (b *batch) send(ctx context.Context, items []Item) (delivered, failed []Item, rejected []rejection) {
	b.c.add(CountSendCalls, 1)
	err := b.f.sink.Send(ctx, items)
	var pe *PartialError
	switch {
	case err == nil:
		return items, nil, nil
	case ctx.Err() == nil && errors.As(err, &pe):
		return b.partial(ctx, items, pe)
	case ctx.Err() != nil || !b.f.sink.Permanent(err):
		b.c.add(CountSendFailed, len(items))
		b.f.log.WarnContext(ctx, "activity: send", "sink", b.f.sink.Name(), "events", len(items), "err", err)
		b.sinkFailed(err)
		return nil, items, nil
	case len(items) == 1:
		return nil, nil, []rejection{{items[0], truncateReason(err.Error(), 300)}}
	}
	// Each half is sent (and bisected again) whatever the other's outcome:
	// send reports per item and never fails the bisection.
	_, _ = bisect.Halves(items, func(part []Item) error {
		d, f, r := b.send(ctx, part)
		delivered, failed, rejected = append(delivered, d...), append(failed, f...), append(rejected, r...)
		return nil
	})
	return delivered, failed, rejected
}
