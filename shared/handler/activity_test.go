package handler_test

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/pilotsync/pilotsync/shared/config"
	"github.com/pilotsync/pilotsync/shared/forward"
	"github.com/pilotsync/pilotsync/shared/handler"
	"github.com/pilotsync/pilotsync/shared/hubspot/hubspottest"
	"github.com/pilotsync/pilotsync/shared/store"
)

// fqn is the sandbox's fully qualified name of a custom event.
func fqn(hs *hubspottest.Server, name string) string {
	return fmt.Sprintf("pe%d_%s", hs.PortalID(), name)
}

func eventNames(hs *hubspottest.Server) map[string]int {
	out := map[string]int{}
	for _, e := range hs.Events() {
		out[e.EventName]++
	}
	return out
}

// TestActivitySamples runs events/sqs-all.json (every sample in one batch)
// through the real handler: every category reaches HubSpot once, identify
// events update profiles, staging and echo events are dropped, and the
// invalid messages are dead-lettered with their reasons.
func TestActivitySamples(t *testing.T) {
	r := newActivityRig(t, rigOptions{})
	ids := r.hs.AddRecords("contacts", []hubspottest.SeedRecord{{Properties: map[string]string{"email": "ada@example.com"}}})
	ev := loadEvent(t, "sqs-all.json")
	resp, err := r.h.Handle(r.ctx, ev)
	if err != nil {
		t.Fatal(err)
	}
	if len(resp.BatchItemFailures) != 0 {
		t.Fatalf("got failures %v, want none", resp.BatchItemFailures)
	}
	want := map[string]int{
		"userpilot_feature_tag_occurred": 1, "userpilot_tracked_event_occurred": 2, "userpilot_labeled_event_occurred": 1,
		"userpilot_tagged_page_viewed": 1, "userpilot_checklist_seen": 1, "userpilot_checklist_completed": 1,
		"userpilot_checklist_dismissed": 1, "userpilot_flow_seen": 1, "userpilot_flow_completed": 1, "userpilot_flow_dismissed": 1,
		"userpilot_mobile_content_seen": 1, "userpilot_mobile_content_completed": 1, "userpilot_mobile_content_dismissed": 1,
		"userpilot_nps_ask_later": 1, "userpilot_nps_feedback": 1, "userpilot_survey_seen": 1, "userpilot_survey_submitted": 1,
		"userpilot_survey_dismissed": 1, "userpilot_form_submitted": 1,
	}
	got := eventNames(r.hs)
	for name, n := range want {
		if got[fqn(r.hs, name)] != n {
			t.Errorf("%s: got %d, want %d", name, got[fqn(r.hs, name)], n)
		}
	}
	if len(r.hs.Events()) != 20 {
		t.Errorf("got %d events, want 20", len(r.hs.Events()))
	}
	for _, e := range r.hs.Events() {
		if e.ObjectID != ids[0] || e.Email != "" {
			t.Errorf("%s: got object %s email %q, want %s and no email", e.EventName, e.ObjectID, e.Email, ids[0])
		}
		if e.OccurredAt.Before(activityEnabledAt) || e.Properties["userpilot_user_id"] != "u-1001" {
			t.Errorf("%s: got %v %v", e.EventName, e.OccurredAt, e.Properties)
		}
		if e.EventName == fqn(r.hs, "userpilot_nps_feedback") && (e.Properties["score"] != "9" || e.Properties["feedback"] != "Great reporting") {
			t.Errorf("nps feedback properties %v", e.Properties)
		}
		if e.EventName == fqn(r.hs, "userpilot_tagged_page_viewed") && e.Properties["page_name"] != "billing settings" {
			t.Errorf("tagged page properties %v", e.Properties)
		}
	}
	// Definitions: one per category and status, on contacts, typed properties.
	for _, d := range r.hs.EventDefinitions() {
		if d.PrimaryObject != "CONTACT" || len(d.Properties) == 0 {
			t.Errorf("definition %s: %s with %d properties", d.Name, d.PrimaryObject, len(d.Properties))
		}
	}
	// The identify merged and linked Ada; the echo (plan: enterprise) was dropped.
	p, err := r.st.GetProfile(r.ctx, "production", store.KindUser, "u-1001")
	if err != nil {
		t.Fatal(err)
	}
	if p.MatchValue != "ada@example.com" || p.HubSpotID != ids[0] || p.Properties["plan"].Value != "pro" || !p.Dirty {
		t.Errorf("got profile match %q hubspot %q plan %v dirty %v", p.MatchValue, p.HubSpotID, p.Properties["plan"].Value, p.Dirty)
	}
	if _, err := r.st.GetProfile(r.ctx, "production", store.KindCompany, "acme"); err != nil {
		t.Errorf("company profile: %v", err)
	}
	// The staging record never touched the staging environment's profiles.
	if _, err := r.st.GetProfile(r.ctx, "staging", store.KindUser, "u-1001"); err == nil {
		t.Error("staging profile written by a production-bound integration")
	}
	dl := r.deadLetters()
	if len(dl) != 3 {
		t.Fatalf("got %d dead letters %v, want 3", len(dl), dl)
	}
	for id, reason := range dl {
		if reason == "" || strings.Contains(reason, "example.com") {
			t.Errorf("dead letter %s: reason %q", id, reason)
		}
	}
	// The batch left a run record with its counts and the dead-lettered reasons.
	runs, err := r.st.ListRuns(r.ctx, "production", forward.JobName, 5)
	if err != nil || len(runs) != 1 || runs[0].Counts[forward.CountSent] != 20 || len(runs[0].Failures) < 3 {
		t.Errorf("run records %+v, %v", runs, err)
	}
	// Redelivering the whole batch changes nothing in HubSpot.
	if _, err := r.h.Handle(r.ctx, ev); err != nil {
		t.Fatal(err)
	}
	if len(r.hs.Events()) != 20 || r.hs.DroppedDuplicates() != 0 {
		t.Errorf("after redelivery: %d events, %d dropped duplicates; want 20 and 0 (the ledger skips them)", len(r.hs.Events()), r.hs.DroppedDuplicates())
	}
}

