package forward

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pilotsync/pilotsync/shared/config"
	"github.com/pilotsync/pilotsync/shared/hubspot"
	"github.com/pilotsync/pilotsync/shared/identity/linker"

	"github.com/pilotsync/pilotsync/shared/activity"
	"github.com/pilotsync/pilotsync/shared/store"
	"github.com/pilotsync/pilotsync/shared/store/storetest"
)

// memStore is the in-memory store with the fault hooks and records these
// tests use.
type memStore struct {
	*storetest.Memory
	mu sync.Mutex
	// deltas are the aggregate deltas the store applied (not skipped as
	// already applied), merges the profiles merged, ttls the ttl of each
	// LedgerRecord call, gets the number of GetProfiles calls.
	deltas []store.ActivityDelta
	merges []string
	ttls   []time.Duration
	gets   int
	// enabledAt, when set, is the time an earlier invocation recorded.
	enabledAt time.Time
	failMerge error
	// failMerges fails that many merges (the first ones) with errBoom.
	failMerges int
	failAdd    error
	failSeen   error
}

var _ Store = (*memStore)(nil)

func newMemStore() *memStore { return &memStore{Memory: storetest.New()} }

func pkey(env string, kind store.Kind, id string) string { return env + "/" + string(kind) + "/" + id }

// seed stores p's values as they are, over any stored profile (what
// another process wrote).
func (m *memStore) seed(p *store.Profile) {
	cur := m.profile(p.Env, p.Kind, p.ID)
	if cur == nil {
		cur = &store.Profile{Env: p.Env, Kind: p.Kind, ID: p.ID}
	}
	cur.CompanyID, cur.MatchValue, cur.Properties, cur.Dirty = p.CompanyID, p.MatchValue, p.Properties, p.Dirty
	cur.HubSpotID, cur.HubSpotObject, cur.Quarantined = p.HubSpotID, p.HubSpotObject, p.Quarantined
	cur.InboundHashes, cur.OutboundHashes, cur.OutboundAt, cur.LinkMatch = p.InboundHashes, p.OutboundHashes, p.OutboundAt, p.LinkMatch
	if err := m.PutProfile(context.Background(), cur); err != nil {
		panic(err)
	}
}

// profile reads a stored profile, nil when there is none.
func (m *memStore) profile(env string, kind store.Kind, id string) *store.Profile {
	p, err := m.GetProfile(context.Background(), env, kind, id)
	if err != nil {
		return nil
	}
	return p
}

func (m *memStore) MergeIdentify(ctx context.Context, env string, kind store.Kind, id string, in store.IdentifyInput) (*store.MergeResult, error) {
	m.mu.Lock()
	if m.failMerge != nil {
		m.mu.Unlock()
		return nil, m.failMerge
	}
	if m.failMerges > 0 {
		m.failMerges--
		m.mu.Unlock()
		return nil, errBoom
	}
	m.merges = append(m.merges, pkey(env, kind, id))
	m.mu.Unlock()
	return m.Memory.MergeIdentify(ctx, env, kind, id, in)
}

func (m *memStore) GetProfiles(ctx context.Context, env string, kind store.Kind, ids []string) (map[string]*store.Profile, error) {
	m.mu.Lock()
	m.gets++
	m.mu.Unlock()
	return m.Memory.GetProfiles(ctx, env, kind, ids)
}

func (m *memStore) LedgerSeen(ctx context.Context, env string, ids []string) (map[string]bool, error) {
	m.mu.Lock()
	fail := m.failSeen
	m.mu.Unlock()
	if fail != nil {
		return nil, fail
	}
	return m.Memory.LedgerSeen(ctx, env, ids)
}

func (m *memStore) LedgerRecord(ctx context.Context, env string, ids []string, ttl time.Duration) error {
	m.mu.Lock()
	m.ttls = append(m.ttls, ttl)
	m.mu.Unlock()
	return m.Memory.LedgerRecord(ctx, env, ids, ttl)
}

func (m *memStore) AddActivity(ctx context.Context, env string, ds []store.ActivityDelta) error {
	m.mu.Lock()
	fail := m.failAdd
	m.mu.Unlock()
	if fail != nil {
		return fail
	}
	err := m.Memory.AddActivity(ctx, env, ds)
	m.mu.Lock()
	m.deltas = m.Applied()
	m.mu.Unlock()
	return err
}

