package profileimport

import (
	"context"
	"fmt"
	"maps"
	"reflect"
	"sync"
	"sync/atomic"

	"github.com/pilotsync/pilotsync/shared/store"
)

// Compile-time check: the real store is what Import consumes.
var _ Store = (*store.Store)(nil)

// mapStore is a hand-written in-memory Store with the merge rules that matter
// here (newer timestamp wins, match value recomputed, versions checked).
type mapStore struct {
	mu       sync.Mutex
	profiles map[string]*store.Profile
	gets     int
	puts     int
	merges   int
	maxBatch int
}

func newMapStore() *mapStore { return &mapStore{profiles: map[string]*store.Profile{}} }

func clone(p *store.Profile) *store.Profile {
	q := *p
	q.Properties = maps.Clone(p.Properties)
	return &q
}

func (s *mapStore) GetProfiles(_ context.Context, env string, kind store.Kind, ids []string) (map[string]*store.Profile, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.gets++
	s.maxBatch = max(s.maxBatch, len(ids))
	out := map[string]*store.Profile{}
	for _, id := range ids {
		if p := s.profiles[env+"/"+string(kind)+"/"+id]; p != nil {
			out[id] = clone(p)
		}
	}
	return out, nil
}

func (s *mapStore) PutProfiles(_ context.Context, ps []*store.Profile) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.puts++
	s.maxBatch = max(s.maxBatch, len(ps))
	var be store.BatchError
	for _, p := range ps {
		k := p.Env + "/" + string(p.Kind) + "/" + p.ID
		cur := s.profiles[k]
		if (cur == nil && p.Version != 0) || (cur != nil && cur.Version != p.Version) {
			be.Failed = append(be.Failed, store.ProfileError{Env: p.Env, Kind: p.Kind, ID: p.ID, Err: store.ErrConflict})
			continue
		}
		p.Version++
		s.profiles[k] = clone(p)
	}
	if len(be.Failed) > 0 {
		return &be
	}
	return nil
}

func (s *mapStore) MergeIdentify(_ context.Context, env string, kind store.Kind, id string, in store.IdentifyInput) (*store.MergeResult, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.merges++
	k := env + "/" + string(kind) + "/" + id
	p := s.profiles[k]
	res := &store.MergeResult{}
	if p == nil {
		p = &store.Profile{Env: env, Kind: kind, ID: id, Properties: map[string]store.Property{}}
		res.Created = true
	} else {
		p = clone(p)
	}
	for name, v := range in.Properties {
		cur, ok := p.Properties[name]
		if ok && in.At.Before(cur.At) {
			continue
		}
		if !ok || !reflect.DeepEqual(cur.Value, v) {
			res.Changed = append(res.Changed, name)
		}
		p.Properties[name] = store.Property{Value: v, At: in.At}
	}
	if in.CompanyID != "" {
		p.CompanyID = in.CompanyID
	}
	if m := matchValue(p, in.MatchProperty); m != p.MatchValue {
		p.MatchValue, res.MatchChanged = m, true
	}
	p.Version++
	s.profiles[k] = p
	res.Profile = clone(p)
	return res, nil
}

func (s *mapStore) get(kind store.Kind, id string) *store.Profile {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.profiles["production/"+string(kind)+"/"+id]
}

// countingStore keeps nothing: every profile is new. It records the largest
// batch it was handed, so a test can import a large file in bounded memory.
type countingStore struct {
	rows     atomic.Int64
	maxBatch atomic.Int64
}

func (s *countingStore) GetProfiles(_ context.Context, _ string, _ store.Kind, ids []string) (map[string]*store.Profile, error) {
	s.note(len(ids))
	return map[string]*store.Profile{}, nil
}

func (s *countingStore) PutProfiles(_ context.Context, ps []*store.Profile) error {
	s.note(len(ps))
	s.rows.Add(int64(len(ps)))
	return nil
}

func (s *countingStore) MergeIdentify(context.Context, string, store.Kind, string, store.IdentifyInput) (*store.MergeResult, error) {
	return nil, fmt.Errorf("countingStore: unexpected merge")
}

func (s *countingStore) note(n int) {
	for {
		cur := s.maxBatch.Load()
		if int64(n) <= cur || s.maxBatch.CompareAndSwap(cur, int64(n)) {
			return
		}
	}
}
