package hubspot_test

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"testing"

	"github.com/pilotsync/pilotsync/shared/hubspot"
	"github.com/pilotsync/pilotsync/shared/hubspot/hubspottest"
)

// partition checks that every input id ends in exactly one of Updated and Failed.
func partition(t *testing.T, in []hubspot.UpdateInput, res *hubspot.BatchUpdateResult) {
	t.Helper()
	seen := map[string]int{}
	for _, r := range res.Updated {
		seen[r.ID]++
	}
	for _, f := range res.Failed {
		seen[f.ID]++
	}
	for _, u := range in {
		if seen[u.ID] != 1 {
			t.Errorf("record %s is in %d of updated/failed, want exactly 1", u.ID, seen[u.ID])
		}
	}
}

// TestSandboxBatchUpdateTraceIDs: with HubSpot's default behaviour the client's trace ids
// make one call enough: HubSpot answers 207 naming the bad inputs by objectWriteTraceId, the
// good ones are written, and nothing is bisected.
func TestSandboxBatchUpdateTraceIDs(t *testing.T) {
	sb := hubspottest.NewTestServer(t, fast(hubspottest.Options{}))
	sb.CreateProperty("contacts", hubspottest.Property{Name: "score", Label: "Score", Type: "number", FieldType: "number"})
	ids := sb.SeedContacts(10, nil)
	c := newClient(t, sb, hubspot.WithLimits(fastLimits))
	var in []hubspot.UpdateInput
	for i, id := range ids {
		in = append(in, hubspot.UpdateInput{ID: id, Properties: map[string]string{"score": fmt.Sprint(i)}})
	}
	in[4].Properties["score"] = "four"
	in = append(in, hubspot.UpdateInput{ID: "999999", Properties: map[string]string{"score": "1"}})
	res, err := c.BatchUpdate(context.Background(), "contacts", in)
	if err != nil {
		t.Fatal(err)
	}
	partition(t, in, res)
	failed := map[string]string{}
	for _, f := range res.Failed {
		failed[f.ID] = f.Category
	}
	if want := map[string]string{ids[4]: "VALIDATION_ERROR", "999999": "OBJECT_NOT_FOUND"}; !maps.Equal(failed, want) {
		t.Errorf("failed = %v, want %v", failed, want)
	}
	for i, id := range ids {
		if i == 4 {
			continue
		}
		if r, _ := sb.Record("contacts", id); r.Properties["score"] != fmt.Sprint(i) {
			t.Errorf("record %d = %v, want score %d", i, r.Properties, i)
		}
	}
	if calls, bad := sb.Count(hubspottest.EndpointBatchUpdate), sb.StatusCount(400); calls != 1 || bad != 0 {
		t.Errorf("%d batch update calls, %d 400s; want 1 and 0 (the 207 names the bad inputs)", calls, bad)
	}
}

// TestSandboxBatchUpdateRepeatedIDLeavesOthersAlone: merging the inputs of one id must not
// move any value onto another record (issue 14: a dropped continue wrote the last contact's
// values onto the first).
func TestSandboxBatchUpdateRepeatedIDLeavesOthersAlone(t *testing.T) {
	sb := hubspottest.NewTestServer(t, fast(hubspottest.Options{}))
	sb.CreateProperty("contacts", hubspottest.Property{Name: "score", Label: "Score", Type: "number", FieldType: "number"})
	ids := sb.SeedContacts(5, nil)
	c := newClient(t, sb, hubspot.WithLimits(fastLimits))
	want := make([]map[string]string, len(ids))
	var in []hubspot.UpdateInput
	for i, id := range ids {
		p := map[string]string{"score": fmt.Sprint(10 + i), "firstname": fmt.Sprint("name-", i)}
		if i == len(ids)-1 {
			p["lastname"] = "last-only"
		}
		seeded, _ := sb.Record("contacts", id)
		want[i] = maps.Clone(seeded.Properties)
		maps.Copy(want[i], p)
		in = append(in, hubspot.UpdateInput{ID: id, Properties: p})
	}
	in = append(in, hubspot.UpdateInput{ID: ids[2], Properties: map[string]string{"score": "99", "lastname": "merged"}})
	want[2]["score"], want[2]["lastname"] = "99", "merged"
	res, err := c.BatchUpdate(context.Background(), "contacts", in)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Updated) != len(ids) || len(res.Failed) != 0 {
		t.Fatalf("updated %d, failed %+v; want %d and none", len(res.Updated), res.Failed, len(ids))
	}
	for i, id := range ids {
		r, _ := sb.Record("contacts", id)
		for _, k := range []string{"score", "firstname", "lastname"} {
			if got := r.Properties[k]; got != want[i][k] {
				t.Errorf("record %d %s = %q, want %q", i, k, got, want[i][k])
			}
		}
	}
	if n := len(sb.RequestsTo(hubspottest.EndpointBatchUpdate)); n != 1 {
		t.Errorf("%d batch update calls, want 1", n)
	}
}

