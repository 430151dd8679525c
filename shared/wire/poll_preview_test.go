package wire

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/pilotsync/pilotsync/shared/config"
	"github.com/pilotsync/pilotsync/shared/handler"
	"github.com/pilotsync/pilotsync/shared/hubspot"
	"github.com/pilotsync/pilotsync/shared/hubspot/hubspottest"
	"github.com/pilotsync/pilotsync/shared/outbound"
	"github.com/pilotsync/pilotsync/shared/preview"
	"github.com/pilotsync/pilotsync/shared/store"
	"github.com/pilotsync/pilotsync/shared/userpilot"
	"github.com/pilotsync/pilotsync/shared/userpilot/userpilottest"
)

const previewConfig = `
mapping:
  users:
    inbound:
      - hubspot: firstname
        userpilot: first_name
      - hubspot: num_employees_band
        userpilot: band
    outbound:
      - userpilot: plan
        hubspot: userpilot_plan
      - userpilot: seats
        hubspot: userpilot_seats
      - userpilot: tier
        hubspot: userpilot_tier
      - userpilot: missing_one
        hubspot: userpilot_nowhere
    measured:
      - metric: sessions
        hubspot: userpilot_sessions
      - metric: last_seen
        hubspot: userpilot_last_seen
  companies:
    enabled: false
activity:
  categories:
    - name: flows
      statuses: [completed]
`

var previewLog = slog.New(slog.DiscardHandler)

// scanTable returns every item of table, each as canonical JSON, sorted.
func scanTable(t *testing.T, db *dynamodb.Client, table string) []string {
	t.Helper()
	var out []string
	in := &dynamodb.ScanInput{TableName: aws.String(table), ConsistentRead: aws.Bool(true)}
	for {
		page, err := db.Scan(t.Context(), in)
		if err != nil {
			t.Fatal(err)
		}
		for _, it := range page.Items {
			var m map[string]any
			if err := attributevalue.UnmarshalMap(it, &m); err != nil {
				t.Fatal(err)
			}
			b, _ := json.Marshal(m) // map keys are sorted
			out = append(out, string(b))
		}
		if len(page.LastEvaluatedKey) == 0 {
			break
		}
		in.ExclusiveStartKey = page.LastEvaluatedKey
	}
	slices.Sort(out)
	return out
}

// hubspotRead reports whether a sandbox request only reads: GETs, and the
// POSTs that are reads (search, batch read).
func hubspotRead(r hubspottest.Request) bool {
	return r.Method == http.MethodGet || strings.HasSuffix(r.Path, "/search") || strings.HasSuffix(r.Path, "/batch/read")
}

