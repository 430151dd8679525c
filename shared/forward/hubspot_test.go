package forward

import (
	"context"
	"errors"
	"log/slog"
	"maps"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pilotsync/pilotsync/shared/activity"
	"github.com/pilotsync/pilotsync/shared/config"
	"github.com/pilotsync/pilotsync/shared/hubspot"
	"github.com/pilotsync/pilotsync/shared/hubspot/hubspottest"
	"github.com/pilotsync/pilotsync/shared/store"
)

func TestCustomEventsAgainstSandbox(t *testing.T) {
	hs := hubspottest.NewTestServer(t, hubspottest.Options{Logger: slog.New(slog.DiscardHandler)})
	ids := hs.SeedContacts(1, nil)
	c, err := hubspot.NewClient(hubspot.WithBaseURL(hs.URL), hubspot.WithToken(hs.Token()), hubspot.WithLogger(slog.New(slog.DiscardHandler)))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	// A definition from an older version: on contacts, without the newer properties.
	old, err := c.CreateEventDefinition(ctx, hubspot.EventDefinition{Name: "userpilot_flow_seen", Label: "Old flow seen", PrimaryObject: "CONTACT",
		Properties: []hubspot.EventProperty{{Name: "flow_id", Label: "Flow", Type: "string"}}})
	if err != nil {
		t.Fatal(err)
	}
	// One on the wrong object.
	if _, err := c.CreateEventDefinition(ctx, hubspot.EventDefinition{Name: "userpilot_flow_dismissed", Label: "On companies", PrimaryObject: "COMPANY"}); err != nil {
		t.Fatal(err)
	}
	sink := NewCustomEvents(c, "contacts", "", slog.New(slog.DiscardHandler))
	names := map[string]activity.Pair{
		"userpilot_flow_seen":      {Category: activity.Flows, Status: "seen"},
		"userpilot_flow_completed": {Category: activity.Flows, Status: "completed"},
		"userpilot_flow_dismissed": {Category: activity.Flows, Status: "dismissed"},
	}
	targets, err := sink.Prepare(ctx, names)
	if err != nil {
		t.Fatal(err)
	}
	if targets["userpilot_flow_seen"] != old.FullyQualifiedName || !strings.HasSuffix(targets["userpilot_flow_completed"], "_userpilot_flow_completed") {
		t.Errorf("got targets %v", targets)
	}
	if _, ok := targets["userpilot_flow_dismissed"]; ok {
		t.Error("a definition on companies was used for contacts")
	}
	calls := hs.Count(hubspottest.EndpointEventDefinitions)
	if _, err := sink.Prepare(ctx, names); err != nil || hs.Count(hubspottest.EndpointEventDefinitions) != calls {
		t.Errorf("second prepare made %d calls (%v), want 0", hs.Count(hubspottest.EndpointEventDefinitions)-calls, err)
	}
	at := time.Date(2026, 11, 27, 10, 0, 0, 123000000, time.UTC)
	items := []Item{
		{Occurrence: activity.Occurrence{EventID: "e1", Name: "userpilot_flow_seen", OccurredAt: at,
			Properties: map[string]string{"flow_id": "448", "userpilot_user_id": "u1"}}, ObjectID: ids[0], Target: targets["userpilot_flow_seen"]},
		{Occurrence: activity.Occurrence{EventID: "e2", Name: "userpilot_flow_completed", OccurredAt: at,
			Properties: map[string]string{"flow_id": "448", "userpilot_user_id": "u1"}}, ObjectID: ids[0], Target: targets["userpilot_flow_completed"]},
	}
	if err := sink.Send(ctx, items); err != nil {
		t.Fatalf("send: %v", err)
	}
	if err := sink.Send(ctx, items); err != nil { // a redelivery
		t.Fatalf("resend: %v", err)
	}
	evs := hs.Events()
	if len(evs) != 2 || hs.DroppedDuplicates() != 2 {
		t.Fatalf("got %d events, %d dropped repeats; want 2 and 2", len(evs), hs.DroppedDuplicates())
	}
	for _, e := range evs {
		if e.ObjectID != ids[0] || !e.OccurredAt.Equal(at) || e.Properties["flow_id"] != "448" {
			t.Errorf("event %+v", e)
		}
		if e.EventName == old.FullyQualifiedName {
			if _, ok := e.Properties["userpilot_user_id"]; ok {
				t.Error("an undeclared property was sent to the old definition")
			}
		} else if e.Properties["userpilot_user_id"] != "u1" {
			t.Errorf("new definition lost a property: %v", e.Properties)
		}
	}
}

