// Package storetest holds the one in-memory store (Memory) that tests of the
// engines use instead of DynamoDB, and the contract suite (RunContract) that
// both Memory and the DynamoDB store pass, so the double cannot drift from
// the real thing. Memory follows the store's pure rules (store.ApplyIdentify,
// store.PutHolds, store.LookupMoves, store.Stored, the lease and problem
// rules), honours contexts like the SDK (a cancelled or expired ctx fails the
// call and stores nothing) and can be told to fail calls (Fail) the way a
// DynamoDB error would. FreshTable gives a test a DynamoDB Local table of its
// own, deleted when the test ends.
package storetest

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/pilotsync/pilotsync/shared/identity"
	"github.com/pilotsync/pilotsync/shared/store"
)

// Store lists every method of *store.Store the engines use. Memory and
// *store.Store implement it; RunContract tests an implementation of it.
type Store interface {
	GetProfile(ctx context.Context, env string, kind store.Kind, id string) (*store.Profile, error)
	GetProfiles(ctx context.Context, env string, kind store.Kind, ids []string) (map[string]*store.Profile, error)
	PutProfile(ctx context.Context, p *store.Profile) error
	PutProfiles(ctx context.Context, ps []*store.Profile) error
	MergeIdentify(ctx context.Context, env string, kind store.Kind, id string, in store.IdentifyInput) (*store.MergeResult, error)
	LookupByMatch(ctx context.Context, env string, kind store.Kind, values []string) (map[string][]string, error)
	LookupByHubSpotID(ctx context.Context, env string, kind store.Kind, ids []string) (map[string][]string, error)
	DirtyProfiles(ctx context.Context, env string, kind store.Kind) iter.Seq2[*store.Profile, error]
	LinkedProfiles(ctx context.Context, env string, kind store.Kind) iter.Seq2[*store.Profile, error]

	GetCursor(ctx context.Context, env, name string) (string, error)
	PutCursor(ctx context.Context, env, name, value string) error
	PutCursorLeased(ctx context.Context, env, name, value, lease, owner string) error
	AcquireLease(ctx context.Context, env, name, owner string, ttl time.Duration) error
	RenewLease(ctx context.Context, env, name, owner string, ttl time.Duration) error
	ReleaseLease(ctx context.Context, env, name, owner string) error
	EnabledAt(ctx context.Context, env string, now time.Time) (time.Time, error)
	OpenProblem(ctx context.Context, env, key, summary string, now time.Time, repeatAfter time.Duration) (bool, error)
	CloseProblem(ctx context.Context, env, key string) (bool, error)

	LedgerSeen(ctx context.Context, env string, ids []string) (map[string]bool, error)
	LedgerRecord(ctx context.Context, env string, ids []string, ttl time.Duration) error
	AddActivity(ctx context.Context, env string, deltas []store.ActivityDelta) error
	Activity(ctx context.Context, env string, kind store.Kind, id string, fromDay, toDay string) ([]store.DayActivity, error)

	PutRun(ctx context.Context, r store.RunRecord) error
	ListRuns(ctx context.Context, env, job string, limit int) ([]store.RunRecord, error)
}

var (
	_ Store = (*store.Store)(nil)
	_ Store = (*Memory)(nil)
)

// ErrInjected is what Fail-injected errors wrap when the fault function
// returns it; any other error is returned as given (wrapped with the call).
var ErrInjected = errors.New("storetest: injected fault")

// Memory is an in-memory store with the semantics of *store.Store. It is
// safe for concurrent use. The zero value is not usable; call New.
type Memory struct {
	mu    sync.Mutex
	now   func() time.Time
	fault func(op string) error

	profiles map[string]*store.Profile      // profileKey -> stored copy
	lookups  map[string]map[string]struct{} // lookupKey -> profile ids
	cursors  map[string]string
	leases   map[string]lease
	enabled  map[string]time.Time
	problems map[string]*problem
	ledger   map[string]time.Time // env#id -> expiry
	marks    map[string]time.Time // env#event id -> expiry
	days     map[string]*day      // env#kind#id#day
	runs     map[string]map[string]runItem
	applied  []store.ActivityDelta
}

// Option configures a Memory.
type Option func(*Memory)

// WithClock sets the store's clock (default time.Now): it decides lease
// expiry, TTLs and UpdatedAt, as the DynamoDB store's own clock does.
func WithClock(now func() time.Time) Option { return func(m *Memory) { m.now = now } }

// New returns an empty in-memory store.
func New(opts ...Option) *Memory {
	m := &Memory{
		now:      time.Now,
		profiles: map[string]*store.Profile{},
		lookups:  map[string]map[string]struct{}{},
		cursors:  map[string]string{},
		leases:   map[string]lease{},
		enabled:  map[string]time.Time{},
		problems: map[string]*problem{},
		ledger:   map[string]time.Time{},
		marks:    map[string]time.Time{},
		days:     map[string]*day{},
		runs:     map[string]map[string]runItem{},
	}
	for _, o := range opts {
		o(m)
	}
	return m
}

