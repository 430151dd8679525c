package store_test

import (
	"errors"
	"testing"
	"time"

	"github.com/pilotsync/pilotsync/shared/store"
	"github.com/pilotsync/pilotsync/shared/store/storetest"
)

// The in-memory store every engine test uses follows the store's rules
// (rules.go: PutHolds, Stored, Committed, the lease and problem rules); its
// contract and fault suites run here too, so that a bug in a rule fails a
// test of the package the rule lives in, as well as storetest's.

func TestMemoryContract(t *testing.T) {
	t.Parallel()
	storetest.RunContract(t, func(*testing.T) storetest.Store { return storetest.New() })
}

func TestMemoryFaults(t *testing.T) {
	t.Parallel()
	storetest.RunFaults(t, func(*testing.T) storetest.Faulty { return storetest.MemoryFaulty() })
}

// TestMemoryLeaseExpiresAtItsMillisecond: a lease is held up to, not
// including, the millisecond it ends (AcquireLease's "#until <= :now", the
// "#until > :now" of RenewLease and PutCursorLeased): at that millisecond its
// owner can neither renew it nor checkpoint, and another owner takes it.
func TestMemoryLeaseExpiresAtItsMillisecond(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	start := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	now := start
	m := storetest.New(storetest.WithClock(func() time.Time { return now }))
	if err := m.AcquireLease(ctx, "production", "poll", "a", time.Minute); err != nil {
		t.Fatal(err)
	}
	now = start.Add(time.Minute - time.Millisecond)
	if err := m.AcquireLease(ctx, "production", "poll", "b", time.Minute); !errors.Is(err, store.ErrLeaseHeld) {
		t.Errorf("b a millisecond before the end: %v, want ErrLeaseHeld", err)
	}
	if err := m.PutCursorLeased(ctx, "production", "c", "v1", "poll", "a"); err != nil {
		t.Errorf("checkpoint a millisecond before the end: %v", err)
	}
	now = start.Add(time.Minute)
	if err := m.RenewLease(ctx, "production", "poll", "a", time.Minute); !errors.Is(err, store.ErrLeaseLost) {
		t.Errorf("renew at the end: %v, want ErrLeaseLost", err)
	}
	if err := m.PutCursorLeased(ctx, "production", "c", "v2", "poll", "a"); !errors.Is(err, store.ErrLeaseLost) {
		t.Errorf("checkpoint at the end: %v, want ErrLeaseLost", err)
	}
	if err := m.AcquireLease(ctx, "production", "poll", "b", time.Minute); err != nil {
		t.Errorf("b at the end: %v, want the lease", err)
	}
	if v, _ := m.GetCursor(ctx, "production", "c"); v != "v1" {
		t.Errorf("cursor %q, want v1 (the checkpoint made while the lease was live)", v)
	}
	// A renewal a millisecond before the end extends from now.
	now = start.Add(2*time.Minute - time.Millisecond)
	if err := m.RenewLease(ctx, "production", "poll", "b", time.Minute); err != nil {
		t.Errorf("renew a millisecond before the end: %v", err)
	}
	now = start.Add(2*time.Minute + 30*time.Second)
	if err := m.AcquireLease(ctx, "production", "poll", "c", time.Minute); !errors.Is(err, store.ErrLeaseHeld) {
		t.Errorf("c after b renewed: %v, want ErrLeaseHeld", err)
	}
}

// TestMemoryProblemRenotifiesAtItsMillisecond: a problem notified at t is
// notified again from t+repeatAfter on, not a millisecond earlier.
func TestMemoryProblemRenotifiesAtItsMillisecond(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	m := storetest.New()
	at := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	for _, c := range []struct {
		at   time.Time
		want bool
	}{
		{at, true},
		{at.Add(time.Hour - time.Millisecond), false},
		{at.Add(time.Hour), true},
		{at.Add(time.Hour + time.Millisecond), false},
	} {
		if got, err := m.OpenProblem(ctx, "production", "auth", "token rejected", c.at, time.Hour); err != nil || got != c.want {
			t.Errorf("OpenProblem at %v = %v, %v; want notify %v", c.at, got, err, c.want)
		}
	}
}
