package forward

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/pilotsync/pilotsync/shared/config"
	"github.com/pilotsync/pilotsync/shared/identity"
	"github.com/pilotsync/pilotsync/shared/store"
)

var (
	t0      = time.Date(2026, 11, 27, 10, 0, 0, 0, time.UTC)
	enabled = t0.Add(-time.Hour)
)

// rec is one event record as JSON. kv overrides or adds fields ("" value deletes).
func rec(typ, id, user string, kv ...string) string {
	m := map[string]any{
		"app_token": "NX-prod", "event_type": typ, "user_id": user, "company_id": "co1", "source": "web-client",
		"inserted_at": t0.Format("2006-01-02T15:04:05.000000Z"), "internal_event_id": id,
	}
	for i := 0; i+1 < len(kv); i += 2 {
		if kv[i+1] == "" {
			delete(m, kv[i])
			continue
		}
		var v any
		if json.Unmarshal([]byte(kv[i+1]), &v) == nil && (strings.HasPrefix(kv[i+1], "{") || strings.HasPrefix(kv[i+1], "[")) {
			m[kv[i]] = v
		} else {
			m[kv[i]] = kv[i+1]
		}
	}
	b, _ := json.Marshal(m)
	return string(b)
}

// noGrace sets a grace period shorter than the test events' age, so
// unmatched events are dropped at once (the default grace waits 10m).
func noGrace(c *config.Config) *config.Config {
	c.Activity.UnmatchedGrace = config.Duration(time.Second)
	return c
}

func testConfig() *config.Config {
	c := config.Defaults()
	at := enabled
	c.Activity.EnabledAt = &at
	c.Activity.Pages = []config.PageRule{{Name: "settings", Path: "/settings/*"}}
	c.Mapping.Users.Outbound = []config.PropertyMapping{{HubSpot: "plan", Userpilot: "plan"}}
	return c
}

type env struct {
	st     *memStore
	finder *fakeFinder
	sink   *fakeSink
	dlq    *fakeDLQ
	f      *Forwarder
}

func newEnv(t *testing.T, cfg *config.Config, mod ...func(*Options)) *env {
	t.Helper()
	e := &env{st: newMemStore(), finder: &fakeFinder{ids: map[string]string{}}, sink: newFakeSink(), dlq: &fakeDLQ{}}
	o := Options{Config: cfg, Store: e.st, Linker: newFakeLinker(t, cfg, e.st, e.finder), Sink: e.sink, DLQ: e.dlq, Now: func() time.Time { return t0.Add(time.Minute) }, Logger: slog.New(slog.DiscardHandler)}
	for _, m := range mod {
		m(&o)
	}
	f, err := New(o)
	if err != nil {
		t.Fatal(err)
	}
	e.f = f
	return e
}

// link stores a profile for user with a valid link, made under its current
// match value: the user id itself here, held as the user's email property so
// the store's merge rules keep it when an identify without an email arrives.
func (e *env) link(user, hsID string) {
	m := identity.Normalize(user)
	e.st.seed(&store.Profile{Env: "production", Kind: store.KindUser, ID: user,
		Properties: map[string]store.Property{"email": {Value: m, At: t0.Add(-time.Hour)}},
		MatchValue: m, HubSpotID: hsID, HubSpotObject: "contacts", LinkMatch: m})
	e.finder.ids[m] = hsID // HubSpot holds the match value on that record
}

func msgs(bodies ...string) []Message {
	out := make([]Message, len(bodies))
	for i, b := range bodies {
		out[i] = Message{ID: fmt.Sprintf("m%d", i), Body: []byte(b)}
	}
	return out
}

