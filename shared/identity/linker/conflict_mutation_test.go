package linker_test

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"testing"

	"github.com/pilotsync/pilotsync/shared/hubspot/hubspottest"
	"github.com/pilotsync/pilotsync/shared/identity/linker"
	"github.com/pilotsync/pilotsync/shared/store"
)

// busyStore is a store where another writer changes every profile just
// before each link is stored (its writes conflict), or whose writes fail
// with err.
type busyStore struct {
	*store.Store
	err    error
	mu     sync.Mutex
	writes int
}

func (s *busyStore) PutProfiles(_ context.Context, ps []*store.Profile) error {
	s.mu.Lock()
	s.writes++
	s.mu.Unlock()
	if s.err != nil {
		return s.err
	}
	return allConflicted(ps)
}

// TestResolveGivesUpOnEndlessConflicts: a profile another writer keeps
// changing is re-read and resolved again, saveAttempts (5) times in all,
// then Resolve reports a conflict instead of looping; a store write that
// fails otherwise is an error at once, not retried.
func TestResolveGivesUpOnEndlessConflicts(t *testing.T) {
	r := newRig(t, emailUsers, hubspottest.Options{})
	r.contact(map[string]string{"email": "a@x.com"})
	p := r.profile("u1", "a@x.com")
	for _, c := range []struct {
		name   string
		err    error
		writes int
	}{{"conflicts", nil, 5}, {"throttled", errors.New("fake: throttled"), 1}} {
		bs := &busyStore{Store: r.st, err: c.err}
		lk, err := linker.New(linker.Options{Env: env, Store: bs, HubSpot: r.hsc,
			Objects: map[store.Kind]linker.Object{store.KindUser: emailUsers}, Logger: slog.New(slog.DiscardHandler)})
		if err != nil {
			t.Fatal(err)
		}
		_, err = lk.Resolve(r.ctx, store.KindUser, []*store.Profile{p})
		if bs.writes != c.writes {
			t.Errorf("%s: %d store writes, want %d", c.name, bs.writes, c.writes)
		}
		if c.err == nil && (!errors.Is(err, store.ErrConflict) || !strings.Contains(err.Error(), "after 5 attempts")) {
			t.Errorf("%s: got %v, want a conflict after 5 attempts", c.name, err)
		}
		if c.err != nil && !errors.Is(err, c.err) {
			t.Errorf("%s: got %v, want the store's error", c.name, err)
		}
		if s := r.stored("u1"); s.HubSpotID != "" {
			t.Errorf("%s: stored %+v, want no link written", c.name, s.Link())
		}
	}
}

// onceBusyStore conflicts on its first link write only: another writer
// changed the profiles once, meanwhile.
type onceBusyStore struct {
	*store.Store
	mu   sync.Mutex
	done bool
}

func (s *onceBusyStore) PutProfiles(ctx context.Context, ps []*store.Profile) error {
	s.mu.Lock()
	first := !s.done
	s.done = true
	s.mu.Unlock()
	if !first {
		return s.Store.PutProfiles(ctx, ps)
	}
	return allConflicted(ps)
}

// TestAuditDoesNotCountAConflictedMergeRepair: when the audit's write of a
// merge repair conflicts with another writer, the repair is not counted as
// relinked_merged (the profile is resolved afresh instead) and the audit
// still succeeds.
func TestAuditDoesNotCountAConflictedMergeRepair(t *testing.T) {
	r := newRig(t, emailUsers, hubspottest.Options{})
	m1 := r.contact(map[string]string{"email": "d@x.com"})
	m2 := r.contact(map[string]string{"email": "d2@x.com"})
	r.link("ud", "d@x.com", m1, "d@x.com")
	r.hs.Merge("contacts", m2, m1)
	lk, err := linker.New(linker.Options{Env: env, Store: &onceBusyStore{Store: r.st}, HubSpot: r.hsc,
		Objects: map[store.Kind]linker.Object{store.KindUser: emailUsers}, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	rep, err := lk.Audit(r.ctx, store.KindUser)
	if err != nil || rep.Checked != 1 || rep.RelinkedMerged != 0 {
		t.Errorf("report %+v, %v; want 1 checked and no relinked_merged counted for the conflicted write", rep, err)
	}
}

// allConflicted is the store's answer when every profile of ps was changed
// by another writer since it was read.
func allConflicted(ps []*store.Profile) error {
	be := &store.BatchError{}
	for _, p := range ps {
		be.Failed = append(be.Failed, store.ProfileError{Env: p.Env, Kind: p.Kind, ID: p.ID, Err: store.ErrConflict})
	}
	return be
}