// TestActivitySampleFiles invokes the handler with each events/sqs-*.json,
// as `sam local invoke -e` would.
func TestActivitySampleFiles(t *testing.T) {
	r := newActivityRig(t, rigOptions{})
	r.hs.AddRecords("contacts", []hubspottest.SeedRecord{{Properties: map[string]string{"email": "ada@example.com"}}})
	files, err := filepath.Glob(filepath.Join("..", "..", "events", "sqs-*.json"))
	if err != nil || len(files) < 10 {
		t.Fatalf("got %d sample files (%v)", len(files), err)
	}
	// Identify first, so the user has a match value.
	first := filepath.Join("..", "..", "events", "sqs-identify.json")
	ordered := []string{first}
	for _, f := range files {
		if f != first && !strings.HasSuffix(f, "sqs-all.json") {
			ordered = append(ordered, f)
		}
	}
	for _, f := range ordered {
		ev := loadEvent(t, filepath.Base(f))
		if len(ev.Records) == 0 {
			t.Errorf("%s: no records", f)
		}
		resp, err := r.h.Handle(r.ctx, ev)
		if err != nil || len(resp.BatchItemFailures) != 0 {
			t.Errorf("%s: failures %v, err %v", f, resp.BatchItemFailures, err)
		}
	}
	if n := len(r.hs.Events()); n != 20 {
		t.Errorf("got %d events, want 20", n)
	}
}

