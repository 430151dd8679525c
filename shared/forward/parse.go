package forward

import (
	"context"
	"fmt"
	"time"

	"github.com/pilotsync/pilotsync/shared/activity"
)

// parse parses every message, drops other-environment events and echoes,
// and de-duplicates events by id across the batch.
func (b *batch) parse(msgs []Message) {
	for i, m := range msgs {
		st := &b.msgs[i]
		st.msg = m
		evs, problems := activity.ParseAt(m.ID, m.Body, b.f.now())
		st.problems = problems
		if len(problems) > 0 {
			b.c.add(CountInvalidMessages, 1)
			bad := map[int]bool{}
			for _, p := range problems {
				if p.Record >= 0 {
					bad[p.Record] = true
				}
			}
			b.c.add(CountInvalidEvents, len(bad))
		}
		b.c.add(CountEvents, len(evs))
		for _, ev := range evs {
			switch {
			case ev.Environment() != b.f.env:
				b.c.add(CountOtherEnvironment, 1)
				continue
			case ev.Echo():
				b.c.add(CountEcho, 1)
				continue
			}
			if ev.IDDerived {
				b.c.add(CountDerivedEventID, 1)
			}
			if h, dup := b.holders[ev.InternalEventID]; dup {
				b.c.add(CountDuplicateInBatch, 1)
				if h[len(h)-1] != i {
					b.holders[ev.InternalEventID] = append(h, i)
				}
				continue
			}
			b.holders[ev.InternalEventID] = []int{i}
			b.events = append(b.events, &pending{ev: ev})
		}
	}
}

// dropBeforeEnabled drops events that happened before the integration was
// enabled (no past events). When the enable time cannot be read, every
// message holding events is retried.
func (b *batch) dropBeforeEnabled(ctx context.Context) error {
	at, err := b.f.enabledTime(ctx)
	if err != nil {
		if ctx.Err() != nil {
			return fmt.Errorf("forward: enabled time: %w", ctx.Err())
		}
		b.f.log.ErrorContext(ctx, "activity: read enabled time", "err", err)
		for _, p := range b.events {
			b.retry(p)
		}
		b.events = nil
		return nil
	}
	kept := b.events[:0]
	for _, p := range b.events {
		if p.ev.InsertedAt.Before(at) {
			b.c.add(CountBeforeEnabled, 1)
			continue
		}
		kept = append(kept, p)
	}
	b.events = kept
	return nil
}

// enabledTime is config's enabled_at, else the store's (first caller wins),
// cached for the life of the process.
func (f *Forwarder) enabledTime(ctx context.Context) (time.Time, error) {
	if !f.fixedEnabled.IsZero() {
		return f.fixedEnabled, nil
	}
	f.enabledMu.Lock()
	defer f.enabledMu.Unlock()
	if !f.enabledAt.IsZero() {
		return f.enabledAt, nil
	}
	at, err := f.st.EnabledAt(ctx, f.env, f.now())
	if err != nil {
		return time.Time{}, fmt.Errorf("forward: enabled time: %w", err)
	}
	f.enabledAt = at
	return at, nil
}
