package forward

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"strings"
	"testing"

	"github.com/pilotsync/pilotsync/shared/activity"
	"github.com/pilotsync/pilotsync/shared/config"
	"github.com/pilotsync/pilotsync/shared/hubspot"
	"github.com/pilotsync/pilotsync/shared/hubspot/hubspottest"
)

// TestEnsureDefinitionsForTheConfiguredEvents is `pilotsync setup`'s step:
// one definition per category and status the configuration forwards,
// created on the users' object and labelled with a non-default prefix; a
// definition of the same name on another object is an error that names it;
// and an account without custom events (403) is an error, not "done".
func TestEnsureDefinitionsForTheConfiguredEvents(t *testing.T) {
	cfg := testConfig()
	cfg.Activity.EventNamePrefix = "acme"
	cfg.Activity.Categories = []config.CategoryFilter{{Name: "flows", Statuses: []string{"completed", "dismissed"}}}
	cl, err := activity.NewClassifier(cfg.Activity)
	if err != nil {
		t.Fatal(err)
	}
	c, hs := sandboxClient(t)
	sink := NewCustomEvents(c, "contacts", "acme", nil)
	got, err := EnsureDefinitions(t.Context(), sink, cl)
	if err != nil {
		t.Fatal(err)
	}
	defs := hs.EventDefinitions()
	if len(defs) != 2 || len(got) != 2 {
		t.Fatalf("definitions %+v, returned %v; want flows completed and dismissed", defs, got)
	}
	for _, d := range defs {
		if got[d.Name] != d.FullyQualifiedName || d.PrimaryObject != "CONTACT" {
			t.Errorf("definition %s (%s on %s), returned %q", d.Name, d.FullyQualifiedName, d.PrimaryObject, got[d.Name])
		}
		if !strings.HasPrefix(d.Name, "acme_") || !strings.HasSuffix(d.Label, " (acme)") || !strings.HasPrefix(d.Label, "Userpilot flow ") {
			t.Errorf("definition %s labelled %q, want the acme prefix in name and label", d.Name, d.Label)
		}
	}

	// The default prefix is not repeated in the label.
	c2, hs2 := sandboxClient(t)
	cfg.Activity.EventNamePrefix = ""
	cl2, err := activity.NewClassifier(cfg.Activity)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := EnsureDefinitions(t.Context(), NewCustomEvents(c2, "contacts", activity.DefaultEventNamePrefix, nil), cl2); err != nil {
		t.Fatal(err)
	}
	for _, d := range hs2.EventDefinitions() {
		if d.Label != "Userpilot flow "+strings.TrimPrefix(d.Name, "userpilot_flow_") {
			t.Errorf("definition %s labelled %q, want no prefix in the label", d.Name, d.Label)
		}
	}

	// One name already defined on companies: setup fails and names it.
	c3, _ := sandboxClient(t)
	if _, err := c3.CreateEventDefinition(t.Context(), hubspot.EventDefinition{Name: "userpilot_flow_dismissed", Label: "On companies", PrimaryObject: "COMPANY"}); err != nil {
		t.Fatal(err)
	}
	got, err = EnsureDefinitions(t.Context(), NewCustomEvents(c3, "contacts", "", nil), cl2)
	if err == nil || !strings.Contains(err.Error(), "userpilot_flow_dismissed") || strings.Contains(err.Error(), "userpilot_flow_completed") {
		t.Errorf("got %v, want an error naming userpilot_flow_dismissed only", err)
	}
	if got["userpilot_flow_completed"] == "" {
		t.Errorf("returned %v, want the definition that could be made", got)
	}

	// No custom events in the account: the 403 is returned.
	hs4 := hubspottest.NewTestServer(t, hubspottest.Options{CustomEventsForbidden: true, Logger: slog.New(slog.DiscardHandler)})
	c4, err := hubspot.NewClient(hubspot.WithBaseURL(hs4.URL), hubspot.WithToken(hs4.Token()), hubspot.WithLogger(slog.New(slog.DiscardHandler)))
	if err != nil {
		t.Fatal(err)
	}
	var ae *hubspot.APIError
	if _, err := EnsureDefinitions(t.Context(), NewCustomEvents(c4, "contacts", "", nil), cl2); !errors.As(err, &ae) || ae.Status != http.StatusForbidden {
		t.Errorf("got %v, want HubSpot's 403", err)
	}
}