// TestActivityRules covers the staging-only switch, no past events, unmatched
// users, the grace period and the none sink through the real handler.
func TestActivityRules(t *testing.T) {
	body := func(token, user, inserted string) string {
		return fmt.Sprintf(`{"app_token":%q,"event_type":"track","event_name":"x","user_id":%q,"inserted_at":%q,"internal_event_id":"r-%s-%s"}`,
			token, user, inserted, user, inserted)
	}
	ident := func(token, user, email string) string {
		return fmt.Sprintf(`{"app_token":%q,"event_type":"identify_user","user_id":%q,"inserted_at":"2026-11-27T09:00:00Z","internal_event_id":"i-%s","metadata":{"email":%q}}`,
			token, user, user, email)
	}
	tests := []struct {
		name      string
		cfg       func(*config.Config)
		setup     func(r *activityRig, contactIDs []string)
		bodies    []string
		wantSent  int
		wantCount map[string]int64
		wantRetry int
	}{
		{name: "staging only forwards staging and drops production",
			cfg: func(c *config.Config) { c.Userpilot.Environment = config.EnvStaging },
			bodies: []string{ident("STG-1", "u1", "user0@example.com"), body("STG-1", "u1", "2026-11-27T10:00:00Z"),
				ident("NX-1", "u2", "user1@example.com"), body("NX-1", "u2", "2026-11-27T10:00:00Z")},
			wantSent: 1, wantCount: map[string]int64{forward.CountOtherEnvironment: 2, forward.CountIdentify: 1}},
		{name: "production drops staging",
			bodies:   []string{ident("STG-1", "u1", "user0@example.com"), body("STG-1", "u1", "2026-11-27T10:00:00Z")},
			wantSent: 0, wantCount: map[string]int64{forward.CountOtherEnvironment: 2}},
		{name: "no past events",
			bodies: []string{ident("NX-1", "u1", "user0@example.com"), body("NX-1", "u1", "2026-11-26T23:59:59.999999Z"),
				body("NX-1", "u1", "2026-11-27T00:00:00.000001Z")},
			wantSent: 1, wantCount: map[string]int64{forward.CountBeforeEnabled: 1}},
		{name: "no past events with the store's enable time",
			cfg: func(c *config.Config) { c.Activity.EnabledAt = nil },
			setup: func(r *activityRig, ids []string) {
				if err := r.st.PutProfile(r.ctx, &store.Profile{Env: "production", Kind: store.KindUser, ID: "u1",
					MatchValue: "user0@example.com", HubSpotID: ids[0], HubSpotObject: "contacts", LinkMatch: "user0@example.com"}); err != nil {
					r.t.Fatal(err)
				}
			},
			// The first invocation records its now as the enable time.
			// (Not later than a minute ahead: events beyond MaxFutureSkew are refused.)
			bodies:   []string{body("NX-1", "u1", "2025-06-01T00:00:00Z"), body("NX-1", "u1", time.Now().UTC().Add(time.Minute).Format(time.RFC3339Nano))},
			wantSent: 1, wantCount: map[string]int64{forward.CountBeforeEnabled: 1, forward.CountResolvedStore: 1}},
		{name: "unmatched user dropped, never created",
			bodies:   []string{ident("NX-1", "u9", "stranger@example.org"), body("NX-1", "u9", "2026-11-27T10:00:00Z")},
			wantSent: 0, wantCount: map[string]int64{forward.CountUnmatched: 1}},
		{name: "unmatched user within grace retried",
			cfg:       func(c *config.Config) { c.Activity.UnmatchedGrace = config.Duration(100 * 365 * 24 * time.Hour) },
			bodies:    []string{body("NX-1", "u9", "2026-11-27T10:00:00Z")},
			wantCount: map[string]int64{forward.CountUnmatchedWaiting: 1}, wantRetry: 1},
		{name: "sink none counts and drops",
			cfg:       func(c *config.Config) { c.Activity.Sink = config.SinkNone },
			bodies:    []string{ident("NX-1", "u1", "user0@example.com"), body("NX-1", "u1", "2026-11-27T10:00:00Z")},
			wantCount: map[string]int64{forward.CountSinkNone: 1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := newActivityRig(t, rigOptions{cfg: tt.cfg})
			ids := r.seedUsers(2)
			if tt.setup != nil {
				tt.setup(r, ids)
			}
			var ev events.SQSEvent
			for i, b := range tt.bodies {
				ev.Records = append(ev.Records, events.SQSMessage{MessageId: fmt.Sprint("m", i), Body: b})
			}
			rep, err := r.fw.Process(r.ctx, toMessages(ev))
			if err != nil {
				t.Fatal(err)
			}
			if got := len(r.hs.Events()); got != tt.wantSent {
				t.Errorf("got %d sent, want %d", got, tt.wantSent)
			}
			for k, v := range tt.wantCount {
				if rep.Counts[k] != v {
					t.Errorf("count %s: got %d, want %d (%v)", k, rep.Counts[k], v, rep.Counts)
				}
			}
			if len(rep.Failed) != tt.wantRetry {
				t.Errorf("got failed %v, want %d", rep.Failed, tt.wantRetry)
			}
			if n := r.hs.ContactsCreatedByEmail(); n != 0 {
				t.Errorf("%d contacts created", n)
			}
			if n := len(r.hs.Records("contacts")); n != 2 {
				t.Errorf("got %d contacts, want the 2 seeded", n)
			}
		})
	}
}

func toMessages(ev events.SQSEvent) []forward.Message {
	out := make([]forward.Message, len(ev.Records))
	for i, r := range ev.Records {
		out[i] = forward.Message{ID: r.MessageId, Body: []byte(r.Body)}
	}
	return out
}

// TestActivityHandlerReportsAbortAsAllFailed checks the handler's contract
// when the engine stops short: nothing may be deleted.
func TestActivityHandlerReportsAbortAsAllFailed(t *testing.T) {
	h := handler.NewActivity(engineFunc(func(context.Context, []forward.Message) (*forward.Report, error) {
		return nil, forward.ErrAborted
	}), nil)
	resp, err := h.Handle(context.Background(), events.SQSEvent{Records: []events.SQSMessage{{MessageId: "a"}, {MessageId: "b"}}})
	if err != nil || len(resp.BatchItemFailures) != 2 {
		t.Errorf("got %v %v, want both failed", resp.BatchItemFailures, err)
	}
	if _, err := h.Handle(context.Background(), events.SQSEvent{Records: []events.SQSMessage{{Body: "x"}}}); err == nil {
		t.Error("a record without messageId: got nil error")
	}
}

type engineFunc func(context.Context, []forward.Message) (*forward.Report, error)

func (f engineFunc) Process(ctx context.Context, m []forward.Message) (*forward.Report, error) {
	return f(ctx, m)
}
