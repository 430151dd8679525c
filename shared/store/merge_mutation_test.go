package store_test

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/pilotsync/pilotsync/shared/store"
	"github.com/pilotsync/pilotsync/shared/store/storetest"
)

// bothStores runs fn against DynamoDB Local and the in-memory store.
func bothStores(t *testing.T, fn func(t *testing.T, s storetest.Store)) {
	for name, open := range map[string]func(t *testing.T) storetest.Store{
		"dynamodb": func(t *testing.T) storetest.Store { return storetest.FreshTable(t) },
		"memory":   func(*testing.T) storetest.Store { return storetest.New() },
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			fn(t, open(t))
		})
	}
}

// dirtyIDs lists the ids DirtyProfiles yields for kind, waiting out the
// DynamoDB index's eventual consistency until it lists want.
func dirtyIDs(t *testing.T, s storetest.Store, kind store.Kind, want []string) []string {
	t.Helper()
	var ids []string
	for range 50 {
		ids = ids[:0]
		for p, err := range s.DirtyProfiles(t.Context(), "production", kind) {
			if err != nil {
				t.Fatal(err)
			}
			ids = append(ids, p.ID)
		}
		slices.Sort(ids)
		if slices.Equal(ids, want) {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	return ids
}

// TestCompanyIdentifyMarksDirty (issue 14 item 9, at the store): an
// identify_company that changes a mapped company property marks the company
// profile dirty, so the next outbound push lists it among the dirty
// companies; a change of an unmapped property, an older value, a repeated
// value at a newer time and the removal of a property never seen do not.
func TestCompanyIdentifyMarksDirty(t *testing.T) {
	t.Parallel()
	bothStores(t, func(t *testing.T, s storetest.Store) {
		ctx := t.Context()
		t0 := time.Date(2026, 11, 27, 10, 0, 0, 0, time.UTC)
		mapped := []string{"plan", "seats"}
		merge := func(id string, props map[string]any, at time.Time) *store.MergeResult {
			t.Helper()
			res, err := s.MergeIdentify(ctx, "production", store.KindCompany, id, store.IdentifyInput{Properties: props, At: at, Outbound: mapped})
			if err != nil {
				t.Fatal(err)
			}
			return res
		}
		// Created with mapped values: dirty (they were never sent).
		if r := merge("c1", map[string]any{"plan": "pro", "color": "red"}, t0); !r.Profile.Dirty {
			t.Error("new company with a mapped property: not dirty")
		}
		// Created with unmapped values only: clean.
		if r := merge("c2", map[string]any{"color": "red"}, t0); r.Profile.Dirty {
			t.Error("new company with only unmapped properties: dirty")
		}
		// A mapped value the push has sent (and cleared the mark of), then an
		// older value, the same value at a newer time, the removal of a
		// property never seen and unmapped changes: still clean.
		merge("c2", map[string]any{"plan": "pro"}, t0)
		sent, err := s.GetProfile(ctx, "production", store.KindCompany, "c2")
		if err != nil || !sent.Dirty {
			t.Fatalf("c2 after its first mapped value: %+v (%v), want dirty", sent, err)
		}
		sent.Dirty = false
		if err := s.PutProfile(ctx, sent); err != nil {
			t.Fatal(err)
		}
		merge("c2", map[string]any{"plan": "old"}, t0.Add(-time.Hour))
		merge("c2", map[string]any{"plan": "pro"}, t0.Add(time.Minute))
		merge("c2", map[string]any{"seats": nil}, t0)
		merge("c2", map[string]any{"color": "red"}, t0.Add(time.Hour))
		merge("c2", map[string]any{"color": "blue"}, t0.Add(2*time.Hour))
		if p, err := s.GetProfile(ctx, "production", store.KindCompany, "c2"); err != nil || p.Dirty {
			t.Errorf("c2 after changes to nothing mapped: %+v (%v), want clean", p, err)
		}
		// The mapped change of an existing company marks it, whichever other
		// properties come with it.
		props := map[string]any{"seats": 12}
		for i := range 30 {
			props[string(rune('a'+i))] = i
		}
		if r := merge("c2", props, t0.Add(3*time.Hour)); !r.Profile.Dirty || !slices.Contains(r.Changed, "seats") {
			t.Errorf("c2 after a mapped change: dirty %v changed %v", r.Profile.Dirty, r.Changed)
		}
		// A mapped property removed is a change too.
		merge("c3", map[string]any{"color": "red", "plan": "pro"}, t0)
		// (the push sent it and cleared the mark)
		c3, err := s.GetProfile(ctx, "production", store.KindCompany, "c3")
		if err != nil {
			t.Fatal(err)
		}
		c3.Dirty = false
		if err := s.PutProfile(ctx, c3); err != nil {
			t.Fatal(err)
		}
		if r := merge("c3", map[string]any{"plan": nil}, t0.Add(time.Hour)); !r.Profile.Dirty {
			t.Error("c3 after its mapped property was removed: not dirty")
		}
		if got := dirtyIDs(t, s, store.KindCompany, []string{"c1", "c2", "c3"}); !slices.Equal(got, []string{"c1", "c2", "c3"}) {
			t.Errorf("dirty companies %v, want c1 c2 c3", got)
		}
		if got := dirtyIDs(t, s, store.KindUser, nil); len(got) != 0 {
			t.Errorf("dirty users %v, want none (the marks are the companies')", got)
		}
	})
}

// TestLinkedProfilesHonoursContext: the link audit's listing fails with the
// context's error once it is done, on both stores.
func TestLinkedProfilesHonoursContext(t *testing.T) {
	t.Parallel()
	bothStores(t, func(t *testing.T, s storetest.Store) {
		p := &store.Profile{Env: "production", Kind: store.KindUser, ID: "u1", HubSpotID: "1"}
		if err := s.PutProfile(t.Context(), p); err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(t.Context())
		cancel()
		if err := firstErr(s.LinkedProfiles(ctx, "production", store.KindUser)); !errors.Is(err, context.Canceled) {
			t.Errorf("LinkedProfiles with a cancelled context: %v, want context.Canceled", err)
		}
	})
}
