package forward

import (
	"context"
	"errors"
	"strings"
	"sync"
	"time"

	"github.com/pilotsync/pilotsync/shared/activity"
	"github.com/pilotsync/pilotsync/shared/identity"
	"github.com/pilotsync/pilotsync/shared/store"
)

// memStore is an in-memory Store with the semantics the forwarder relies on.
type memStore struct {
	mu        sync.Mutex
	profiles  map[string]*store.Profile
	ledger    map[string]bool
	marks     map[string]bool
	deltas    []store.ActivityDelta
	merges    []string
	enabledAt time.Time
	failMerge error
	failAdd   error
	failSeen  error
	gets      int
	ttls      []time.Duration // the ttl of each LedgerRecord call
}

func newMemStore() *memStore {
	return &memStore{profiles: map[string]*store.Profile{}, ledger: map[string]bool{}, marks: map[string]bool{}}
}

func pkey(env string, kind store.Kind, id string) string { return env + "/" + string(kind) + "/" + id }

func (m *memStore) MergeIdentify(_ context.Context, env string, kind store.Kind, id string, in store.IdentifyInput) (*store.MergeResult, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.failMerge != nil {
		return nil, m.failMerge
	}
	m.merges = append(m.merges, pkey(env, kind, id))
	p := m.profiles[pkey(env, kind, id)]
	created := p == nil
	if p == nil {
		p = &store.Profile{Env: env, Kind: kind, ID: id, Properties: map[string]store.Property{}}
		m.profiles[pkey(env, kind, id)] = p
	}
	if p.Properties == nil {
		p.Properties = map[string]store.Property{}
	}
	var changed []string
	for k, v := range in.Properties {
		p.Properties[k] = store.Property{Value: v, At: in.At}
		changed = append(changed, k)
		for _, o := range in.Outbound {
			if o == k {
				p.Dirty = true
			}
		}
	}
	old := p.MatchValue
	if s, ok := in.Properties[in.MatchProperty].(string); ok {
		p.MatchValue = identity.Normalize(s)
	}
	if in.CompanyID != "" {
		p.CompanyID = in.CompanyID
	}
	cp := *p
	return &store.MergeResult{Profile: &cp, Changed: changed, Created: created, MatchChanged: old != p.MatchValue}, nil
}

func (m *memStore) GetProfiles(_ context.Context, env string, kind store.Kind, ids []string) (map[string]*store.Profile, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.gets++
	out := map[string]*store.Profile{}
	for _, id := range ids {
		if p := m.profiles[pkey(env, kind, id)]; p != nil {
			cp := *p
			out[id] = &cp
		}
	}
	return out, nil
}

func (m *memStore) PutProfile(_ context.Context, p *store.Profile) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	cp := *p
	m.profiles[pkey(p.Env, p.Kind, p.ID)] = &cp
	return nil
}

func (m *memStore) LedgerSeen(_ context.Context, env string, ids []string) (map[string]bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.failSeen != nil {
		return nil, m.failSeen
	}
	out := map[string]bool{}
	for _, id := range ids {
		out[id] = m.ledger[env+"/"+id]
	}
	return out, nil
}

func (m *memStore) LedgerRecord(_ context.Context, env string, ids []string, ttl time.Duration) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.ttls = append(m.ttls, ttl)
	for _, id := range ids {
		m.ledger[env+"/"+id] = true
	}
	return nil
}

func (m *memStore) AddActivity(_ context.Context, env string, ds []store.ActivityDelta) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.failAdd != nil {
		return m.failAdd
	}
	for _, d := range ds {
		if m.marks[env+"/"+d.EventIDs[0]] {
			continue
		}
		m.marks[env+"/"+d.EventIDs[0]] = true
		m.deltas = append(m.deltas, d)
	}
	return nil
}

func (m *memStore) EnabledAt(_ context.Context, env string, now time.Time) (time.Time, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.enabledAt.IsZero() {
		m.enabledAt = now
	}
	return m.enabledAt, nil
}

// fakeFinder knows HubSpot records by match value.
type fakeFinder struct {
	mu     sync.Mutex
	ids    map[string]string
	calls  int
	values [][]string
	err    error
}

func (f *fakeFinder) FindByMatch(_ context.Context, objectType, property string, values []string) (map[string]string, error) {
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
