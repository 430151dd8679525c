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
	ctxsleep "github.com/pilotsync/pilotsync/shared/internal/sleep"
	"github.com/pilotsync/pilotsync/shared/store"
	"github.com/pilotsync/pilotsync/shared/store/storetest"
	"github.com/pilotsync/pilotsync/shared/userpilot"
)

// Compile-time checks: the real implementations satisfy the interfaces
// inbound declares.
var (
	_ InboundStore    = (*store.Store)(nil)
	_ InboundStore    = (*fakeStore)(nil)
	_ HubSpotReader   = (*hubspot.Client)(nil)
	_ UserpilotWriter = (*userpilot.Client)(nil)
)

// fakeStore is the in-memory store with the fault hooks and records these
// tests use. Its clock runs skew ahead of the wall clock (steal moves it).
type fakeStore struct {
	*storetest.Memory
	mu   sync.Mutex
	skew time.Duration
	// cursors holds every cursor value stored (by name), runs every run
	// record stored, in order.
	cursors map[string]string
	runs    []store.RunRecord

	// putCursor, when set, runs before a cursor is stored (crash injection).
	putCursor func(name, value string) error
	// putProfiles, when set, runs before profiles are stored.
	putProfiles func(ps []*store.Profile) error
	// renewErr, when set, fails every lease renewal with it.
	renewErr error
	// afterLookupByMatch, when set, runs after each lookup by match value
	// (a change landing between the lookup and the profiles' read).
	afterLookupByMatch func()
}

func (s *fakeStore) LookupByMatch(ctx context.Context, env string, kind store.Kind, values []string) (map[string][]string, error) {
	out, err := s.Memory.LookupByMatch(ctx, env, kind, values)
	if s.afterLookupByMatch != nil {
		s.afterLookupByMatch()
	}
	return out, err
}

func newFakeStore() *fakeStore {
	s := &fakeStore{cursors: map[string]string{}}
	s.Memory = storetest.New(storetest.WithClock(func() time.Time {
		s.mu.Lock()
		defer s.mu.Unlock()
		return time.Now().Add(s.skew)
	}))
	return s
}

// add stores profiles in the production environment.
func (s *fakeStore) add(ps ...*store.Profile) {
	for _, p := range ps {
		p.Env = "production"
		if err := s.PutProfile(context.Background(), p); err != nil {
			panic(err)
		}
	}
}

func (s *fakeStore) get(kind store.Kind, id string) *store.Profile {
	p, err := s.GetProfile(context.Background(), "production", kind, id)
	if err != nil {
		return nil
	}
	return p
}

func (s *fakeStore) PutProfiles(ctx context.Context, ps []*store.Profile) error {
	if s.putProfiles != nil {
		if err := s.putProfiles(ps); err != nil {
			return err
		}
	}
	return s.Memory.PutProfiles(ctx, ps)
}

func (s *fakeStore) PutCursorLeased(ctx context.Context, env, name, value, lease, owner string) error {
	if s.putCursor != nil {
		if err := s.putCursor(name, value); err != nil {
			return err
		}
	}
	if err := s.Memory.PutCursorLeased(ctx, env, name, value, lease, owner); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.cursors[name] = value
	return nil
}

// stealOnFirstSave makes owner take the lease (steal) while the run saves
// its first page's profiles: the page is written, its checkpoint not.
func (s *fakeStore) stealOnFirstSave(owner string) {
	var once sync.Once
	s.putProfiles = func([]*store.Profile) error {
		once.Do(func() { s.steal(owner) })
		return nil
	}
}

// steal makes owner take the lease as if the holder's had expired: the
// store's clock moves past any lease, and owner acquires it for an hour.
func (s *fakeStore) steal(owner string) {
	s.mu.Lock()
	s.skew += 24 * time.Hour
	s.mu.Unlock()
	if err := s.AcquireLease(context.Background(), "production", leaseName, owner, time.Hour); err != nil {
		panic(err)
	}
}

func (s *fakeStore) RenewLease(ctx context.Context, env, name, owner string, ttl time.Duration) error {
	if s.renewErr != nil {
		return s.renewErr
	}
	return s.Memory.RenewLease(ctx, env, name, owner, ttl)
}

func (s *fakeStore) PutRun(ctx context.Context, r store.RunRecord) error {
	if err := s.Memory.PutRun(ctx, r); err != nil {
		return err
	}
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
	// listDelay, when set, replaces delay for the list call after a cursor.
	listDelay func(after string) time.Duration
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
	delay := h.delay
	if h.listDelay != nil {
		delay = h.listDelay(after)
	}
	if err := ctxsleep.For(ctx, delay); err != nil {
		return nil, err
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
	// delay is added to every identify_user call (which ends early when ctx does).
	delay time.Duration
}

func (u *fakeUserpilot) IdentifyUser(ctx context.Context, x userpilot.User) error {
	if u.delay > 0 {
		if err := ctxsleep.For(ctx, u.delay); err != nil {
			return err
		}
	}
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