// TestTimelineAndAppEventSinks runs a batch through the engine with each
// alternative sink against the sandbox: templates from config, one call,
// ids stable across a redelivery (409 counts as delivered).
func TestTimelineAndAppEventSinks(t *testing.T) {
	for _, sinkName := range []string{"timeline", "app_events"} {
		t.Run(sinkName, func(t *testing.T) {
			hs := hubspottest.NewTestServer(t, hubspottest.Options{Logger: slog.New(slog.DiscardHandler), AppEventsAllowStaticToken: true})
			ids := hs.SeedContacts(1, nil)
			c, err := hubspot.NewClient(hubspot.WithBaseURL(hs.URL), hubspot.WithToken(hs.Token()), hubspot.WithLogger(slog.New(slog.DiscardHandler)))
			if err != nil {
				t.Fatal(err)
			}
			cfg := testConfig()
			cfg.Activity.Sink = sinkName
			templates := map[string]string{"flows_completed": "tpl-1", "tracked_events_occurred": "tpl-2"}
			sink, err := NewSink(sinkName, "contacts", "", templates, c, slog.New(slog.DiscardHandler))
			if err != nil {
				t.Fatal(err)
			}
			st := newMemStore()
			st.seed(&store.Profile{Env: "production", Kind: "user", ID: "u1", MatchValue: "contact0@example.com", HubSpotID: ids[0], HubSpotObject: "contacts", LinkMatch: "contact0@example.com"})
			f, err := New(Options{Config: cfg, Store: st, Linker: newFakeLinker(t, cfg, st, &fakeFinder{}), Sink: sink, DLQ: &fakeDLQ{}, Logger: slog.New(slog.DiscardHandler),
				Now: func() time.Time { return t0 }})
			if err != nil {
				t.Fatal(err)
			}
			batch := msgs(rec("interaction", "a", "u1", "event_name", "experience:448:COMPLETED"), rec("track", "b", "u1", "event_name", "x"),
				rec("interaction", "c", "u1", "event_name", "experience:448:SEEN"))
			rep, err := f.Process(context.Background(), batch)
			if err != nil || len(rep.Failed) != 0 {
				t.Fatalf("process: %v %v", err, rep.Failed)
			}
			if rep.Counts[CountSent] != 2 || rep.Counts[CountNoTarget] != 1 {
				t.Errorf("counts %v, want 2 sent and 1 without a template", rep.Counts)
			}
			st.ClearLedger() // a crash before the ledger write: everything is resent
			if rep, err := f.Process(context.Background(), batch); err != nil || len(rep.Failed) != 0 {
				t.Fatalf("redelivery: %v %v", err, rep)
			}
			got := hs.TimelineEvents()
			if sinkName == "app_events" {
				got = hs.AppEvents()
			}
			if len(got) != 2 {
				t.Fatalf("got %d events, want 2", len(got))
			}
			for _, e := range got {
				if e.ObjectID != ids[0] || (e.TemplateID != "tpl-1" && e.TemplateID != "tpl-2") || e.Tokens["userpilot_user_id"] != "u1" {
					t.Errorf("event %+v", e)
				}
			}
		})
	}
}

// statusRecorder records the status of every app events response, so a test
// can see HubSpot's 409 for a redelivered id.
type statusRecorder struct {
	next     http.RoundTripper
	mu       sync.Mutex
	statuses []int
}