// TestPrimaryObjectNames: event definitions are made on the object the
// users are mapped to, by every name HubSpot gives it; a custom object's type
// id is used as is.
func TestPrimaryObjectNames(t *testing.T) {
	for in, want := range map[string]string{
		"contacts": "CONTACT", "Contact": "CONTACT", "0-1": "CONTACT",
		"companies": "COMPANY", "company": "COMPANY", "0-2": "COMPANY",
		"deals": "DEAL", "deal": "DEAL", "0-3": "DEAL",
		"tickets": "TICKET", "ticket": "TICKET", "0-5": "TICKET",
		"2-777": "2-777", "p_members": "p_members",
	} {
		if got := PrimaryObject(in); got != want {
			t.Errorf("PrimaryObject(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestSinkNamesAndPermanence: each sink names itself in logs and counts
// (the configured sink name), and only HubSpot's validation answers (400,
// 422) are permanent: a 429 or 5xx is retried.
func TestSinkNamesAndPermanence(t *testing.T) {
	c, _ := sandboxClient(t)
	targets := map[string]string{"flows_completed": "t1"}
	for _, name := range []string{config.SinkCustomEvents, config.SinkTimeline, config.SinkAppEvents} {
		s, err := NewSink(name, "contacts", "", targets, c, nil)
		if err != nil {
			t.Fatal(err)
		}
		if s.Name() != name {
			t.Errorf("sink %s names itself %q", name, s.Name())
		}
		for status, want := range map[int]bool{400: true, 422: true, 403: false, 429: false, 500: false} {
			if got := s.Permanent(&hubspot.APIError{Status: status}); got != want {
				t.Errorf("%s: status %d permanent %v, want %v", name, status, got, want)
			}
		}
		if s.Permanent(errors.New("connection reset")) {
			t.Errorf("%s: a network error is permanent", name)
		}
	}
	if s, err := NewSink(config.SinkNone, "contacts", "", nil, c, nil); s != nil || err != nil {
		t.Errorf("sink none: got %v, %v; want no sink and no error", s, err)
	}
	if s, err := NewSink("webhook", "contacts", "", targets, c, nil); s != nil || err == nil || !strings.Contains(err.Error(), "webhook") {
		t.Errorf("unknown sink: got %v, %v; want an error naming it", s, err)
	}
}

// TestPartialErrorMessage: the error of a partly delivered send, as logged
// and kept in Report.SinkErr, says how many events were not delivered and
// HubSpot's first reason.
func TestPartialErrorMessage(t *testing.T) {
	pe := &PartialError{Failures: []ItemFailure{{Index: 0, Reason: "RATE_LIMIT: slow down"}, {Index: 3, Reason: "other"}}}
	if got, want := pe.Error(), "forward: send: 2 items not delivered, first: RATE_LIMIT: slow down"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
	if got := (&PartialError{}).Error(); !strings.Contains(got, "no failed items") {
		t.Errorf("empty partial error says %q", got)
	}
}

// longRejectSink refuses every event for good with an error of n
// characters.
type longRejectSink struct {
	*fakeSink
	n int
}

func (s longRejectSink) err() error {
	head := errPermanent.Error() + "\n"
	return errors.Join(errPermanent, errors.New(strings.Repeat("x", s.n-len(head)-len("TAIL"))+"TAIL"))
}

func (s longRejectSink) Send(context.Context, []Item) error { return s.err() }

// TestLongRejectionReasonIsCut: HubSpot's reason for refusing an event goes
// into the dead-letter reason cut to 300 characters; a reason of exactly
// 300 is kept whole.
func TestLongRejectionReasonIsCut(t *testing.T) {
	for _, n := range []int{600, 301, 300} {
		s := longRejectSink{newFakeSink(), n}
		e := newEnv(t, testConfig(), func(o *Options) { o.Sink = s })
		e.link("u1", "101")
		rep, err := e.f.Process(t.Context(), msgs(rec("track", "a", "u1", "event_name", "x")))
		if err != nil {
			t.Fatal(err)
		}
		full := s.err().Error()
		want := full[:min(n, 300)]
		if n > 300 {
			want += "..."
		}
		r := e.dlq.reasons["m0"]
		if len(full) != n || strings.Join(rep.DeadLettered, ",") != "m0" || !strings.HasSuffix(r, "HubSpot rejected the event: "+want) {
			t.Errorf("reason of %d characters: dead-lettered %v with %q, want it to end with %q", len(full), rep.DeadLettered, r, want)
		}
	}
}
