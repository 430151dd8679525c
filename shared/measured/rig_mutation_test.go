package measured

import (
	"context"
	"encoding/json"
	"fmt"
	"hash/fnv"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/pilotsync/pilotsync/shared/config"
	"github.com/pilotsync/pilotsync/shared/hubspot"
	"github.com/pilotsync/pilotsync/shared/hubspot/hubspottest"
	"github.com/pilotsync/pilotsync/shared/identity"
	"github.com/pilotsync/pilotsync/shared/store"
	"github.com/pilotsync/pilotsync/shared/store/storetest"
)

const env = "production"

// fakeLinker stands in for the identity linker: it links a profile to the
// HubSpot record its match value names in byMatch.
type fakeLinker struct {
	mu      sync.Mutex
	byMatch map[string]string
	err     error
}

func (f *fakeLinker) Resolve(_ context.Context, _ store.Kind, ps []*store.Profile) (map[string]identity.Resolution, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.err != nil {
		return nil, f.err
	}
	out := map[string]identity.Resolution{}
	for _, p := range ps {
		if id := f.byMatch[p.MatchValue]; id != "" {
			p.HubSpotID = id
			out[p.ID] = identity.Resolution{Outcome: identity.Linked, HubSpotID: id}
			continue
		}
		out[p.ID] = identity.Resolution{Outcome: identity.NotFound}
	}
	return out, nil
}

// faultStore is the DynamoDB store with one operation failing on demand (a
// throttled or refused DynamoDB call).
type faultStore struct {
	*store.Store
	mu   sync.Mutex
	fail map[string]error
	// skip are the calls of an op that succeed before its fault applies.
	skip map[string]int
	// gets counts, per profile, the page reads that asked for it.
	gets map[string]int
}

func (f *faultStore) fault(op string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.fail[op] != nil && f.skip[op] > 0 {
		f.skip[op]--
		return nil
	}
	return f.fail[op]
}

func (f *faultStore) setFault(op string, err error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.fail[op] = err
}

func (f *faultStore) ActivitySummaries(ctx context.Context, env string, kind store.Kind, shard int, after string, limit int) ([]*store.ActivitySummary, string, error) {
	if err := f.fault("ActivitySummaries"); err != nil {
		return nil, "", err
	}
	return f.Store.ActivitySummaries(ctx, env, kind, shard, after, limit)
}

func (f *faultStore) GetProfiles(ctx context.Context, env string, kind store.Kind, ids []string) (map[string]*store.Profile, error) {
	if err := f.fault("GetProfiles"); err != nil {
		return nil, err
	}
	f.mu.Lock()
	for _, id := range ids {
		f.gets[string(kind)+"/"+id]++
	}
	f.mu.Unlock()
	return f.Store.GetProfiles(ctx, env, kind, ids)
}

func (f *faultStore) PutMeasuredSent(ctx context.Context, env string, kind store.Kind, id, hubspotID string, sent map[string]string) error {
	if err := f.fault("PutMeasuredSent"); err != nil {
		return err
	}
	return f.Store.PutMeasuredSent(ctx, env, kind, id, hubspotID, sent)
}

func (f *faultStore) GetCursor(ctx context.Context, env, name string) (string, error) {
	if err := f.fault("GetCursor"); err != nil {
		return "", err
	}
	return f.Store.GetCursor(ctx, env, name)
}

func (f *faultStore) PutCursorLeased(ctx context.Context, env, name, value, lease, owner string) error {
	if err := f.fault("PutCursorLeased"); err != nil {
		return err
	}
	return f.Store.PutCursorLeased(ctx, env, name, value, lease, owner)
}

func (f *faultStore) AcquireLease(ctx context.Context, env, name, owner string, ttl time.Duration) error {
	if err := f.fault("AcquireLease"); err != nil {
		return err
	}
	return f.Store.AcquireLease(ctx, env, name, owner, ttl)
}

func (f *faultStore) ReleaseLease(ctx context.Context, env, name, owner string) error {
	if err := f.fault("ReleaseLease"); err != nil {
		return err
	}
	return f.Store.ReleaseLease(ctx, env, name, owner)
}

func (f *faultStore) PutRun(ctx context.Context, r store.RunRecord) error {
	if err := f.fault("PutRun"); err != nil {
		return err
	}
	return f.Store.PutRun(ctx, r)
}

// rig is the daily job on DynamoDB Local and the HubSpot sandbox.
type rig struct {
	t      *testing.T
	st     *faultStore
	hs     *hubspottest.Server
	hc     *hubspot.Client
	linker *fakeLinker
	at     time.Time // the run's time
	day    string    // its UTC day
}

func newRig(t *testing.T) *rig {
	t.Helper()
	r := &rig{t: t, st: &faultStore{Store: storetest.FreshTable(t), fail: map[string]error{}, skip: map[string]int{}, gets: map[string]int{}},
		linker: &fakeLinker{byMatch: map[string]string{}}}
	r.hs = hubspottest.NewTestServer(t, hubspottest.Options{PerTenSeconds: -1, SearchPerSecond: -1, Daily: -1, Logger: slog.New(slog.DiscardHandler)})
	var err error
	r.hc, err = hubspot.NewClient(hubspot.WithBaseURL(r.hs.URL), hubspot.WithToken(hubspottest.DefaultToken), hubspot.WithLogger(slog.New(slog.DiscardHandler)),
		hubspot.WithLimits(hubspot.Limits{PerWindow: 1_000_000, Window: time.Second, SearchPerSecond: 1_000_000}))
	if err != nil {
		t.Fatal(err)
	}
	r.at = time.Now().UTC().Truncate(time.Second)
	r.day = r.at.Format(time.DateOnly)
	return r
}