func TestProcessMixedBatch(t *testing.T) {
	e := newEnv(t, noGrace(testConfig()))
	e.link("u1", "101")
	e.finder.ids["bob@example.com"] = "202"
	e.st.seed(&store.Profile{Env: "production", Kind: store.KindUser, ID: "u2", MatchValue: "bob@example.com"})

	batch := msgs(
		rec("track", "e1", "u1", "event_name", "clicked"), // m0 single
		"["+rec("interaction", "e2", "u1", "event_name", "experience:448:COMPLETED")+","+rec("track_feature", "e3", "u2", "event_name", "ft_9")+"]",                  // m1 array
		rec("page_view", "e4", "u1", "pathname", "/settings/team")+"\n"+rec("page_view", "e5", "u1", "pathname", "/home")+"\n"+rec("session_start", "e6", "u1")+"\n", // m2 ndjson
		`{"event_type":`, // m3 invalid JSON
		rec("track", "e7", "u1", "event_name", "x", "app_token", "STG-staging"),                     // m4 other environment
		rec("track", "e8", "u1", "event_name", "x", "source", "backend-hubspot"),                    // m5 echo
		rec("track", "e9", "u1", "event_name", "x", "inserted_at", "2026-11-27T08:00:00Z"),          // m6 before enabled
		rec("identify_user", "e10", "u3", "metadata", `{"email":"Carol@Example.com","plan":"pro"}`), // m7 identify
		rec("interaction", "e11", "u1", "event_name", "banner:1:SEEN"),                              // m8 unknown entity
		rec("track", "e12", "nobody", "event_name", "x"),                                            // m9 unmatched
		"["+rec("track", "e13", "u1", "event_name", "x")+`,{"event_type":"track"}]`,                 // m10 one good, one invalid record
	)
	rep, err := e.f.Process(context.Background(), batch)
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Failed) != 0 {
		t.Errorf("got failed %v, want none", rep.Failed)
	}
	slices.Sort(rep.DeadLettered)
	if got, want := strings.Join(rep.DeadLettered, ","), "m10,m3"; got != want {
		t.Errorf("got dead-lettered %s, want %s", got, want)
	}
	if r := e.dlq.reasons["m3"]; !strings.Contains(r, "invalid_json") || !strings.Contains(r, "message m3") {
		t.Errorf("m3 reason %q", r)
	}
	if r := e.dlq.reasons["m10"]; !strings.Contains(r, "record 1") || !strings.Contains(r, "missing_field") {
		t.Errorf("m10 reason %q", r)
	}
	wantSent := map[string]string{ // target/event id → object id
		"pe1_userpilot_tracked_event_occurred/e1":  "101",
		"pe1_userpilot_flow_completed/e2":          "101",
		"pe1_userpilot_feature_tag_occurred/e3":    "202",
		"pe1_userpilot_tagged_page_viewed/e4":      "101",
		"pe1_userpilot_tracked_event_occurred/e13": "101",
	}
	for k, obj := range wantSent {
		it, ok := e.sink.got[k]
		if !ok {
			t.Errorf("%s not sent", k)
			continue
		}
		if it.ObjectID != obj || !it.OccurredAt.Equal(t0) {
			t.Errorf("%s: got object %s at %v, want %s at %v", k, it.ObjectID, it.OccurredAt, obj, t0)
		}
	}
	if len(e.sink.got) != len(wantSent) {
		t.Errorf("got %d sent %v, want %d", len(e.sink.got), e.sink.order, len(wantSent))
	}
	if e.sink.calls != 1 {
		t.Errorf("got %d send calls, want 1", e.sink.calls)
	}
	want := map[string]int64{
		CountMessages: 11, CountOtherEnvironment: 1, CountEcho: 1, CountBeforeEnabled: 1, CountIdentify: 1,
		CountUnknownEntityType: 1, CountUnmatched: 1, CountSent: 5, CountSendCalls: 1, CountInvalidMessages: 2,
		CountInvalidEvents: 1, CountDeadLettered: 2, CountResolvedStore: 1, CountResolvedHubSpot: 1, CountActivity: 6,
		CountAggregated: 9,
	}
	for k, v := range want {
		if rep.Counts[k] != v {
			t.Errorf("count %s: got %d, want %d", k, rep.Counts[k], v)
		}
	}
	if rep.Unknown["interaction/banner:SEEN"] != 1 {
		t.Errorf("got unknown %v", rep.Unknown)
	}
	// The identify merged the profile, marked it dirty (plan is outbound), and was not sent.
	p := e.st.profile("production", store.KindUser, "u3")
	if p == nil || p.MatchValue != "carol@example.com" || !p.Dirty {
		t.Errorf("got profile %+v, want merged, matched and dirty", p)
	}
	// u2 was linked by the batch read.
	if p := e.st.profile("production", store.KindUser, "u2"); p.HubSpotID != "202" || p.HubSpotObject != "contacts" {
		t.Errorf("u2 not linked: %+v", p)
	}
	// Aggregates: every non-identify kept event, for user and company; session counted as a session.
	var sessions, events int64
	for _, d := range e.st.deltas {
		if d.Kind == store.KindUser {
			sessions += d.Sessions
			events += d.Events
		}
	}
	if sessions != 1 || events != 8 {
		t.Errorf("got %d sessions %d events in user aggregates, want 1 and 8", sessions, events)
	}
}

