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
	be := &store.BatchError{}
	for _, p := range ps {
		be.Failed = append(be.Failed, store.ProfileError{Env: p.Env, Kind: p.Kind, ID: p.ID, Err: store.ErrConflict})
	}
	return be
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
