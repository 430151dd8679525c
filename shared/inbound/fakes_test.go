package inbound

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"maps"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/pilotsync/pilotsync/shared/hubspot"
	"github.com/pilotsync/pilotsync/shared/identity"
	"github.com/pilotsync/pilotsync/shared/store"
	"github.com/pilotsync/pilotsync/shared/userpilot"
)

// Compile-time checks: the real implementations satisfy the interfaces
// inbound declares.
var (
	_ InboundStore    = (*store.Store)(nil)
	_ HubSpotReader   = (*hubspot.Client)(nil)
	_ UserpilotWriter = (*userpilot.Client)(nil)
)

// fakeStore is a hand-written in-memory InboundStore. Lookups are derived
// from the profiles, as the real store keeps them in step.
type fakeStore struct {
	mu       sync.Mutex
	profiles map[string]*store.Profile // kind/id
	cursors  map[string]string
	lease    string
	leaseTil time.Time
	runs     []store.RunRecord

	// putCursor, when set, runs before a cursor is stored (crash injection).
	putCursor func(name, value string) error
	// putProfiles, when set, runs before profiles are stored.
	putProfiles func(ps []*store.Profile) error
	// renewErr, when set, fails every lease renewal with it.
	renewErr error
}

func newFakeStore() *fakeStore {
	return &fakeStore{profiles: map[string]*store.Profile{}, cursors: map[string]string{}}
}

func cloneProfile(p *store.Profile) *store.Profile {
	q := *p
	q.Properties = maps.Clone(p.Properties)
	q.InboundHashes = maps.Clone(p.InboundHashes)
	q.OutboundHashes = maps.Clone(p.OutboundHashes)
	return &q
}

func (s *fakeStore) add(ps ...*store.Profile) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, p := range ps {
		p.Env = "production"
		p.MatchValue = identity.Normalize(p.MatchValue)
		p.Version = 1
		s.profiles[string(p.Kind)+"/"+p.ID] = cloneProfile(p)
	}
}

func (s *fakeStore) get(kind store.Kind, id string) *store.Profile {
	s.mu.Lock()
	defer s.mu.Unlock()
	if p := s.profiles[string(kind)+"/"+id]; p != nil {
		return cloneProfile(p)
	}
	return nil
}

func (s *fakeStore) GetProfiles(_ context.Context, _ string, kind store.Kind, ids []string) (map[string]*store.Profile, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := map[string]*store.Profile{}
	for _, id := range ids {
		if p := s.profiles[string(kind)+"/"+id]; p != nil {
			out[id] = cloneProfile(p)
		}
	}
	return out, nil
}

func (s *fakeStore) PutProfiles(_ context.Context, ps []*store.Profile) error {
	if s.putProfiles != nil {
		if err := s.putProfiles(ps); err != nil {
			return err
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	var be store.BatchError
	for _, p := range ps {
		k := string(p.Kind) + "/" + p.ID
		cur := s.profiles[k]
		if (cur == nil && p.Version != 0) || (cur != nil && cur.Version != p.Version) {
			be.Failed = append(be.Failed, store.ProfileError{Env: p.Env, Kind: p.Kind, ID: p.ID, Err: store.ErrConflict})
			continue
		}
		p.Version++
		p.MatchValue = identity.Normalize(p.MatchValue)
		s.profiles[k] = cloneProfile(p)
	}
	if len(be.Failed) > 0 {
		return &be
	}
	return nil
}

func (s *fakeStore) lookup(kind store.Kind, keys []string, key func(*store.Profile) string) map[string][]string {
	s.mu.Lock()
	defer s.mu.Unlock()
	want := map[string]bool{}
	for _, k := range keys {
		want[k] = true
	}
	out := map[string][]string{}
	for _, p := range s.profiles {
		if k := key(p); p.Kind == kind && k != "" && want[k] {
			out[k] = append(out[k], p.ID)
		}
	}
	for k := range out {
		slices.Sort(out[k])
	}
	return out
}

func (s *fakeStore) LookupByMatch(_ context.Context, _ string, kind store.Kind, values []string) (map[string][]string, error) {
	return s.lookup(kind, values, func(p *store.Profile) string { return p.MatchValue }), nil
}

func (s *fakeStore) LookupByHubSpotID(_ context.Context, _ string, kind store.Kind, ids []string) (map[string][]string, error) {
	return s.lookup(kind, ids, func(p *store.Profile) string { return p.HubSpotID }), nil
}

func (s *fakeStore) GetCursor(_ context.Context, _, name string) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.cursors[name], nil
}

func (s *fakeStore) PutCursor(_ context.Context, _, name, value string) error {
	if s.putCursor != nil {
		if err := s.putCursor(name, value); err != nil {
			return err
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.cursors[name] = value
	return nil
}

func (s *fakeStore) PutCursorLeased(ctx context.Context, env, name, value, _, owner string) error {
	s.mu.Lock()
	held := s.lease == owner && time.Now().Before(s.leaseTil)
	s.mu.Unlock()
	if !held {
		return store.ErrLeaseLost
	}
	return s.PutCursor(ctx, env, name, value)
}

// steal makes owner take the lease as if the holder's had expired.
func (s *fakeStore) steal(owner string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.lease, s.leaseTil = owner, time.Now().Add(time.Hour)
}

func (s *fakeStore) AcquireLease(_ context.Context, _, _, owner string, ttl time.Duration) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.lease != "" && s.lease != owner && time.Now().Before(s.leaseTil) {
		return store.ErrLeaseHeld
	}
	s.lease, s.leaseTil = owner, time.Now().Add(ttl)
	return nil
}

func (s *fakeStore) RenewLease(_ context.Context, _, _, owner string, ttl time.Duration) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.renewErr != nil {
		return s.renewErr
	}
	if s.lease != owner || !time.Now().Before(s.leaseTil) {
		return store.ErrLeaseLost
	}
	s.leaseTil = time.Now().Add(ttl)
	return nil
}

func (s *fakeStore) ReleaseLease(_ context.Context, _, _, owner string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.lease == owner {
		s.lease = ""
	}
	return nil
}

func (s *fakeStore) PutRun(_ context.Context, r store.RunRecord) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.runs = append(s.runs, r)
	return nil
}