// Fail makes every later call for which fault(op) returns an error fail with
// it, as a DynamoDB error would (nothing is stored); op is the method name
// ("PutProfiles", "RenewLease", ...). nil removes the fault. fault runs
// outside the store's lock, so it may call the store.
func (m *Memory) Fail(fault func(op string) error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.fault = fault
}

// begin fails the call op when ctx is done (as the SDK does before sending)
// or an injected fault says so.
func (m *Memory) begin(ctx context.Context, op string) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("storetest: %s: %w", op, err)
	}
	m.mu.Lock()
	f := m.fault
	m.mu.Unlock()
	if f != nil {
		if err := f(op); err != nil {
			return fmt.Errorf("storetest: %s: %w", op, err)
		}
	}
	return nil
}

func profileKey(env string, kind store.Kind, id string) string {
	return env + "#" + string(kind) + "#" + id
}

func lookupKey(env string, kind store.Kind, index store.LookupIndex, v string) string {
	return fmt.Sprintf("%s#%d#%s#%s", env, index, kind, v)
}

// GetProfile reads one profile; store.ErrNotFound when there is none.
func (m *Memory) GetProfile(ctx context.Context, env string, kind store.Kind, id string) (*store.Profile, error) {
	if err := store.CheckProfileKey(env, kind, id); err != nil {
		return nil, err
	}
	if err := m.begin(ctx, "GetProfile"); err != nil {
		return nil, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	p := m.profiles[profileKey(env, kind, id)]
	if p == nil {
		return nil, fmt.Errorf("storetest: get %s profile %s: %w", kind, id, store.ErrNotFound)
	}
	return store.CloneProfile(p), nil
}

// GetProfiles reads many profiles; missing ones are absent from the map.
func (m *Memory) GetProfiles(ctx context.Context, env string, kind store.Kind, ids []string) (map[string]*store.Profile, error) {
	for _, id := range ids {
		if err := store.CheckProfileKey(env, kind, id); err != nil {
			return nil, err
		}
	}
	if err := m.begin(ctx, "GetProfiles"); err != nil {
		return nil, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	out := make(map[string]*store.Profile, len(ids))
	for _, id := range ids {
		if p := m.profiles[profileKey(env, kind, id)]; p != nil {
			out[id] = store.CloneProfile(p)
		}
	}
	return out, nil
}

// put stores p by PutProfile's rules; m.mu is held.
func (m *Memory) put(p *store.Profile, now time.Time) error {
	next, err := store.Stored(p, now)
	if err != nil {
		return err
	}
	k := profileKey(p.Env, p.Kind, p.ID)
	if !store.PutHolds(m.profiles[k], p) {
		return fmt.Errorf("storetest: put %s profile %s at version %d: %w", p.Kind, p.ID, p.Version, store.ErrConflict)
	}
	for _, mv := range store.LookupMoves(p) {
		if mv.From != "" {
			set := m.lookups[lookupKey(p.Env, p.Kind, mv.Index, mv.From)]
			delete(set, p.ID)
		}
		if mv.To != "" {
			lk := lookupKey(p.Env, p.Kind, mv.Index, mv.To)
			if m.lookups[lk] == nil {
				m.lookups[lk] = map[string]struct{}{}
			}
			m.lookups[lk][p.ID] = struct{}{}
		}
	}
	m.profiles[k] = next
	store.Committed(p, next)
	return nil
}

// PutProfile stores p, conditional on its Version (store.ErrConflict when
// stale), moving its lookup entries; on success p.Version is bumped.
func (m *Memory) PutProfile(ctx context.Context, p *store.Profile) error {
	if _, err := store.Stored(p, m.now()); err != nil {
		return err
	}
	if err := m.begin(ctx, "PutProfile"); err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.put(p, m.now())
}

// PutProfiles stores each profile by PutProfile's rules; failures (stale
// versions, invalid profiles, a profile given twice) are returned together in
// a *store.BatchError, sorted by id, and the others are stored.
func (m *Memory) PutProfiles(ctx context.Context, ps []*store.Profile) error {
	if err := m.begin(ctx, "PutProfiles"); err != nil {
		return fmt.Errorf("storetest: put %d profiles: %w", len(ps), err)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	now := m.now()
	var failed []store.ProfileError
	seen := map[string]bool{}
	for _, p := range ps {
		k := profileKey(p.Env, p.Kind, p.ID)
		var err error
		if seen[k] {
			err = fmt.Errorf("%w: %s profile %s appears twice in one batch", store.ErrInvalid, p.Kind, p.ID)
		} else {
			seen[k] = true
			err = m.put(p, now)
		}
		if err != nil {
			failed = append(failed, store.ProfileError{Env: p.Env, Kind: p.Kind, ID: p.ID, Err: err})
		}
	}
	if len(failed) > 0 {
		slices.SortFunc(failed, func(a, b store.ProfileError) int { return strings.Compare(a.ID, b.ID) })
		return &store.BatchError{Failed: failed}
	}
	return nil
}

// MergeIdentify merges an identify event into the profile (creating it) by
// store.ApplyIdentify's rules; nothing is written when nothing changes.
func (m *Memory) MergeIdentify(ctx context.Context, env string, kind store.Kind, id string, in store.IdentifyInput) (*store.MergeResult, error) {
	if err := store.CheckProfileKey(env, kind, id); err != nil {
		return nil, err
	}
	in, err := store.PrepareIdentify(in, m.now())
	if err != nil {
		return nil, fmt.Errorf("storetest: merge %s %s: %w", kind, id, err)
	}
	if err := m.begin(ctx, "MergeIdentify"); err != nil {
		return nil, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	p, created := m.profiles[profileKey(env, kind, id)], false
	if p == nil {
		p, created = &store.Profile{Env: env, Kind: kind, ID: id}, true
	} else {
		p = store.CloneProfile(p)
	}
	res, write := store.ApplyIdentify(p, in)
	res.Created = created
	if !write && !created {
		return res, nil
	}
	if err := m.put(p, m.now()); err != nil {
		return nil, fmt.Errorf("storetest: merge: %w", err)
	}
	return res, nil
}

// LookupByMatch returns the ids of the profiles of kind with each
// (normalized) match value that has any, sorted.
func (m *Memory) LookupByMatch(ctx context.Context, env string, kind store.Kind, values []string) (map[string][]string, error) {
	return m.lookup(ctx, "LookupByMatch", env, kind, store.IndexMatch, values, identity.Normalize)
}

// LookupByHubSpotID returns the ids of the profiles of kind linked to each
// HubSpot record id that has any, sorted.
func (m *Memory) LookupByHubSpotID(ctx context.Context, env string, kind store.Kind, ids []string) (map[string][]string, error) {
	return m.lookup(ctx, "LookupByHubSpotID", env, kind, store.IndexHubSpotID, ids, func(v string) string { return v })
}

func (m *Memory) lookup(ctx context.Context, op, env string, kind store.Kind, index store.LookupIndex, values []string, norm func(string) string) (map[string][]string, error) {
	if err := store.CheckEnv(env); err != nil {
		return nil, err
	}
	if err := store.CheckKind(kind); err != nil {
		return nil, err
	}
	if err := m.begin(ctx, op); err != nil {
		return nil, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	out := map[string][]string{}
	for _, v := range values {
		v = norm(v)
		if v == "" {
			continue
		}
		set := m.lookups[lookupKey(env, kind, index, v)]
		if len(set) == 0 {
			continue
		}
		ids := make([]string, 0, len(set))
		for id := range set {
			ids = append(ids, id)
		}
		slices.Sort(ids)
		out[v] = ids
	}
	return out, nil
}

// DirtyProfiles yields every profile of kind marked Dirty, by id.
func (m *Memory) DirtyProfiles(ctx context.Context, env string, kind store.Kind) iter.Seq2[*store.Profile, error] {
	return m.profilesWhere(ctx, "DirtyProfiles", env, kind, func(p *store.Profile) bool { return p.Dirty })
}

// LinkedProfiles yields every profile of kind linked to a HubSpot record, in
// id order (the DynamoDB store scans the table).
func (m *Memory) LinkedProfiles(ctx context.Context, env string, kind store.Kind) iter.Seq2[*store.Profile, error] {
	return m.profilesWhere(ctx, "LinkedProfiles", env, kind, func(p *store.Profile) bool { return p.HubSpotID != "" })
}

// profilesWhere yields copies of the profiles of kind that keep accepts, in
// id order, failing once ctx is done.
func (m *Memory) profilesWhere(ctx context.Context, op, env string, kind store.Kind, keep func(*store.Profile) bool) iter.Seq2[*store.Profile, error] {
	return func(yield func(*store.Profile, error) bool) {
		if err := store.CheckEnv(env); err != nil {
			yield(nil, err)
			return
		}
		if err := store.CheckKind(kind); err != nil {
			yield(nil, err)
			return
		}
		if err := m.begin(ctx, op); err != nil {
			yield(nil, err)
			return
		}
		m.mu.Lock()
		var ps []*store.Profile
		for _, p := range m.profiles {
			if p.Env == env && p.Kind == kind && keep(p) {
				ps = append(ps, store.CloneProfile(p))
			}
		}
		m.mu.Unlock()
		slices.SortFunc(ps, func(a, b *store.Profile) int { return strings.Compare(a.ID, b.ID) })
		for _, p := range ps {
			if err := ctx.Err(); err != nil {
				yield(nil, fmt.Errorf("storetest: %s: %w", op, err))
				return
			}
			if !yield(p, nil) {
				return
			}
		}
	}
}