func TestProcessRetryableFailureThenExactlyOnce(t *testing.T) {
	e := newEnv(t, testConfig())
	e.link("u1", "101")
	e.sink.max = 2
	e.sink.failNext = 1
	batch := msgs(rec("track", "a", "u1", "event_name", "x"), rec("track", "b", "u1", "event_name", "x"), rec("track", "c", "u1", "event_name", "x"))
	rep, err := e.f.Process(context.Background(), batch)
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(rep.Failed, ","); got != "m0,m1" {
		t.Fatalf("got failed %s, want m0,m1 (the first chunk)", got)
	}
	if rep.SinkErr == nil || rep.SinkErr.Error() != "fake: 502" {
		t.Errorf("got sink error %v, want the failed send's fake: 502", rep.SinkErr)
	}
	// Redeliver everything (as if the whole batch came back).
	rep, err = e.f.Process(context.Background(), batch)
	if err != nil || len(rep.Failed) != 0 {
		t.Fatalf("retry: %v %v", rep.Failed, err)
	}
	if rep.SinkErr != nil {
		t.Errorf("clean retry: got sink error %v, want nil", rep.SinkErr)
	}
	if rep.Counts[CountDuplicateLedger] != 1 || rep.Counts[CountSent] != 2 {
		t.Errorf("got counts %v, want 1 ledger duplicate and 2 sent", rep.Counts)
	}
	if len(e.sink.got) != 3 || e.sink.repeats != 0 {
		t.Errorf("got %d delivered %d repeats, want 3 and 0", len(e.sink.got), e.sink.repeats)
	}
}

func TestProcessCrashAfterSendResendsSameIDs(t *testing.T) {
	e, batch := crashedOnceAt(t, StepRecord)
	rep, err := e.f.Process(context.Background(), batch)
	if err != nil || len(rep.Failed) != 0 {
		t.Fatal(err, rep.Failed)
	}
	// Sent twice with the same id: the sink (HubSpot) keeps one.
	if len(e.sink.got) != 1 || e.sink.repeats != 1 {
		t.Errorf("got %d delivered %d repeats, want 1 and 1", len(e.sink.got), e.sink.repeats)
	}
}

func TestProcessPermanentRejectionIsolated(t *testing.T) {
	e := newEnv(t, testConfig())
	e.link("u1", "101")
	e.sink.rejectIDs = "bad"
	var bodies []string
	for i := range 7 {
		bodies = append(bodies, rec("track", fmt.Sprint("ok", i), "u1", "event_name", "x"))
	}
	bodies = append(bodies, rec("track", "bad", "u1", "event_name", "x"))
	rep, err := e.f.Process(context.Background(), msgs(bodies...))
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Failed) != 0 || strings.Join(rep.DeadLettered, ",") != "m7" {
		t.Errorf("got failed %v dead %v, want none and m7", rep.Failed, rep.DeadLettered)
	}
	if len(e.sink.got) != 7 || rep.Counts[CountRejected] != 1 {
		t.Errorf("got %d delivered, counts %v", len(e.sink.got), rep.Counts)
	}
	if r := e.dlq.reasons["m7"]; !strings.Contains(r, "rejected") {
		t.Errorf("reason %q", r)
	}
	// A rejection is dead-lettered with its reason; nothing is left to retry.
	if rep.SinkErr != nil {
		t.Errorf("got sink error %v, want nil (rejections are not sink failures)", rep.SinkErr)
	}
}