// TestPollPreviewReadOnly runs {"action":"preview"} through the poll handler
// built as the function builds it, over DynamoDB Local and the sandboxes: a
// linked user, one whose contact was merged, one whose link is stale (email
// changed), one HubSpot does not know, one pilotsync never saw and one whose
// email two contacts carry. It asserts the match, the typed inbound values,
// the encoded outbound and measured values, the problems, the sink, the
// estimate, and that nothing was written anywhere (the sandboxes' request
// logs hold only reads, Userpilot got no request, the table is unchanged).
func TestPollPreviewReadOnly(t *testing.T) {
	ctx := context.Background()
	sb := newSandboxes(t, previewConfig)
	cfg, db, table, st, hs, up := sb.cfg, sb.db, sb.table, sb.st, sb.hs, sb.up
	hs.CreateProperty("contacts", hubspottest.Property{Name: "userpilot_plan", Type: "string", FieldType: "text"})
	hs.CreateProperty("contacts", hubspottest.Property{Name: "userpilot_seats", Type: "number", FieldType: "number"})
	hs.CreateProperty("contacts", hubspottest.Property{Name: "userpilot_tier", Type: "enumeration", FieldType: "select",
		Options: []hubspottest.PropertyOption{{Label: "Gold", Value: "gold"}}})
	hs.CreateProperty("contacts", hubspottest.Property{Name: "userpilot_sessions", Type: "number", FieldType: "number"})
	hs.CreateProperty("contacts", hubspottest.Property{Name: "userpilot_last_seen", Type: "datetime", FieldType: "date"})
	hs.CreateProperty("contacts", hubspottest.Property{Name: "num_employees_band", Type: "number", FieldType: "number"})
	ids := hs.AddRecords("contacts", []hubspottest.SeedRecord{
		{Properties: map[string]string{"email": "ann@example.com", "firstname": "Ann", "num_employees_band": "42"}},
		{Properties: map[string]string{"email": "old@example.com", "firstname": "Olga"}},
		{Properties: map[string]string{"email": "bea@example.com", "firstname": "Bea"}},
		{Properties: map[string]string{"email": "bea2@example.com", "firstname": "Bea (dup)"}},
		{Properties: map[string]string{"email": "new@example.com", "firstname": "Nina"}},
		{Properties: map[string]string{"email": "twin@example.com", "firstname": "Twin"}},
	})
	ann, old, bea, bea2, nina := ids[0], ids[1], ids[2], ids[3], ids[4]
	survivor := hs.Merge("contacts", bea, bea2)
	// A second contact with the twin's email (the sandbox keeps emails unique
	// on create, so the second one gets it by an edit, as an import can do).
	twin2 := hs.AddRecords("contacts", []hubspottest.SeedRecord{{Properties: map[string]string{"email": "twin-b@example.com"}}})[0]
	hs.Update("contacts", twin2, map[string]string{"email": "twin@example.com"})

	env := config.DefaultEnvironment
	at := time.Now().Add(-time.Hour).UTC()
	profiles := []*store.Profile{
		{Env: env, Kind: store.KindUser, ID: "u-ann", MatchValue: "ann@example.com", HubSpotID: ann, HubSpotObject: "contacts", LinkMatch: "ann@example.com",
			Properties: map[string]store.Property{"plan": {Value: "pro", At: at}, "seats": {Value: "many", At: at}, "tier": {Value: "platinum", At: at}, "missing_one": {Value: "x", At: at}}},
		{Env: env, Kind: store.KindUser, ID: "u-bea", MatchValue: "bea2@example.com", HubSpotID: bea2, HubSpotObject: "contacts", LinkMatch: "bea2@example.com"},
		{Env: env, Kind: store.KindUser, ID: "u-moved", MatchValue: "new@example.com", HubSpotID: old, HubSpotObject: "contacts", LinkMatch: "old@example.com",
			Properties: map[string]store.Property{"seats": {Value: float64(12), At: at}}},
		{Env: env, Kind: store.KindUser, ID: "u-ghost", MatchValue: "ghost@example.com"},
	}
	for _, p := range profiles {
		if err := st.PutProfile(ctx, p); err != nil {
			t.Fatal(err)
		}
	}
	day := time.Now().UTC().Format(time.DateOnly)
	last := time.Now().Add(-10 * time.Minute).UTC().Truncate(time.Second)
	if err := st.PutActivitySummaries(ctx, env, []*store.ActivitySummary{{Env: env, Kind: store.KindUser, ID: "u-ann",
		Days: map[string]*store.DaySummary{day: {Events: 5, Active: 6, Sessions: 2, TimeMs: 60_000, FirstMs: last.Add(-time.Hour).UnixMilli(), LastMs: last.UnixMilli()}}}}); err != nil {
		t.Fatal(err)
	}

	hsc, err := hubspot.NewClient(hubspot.WithBaseURL(hs.URL), hubspot.WithToken(hubspottest.DefaultToken), hubspot.WithLogger(previewLog),
		hubspot.WithLimits(hubspot.Limits{PerWindow: 100, Window: 10 * time.Second, SearchPerSecond: 1000}))
	if err != nil {
		t.Fatal(err)
	}
	upc, err := userpilot.NewClient(userpilottest.DefaultAPIKey, userpilot.WithBaseURL(up.URL), userpilot.WithLogger(previewLog))
	if err != nil {
		t.Fatal(err)
	}
	h, err := NewPoll(&Deps{Config: cfg, Store: st, HubSpot: hsc, Userpilot: upc, Log: previewLog})
	if err != nil {
		t.Fatal(err)
	}
	before := scanTable(t, db, table)
	hs.ResetRequests()
	up.ResetRequests()

	res, err := h.Handle(ctx, handler.PollInput{Action: handler.PollActionPreview,
		Users: []string{"u-ann", "BEA2@example.com", "u-moved", "u-ghost", "stranger@example.com", "twin@example.com"}})
	if err != nil {
		t.Fatal(err)
	}
	if res.Status != "ok" || res.Preview == nil || len(res.Preview.Records) != 6 {
		t.Fatalf("preview result %+v", res)
	}
	byRef := map[string]preview.Record{}
	for _, r := range res.Preview.Records {
		byRef[r.Ref] = r
	}

	// Match states.
	for ref, want := range map[string]struct{ state, id string }{
		"u-ann": {preview.MatchLinked, ann}, "BEA2@example.com": {preview.MatchMerged, survivor}, "u-moved": {preview.MatchStale, nina},
		"u-ghost": {preview.MatchNotFound, ""}, "stranger@example.com": {preview.MatchNotFound, ""}, "twin@example.com": {preview.MatchAmbiguous, ""},
	} {
		got := byRef[ref].Match
		if got.State != want.state || (want.id != "" && got.HubSpotID != want.id) {
			t.Errorf("%s: match %+v, want %s %s", ref, got, want.state, want.id)
		}
	}
	if byRef["stranger@example.com"].Known || !byRef["u-ann"].Known || byRef["BEA2@example.com"].ProfileID != "u-bea" {
		t.Errorf("known/profile: %+v %+v", byRef["stranger@example.com"], byRef["BEA2@example.com"])
	}

	// Inbound: typed as the inbound run types them (a number is a number).
	in := map[string]any{}
	for _, v := range byRef["u-ann"].Inbound {
		in[v.Userpilot] = v.Value
	}
	if in["first_name"] != "Ann" || in["band"] != float64(42) && in["band"] != int64(42) && in["band"] != json.Number("42") {
		t.Errorf("u-ann inbound %#v, want first_name Ann and band the number 42", in)
	}
	if in["__hubspot__user_id"] != ann || in["__hubspot__object_type"] != "contacts" {
		t.Errorf("u-ann inbound link keys %#v", in)
	}
	movedIn := map[string]any{}
	for _, v := range byRef["u-moved"].Inbound {
		movedIn[v.Userpilot] = v.Value
	}
	if movedIn["first_name"] != "Nina" || movedIn["__hubspot__user_id"] != nina {
		t.Errorf("u-moved inbound %#v, want Nina's values from %s", movedIn, nina)
	}

	// Outbound: encoded values and problems per field.
	outv := map[string]outbound.PlannedValue{}
	for _, v := range byRef["u-ann"].Outbound {
		outv[v.HubSpot] = v
	}
	if v := outv["userpilot_plan"]; v.State != outbound.ValueSend || v.Encoded != "pro" {
		t.Errorf("plan %+v", v)
	}
	if v := outv["userpilot_seats"]; v.State != outbound.ValueRefused || !strings.Contains(v.Problem, "TYPE_MISMATCH") {
		t.Errorf("seats %+v, want refused as a type mismatch", v)
	}
	if v := outv["userpilot_tier"]; v.State != outbound.ValueRefused || !strings.Contains(v.Problem, "INVALID_OPTION") {
		t.Errorf("tier %+v, want refused as an invalid option", v)
	}
	if v := outv["userpilot_nowhere"]; v.State != outbound.ValueBlocked || !strings.Contains(v.Problem, "MISSING_PROPERTY") {
		t.Errorf("nowhere %+v, want blocked as missing", v)
	}
	for _, v := range byRef["u-moved"].Outbound {
		if v.HubSpot == "userpilot_seats" && (v.State != outbound.ValueSend || v.Encoded != "12") {
			t.Errorf("u-moved seats %+v, want 12 sent", v)
		}
	}
	probs := 0
	for _, p := range byRef["u-ann"].Problems {
		if slices.Contains([]string{"userpilot_seats", "userpilot_tier", "userpilot_nowhere"}, p.Field) {
			probs++
		}
	}
	if probs != 3 {
		t.Errorf("u-ann problems %+v, want one per refused or blocked field", byRef["u-ann"].Problems)
	}

	// Measured: computed over the stored summary, in HubSpot's formats.
	meas := map[string]string{}
	for _, v := range byRef["u-ann"].Measured {
		meas[v.HubSpot] = v.State + " " + v.Encoded
	}
	if meas["userpilot_sessions"] != "send 2" || meas["userpilot_last_seen"] != "send "+last.Format("2006-01-02T15:04:05Z") {
		t.Errorf("u-ann measured %v", meas)
	}

	// Sink and estimate.
	a := res.Preview.Activity
	if !a.Ready || a.Sink != config.SinkCustomEvents || !slices.Contains(a.Missing, "userpilot_flow_completed") {
		t.Errorf("activity %+v", a)
	}
	e := res.Preview.Estimate
	if len(e.Objects) != 1 || e.Objects[0].Records != 6 || e.Objects[0].ReadCalls != 2 || e.HubSpotCalls < 3 || e.PerWindow != 100 || e.DurationMS <= 0 {
		t.Errorf("estimate %+v, want 6 contacts (one merged away), 2 list pages, at 100 per 10s", e)
	}

	// Nothing written anywhere.
	if len(hs.Requests()) == 0 {
		t.Fatal("the preview read nothing from HubSpot")
	}
	for _, r := range hs.Requests() {
		if !hubspotRead(r) {
			t.Errorf("HubSpot saw a write: %s %s", r.Method, r.Path)
		}
	}
	if n := len(up.Requests()); n != 0 {
		t.Errorf("Userpilot saw %d requests, want none", n)
	}
	if after := scanTable(t, db, table); !slices.Equal(before, after) {
		t.Errorf("the table changed:\nbefore %v\nafter  %v", before, after)
	}
	var text strings.Builder
	res.Preview.WriteText(&text)
	for _, want := range []string{"nothing was written", "match: linked -> HubSpot " + ann, "userpilot_plan", "TYPE_MISMATCH", "full sync estimate"} {
		if !strings.Contains(text.String(), want) {
			t.Errorf("text report lacks %q:\n%s", want, text.String())
		}
	}
}
