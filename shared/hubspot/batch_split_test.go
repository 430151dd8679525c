package hubspot_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/pilotsync/pilotsync/shared/hubspot"
	"github.com/pilotsync/pilotsync/shared/hubspot/hubspottest"
)

// TestSandboxBatchUpdateWhole400Cost: when HubSpot rejects a whole batch (400), finding the
// bad records must not cost a request per record (each 400 counts against the 5% error
// budget): a property that does not exist or is read-only fails every record setting it at
// once, records not setting a property the error names are resent together, and only the
// suspects are split.
func TestSandboxBatchUpdateWhole400Cost(t *testing.T) {
	tests := []struct {
		name      string
		props     func(i int) map[string]string
		wantBad   map[int]string // input index -> failing property
		maxCalls  int
		maxErrors int
	}{
		{
			name:  "deleted property on every record",
			props: func(i int) map[string]string { return map[string]string{"score": fmt.Sprint(i), "gone": "x"} },
			wantBad: func() map[int]string {
				m := map[int]string{}
				for i := range 100 {
					m[i] = "gone"
				}
				return m
			}(),
			maxCalls: 1, maxErrors: 1,
		},
		{
			name: "read-only property on a few records",
			props: func(i int) map[string]string {
				p := map[string]string{"score": fmt.Sprint(i)}
				if i%10 == 3 {
					p["locked"] = "x"
				}
				return p
			},
			wantBad:  map[int]string{3: "locked", 13: "locked", 23: "locked", 33: "locked", 43: "locked", 53: "locked", 63: "locked", 73: "locked", 83: "locked", 93: "locked"},
			maxCalls: 2, maxErrors: 1,
		},
		{
			name: "one bad value among the few records setting that property",
			props: func(i int) map[string]string {
				p := map[string]string{"score": fmt.Sprint(i)}
				if i%10 == 7 {
					p["flag"] = "true"
					if i == 47 {
						p["flag"] = "maybe"
					}
				}
				return p
			},
			wantBad:  map[int]string{47: "flag"},
			maxCalls: 10, maxErrors: 6, // 400s: the 100, the 10 suspects, a binary search of 10
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			sb := hubspottest.NewTestServer(t, fast(hubspottest.Options{BatchUpdateInvalid: hubspottest.InvalidWhole400}))
			sb.CreateProperty("contacts", hubspottest.Property{Name: "score", Label: "Score", Type: "number", FieldType: "number"})
			sb.CreateProperty("contacts", hubspottest.Property{Name: "flag", Label: "Flag", Type: "bool", FieldType: "booleancheckbox"})
			sb.CreateProperty("contacts", hubspottest.Property{Name: "locked", Label: "Locked", Type: "string", FieldType: "text", ReadOnlyValue: true})
			ids := sb.SeedContacts(100, nil)
			c := newClient(t, sb, hubspot.WithLimits(fastLimits))
			var in []hubspot.UpdateInput
			for i, id := range ids {
				in = append(in, hubspot.UpdateInput{ID: id, Properties: tc.props(i)})
			}
			res, err := c.BatchUpdate(context.Background(), "contacts", in)
			if err != nil {
				t.Fatal(err)
			}
			failed := map[string]hubspot.RecordError{}
			for _, f := range res.Failed {
				failed[f.ID] = f
			}
			for i, prop := range tc.wantBad {
				if f, ok := failed[ids[i]]; !ok || f.Property != prop || f.Retryable {
					t.Errorf("record %d: failure %+v, want property %q, not retryable", i, f, prop)
				}
			}
			if got, want := len(res.Failed), len(tc.wantBad); got != want {
				t.Errorf("failed %d, want %d: %+v", got, want, res.Failed)
			}
			if got, want := len(res.Updated), 100-len(tc.wantBad); got != want {
				t.Errorf("updated %d, want %d", got, want)
			}
			for i, id := range ids {
				if _, bad := tc.wantBad[i]; bad {
					continue
				}
				if r, _ := sb.Record("contacts", id); r.Properties["score"] != fmt.Sprint(i) {
					t.Errorf("record %d not written: %v", i, r.Properties)
				}
			}
			calls, errs := sb.Count(hubspottest.EndpointBatchUpdate), sb.StatusCount(400)
			t.Logf("%d batch update calls, %d of them 400", calls, errs)
			if calls > tc.maxCalls+1 || errs > tc.maxErrors {
				t.Errorf("%d calls (%d answered 400), want <= %d (<= %d 400s)", calls, errs, tc.maxCalls+1, tc.maxErrors)
			}
		})
	}
}
