package outbound

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/pilotsync/pilotsync/shared/identity"
	"github.com/pilotsync/pilotsync/shared/store"
	"github.com/pilotsync/pilotsync/shared/store/storetest"
)

// TestPushLeaseLostStopsTheRun: when the lease is taken over while a kind
// is being pushed, its work is cancelled and reported as a lost lease, the
// kinds after it are not started, and nothing is marked sent.
func TestPushLeaseLostStopsTheRun(t *testing.T) {
	r := newMemRig(t, []Object{usersPlan(), companiesTier()}, withLeaseTTL(60*time.Millisecond))
	r.put("a", r.ids[0], "plan", "pro")
	r.putCompany("c0", r.cids[0], "tier", "gold")
	// Another run takes the lease over: renewals fail with ErrLeaseLost.
	r.st.Fail(func(op string) error {
		if op == "RenewLease" {
			return store.ErrLeaseLost
		}
		return nil
	})
	// The linker is slow: it answers when the run is cancelled.
	r.push.linker = &slowLinker{fakeLinker: r.linker}
	rep := r.run()
	users, companies := rep.Objects[0], rep.Objects[1]
	if !errors.Is(users.Err, store.ErrLeaseLost) || users.Complete {
		t.Errorf("users %+v, want stopped by the lost lease", users)
	}
	if companies.Message != "not started: lease lost" || companies.Complete || companies.Considered != 0 {
		t.Errorf("companies %+v, want not started", companies)
	}
	if rep.Status != StatusFailed || !strings.Contains(rep.Error, "users: ") {
		t.Errorf("report %s %q, want failed naming users", rep.Status, rep.Error)
	}
	if !r.user("a").Dirty || r.record("contacts", r.ids[0])["userpilot_plan"] != "" || r.record("companies", r.cids[0])["userpilot_tier"] != "" {
		t.Error("work went on after the lease was lost")
	}
}

// slowLinker answers Resolve only when ctx ends (a HubSpot search that
// hangs until the run is cancelled).
type slowLinker struct{ *fakeLinker }

func (s *slowLinker) Resolve(ctx context.Context, _ store.Kind, _ []*store.Profile) (map[string]identity.Resolution, error) {
	select {
	case <-ctx.Done():
		return nil, ctx.Err()
	case <-time.After(10 * time.Second):
		return nil, errors.New("slowLinker: the run was never cancelled")
	}
}

// TestPushLeaseErrors: a lease held by another run is no error and does
// nothing; a store failing to take it fails the run; a failure releasing it
// does not change the report.
func TestPushLeaseErrors(t *testing.T) {
	r := newMemRig(t, nil)
	r.put("a", r.ids[0], "plan", "pro")
	r.st.Fail(func(op string) error {
		if op == "AcquireLease" {
			return storetest.ErrInjected
		}
		return nil
	})
	if rep, err := r.push.Run(t.Context()); err == nil || rep != nil || !strings.Contains(err.Error(), "outbound: take lease") || !errors.Is(err, storetest.ErrInjected) {
		t.Errorf("Run = %v, %v; want the lease error", rep, err)
	}
	if r.hs.Count("batch_update") != 0 || !r.user("a").Dirty {
		t.Error("a run without the lease pushed")
	}
	r.st.Fail(func(op string) error {
		if op == "ReleaseLease" {
			return storetest.ErrInjected
		}
		return nil
	})
	if rep := r.run(); rep.Status != StatusComplete || rep.Totals.Sent != 1 {
		t.Errorf("report %s %+v, want complete whatever the release does", rep.Status, rep.Totals)
	}
}

// TestPushStopsBeforeTheDeadline: with an invocation deadline, no batch
// starts within the deadline margin (WithDeadlineMargin), and never within a
// quarter of the time left however large the margin; the kinds after the
// stop are reported not started, and the run partial.
func TestPushStopsBeforeTheDeadline(t *testing.T) {
	deadline := time.Now().Add(20 * time.Minute)
	for _, tc := range []struct {
		name   string
		margin time.Duration
		wall   time.Time // the real clock's time at every check
		stops  bool
	}{
		// The documented default: 30 s.
		{"inside the default margin", 0, deadline.Add(-30 * time.Second), true},
		{"before the default margin", 0, deadline.Add(-31 * time.Second), false},
		{"inside a custom margin", 2 * time.Minute, deadline.Add(-time.Minute), true},
		{"before a custom margin", 2 * time.Minute, deadline.Add(-3 * time.Minute), false},
		{"a margin over a quarter of the time left", 10 * time.Minute, deadline.Add(-6 * time.Minute), false},
		{"inside a quarter of the time left", 10 * time.Minute, deadline.Add(-4 * time.Minute), true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var opts []Option
			if tc.margin > 0 {
				opts = append(opts, WithDeadlineMargin(tc.margin))
			}
			r := newMemRig(t, []Object{usersPlan(), companiesTier()}, opts...)
			r.push.wall = func() time.Time { return tc.wall }
			r.put("a", r.ids[0], "plan", "pro")
			r.putCompany("c0", r.cids[0], "tier", "gold")
			ctx, cancel := context.WithDeadline(t.Context(), deadline)
			defer cancel()
			rep, err := r.push.Run(ctx)
			if err != nil {
				t.Fatal(err)
			}
			sent := r.record("contacts", r.ids[0])["userpilot_plan"] == "pro"
			if tc.stops {
				users, companies := rep.Objects[0], rep.Objects[1]
				if sent || rep.Status != StatusPartial || rep.Complete || users.Complete || !strings.Contains(users.Message, "time budget spent") ||
					companies.Message != "not started: time budget spent" || rep.Totals.Batches != 0 || rep.Error != "" {
					t.Errorf("report %s %+v %+v, want stopped before any batch", rep.Status, users, companies)
				}
				return
			}
			if !sent || rep.Status != StatusComplete {
				t.Errorf("report %s, sent %v: want the push done", rep.Status, sent)
			}
		})
	}
}
