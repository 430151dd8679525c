package inbound

import (
	"context"
	"log/slog"
	"strconv"
	"testing"
	"time"

	"github.com/pilotsync/pilotsync/shared/config"
	"github.com/pilotsync/pilotsync/shared/hubspot"
	"github.com/pilotsync/pilotsync/shared/hubspot/hubspottest"
	"github.com/pilotsync/pilotsync/shared/store"
	"github.com/pilotsync/pilotsync/shared/userpilot"
	"github.com/pilotsync/pilotsync/shared/userpilot/userpilottest"
)

// typedObject maps one HubSpot property of every type onto Userpilot.
func typedObject() Object {
	o := usersObject()
	o.Inbound = []config.PropertyMapping{
		{HubSpot: "score", Userpilot: "score"}, {HubSpot: "vip", Userpilot: "vip"},
		{HubSpot: "renewal", Userpilot: "renewal"}, {HubSpot: "seen", Userpilot: "last_seen"},
		{HubSpot: "tier", Userpilot: "tier"}, {HubSpot: "tags", Userpilot: "tags"},
		{HubSpot: "nickname", Userpilot: "nickname"}, {HubSpot: "phone", Userpilot: "phone"},
	}
	return o
}

// TestInboundValuesKeepTheirType runs the inbound poll through the real
// clients against both sandboxes: every HubSpot type reaches Userpilot as
// the JSON value it stands for (issue 9.10), whichever form HubSpot hands
// dates back in; an emptied value and an unlinked record's link keys are
// cleared under both of Userpilot's possible null behaviours with the
// matching clear_value (issue 9.9).
func TestInboundValuesKeepTheirType(t *testing.T) {
	day := time.Date(2026, 11, 27, 0, 0, 0, 0, time.UTC)
	seen := time.Date(2026, 11, 26, 8, 30, 0, 250e6, time.UTC)
	for _, tt := range []struct {
		name        string
		dates       string
		nullIgnored bool
		clear       string
	}{
		{"dates iso, null removes", hubspottest.DateValuesISO, false, userpilot.ClearNull},
		{"dates epoch ms, null removes", hubspottest.DateValuesEpochMillis, false, userpilot.ClearNull},
		{"dates iso, null ignored, empty string clears", hubspottest.DateValuesISO, true, userpilot.ClearEmptyString},
		{"dates epoch ms, null ignored, empty string clears", hubspottest.DateValuesEpochMillis, true, userpilot.ClearEmptyString},
	} {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			clk := &clock{t: now0}
			hs := hubspottest.NewTestServer(t, hubspottest.Options{Clock: clk.now, DateValues: tt.dates})
			for _, p := range []hubspottest.Property{
				{Name: "score", Type: "number", FieldType: "number"},
				{Name: "vip", Type: "bool", FieldType: "booleancheckbox"},
				{Name: "renewal", Type: "date", FieldType: "date"},
				{Name: "seen", Type: "datetime", FieldType: "date"},
				{Name: "tier", Type: "enumeration", FieldType: "select", Options: []hubspottest.PropertyOption{{Label: "Gold", Value: "gold"}}},
				{Name: "tags", Type: "enumeration", FieldType: "checkbox", Options: []hubspottest.PropertyOption{{Label: "A", Value: "a"}, {Label: "B", Value: "b"}}},
				{Name: "nickname", Type: "string", FieldType: "text"},
				{Name: "phone", Type: "phone_number", FieldType: "phonenumber"},
			} {
				hs.CreateProperty("contacts", p)
			}
			id := hs.AddRecords("contacts", []hubspottest.SeedRecord{{ModifiedAt: now0.Add(-time.Hour), Properties: map[string]string{
				"email": "ann@example.com", "score": "0", "vip": "false", "renewal": strconv.FormatInt(day.UnixMilli(), 10),
				"seen": strconv.FormatInt(seen.UnixMilli(), 10), "tier": "gold", "tags": "a;b", "nickname": "0",
			}}})[0]
			hsc, err := hubspot.NewClient(hubspot.WithBaseURL(hs.URL), hubspot.WithToken(hs.Token()), hubspot.WithLogger(slog.New(slog.DiscardHandler)))
			if err != nil {
				t.Fatal(err)
			}
			up := userpilottest.NewTestServer(t, userpilottest.Options{NullIgnored: tt.nullIgnored, JobDuration: -1})
			upc, err := userpilot.NewClient(up.APIKey(), userpilot.WithBaseURL(up.URL), userpilot.WithClearValue(tt.clear),
				userpilot.WithRateLimit(100000, time.Second))
			if err != nil {
				t.Fatal(err)
			}
			st := newFakeStore()
			st.add(&store.Profile{Kind: store.KindUser, ID: "u1", MatchValue: "Ann@Example.com"})
			in, err := NewInbound(st, hsc, upc, InboundConfig{Env: "production", Objects: []Object{typedObject()}, Overlap: 2 * time.Minute},
				WithClock(clk.now), WithDeadlineMargin(0), WithLogger(slog.New(slog.DiscardHandler)))
			if err != nil {
				t.Fatal(err)
			}
			run := func() *Report {
				t.Helper()
				rep, err := in.Run(ctx, ModeIncremental)
				if err != nil || rep.Status != StatusComplete {
					t.Fatalf("run: %v, %+v", err, rep)
				}
				return rep
			}
			rep := run()
			if n := rep.APICalls["hubspot.properties"]; n != 1 {
				t.Errorf("property types read %d times in the run, want once (cached per run)", n)
			}
			u, _ := up.User("u1")
			want := map[string]any{
				"score": 0.0, "vip": false, "renewal": "2026-11-27", "last_seen": "2026-11-26T08:30:00.250Z",
				"tier": "gold", "tags": "a;b", "nickname": "0",
				KeyObjectType: "contacts", KeyUserID: id,
			}
			for k, w := range want {
				if got, ok := u.Metadata[k]; !ok || got != w {
					t.Errorf("%s = %#v (present %v), want %#v", k, got, ok, w)
				}
			}
			if v, ok := u.Metadata["phone"]; ok {
				t.Errorf("phone = %#v, want absent (HubSpot has no value)", v)
			}

			// HubSpot empties the score: Userpilot's is cleared, not 0 or kept.
			clk.advance(10 * time.Minute)
			hs.Update("contacts", id, map[string]string{"score": ""})
			clk.advance(10 * time.Minute)
			run()
			u, _ = up.User("u1")
			if v, ok := u.Metadata["score"]; ok && v != "" {
				t.Errorf("after HubSpot cleared it: score = %#v, want cleared", v)
			}
			if u.Metadata["vip"] != false {
				t.Errorf("vip = %#v, want false kept", u.Metadata["vip"])
			}

			// The email changes: the profile is unlinked and its link keys cleared.
			clk.advance(10 * time.Minute)
			hs.Update("contacts", id, map[string]string{"email": "someone.else@example.com"})
			clk.advance(10 * time.Minute)
			if rep := run(); rep.Totals.Unlinked != 1 {
				t.Fatalf("unlinked %d, want 1", rep.Totals.Unlinked)
			}
			u, _ = up.User("u1")
			for _, k := range []string{KeyObjectType, KeyUserID} {
				if v, ok := u.Metadata[k]; ok && v != "" {
					t.Errorf("after unlink: %s = %#v, want cleared", k, v)
				}
			}
		})
	}
}
