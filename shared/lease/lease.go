// Package lease keeps a job's DynamoDB lease (shared/store) alive while the
// job runs, so two overlapping invocations of the same job never work at
// once: a heartbeat renews it every third of its life, and the run is
// cancelled while the lease is still its own when it is taken over or can no
// longer be renewed in time. The inbound poll and the outbound push use it.
package lease

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/pilotsync/pilotsync/shared/store"
)

// Renewer renews a held lease (store.Store.RenewLease).
type Renewer interface {
	RenewLease(ctx context.Context, env, name, owner string, ttl time.Duration) error
}

var _ Renewer = (*store.Store)(nil)

// Held names a lease a run holds.
type Held struct {
	Env, Name, Owner string
	TTL              time.Duration
}

// Keep renews l every third of its TTL until stop is closed or ctx ends. It
// calls lost when the lease is gone (another run holds it) or when renewals
// keep failing and the lease is about to end, so the run stops while the
// lease is still its own. taken is when the lease was last known to be
// extended (real clock, before the call that extended it). Failed renewals
// are logged on log under the job's name.
func Keep(ctx context.Context, r Renewer, l Held, taken time.Time, stop <-chan struct{}, lost context.CancelCauseFunc, log *slog.Logger) {
	ttl := l.TTL
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
		err := r.RenewLease(rctx, l.Env, l.Name, l.Owner, ttl)
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
			log.WarnContext(ctx, l.Name+": renew lease", "run", l.Owner, "err", err)
			if !time.Now().Before(valid.Add(-reserve - ttl/3)) {
				// The next attempt would come too late: stop now.
				lost(fmt.Errorf("renew lease: %w (%w)", store.ErrLeaseLost, err))
				return
			}
		}
	}
}

// NewRunID returns a run id that sorts by its start time t and is unique
// across processes (the lease owner and the run record's id).
func NewRunID(t time.Time) string {
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	return t.UTC().Format("20060102T150405.000Z") + "-" + hex.EncodeToString(b)
}
