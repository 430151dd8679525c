package inbound

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/pilotsync/pilotsync/shared/store"
)

// heartbeat renews the lease every third of its life until stop is closed.
// It calls lost when the lease is gone (another run holds it) or when
// renewals keep failing and the lease is about to end, so the run stops
// while the lease is still its own. taken is when the lease was last known
// to be extended (real clock, before the call that extended it).
func (r *run) heartbeat(ctx context.Context, taken time.Time, stop <-chan struct{}, lost context.CancelCauseFunc) {
	ttl := r.leaseTTL
	// Stop this long before the lease's end at the latest: room for the
	// writes in flight to be cancelled and for clock skew.
	reserve := ttl / 6
	valid := taken.Add(ttl)
	tick := time.NewTicker(ttl / 3)
	defer tick.Stop()
	for {
		select {
		case <-stop:
			return
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		start := time.Now()
		rctx, cancel := context.WithDeadline(ctx, valid.Add(-reserve))
		err := r.store.RenewLease(rctx, r.env, leaseName, r.id, ttl)
		cancel()
		switch {
		case err == nil:
			valid = start.Add(ttl)
		case errors.Is(err, store.ErrLeaseLost):
			lost(fmt.Errorf("renew lease: %w", err))
			return
		case ctx.Err() != nil:
			return
		default:
			r.log.WarnContext(ctx, "inbound: renew lease", "run", r.id, "err", err)
			if !time.Now().Before(valid.Add(-reserve - ttl/3)) {
				// The next attempt would come too late: stop now.
				lost(fmt.Errorf("renew lease: %w (%w)", store.ErrLeaseLost, err))
				return
			}
		}
	}
}

// checkpoint stores the cursor after a fully written page, provided the run
// still holds the lease, and reports errOutOfTime when no further page
// should start.
func (r *run) checkpoint(ctx context.Context, obj Object, cur cursorState, or *ObjectReport) error {
	if err := r.store.PutCursorLeased(ctx, r.env, cursorName(obj), cur.encode(), leaseName, r.id); err != nil {
		return fmt.Errorf("checkpoint: %w", err)
	}
	or.Pages++
	r.pageDone()
	if r.outOfTime() {
		return errOutOfTime
	}
	return nil
}
