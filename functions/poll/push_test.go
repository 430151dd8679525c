package main

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pilotsync/pilotsync/shared/alert"
	"github.com/pilotsync/pilotsync/shared/awstest"
	"github.com/pilotsync/pilotsync/shared/config"
	"github.com/pilotsync/pilotsync/shared/handler"
	"github.com/pilotsync/pilotsync/shared/hubspot"
	"github.com/pilotsync/pilotsync/shared/hubspot/hubspottest"
	"github.com/pilotsync/pilotsync/shared/notify"
	"github.com/pilotsync/pilotsync/shared/outbound"
	"github.com/pilotsync/pilotsync/shared/store"
	"github.com/pilotsync/pilotsync/shared/userpilot"
	"github.com/pilotsync/pilotsync/shared/userpilot/userpilottest"
	"github.com/pilotsync/pilotsync/shared/wire"
)

// pushRig is the poll function built the way functions/poll builds it
// (wire.NewPoll) over DynamoDB Local and the sandboxes on the real
// clock, with failure notifications recorded.
type pushRig struct {
	t        *testing.T
	hs       *hubspottest.Server
	up       *userpilottest.Server
	st       *store.Store
	cfg      *config.Config
	hsc      *hubspot.Client
	h        *handler.Poll
	problems *recordedProblems
	env      string
}

// recordedProblems is an alert.Notifier that records what it is told.
type recordedProblems struct {
	mu       sync.Mutex
	problems []notify.Problem
}

func (r *recordedProblems) Problem(_ context.Context, _ string, p notify.Problem) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.problems = append(r.problems, p)
	return nil
}

func (r *recordedProblems) Resolved(context.Context, string, string) error { return nil }

func (r *recordedProblems) byPrefix(prefix string) []notify.Problem {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []notify.Problem
	for _, p := range r.problems {
		if strings.HasPrefix(p.Key, prefix) {
			out = append(out, p)
		}
	}
	return out
}