// prop creates a HubSpot property of the metric's default type on object.
func (r *rig) prop(object, name, metric string) config.MeasuredMapping {
	spec, ok := config.Metric(metric)
	if !ok {
		r.t.Fatalf("no metric %s", metric)
	}
	r.hs.CreateProperty(object, hubspottest.Property{Name: name, Label: name, Type: spec.Type, FieldType: spec.FieldType, GroupName: "pilotsync"})
	return config.MeasuredMapping{Metric: metric, HubSpot: name}
}

// engine builds the job with options o (Env and Log set).
func (r *rig) engine(targets []Target, o Options, audit AuditFunc) *Engine {
	o.Env, o.Targets, o.Log = env, targets, slog.New(slog.DiscardHandler)
	if o.PeriodDays == 0 {
		o.PeriodDays = 7
	}
	return New(r.st, r.hc, r.linker, audit, o)
}

// person stores a summary of one active day (sessions, events) with a
// profile linked, through the fake linker, to HubSpot record hsID ("" for
// no profile at all, "-" for a profile HubSpot does not know).
func (r *rig) person(kind store.Kind, id, hsID string, day string, sessions, events int64, ctx map[string]string) {
	r.t.Helper()
	at, err := time.Parse(time.DateOnly, day)
	if err != nil {
		r.t.Fatal(err)
	}
	ms := at.Add(10 * time.Hour).UnixMilli()
	sum := &store.ActivitySummary{Env: env, Kind: kind, ID: id, Context: map[string]store.ContextValue{},
		Days: map[string]*store.DaySummary{day: {Sessions: sessions, Events: events, Active: events + sessions, TimeMs: 90_000, FirstMs: ms, LastMs: ms + 60_000}}}
	for k, v := range ctx {
		sum.Context[k] = store.ContextValue{Value: v, AtMs: ms}
	}
	if err := r.st.PutActivitySummaries(r.t.Context(), env, []*store.ActivitySummary{sum}); err != nil {
		r.t.Fatal(err)
	}
	if hsID == "" {
		return
	}
	if hsID != "-" {
		r.linker.mu.Lock()
		r.linker.byMatch[id+"@m"] = hsID
		r.linker.mu.Unlock()
	}
	if err := r.st.PutProfile(r.t.Context(), &store.Profile{Env: env, Kind: kind, ID: id, MatchValue: id + "@m"}); err != nil {
		r.t.Fatal(err)
	}
}

// setEvents changes the events of a stored summary's day (as activity
// arriving does), keeping what was sent.
func (r *rig) setEvents(kind store.Kind, id, day string, events int64) {
	r.t.Helper()
	s := r.summary(kind, id)
	d := s.Days[day]
	d.Active += events - d.Events
	d.Events = events
	if s.Sent == nil {
		s.Sent = map[string]string{}
	}
	if err := r.st.PutActivitySummaries(r.t.Context(), env, []*store.ActivitySummary{s}); err != nil {
		r.t.Fatal(err)
	}
}

// record is what HubSpot holds for a record.
func (r *rig) record(object, id string) map[string]string {
	rec, _ := r.hs.Record(object, id)
	return rec.Properties
}

// summary reads a stored summary.
func (r *rig) summary(kind store.Kind, id string) *store.ActivitySummary {
	r.t.Helper()
	for shard := range store.SummaryShards {
		after := ""
		for {
			sums, next, err := r.st.Store.ActivitySummaries(r.t.Context(), env, kind, shard, after, 100)
			if err != nil {
				r.t.Fatal(err)
			}
			for _, s := range sums {
				if s.ID == id {
					return s
				}
			}
			if next == "" {
				break
			}
			after = next
		}
	}
	r.t.Fatalf("no summary %s/%s", kind, id)
	return nil
}

// checkpoint reads the stored pass position.
func (r *rig) checkpoint() checkpoint {
	r.t.Helper()
	raw, err := r.st.Store.GetCursor(r.t.Context(), env, JobName)
	if err != nil {
		r.t.Fatal(err)
	}
	var cp checkpoint
	if raw != "" {
		if err := json.Unmarshal([]byte(raw), &cp); err != nil {
			r.t.Fatal(err)
		}
	}
	return cp
}

// runs reads the job's run records, newest first.
func (r *rig) runs() []store.RunRecord {
	r.t.Helper()
	runs, err := r.st.ListRuns(r.t.Context(), env, JobName, 20)
	if err != nil {
		r.t.Fatal(err)
	}
	return runs
}

// shardOf is the store's summary shard of id (FNV-1a, store.SummaryShards).
func shardOf(id string) int {
	h := fnv.New32a()
	h.Write([]byte(id))
	return int(h.Sum32() % store.SummaryShards)
}

// idsInShard returns n ids of prefix that all fall in one shard.
func idsInShard(prefix string, shard, n int) []string {
	var out []string
	for i := 0; len(out) < n; i++ {
		if id := fmt.Sprintf("%s%d", prefix, i); shardOf(id) == shard {
			out = append(out, id)
		}
	}
	return out
}
