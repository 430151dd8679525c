package store_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pilotsync/pilotsync/shared/store"
	"github.com/pilotsync/pilotsync/shared/store/storetest"
)

// TestDynamoFaultsStatusAndSummaries extends the fault suite (RunFaults
// covers the methods engines share with the in-memory store) to the DynamoDB
// store's own methods: the link audit's scan, status and redrive reads and
// writes, and the activity summaries. Under each of DynamoDB's errors other
// than a failed condition every call fails with an error that is not an
// ordinary outcome, and no write lands.
func TestDynamoFaultsStatusAndSummaries(t *testing.T) {
	t.Parallel()
	at := time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC)
	for _, f := range storetest.Faults {
		t.Run(f.Name, func(t *testing.T) {
			t.Parallel()
			fs := storetest.DynamoFaulty(t)
			s := fs.Store.(*store.Store)
			ctx := t.Context()
			seed := &store.Profile{Env: "production", Kind: store.KindUser, ID: "seed", HubSpotID: "901",
				Quarantined: map[string]string{"plan": "read-only property"}}
			if err := s.PutProfile(ctx, seed); err != nil {
				t.Fatal(err)
			}
			sum := &store.ActivitySummary{Kind: store.KindUser, ID: "seed",
				Days: map[string]*store.DaySummary{"2026-11-02": {Events: 1, Active: 1, LastMs: at.UnixMilli()}}}
			if err := s.PutActivitySummaries(ctx, "production", []*store.ActivitySummary{sum}); err != nil {
				t.Fatal(err)
			}
			fs.Inject(f)
			calls := map[string]func(ctx context.Context) error{
				"LinkedProfiles": func(ctx context.Context) error {
					return firstErr(s.LinkedProfiles(ctx, "production", store.KindUser))
				},
				"QuarantinedProfiles": func(ctx context.Context) error {
					return firstErr(s.QuarantinedProfiles(ctx, "production", store.KindUser))
				},
				"QuarantineSummary": func(ctx context.Context) error {
					_, err := s.QuarantineSummary(ctx, "production", 0)
					return err
				},
				"RetryQuarantined": func(ctx context.Context) error {
					_, err := s.RetryQuarantined(ctx, "production", store.KindUser, "", false)
					return err
				},
				"Names": func(ctx context.Context) error {
					_, err := s.Names(ctx, "production", store.NamesJob)
					return err
				},
				"CursorInfo": func(ctx context.Context) error {
					_, err := s.CursorInfo(ctx, "production", "c")
					return err
				},
				"Lease": func(ctx context.Context) error {
					_, err := s.Lease(ctx, "production", "l")
					return err
				},
				"Problems": func(ctx context.Context) error {
					_, err := s.Problems(ctx, "production", []string{"p"})
					return err
				},
				"GetActivitySummary": func(ctx context.Context) error {
					_, err := s.GetActivitySummary(ctx, "production", store.KindUser, "seed")
					return err
				},
				"ActivitySummaries": func(ctx context.Context) error {
					_, _, err := s.ActivitySummaries(ctx, "production", store.KindUser, 0, "", 10)
					return err
				},
				"PutMeasuredSent": func(ctx context.Context) error {
					return s.PutMeasuredSent(ctx, "production", store.KindUser, "seed", "901", map[string]string{"p": "1"})
				},
				"PutActivitySummaries": func(ctx context.Context) error {
					return s.PutActivitySummaries(ctx, "production", []*store.ActivitySummary{{Kind: store.KindUser, ID: "new",
						Days: map[string]*store.DaySummary{"2026-11-02": {Events: 1, Active: 1, LastMs: at.UnixMilli()}}}})
				},
				"AddActivity with summaries": func(ctx context.Context) error {
					return s.WithActivitySummary(30*time.Minute, 40).AddActivity(ctx, "production", []store.ActivityDelta{{
						Kind: store.KindUser, ID: "seed", Day: "2026-11-02", Events: 1, EventIDs: []string{"s1"}, LastSeen: at}})
				},
			}
			var wg sync.WaitGroup
			for name, call := range calls {
				wg.Go(func() {
					ctx, cancel := context.WithTimeout(t.Context(), 600*time.Millisecond)
					defer cancel()
					err := call(ctx)
					switch {
					case err == nil:
						t.Errorf("%s under %s: no error", name, f.Name)
					case errors.Is(err, store.ErrConflict), errors.Is(err, store.ErrNotFound),
						errors.Is(err, store.ErrLeaseHeld), errors.Is(err, store.ErrLeaseLost):
						t.Errorf("%s under %s: err %v, reported as an ordinary outcome", name, f.Name, err)
					}
				})
			}
			wg.Wait()
			fs.Inject(storetest.Fault{})
			if p, err := s.GetProfile(ctx, "production", store.KindUser, "seed"); err != nil || len(p.Quarantined) != 1 || p.Dirty {
				t.Errorf("after %s: seed profile %+v (%v), want still quarantined and clean", f.Name, p, err)
			}
			got, err := s.GetActivitySummary(ctx, "production", store.KindUser, "seed")
			if err != nil || got.Sent != nil || got.Days["2026-11-02"].Events != 1 {
				t.Errorf("after %s: seed summary %+v (%v), want the seeded one", f.Name, got, err)
			}
			if _, err := s.GetActivitySummary(ctx, "production", store.KindUser, "new"); !errors.Is(err, store.ErrNotFound) {
				t.Errorf("after %s: summary of new stored (%v)", f.Name, err)
			}
		})
	}
}