func newPushRig(t *testing.T, cfg *config.Config) *pushRig {
	t.Helper()
	db, table := awstest.Table(t, store.CreateTable)
	r := &pushRig{t: t, cfg: cfg, st: store.New(db, table), problems: &recordedProblems{}, env: cfg.Userpilot.Environment}
	r.hs = hubspottest.NewTestServer(t, hubspottest.Options{PerTenSeconds: -1, SearchPerSecond: -1, Daily: -1})
	r.hs.CheckSpec(t) // every request conforms to HubSpot's spec (issue 9)
	up := userpilottest.NewTestServer(t, userpilottest.Options{RateLimit: -1, JobDuration: -1})
	r.up = up
	var err error
	r.hsc, err = hubspot.NewClient(hubspot.WithBaseURL(r.hs.URL), hubspot.WithToken(hubspottest.DefaultToken), hubspot.WithLogger(discard),
		hubspot.WithLimits(hubspot.Limits{PerWindow: 1_000_000, Window: time.Second, SearchPerSecond: 1_000_000}))
	if err != nil {
		t.Fatal(err)
	}
	upc, err := userpilot.NewClient(userpilottest.DefaultAPIKey, userpilot.WithBaseURL(up.URL), userpilot.WithLogger(discard),
		userpilot.WithRateLimit(1_000_000, time.Second), userpilot.WithJobPolling(time.Millisecond, 5*time.Millisecond, time.Second))
	if err != nil {
		t.Fatal(err)
	}
	r.h, err = wire.NewPoll(&wire.Deps{Config: cfg, Store: r.st, HubSpot: r.hsc, Userpilot: upc, Log: discard},
		handler.WithPollAlerts(alert.New(r.problems, r.st, r.env)))
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func (r *pushRig) invoke(in handler.PollInput) handler.PollResult {
	r.t.Helper()
	// The poll function's timeout (template.yaml): a loaded machine may need
	// it for the first poll's full sync and push of 4,000.
	ctx, cancel := context.WithTimeout(r.t.Context(), 5*time.Minute)
	defer cancel()
	res, err := r.h.Handle(ctx, in)
	if err != nil {
		r.t.Fatalf("Handle(%+v): %v", in, err)
	}
	return res
}

// poll runs one scheduled poll and returns its result and the HubSpot calls
// it made by endpoint.
func (r *pushRig) poll() (handler.PollResult, map[string]int) {
	r.t.Helper()
	before := r.hs.Counts()
	res := r.invoke(scheduled)
	calls := map[string]int{}
	for k, v := range r.hs.Counts() {
		if d := v - before[k]; d != 0 {
			calls[k] = d
		}
	}
	if res.Outbound == nil {
		r.t.Fatalf("poll ran no outbound push: %+v", res)
	}
	return res, calls
}

// identify merges identify events the way the activity function does.
func (r *pushRig) identify(ids []string, at time.Time, props func(id string) map[string]any) {
	r.t.Helper()
	oc, err := outbound.ConfigFrom(r.cfg)
	if err != nil {
		r.t.Fatal(err)
	}
	work := make(chan string)
	var wg sync.WaitGroup
	errs := make(chan error, len(ids))
	for range 16 {
		wg.Go(func() {
			for id := range work {
				_, err := r.st.MergeIdentify(context.Background(), r.env, store.KindUser, id, store.IdentifyInput{
					Properties: props(id), At: at, MatchProperty: r.cfg.Mapping.Users.Match.Userpilot,
					Outbound: oc.OutboundProperties(store.KindUser)})
				if err != nil {
					errs <- err
				}
			}
		})
	}
	for _, id := range ids {
		work <- id
	}
	close(work)
	wg.Wait()
	close(errs)
	for err := range errs {
		r.t.Fatal(err)
	}
}

// contact returns the sandbox's stored contact with email.
func (r *pushRig) contacts() map[string]map[string]string {
	out := map[string]map[string]string{}
	for _, rec := range r.hs.Records("contacts") {
		out[rec.Properties["email"]] = rec.Properties
	}
	return out
}

func pushConfig() *config.Config {
	cfg := config.Defaults()
	cfg.Mapping.Companies.Enabled = new(false)
	cfg.Mapping.Users.Inbound = []config.PropertyMapping{{HubSpot: "firstname", Userpilot: "first_name"}}
	cfg.Mapping.Users.Outbound = []config.PropertyMapping{
		{Userpilot: "plan", HubSpot: "userpilot_plan"},
		{Userpilot: "seats", HubSpot: "userpilot_seats", Type: config.OutboundNumber},
		{Userpilot: "trial_end", HubSpot: "userpilot_trial_end", Type: config.OutboundDate},
	}
	return cfg
}

func userIDs(from, to int) []string {
	var out []string
	for i := from; i < to; i++ {
		out = append(out, fmt.Sprintf("u%d", i))
	}
	return out
}

func emailOf(id string) string { return id + "@example.com" }

// TestOutboundPushEndToEnd: 5,000 profiles, 3 mapped custom properties,
// 1,200 changed by identify events (1,000 of them new users HubSpot knows
// but pilotsync never linked): the next poll sends exactly the changed
// values in 12 batch-update calls plus at most one batch read per 100 dirty profiles for the unlinked; the
// following poll sends nothing; an older identify is refused.
func TestOutboundPushEndToEnd(t *testing.T) {
	t.Parallel()
	r := newPushRig(t, pushConfig())
	if res := r.invoke(handler.PollInput{Action: handler.PollActionSetup}); res.Status != "ok" {
		t.Fatalf("setup: %+v", res)
	}
	r.hs.SeedContacts(5000, func(i int) hubspottest.SeedRecord {
		return hubspottest.SeedRecord{Properties: map[string]string{"email": emailOf(fmt.Sprintf("u%d", i)), "firstname": "F"},
			ModifiedAt: time.Now().Add(-48 * time.Hour)}
	})
	t0 := time.Now().Add(-time.Hour).Truncate(time.Millisecond)
	base := func(id string) map[string]any {
		return map[string]any{"email": emailOf(id), "plan": "free", "seats": 1, "trial_end": "2026-12-01"}
	}
	r.identify(userIDs(0, 4000), t0, base)

	res, calls := r.poll() // inbound links the 4,000 (full sync), the push sends them
	if got := res.Outbound.Totals; got.Sent != 4000 || got.Unmatched != 0 || calls[hubspottest.EndpointBatchUpdate] != 40 {
		t.Fatalf("first poll: totals %+v, calls %v; want 4000 sent in 40 batch updates", got, calls)
	}

	// 1,200 changed: 200 existing users change plan and seats, 1,000 new
	// users appear (their HubSpot contacts are old: inbound does not see them).
	t1 := t0.Add(10 * time.Minute)
	r.identify(userIDs(0, 200), t1, func(id string) map[string]any {
		return map[string]any{"plan": "pro", "seats": 0}
	})
	r.identify(userIDs(4000, 5000), t1, base)
	res, calls = r.poll()
	got := res.Outbound.Totals
	if got.Considered != 1200 || got.Changed != 1200 || got.Sent != 1200 || got.Unmatched != 0 || got.Quarantined != 0 {
		t.Errorf("second poll totals %+v, want 1200 considered, changed and sent", got)
	}
	// Batch reads: at least ceil(1000/100) for the unlinked, at most one per
	// 100 dirty profiles read.
	if br := calls[hubspottest.EndpointBatchRead]; calls[hubspottest.EndpointBatchUpdate] != 12 || br < 10 || br > 12 {
		t.Errorf("second poll calls %v, want 12 batch updates and 10 to 12 batch reads", calls)
	}
	if got.Values != 200*2+1000*3 {
		t.Errorf("second poll sent %d values, want %d (only the changed ones)", got.Values, 200*2+1000*3)
	}
	hs := r.contacts()
	for i := range 5000 {
		id := fmt.Sprintf("u%d", i)
		c := hs[emailOf(id)]
		want := map[string]string{"userpilot_plan": "free", "userpilot_seats": "1", "userpilot_trial_end": "2026-12-01"}
		if i < 200 {
			want["userpilot_plan"], want["userpilot_seats"] = "pro", "0"
		}
		for k, v := range want {
			if c[k] != v {
				t.Fatalf("%s: HubSpot %s = %q, want %q", id, k, c[k], v)
			}
		}
	}

	res, calls = r.poll()
	if calls[hubspottest.EndpointBatchUpdate] != 0 || calls[hubspottest.EndpointBatchRead] != 0 || res.Outbound.Totals.Considered != 0 {
		t.Errorf("third poll: calls %v, totals %+v; want nothing", calls, res.Outbound.Totals)
	}

	// An older identify (a redelivered or late event) changes nothing.
	r.identify([]string{"u1"}, t0.Add(5*time.Minute), func(string) map[string]any { return map[string]any{"plan": "free"} })
	_, calls = r.poll()
	if calls[hubspottest.EndpointBatchUpdate] != 0 || r.contacts()[emailOf("u1")]["userpilot_plan"] != "pro" {
		t.Errorf("older identify: %d batch updates, HubSpot plan %q; want none, pro", calls[hubspottest.EndpointBatchUpdate], r.contacts()[emailOf("u1")]["userpilot_plan"])
	}

	runs, err := r.st.ListRuns(t.Context(), r.env, outbound.JobOutbound, 10)
	if err != nil || len(runs) != 4 {
		t.Fatalf("run records: %d, %v; want 4", len(runs), err)
	}
	rec := runs[2] // the second poll
	for k, want := range map[string]int64{"considered": 1200, "changed": 1200, "sent": 1200, "unchanged": 0, "quarantined": 0, "unmatched": 0} {
		if rec.Counts[k] != want {
			t.Errorf("run record %s = %d, want %d", k, rec.Counts[k], want)
		}
	}
	if rec.Counts["store_reads"] < 1200 || rec.Counts["store_writes"] < 1200 || rec.APICalls["hubspot.batch_update"] != 12 {
		t.Errorf("run record counts %v, api calls %v", rec.Counts, rec.APICalls)
	}
}