func (m *memStore) EnabledAt(ctx context.Context, env string, now time.Time) (time.Time, error) {
	m.mu.Lock()
	if !m.enabledAt.IsZero() {
		now = m.enabledAt
	}
	m.mu.Unlock()
	return m.Memory.EnabledAt(ctx, env, now)
}

// fakeFinder knows HubSpot records by match value.
type fakeFinder struct {
	mu     sync.Mutex
	ids    map[string]string
	calls  int
	values [][]string
	err    error
}

// find is one batch read by match value.
func (f *fakeFinder) find(values []string) (map[string]string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls++
	f.values = append(f.values, values)
	if f.err != nil {
		return nil, f.err
	}
	out := map[string]string{}
	for _, v := range values {
		if id, ok := f.ids[v]; ok {
			out[v] = id
		}
	}
	return out, nil
}

// BatchRead implements linker.HubSpot (reads by a match property).
func (f *fakeFinder) BatchRead(_ context.Context, _ string, ids []string, _ string, _ []string) (*hubspot.BatchReadResult, error) {
	found, err := f.find(ids)
	if err != nil {
		return nil, err
	}
	return &hubspot.BatchReadResult{ByRequest: found}, nil
}

// FindByEmails implements linker.HubSpot.
func (f *fakeFinder) FindByEmails(_ context.Context, _ string, emails []string, _ []string) (map[string]hubspot.Record, error) {
	found, err := f.find(emails)
	out := map[string]hubspot.Record{}
	for v, id := range found {
		out[v] = hubspot.Record{ID: id}
	}
	return out, err
}

// newFakeLinker is the real linker over the fakes.
func newFakeLinker(t testing.TB, cfg *config.Config, st *memStore, f *fakeFinder) *linker.Linker {
	t.Helper()
	lk, err := linker.New(linker.Options{Env: cfg.Userpilot.Environment, Store: st, HubSpot: f, Objects: linker.ObjectsFromConfig(cfg), Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	return lk
}

var errPermanent = errors.New("fake: validation error")

// fakeSink keeps the first occurrence of each (name, event id), like HubSpot's
// uuid rule, and counts repeats.
type fakeSink struct {
	mu        sync.Mutex
	max       int
	got       map[string]Item
	order     []string
	repeats   int
	calls     int
	failNext  int    // fail this many calls (retryable)
	rejectIDs string // comma list of event ids HubSpot refuses (permanent)
	prepared  int
	noTarget  string
	// deadObjects are HubSpot record ids that no longer exist (merged away,
	// deleted): HubSpot refuses an occurrence attached to one (permanent).
	deadObjects map[string]bool
}

func newFakeSink() *fakeSink { return &fakeSink{max: 500, got: map[string]Item{}} }

func (s *fakeSink) Name() string             { return "fake" }
func (s *fakeSink) MaxBatch() int            { return s.max }
func (s *fakeSink) Permanent(err error) bool { return errors.Is(err, errPermanent) }

func (s *fakeSink) Prepare(_ context.Context, names map[string]activity.Pair) (map[string]string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.prepared++
	out := map[string]string{}
	for n := range names {
		if n != s.noTarget {
			out[n] = "pe1_" + n
		}
	}
	return out, nil
}

func (s *fakeSink) Send(_ context.Context, items []Item) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls++
	if s.failNext > 0 {
		s.failNext--
		return errors.New("fake: 502")
	}
	for _, it := range items {
		if s.rejectIDs != "" && strings.Contains(","+s.rejectIDs+",", ","+it.EventID+",") {
			return errPermanent
		}
		if s.deadObjects[it.ObjectID] {
			return errPermanent
		}
	}
	for _, it := range items {
		k := it.Target + "/" + it.EventID
		if _, dup := s.got[k]; dup {
			s.repeats++
			continue
		}
		s.got[k] = it
		s.order = append(s.order, k)
	}
	return nil
}

// fakeDLQ records dead letters.
type fakeDLQ struct {
	mu      sync.Mutex
	reasons map[string]string
	err     error
}

func (d *fakeDLQ) DeadLetter(_ context.Context, msg Message, reason string) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.err != nil {
		return d.err
	}
	if d.reasons == nil {
		d.reasons = map[string]string{}
	}
	d.reasons[msg.ID] = reason
	return nil
}
