package lease

import (
	"context"
	"errors"
	"log/slog"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pilotsync/pilotsync/shared/store"
)

type renewFunc func() error

func (f renewFunc) RenewLease(context.Context, string, string, string, time.Duration) error {
	return f()
}

// TestKeepRenewsUntilStopped: a held lease is renewed every third of its TTL
// and nothing is cancelled while renewals succeed.
func TestKeepRenewsUntilStopped(t *testing.T) {
	var n atomic.Int32
	stop := make(chan struct{})
	done := make(chan struct{})
	lost := func(error) { t.Error("lost called while renewals succeed") }
	go func() {
		defer close(done)
		Keep(t.Context(), renewFunc(func() error { n.Add(1); return nil }), Held{Env: "e", Name: "job", Owner: "o", TTL: 300 * time.Millisecond},
			time.Now(), stop, lost, slog.New(slog.DiscardHandler))
	}()
	time.Sleep(450 * time.Millisecond)
	close(stop)
	<-done
	if got := n.Load(); got < 3 {
		t.Errorf("renewed %d times in 450ms with a 300ms TTL, want at least 3", got)
	}
}

// TestKeepCancelsWhenLost: a lease taken over cancels the run at once, and
// one that keeps failing to renew cancels it before it would expire.
func TestKeepCancelsWhenLost(t *testing.T) {
	for name, err := range map[string]error{"taken": store.ErrLeaseLost, "failing": errors.New("throttled")} {
		t.Run(name, func(t *testing.T) {
			ttl := 300 * time.Millisecond
			taken := time.Now()
			ctx, cancel := context.WithCancelCause(t.Context())
			defer cancel(nil)
			go Keep(ctx, renewFunc(func() error { return err }), Held{Env: "e", Name: "job", Owner: "o", TTL: ttl},
				taken, make(chan struct{}), cancel, slog.New(slog.DiscardHandler))
			select {
			case <-ctx.Done():
			case <-time.After(2 * ttl):
				t.Fatal("the run was not cancelled")
			}
			if !errors.Is(context.Cause(ctx), store.ErrLeaseLost) {
				t.Errorf("cause %v, want ErrLeaseLost", context.Cause(ctx))
			}
			if since := time.Since(taken); since >= ttl {
				t.Errorf("cancelled after %v, at or after the lease's end (%v)", since, ttl)
			}
		})
	}
}

// TestNewRunIDSortsByStart: ids sort by start time and differ for one time.
func TestNewRunIDSortsByStart(t *testing.T) {
	t0 := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	a, b, c := NewRunID(t0), NewRunID(t0), NewRunID(t0.Add(time.Millisecond))
	if a == b || !(a < c && b < c) {
		t.Errorf("ids %q %q %q: want distinct, sorted by start", a, b, c)
	}
}