func TestProcessRules(t *testing.T) {
	tests := []struct {
		name      string
		cfg       func(*config.Config)
		body      string
		wantCount string
		wantSent  int
		wantRetry bool
	}{
		{"staging only drops production", func(c *config.Config) { c.Userpilot.Environment = "staging" },
			rec("track", "a", "u1", "event_name", "x"), CountOtherEnvironment, 0, false},
		{"staging only keeps staging", func(c *config.Config) { c.Userpilot.Environment = "staging" },
			rec("track", "a", "u1", "event_name", "x", "app_token", "STG-1"), CountSent, 1, false},
		{"production drops staging", nil, rec("track", "a", "u1", "event_name", "x", "app_token", "STG-1"), CountOtherEnvironment, 0, false},
		{"no past events", nil, rec("track", "a", "u1", "event_name", "x", "inserted_at", "2026-11-27T08:59:59.999999Z"), CountBeforeEnabled, 0, false},
		{"at enable time is sent", nil, rec("track", "a", "u1", "event_name", "x", "inserted_at", "2026-11-27T09:00:00Z"), CountSent, 1, false},
		{"unmatched dropped", func(c *config.Config) { noGrace(c) }, rec("track", "a", "ghost", "event_name", "x"), CountUnmatched, 0, false},
		{"unmatched within the default grace retried", nil, rec("track", "a", "ghost", "event_name", "x"), CountUnmatchedWaiting, 0, true},
		{"unmatched within grace retried", func(c *config.Config) { c.Activity.UnmatchedGrace = config.Duration(time.Hour) },
			rec("track", "a", "ghost", "event_name", "x"), CountUnmatchedWaiting, 0, true},
		{"unmatched after grace dropped", func(c *config.Config) { c.Activity.UnmatchedGrace = config.Duration(time.Second) },
			rec("track", "a", "ghost", "event_name", "x"), CountUnmatched, 0, false},
		{"sink none", func(c *config.Config) { c.Activity.Sink = config.SinkNone }, rec("track", "a", "u1", "event_name", "x"), CountSinkNone, 0, false},
		{"category filtered", func(c *config.Config) { c.Activity.Categories = []config.CategoryFilter{{Name: "flows"}} },
			rec("track", "a", "u1", "event_name", "x"), CountCategoryFiltered, 0, false},
		{"status filtered", func(c *config.Config) {
			c.Activity.Categories = []config.CategoryFilter{{Name: "flows", Statuses: []string{"completed"}}}
		}, rec("interaction", "a", "u1", "event_name", "experience:1:SEEN"), CountCategoryFiltered, 0, false},
		{"unknown status counted", nil, rec("interaction", "a", "u1", "event_name", "form:1:SEEN"), CountUnknownStatus, 0, false},
		{"identify not forwarded", nil, rec("identify_user", "a", "u1", "metadata", `{"email":"a@b.c"}`), CountIdentify, 0, false},
		{"identify company", nil, rec("identify_company", "a", "", "metadata", `{"name":"Acme"}`), CountIdentify, 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := testConfig()
			if tt.cfg != nil {
				tt.cfg(cfg)
			}
			e := newEnv(t, cfg)
			e.link("u1", "101")
			e.st.seed(&store.Profile{Env: "staging", Kind: store.KindUser, ID: "u1", MatchValue: "u1", HubSpotID: "101", HubSpotObject: "contacts", LinkMatch: "u1"})
			rep, err := e.f.Process(context.Background(), msgs(tt.body))
			if err != nil {
				t.Fatal(err)
			}
			if rep.Counts[tt.wantCount] != 1 {
				t.Errorf("count %s: got %d, want 1 (counts %v)", tt.wantCount, rep.Counts[tt.wantCount], rep.Counts)
			}
			if len(e.sink.got) != tt.wantSent {
				t.Errorf("got %d sent, want %d", len(e.sink.got), tt.wantSent)
			}
			if (len(rep.Failed) == 1) != tt.wantRetry {
				t.Errorf("got failed %v, want retry %v", rep.Failed, tt.wantRetry)
			}
			if len(rep.DeadLettered) != 0 {
				t.Errorf("got dead-lettered %v", rep.DeadLettered)
			}
		})
	}
}