// TestSandboxBatchUpdateNarrowedByNamedProperties: on a whole-batch 400 (the fallback when
// HubSpot ignores trace ids), the records that set none of the named properties are resent
// and written, and every record ends in exactly one of updated and failed.
func TestSandboxBatchUpdateNarrowedByNamedProperties(t *testing.T) {
	tests := []struct {
		name    string
		props   func(i int) map[string]string
		wantBad []int
	}{
		{"one suspect among innocents", func(i int) map[string]string {
			p := map[string]string{"score": fmt.Sprint(i)}
			if i == 3 {
				p["flag"] = "maybe"
			}
			return p
		}, []int{3}},
		{"a missing property on some, the rest innocent", func(i int) map[string]string {
			p := map[string]string{"score": fmt.Sprint(i)}
			if i%4 == 1 {
				p["gone"] = "x"
			}
			return p
		}, []int{1, 5}},
		{"every record sets the named property: bisection", func(i int) map[string]string {
			p := map[string]string{"score": fmt.Sprint(i), "flag": "true"}
			if i == 6 {
				p["flag"] = "maybe"
			}
			return p
		}, []int{6}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			sb := hubspottest.NewTestServer(t, fast(hubspottest.Options{BatchUpdateInvalid: hubspottest.InvalidWhole400}))
			sb.CreateProperty("contacts", hubspottest.Property{Name: "score", Label: "Score", Type: "number", FieldType: "number"})
			sb.CreateProperty("contacts", hubspottest.Property{Name: "flag", Label: "Flag", Type: "bool", FieldType: "booleancheckbox"})
			ids := sb.SeedContacts(8, nil)
			c := newClient(t, sb, hubspot.WithLimits(fastLimits))
			var in []hubspot.UpdateInput
			for i, id := range ids {
				in = append(in, hubspot.UpdateInput{ID: id, Properties: tc.props(i)})
			}
			res, err := c.BatchUpdate(context.Background(), "contacts", in)
			if err != nil {
				t.Fatal(err)
			}
			partition(t, in, res)
			var bad []int
			for i, id := range ids {
				if slices.ContainsFunc(res.Failed, func(f hubspot.RecordError) bool { return f.ID == id }) {
					bad = append(bad, i)
					continue
				}
				if r, _ := sb.Record("contacts", id); r.Properties["score"] != fmt.Sprint(i) {
					t.Errorf("record %d = %v, want score %d written", i, r.Properties, i)
				}
			}
			if !slices.Equal(bad, tc.wantBad) {
				t.Errorf("failed records %v, want %v", bad, tc.wantBad)
			}
		})
	}
}

// TestSandboxTimelineItemErrors: a batch answer listing events in errors[] wrote the others;
// the listed ones come back by index, refused for good (validation), with HubSpot's reason.
func TestSandboxTimelineItemErrors(t *testing.T) {
	for _, app := range []bool{false, true} {
		t.Run(fmt.Sprint("app=", app), func(t *testing.T) {
			sb := hubspottest.NewTestServer(t, fast(hubspottest.Options{TimelineItemErrors: true, AppEventsAllowStaticToken: true}))
			ids := sb.SeedContacts(3, nil)
			c := newClient(t, sb, hubspot.WithLimits(fastLimits))
			objects := []string{ids[0], ids[1], "999999", ids[2]}
			var err error
			var kept func() []hubspottest.TimelineEvent
			if app {
				var evs []hubspot.AppEvent
				for i, o := range objects {
					evs = append(evs, hubspot.AppEvent{EventTypeName: "ae_flow", ObjectID: o, ID: fmt.Sprint("e", i)})
				}
				err, kept = c.SendAppEvents(context.Background(), evs), sb.AppEvents
			} else {
				var evs []hubspot.TimelineEvent
				for i, o := range objects {
					evs = append(evs, hubspot.TimelineEvent{TemplateID: "1001", ObjectID: o, ID: fmt.Sprint("e", i)})
				}
				err, kept = c.SendTimelineEvents(context.Background(), evs), sb.TimelineEvents
			}
			var ie *hubspot.ItemsError
			if !errors.As(err, &ie) {
				t.Fatalf("err = %v, want an *ItemsError", err)
			}
			if len(ie.Items) != 1 || ie.Items[0].Index != 2 || ie.Items[0].ID != "e2" || ie.Items[0].Retryable || ie.Items[0].Category != "VALIDATION_ERROR" || ie.Items[0].Message == "" {
				t.Errorf("items = %+v, want event 2 (e2) refused for validation with a reason", ie.Items)
			}
			if got := len(kept()); got != 3 {
				t.Errorf("sandbox kept %d events, want the 3 valid ones", got)
			}
		})
	}
}