// fakeHubSpot serves records from memory: a walk in (modified, id) order and
// a list in id order, pageSize at a time.
type fakeHubSpot struct {
	mu       sync.Mutex
	recs     map[string]map[string]*hubspot.Record // object -> id -> record
	pageSize int
	searches int
	lists    int
	// props records the properties asked for.
	props []string
	// walkErr, when set, fails the walk.
	walkErr error
	// delay is added to every list call.
	delay time.Duration
}

func newFakeHubSpot() *fakeHubSpot {
	return &fakeHubSpot{recs: map[string]map[string]*hubspot.Record{}, pageSize: 3}
}

func (h *fakeHubSpot) put(object string, id string, at time.Time, props map[string]string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.recs[object] == nil {
		h.recs[object] = map[string]*hubspot.Record{}
	}
	h.recs[object][id] = &hubspot.Record{ID: id, Properties: maps.Clone(props), UpdatedAt: at.Truncate(time.Millisecond)}
}

func (h *fakeHubSpot) remove(object, id string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	delete(h.recs[object], id)
}

func numID(id string) int { n, _ := strconv.Atoi(id); return n }

func (h *fakeHubSpot) sorted(object string, byTime bool) []hubspot.Record {
	h.mu.Lock()
	defer h.mu.Unlock()
	var out []hubspot.Record
	for _, r := range h.recs[object] {
		c := *r
		c.Properties = maps.Clone(r.Properties)
		out = append(out, c)
	}
	slices.SortFunc(out, func(a, b hubspot.Record) int {
		if byTime && !a.UpdatedAt.Equal(b.UpdatedAt) {
			return a.UpdatedAt.Compare(b.UpdatedAt)
		}
		return numID(a.ID) - numID(b.ID)
	})
	return out
}

func (h *fakeHubSpot) WalkModified(_ context.Context, object string, from hubspot.WalkCursor, properties []string) iter.Seq2[*hubspot.WalkPage, error] {
	return func(yield func(*hubspot.WalkPage, error) bool) {
		h.mu.Lock()
		h.searches++
		h.props = properties
		werr := h.walkErr
		h.mu.Unlock()
		if werr != nil {
			yield(nil, werr)
			return
		}
		var todo []hubspot.Record
		for _, r := range h.sorted(object, true) {
			ms := r.UpdatedAt.UnixMilli()
			if ms > from.Since.UnixMilli() || (ms == from.Since.UnixMilli() && (from.AfterID == "" || numID(r.ID) > numID(from.AfterID))) {
				todo = append(todo, r)
			}
		}
		for len(todo) > 0 {
			n := min(h.pageSize, len(todo))
			page := todo[:n]
			todo = todo[n:]
			last := page[n-1]
			if !yield(&hubspot.WalkPage{Records: page, Next: hubspot.WalkCursor{Since: last.UpdatedAt, AfterID: last.ID}}, nil) {
				return
			}
			if len(todo) > 0 {
				h.mu.Lock()
				h.searches++
				h.mu.Unlock()
			}
		}
	}
}