func TestProcessStoreEnabledAt(t *testing.T) {
	cfg := testConfig()
	cfg.Activity.EnabledAt = nil
	e := newEnv(t, cfg)
	e.link("u1", "101")
	e.st.enabledAt = t0 // first invocation recorded earlier
	rep, err := e.f.Process(context.Background(), msgs(
		rec("track", "a", "u1", "event_name", "x", "inserted_at", "2026-11-27T09:59:59Z"),
		rec("track", "b", "u1", "event_name", "x", "inserted_at", "2026-11-27T10:00:01Z")))
	if err != nil {
		t.Fatal(err)
	}
	if rep.Counts[CountBeforeEnabled] != 1 || rep.Counts[CountSent] != 1 {
		t.Errorf("got counts %v", rep.Counts)
	}
}

func TestProcessDuplicateAcrossMessagesFailsBoth(t *testing.T) {
	e := newEnv(t, testConfig())
	e.link("u1", "101")
	e.sink.failNext = 1
	r := rec("track", "same", "u1", "event_name", "x")
	rep, err := e.f.Process(context.Background(), msgs(r, r, rec("session_start", "s", "u1")))
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(rep.Failed, ","); got != "m0,m1" {
		t.Errorf("got failed %s, want m0,m1", got)
	}
	if rep.Counts[CountDuplicateInBatch] != 1 {
		t.Errorf("got counts %v", rep.Counts)
	}
}

func TestProcessDependencyFailuresRetry(t *testing.T) {
	tests := []struct {
		name string
		mod  func(e *env)
		body string
	}{
		{"merge fails", func(e *env) { e.st.failMerge = errors.New("throttled") }, rec("identify_user", "a", "u1", "metadata", `{"email":"a@b.c"}`)},
		{"aggregate fails", func(e *env) { e.st.failAdd = errors.New("throttled") }, rec("session_start", "a", "u1")},
		{"ledger fails", func(e *env) { e.st.failSeen = errors.New("throttled") }, rec("track", "a", "u1", "event_name", "x")},
		{"finder fails", func(e *env) { e.finder.err = errors.New("429") }, rec("track", "a", "u9", "event_name", "x", "user_id", "u9")},
		{"sink fails", func(e *env) { e.sink.failNext = 5 }, rec("track", "a", "u1", "event_name", "x")},
		{"dlq fails", func(e *env) { e.dlq.err = errors.New("down") }, `nope`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := testConfig()
			cfg.Mapping.Users.Match.Userpilot = "user_id"
			e := newEnv(t, cfg)
			e.link("u1", "101")
			tt.mod(e)
			rep, err := e.f.Process(context.Background(), msgs(tt.body, rec("session_start", "ok", "u2")))
			if err != nil {
				t.Fatal(err)
			}
			if tt.name == "aggregate fails" {
				// One AddActivity call for the batch: both messages retry.
				if len(rep.Failed) != 2 {
					t.Errorf("got failed %v, want both", rep.Failed)
				}
				return
			}
			if strings.Join(rep.Failed, ",") != "m0" {
				t.Errorf("got failed %v, want m0 only", rep.Failed)
			}
		})
	}
}

func TestResolveCacheStoreFinder(t *testing.T) {
	cfg := testConfig()
	cfg.Mapping.Users.Match.Userpilot = "user_id"
	cfg.Mapping.Users.Match.HubSpot = "userpilot_id"
	e := newEnv(t, cfg)
	e.link("u1", "101")
	e.finder.ids["u2"] = "202"
	e.finder.ids["u3"] = "303"
	body := rec("track", "a", "u1", "event_name", "x") + "\n" + rec("track", "b", "U2", "event_name", "x") + "\n" + rec("track", "c", "u3", "event_name", "x")
	rep, err := e.f.Process(context.Background(), msgs(body))
	if err != nil {
		t.Fatal(err)
	}
	if rep.Counts[CountResolvedStore] != 1 || rep.Counts[CountResolvedHubSpot] != 2 || e.finder.calls != 1 {
		t.Errorf("got counts %v, finder calls %d", rep.Counts, e.finder.calls)
	}
	if got := e.finder.values[0]; strings.Join(got, ",") != "u2,u3" {
		t.Errorf("finder asked for %v, want u2,u3 (normalized, one call)", got)
	}
	// Second batch: the links just made are read back from the store in one
	// batched read (links are never cached per process, so a re-link
	// committed elsewhere is seen at once), and HubSpot is not asked again.
	gets := e.st.gets
	body2 := rec("track", "d", "u1", "event_name", "x") + "\n" + rec("track", "e", "U2", "event_name", "x")
	rep, err = e.f.Process(context.Background(), msgs(body2))
	if err != nil {
		t.Fatal(err)
	}
	if rep.Counts[CountResolvedStore] != 2 || e.st.gets != gets+1 || e.finder.calls != 1 {
		t.Errorf("got counts %v, gets %d→%d, finder %d", rep.Counts, gets, e.st.gets, e.finder.calls)
	}
}