// firstErr drains a profile listing and returns its first error.
func firstErr(seq func(yield func(*store.Profile, error) bool)) error {
	for _, err := range seq {
		if err != nil {
			return err
		}
	}
	return nil
}

// TestLinkedProfiles: the daily link audit lists every linked profile of one
// kind in one environment, and nothing else, on both stores.
func TestLinkedProfiles(t *testing.T) {
	t.Parallel()
	for name, open := range map[string]func(t *testing.T) storetest.Store{
		"dynamodb": func(t *testing.T) storetest.Store { return storetest.FreshTable(t) },
		"memory":   func(*testing.T) storetest.Store { return storetest.New() },
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			s := open(t)
			ctx := t.Context()
			for _, p := range []*store.Profile{
				{Env: "production", Kind: store.KindUser, ID: "u1", HubSpotID: "101", HubSpotObject: "contacts", MatchValue: "a@x.com", LinkMatch: "a@x.com"},
				{Env: "production", Kind: store.KindUser, ID: "u2", MatchValue: "b@x.com"},
				{Env: "production", Kind: store.KindUser, ID: "u3", HubSpotID: "103", HubSpotObject: "contacts"},
				{Env: "production", Kind: store.KindCompany, ID: "u1", HubSpotID: "201", HubSpotObject: "companies"},
				{Env: "staging", Kind: store.KindUser, ID: "u1", HubSpotID: "301", HubSpotObject: "contacts"},
			} {
				if err := s.PutProfile(ctx, p); err != nil {
					t.Fatal(err)
				}
			}
			var got []string
			for p, err := range s.LinkedProfiles(ctx, "production", store.KindUser) {
				if err != nil {
					t.Fatal(err)
				}
				got = append(got, fmt.Sprintf("%s:%s:%s:%s", p.ID, p.HubSpotID, p.HubSpotObject, p.LinkMatch))
			}
			if s := strings.Join(slices.Sorted(slices.Values(got)), " "); s != "u1:101:contacts:a@x.com u3:103:contacts:" {
				t.Errorf("linked users %s, want u1 and u3 with their links", s)
			}
			// Stopping early stops the listing.
			n := 0
			for range s.LinkedProfiles(ctx, "production", store.KindUser) {
				n++
				break
			}
			if n != 1 {
				t.Errorf("listing went on after the caller stopped: %d", n)
			}
			for _, c := range []struct {
				env  string
				kind store.Kind
			}{{"", store.KindUser}, {"prod#x", store.KindUser}, {"production", "person"}} {
				if err := firstErr(s.LinkedProfiles(ctx, c.env, c.kind)); !errors.Is(err, store.ErrInvalid) {
					t.Errorf("LinkedProfiles(%q, %q): %v, want ErrInvalid", c.env, c.kind, err)
				}
			}
		})
	}
}

// TestBatchErrorMessage: the error a partly failed batch write returns names
// the failed profiles (the first five, then how many more) and the first
// failure's cause, as it appears in the run's log.
func TestBatchErrorMessage(t *testing.T) {
	t.Parallel()
	s := storetest.FreshTable(t)
	ctx := t.Context()
	var ps []*store.Profile
	for i := range 7 {
		id := fmt.Sprintf("p%d", i)
		if err := s.PutProfile(ctx, &store.Profile{Env: "production", Kind: store.KindUser, ID: id}); err != nil {
			t.Fatal(err)
		}
		ps = append(ps, &store.Profile{Env: "production", Kind: store.KindUser, ID: id}) // version 0: stale
	}
	err := s.PutProfiles(ctx, ps)
	var be *store.BatchError
	if !errors.As(err, &be) {
		t.Fatalf("err %v, want a *BatchError", err)
	}
	msg := err.Error()
	for _, want := range []string{"store: 7 profiles not stored (user p0, user p1, user p2, user p3, user p4 and 2 more): ", "conflict"} {
		if !strings.Contains(msg, want) {
			t.Errorf("message %q, want it to contain %q", msg, want)
		}
	}
	if strings.Contains(msg, "p5") {
		t.Errorf("message %q names more than five profiles", msg)
	}
	five := &store.BatchError{Failed: be.Failed[:5]}
	if got := five.Error(); !strings.HasPrefix(got, "store: 5 profiles not stored (user p0, user p1, user p2, user p3, user p4): ") {
		t.Errorf("five failures: %q", got)
	}
	two := &store.BatchError{Failed: be.Failed[:2]}
	if got := two.Error(); !strings.HasPrefix(got, "store: 2 profiles not stored (user p0, user p1): ") || strings.Contains(got, "more") {
		t.Errorf("two failures: %q", got)
	}
	if got := (&store.BatchError{}).Error(); got != "store: 0 profiles not stored ()" {
		t.Errorf("no failures: %q", got)
	}
}
