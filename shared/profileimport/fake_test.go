package profileimport

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"

	"github.com/pilotsync/pilotsync/shared/store"
	"github.com/pilotsync/pilotsync/shared/store/storetest"
)

// Compile-time check: the real store is what Import consumes.
var _ Store = (*store.Store)(nil)

// mapStore is the in-memory store, counting the calls Import makes and the
// largest batch it hands over.
type mapStore struct {
	*storetest.Memory
	mu       sync.Mutex
	gets     int
	puts     int
	merges   int
	maxBatch int
}

func newMapStore() *mapStore { return &mapStore{Memory: storetest.New()} }

func (s *mapStore) GetProfiles(ctx context.Context, env string, kind store.Kind, ids []string) (map[string]*store.Profile, error) {
	s.mu.Lock()
	s.gets++
	s.maxBatch = max(s.maxBatch, len(ids))
	s.mu.Unlock()
	return s.Memory.GetProfiles(ctx, env, kind, ids)
}

func (s *mapStore) PutProfiles(ctx context.Context, ps []*store.Profile) error {
	s.mu.Lock()
	s.puts++
	s.maxBatch = max(s.maxBatch, len(ps))
	s.mu.Unlock()
	return s.Memory.PutProfiles(ctx, ps)
}

func (s *mapStore) MergeIdentify(ctx context.Context, env string, kind store.Kind, id string, in store.IdentifyInput) (*store.MergeResult, error) {
	s.mu.Lock()
	s.merges++
	s.mu.Unlock()
	return s.Memory.MergeIdentify(ctx, env, kind, id, in)
}

func (s *mapStore) get(kind store.Kind, id string) *store.Profile {
	p, err := s.GetProfile(context.Background(), "production", kind, id)
	if err != nil {
		return nil
	}
	return p
}

// countingStore keeps nothing (it is no store fake, only a sink): every
// profile is new. It records the largest
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