func TestMissCacheBounded(t *testing.T) {
	c := newMissCache(100)
	for i := range 1000 {
		c.put("production", fmt.Sprint(i), "v", t0.Add(time.Minute))
	}
	if n := c.len(); n > 100 {
		t.Errorf("cache holds %d, want at most 100", n)
	}
	if !c.missed("production", "999", "v", t0) {
		t.Error("latest entry missing")
	}
	if c.missed("production", "999", "other", t0) {
		t.Error("a miss under another match value must not count")
	}
}

func TestProcessBatchesAcrossMessages(t *testing.T) {
	e := newEnv(t, testConfig())
	var bodies []string
	for i := range 300 {
		u := fmt.Sprint("u", i%50)
		if i < 50 {
			e.link(u, fmt.Sprint(1000+i))
		}
		bodies = append(bodies, rec("track", fmt.Sprint("x", i, "a"), u, "event_name", "x")+"\n"+rec("track", fmt.Sprint("x", i, "b"), u, "event_name", "x"))
	}
	rep, err := e.f.Process(context.Background(), msgs(bodies...))
	if err != nil {
		t.Fatal(err)
	}
	if e.sink.calls != 2 || rep.Counts[CountSent] != 600 {
		t.Errorf("got %d calls %d sent, want 2 calls (500 + 100) and 600", e.sink.calls, rep.Counts[CountSent])
	}
}

func TestUnmatchedNotLookedUpAgainAtOnce(t *testing.T) {
	e := newEnv(t, noGrace(testConfig()))
	e.st.seed(&store.Profile{Env: "production", Kind: store.KindUser, ID: "u5", MatchValue: "x@y.z"})
	for i := range 3 {
		rep, err := e.f.Process(context.Background(), msgs(rec("track", fmt.Sprint("a", i), "u5", "event_name", "x")))
		if err != nil || rep.Counts[CountUnmatched] != 1 {
			t.Fatalf("batch %d: %v %v", i, err, rep.Counts)
		}
	}
	if e.finder.calls != 1 {
		t.Errorf("got %d finder calls, want 1 (the miss is remembered)", e.finder.calls)
	}
}

type runLog struct{ runs []store.RunRecord }

func (r *runLog) PutRun(_ context.Context, rec store.RunRecord) error {
	r.runs = append(r.runs, rec)
	return nil
}

func TestProcessRecordsRun(t *testing.T) {
	runs := &runLog{}
	e := newEnv(t, testConfig(), func(o *Options) { o.Runs = runs })
	e.link("u1", "101")
	_, err := e.f.Process(context.Background(), msgs(
		rec("interaction", "a", "u1", "event_name", "banner:1:SEEN"), `{"broken":`, rec("track", "b", "u1", "event_name", "x")))
	if err != nil {
		t.Fatal(err)
	}
	if len(runs.runs) != 1 {
		t.Fatalf("got %d run records, want 1", len(runs.runs))
	}
	r := runs.runs[0]
	if r.Job != JobName || r.Env != "production" || r.Counts[CountSent] != 1 || len(r.Failures) != 2 {
		t.Errorf("got run %+v", r)
	}
}

func TestProcessStopsSendingNearTheDeadline(t *testing.T) {
	e := newEnv(t, testConfig())
	e.link("u1", "101")
	e.sink.max = 1
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second) // inside the 5 s margin
	defer cancel()
	rep, err := e.f.Process(ctx, msgs(rec("track", "a", "u1", "event_name", "x"), rec("session_start", "s", "u1")))
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(rep.Failed, ",") != "m0" || rep.Counts[CountDeferred] != 1 || e.sink.calls != 0 {
		t.Errorf("got failed %v counts %v calls %d, want m0 retried, nothing sent", rep.Failed, rep.Counts, e.sink.calls)
	}
}