func (r *statusRecorder) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := r.next.RoundTrip(req)
	if err == nil && strings.Contains(req.URL.Path, "/integrators/timeline/2026-03/events") {
		r.mu.Lock()
		r.statuses = append(r.statuses, resp.StatusCode)
		r.mu.Unlock()
	}
	return resp, err
}

func (r *statusRecorder) count(status int) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := 0
	for _, s := range r.statuses {
		if s == status {
			n++
		}
	}
	return n
}

// TestAppEventsFromConfigAgainstSandbox builds the forwarder the way the
// Lambda does (NewFromDeps) from an integration.yaml with sink app_events and
// an OAuth installation: every event arrives once, with the event type
// name configured for its category and status, and a redelivered batch that
// HubSpot rejects with 409 counts as delivered.
func TestAppEventsFromConfigAgainstSandbox(t *testing.T) {
	cfg, err := config.Parse("integration.yaml", []byte(`
hubspot: {auth: oauth}
mapping:
  companies: {match: {hubspot: userpilot_company_id}}
activity:
  sink: app_events
  enabled_at: 2026-01-01T00:00:00Z
  categories:
    - name: flows
      statuses: [completed, dismissed]
    - name: tracked_events
  app_event_types:
    flows_completed: "ae-flow-completed"
    flows_dismissed: "ae-flow-dismissed"
    tracked_events_occurred: "ae-tracked"
`))
	if err != nil {
		t.Fatal(err)
	}
	hs := hubspottest.NewTestServer(t, hubspottest.Options{Logger: slog.New(slog.DiscardHandler), RequireOAuth: true})
	ids := hs.SeedContacts(1, nil)
	rt := &statusRecorder{next: http.DefaultTransport}
	c, err := hubspot.NewClient(hubspot.WithBaseURL(hs.URL), hubspot.WithHTTPClient(&http.Client{Transport: rt, Timeout: 10 * time.Second}),
		hubspot.WithOAuth(hubspot.OAuthConfig{ClientID: hubspottest.DefaultClientID, ClientSecret: hubspottest.DefaultClientSecret, RefreshToken: hubspottest.DefaultRefreshToken}),
		hubspot.WithLogger(slog.New(slog.DiscardHandler)))
	if err != nil {
		t.Fatal(err)
	}
	st := newMemStore()
	st.seed(&store.Profile{Env: "production", Kind: store.KindUser, ID: "u1", MatchValue: "contact0@example.com", HubSpotID: ids[0], HubSpotObject: "contacts", LinkMatch: "contact0@example.com"})
	f, err := NewFromDeps(Deps{Config: cfg, Store: st, HubSpot: c, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	batch := msgs(
		rec("interaction", "a", "u1", "event_name", "experience:448:COMPLETED"),
		rec("interaction", "a", "u1", "event_name", "experience:448:COMPLETED"), // SQS delivered it twice
		rec("interaction", "b", "u1", "event_name", "experience:448:DISMISSED"),
		rec("track", "c", "u1", "event_name", "upgrade_clicked"),
		rec("interaction", "d", "u1", "event_name", "experience:448:SEEN"), // a status not sent
	)
	ctx := context.Background()
	rep, err := f.Process(ctx, batch)
	if err != nil || len(rep.Failed) != 0 {
		t.Fatalf("process: %v, failed %v", err, rep.Failed)
	}
	if rep.Counts[CountSent] != 3 || rep.Counts[CountNoTarget] != 0 {
		t.Errorf("counts %v, want 3 sent and none without a target", rep.Counts)
	}

	// A crash after the send but before the ledger write: SQS redelivers the
	// batch and everything is sent again with the same ids.
	st.ClearLedger()
	rep, err = f.Process(ctx, batch)
	if err != nil || len(rep.Failed) != 0 {
		t.Fatalf("redelivery: %v, failed %v", err, rep.Failed)
	}
	if rep.Counts[CountSent] != 3 {
		t.Errorf("redelivery counts %v, want the 3 repeats counted as sent", rep.Counts)
	}
	if rt.count(http.StatusConflict) == 0 {
		t.Errorf("redelivery: response statuses %v, want a 409 for the known ids", rt.statuses)
	}

	got := map[string]int{}
	seen := map[string]bool{}
	for _, e := range hs.AppEvents() {
		got[e.TemplateID]++
		if seen[e.ID] {
			t.Errorf("event id %s kept twice", e.ID)
		}
		seen[e.ID] = true
		if e.ObjectID != ids[0] || e.Tokens["userpilot_user_id"] != "u1" {
			t.Errorf("event %+v, want it on contact %s for user u1", e, ids[0])
		}
	}
	want := map[string]int{"ae-flow-completed": 1, "ae-flow-dismissed": 1, "ae-tracked": 1}
	if !maps.Equal(got, want) {
		t.Errorf("app events per event type name: got %v, want %v", got, want)
	}
	if n := len(hs.TimelineEvents()); n != 0 {
		t.Errorf("%d timeline events, want 0", n)
	}
}

func TestNewSinkNeedsTargets(t *testing.T) {
	for _, sink := range []string{config.SinkTimeline, config.SinkAppEvents} {
		if _, err := NewSink(sink, "contacts", "", nil, nil, nil); err == nil || !strings.Contains(err.Error(), "needs an id per category and status") {
			t.Errorf("NewSink(%s) without ids: got %v, want an error", sink, err)
		}
	}
}

// TestProcessEnterpriseRequiredAgainstSandbox runs a batch against an account
// without Enterprise: the events are retried, and the report keeps HubSpot's
// typed error so an alert can name the cause at once.
func TestProcessEnterpriseRequiredAgainstSandbox(t *testing.T) {
	hs := hubspottest.NewTestServer(t, hubspottest.Options{CustomEventsForbidden: true, Logger: slog.New(slog.DiscardHandler)})
	ids := hs.SeedContacts(1, nil)
	c, err := hubspot.NewClient(hubspot.WithBaseURL(hs.URL), hubspot.WithToken(hs.Token()), hubspot.WithLogger(slog.New(slog.DiscardHandler)))
	if err != nil {
		t.Fatal(err)
	}
	sink := NewCustomEvents(c, "contacts", "", slog.New(slog.DiscardHandler))
	e := newEnv(t, testConfig(), func(o *Options) { o.Sink = sink })
	e.link("u1", ids[0])
	rep, err := e.f.Process(context.Background(), msgs(rec("track", "a", "u1", "event_name", "x"), rec("track", "b", "u1", "event_name", "y")))
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(rep.Failed, ","); got != "m0,m1" {
		t.Errorf("got failed %q, want m0,m1 (retried, not dropped)", got)
	}
	if !errors.Is(rep.SinkErr, hubspot.ErrEnterpriseRequired) {
		t.Errorf("got sink error %v, want one matching hubspot.ErrEnterpriseRequired", rep.SinkErr)
	}
	var ae *hubspot.APIError
	if !errors.As(rep.SinkErr, &ae) || ae.Status != http.StatusForbidden {
		t.Errorf("got sink error %v, want the *hubspot.APIError 403 kept", rep.SinkErr)
	}
	if len(hs.Events()) != 0 {
		t.Errorf("got %d events in HubSpot, want 0", len(hs.Events()))
	}

	// With definitions already known (an account that lost Enterprise), the
	// send itself is refused, and the report says so alike.
	sink.fqn["userpilot_tracked_event_occurred"] = "pe1_userpilot_tracked_event_occurred"
	rep, err = e.f.Process(context.Background(), msgs(rec("track", "c", "u1", "event_name", "x")))
	if err != nil {
		t.Fatal(err)
	}
	if rep.Counts[CountSendFailed] != 1 || !errors.Is(rep.SinkErr, hubspot.ErrEnterpriseRequired) {
		t.Errorf("send refused: got counts %v, sink error %v; want 1 send_failed and hubspot.ErrEnterpriseRequired", rep.Counts, rep.SinkErr)
	}
}