func (h *fakeHubSpot) List(ctx context.Context, object string, properties []string, after string, limit int) (*hubspot.ListPage, error) {
	// The delay stands for the HTTP call, which ends early when ctx does.
	select {
	case <-time.After(h.delay):
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	h.mu.Lock()
	h.lists++
	h.props = properties
	h.mu.Unlock()
	all := h.sorted(object, false)
	start := 0
	if after != "" {
		start = slices.IndexFunc(all, func(r hubspot.Record) bool { return numID(r.ID) > numID(after) })
		if start < 0 {
			start = len(all)
		}
	}
	n := min(h.pageSize, limit, len(all)-start)
	page := &hubspot.ListPage{Results: all[start : start+n]}
	if start+n < len(all) {
		page.After = all[start+n-1].ID
	}
	return page, nil
}

// fakeUserpilot records what it is asked to write.
type fakeUserpilot struct {
	mu       sync.Mutex
	users    []userpilot.User
	cos      []userpilot.Company
	identify int
	bulk     int
	// fail, when set, decides the error for one record id.
	fail func(id string) error
	// bulkErr, when set, fails bulk jobs.
	bulkErr error
}

func (u *fakeUserpilot) IdentifyUser(_ context.Context, x userpilot.User) error {
	u.mu.Lock()
	defer u.mu.Unlock()
	u.identify++
	if u.fail != nil {
		if err := u.fail(x.UserID); err != nil {
			return err
		}
	}
	u.users = append(u.users, x)
	return nil
}

func (u *fakeUserpilot) IdentifyCompany(_ context.Context, x userpilot.Company) error {
	u.mu.Lock()
	defer u.mu.Unlock()
	u.identify++
	if u.fail != nil {
		if err := u.fail(x.CompanyID); err != nil {
			return err
		}
	}
	u.cos = append(u.cos, x)
	return nil
}

func (u *fakeUserpilot) BulkIdentifyUsers(_ context.Context, xs []userpilot.User) ([]userpilot.Job, error) {
	u.mu.Lock()
	defer u.mu.Unlock()
	u.bulk++
	if u.bulkErr != nil {
		return nil, u.bulkErr
	}
	if u.fail != nil {
		for _, x := range xs {
			if err := u.fail(x.UserID); err != nil {
				return nil, &userpilot.JobError{Job: userpilot.Job{ID: "j", Status: userpilot.JobFailed}}
			}
		}
	}
	u.users = append(u.users, xs...)
	return []userpilot.Job{{ID: "j", Status: userpilot.JobCompleted, TotalRows: len(xs)}}, nil
}

func (u *fakeUserpilot) BulkIdentifyCompanies(_ context.Context, xs []userpilot.Company) ([]userpilot.Job, error) {
	u.mu.Lock()
	defer u.mu.Unlock()
	u.bulk++
	if u.bulkErr != nil {
		return nil, u.bulkErr
	}
	u.cos = append(u.cos, xs...)
	return []userpilot.Job{{ID: "j", Status: userpilot.JobCompleted, TotalRows: len(xs)}}, nil
}

// written returns, per user id, the metadata written, in order.
func (u *fakeUserpilot) written() map[string][]map[string]any {
	u.mu.Lock()
	defer u.mu.Unlock()
	out := map[string][]map[string]any{}
	for _, x := range u.users {
		out[x.UserID] = append(out[x.UserID], x.Metadata)
	}
	for _, x := range u.cos {
		out["co:"+x.CompanyID] = append(out["co:"+x.CompanyID], x.Metadata)
	}
	return out
}

func (u *fakeUserpilot) reset() {
	u.mu.Lock()
	defer u.mu.Unlock()
	u.users, u.cos, u.identify, u.bulk = nil, nil, 0, 0
}

var errRetryable = &userpilot.APIError{Endpoint: "identify", Status: 503}
var errBadInput = &userpilot.APIError{Endpoint: "identify", Status: 400, Errors: []userpilot.ErrorDetail{{ErrorCode: "invalid_metadata", Message: "bad value"}}}

var errCrash = errors.New("injected crash")

func describe(m map[string]any) string {
	keys := slices.Sorted(maps.Keys(m))
	s := ""
	for _, k := range keys {
		s += fmt.Sprintf("%s=%v ", k, m[k])
	}
	return s
}
