package userpilot_test

import (
	"context"
	"testing"

	"github.com/pilotsync/pilotsync/shared/userpilot"
	"github.com/pilotsync/pilotsync/shared/userpilot/userpilottest"
)

// cleared reports whether md holds no value for k: absent, or the empty
// string ClearEmptyString writes.
func cleared(md map[string]any, k string) bool {
	v, ok := md[k]
	return !ok || v == ""
}

// TestClearUnderBothNullBehaviours clears properties through every identify
// call against a sandbox where null removes a property and one where null
// is ignored. ClearEmptyString clears under both; ClearNull only where null
// removes (the ignored case is asserted too, so the sandbox option is known
// to model the failure the switch exists for).
func TestClearUnderBothNullBehaviours(t *testing.T) {
	for _, tt := range []struct {
		name        string
		nullIgnored bool
		mode        string
		wantCleared bool
	}{
		{"null removes, clear with null", false, userpilot.ClearNull, true},
		{"null removes, clear with empty string", false, userpilot.ClearEmptyString, true},
		{"null ignored, clear with empty string", true, userpilot.ClearEmptyString, true},
		{"null ignored, clear with null", true, userpilot.ClearNull, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			s := userpilottest.NewTestServer(t, userpilottest.Options{NullIgnored: tt.nullIgnored, JobDuration: -1})
			c := sandboxClient(t, s, userpilot.WithClearValue(tt.mode))
			ctx := context.Background()
			set := map[string]any{"plan": "pro", "seats": 3}
			clear := map[string]any{"plan": nil, "seats": (*int)(nil)}
			must := func(err error) {
				t.Helper()
				if err != nil {
					t.Fatal(err)
				}
			}
			must(c.IdentifyUser(ctx, userpilot.User{UserID: "u1", Metadata: set}))
			must(c.IdentifyCompany(ctx, userpilot.Company{CompanyID: "c1", Metadata: set}))
			_, err := c.BulkIdentifyUsers(ctx, []userpilot.User{{UserID: "u2", Metadata: set}})
			must(err)
			_, err = c.BulkIdentifyCompanies(ctx, []userpilot.Company{{CompanyID: "c2", Metadata: set}})
			must(err)

			must(c.IdentifyUser(ctx, userpilot.User{UserID: "u1", Metadata: clear}))
			must(c.IdentifyCompany(ctx, userpilot.Company{CompanyID: "c1", Metadata: clear}))
			_, err = c.BulkIdentifyUsers(ctx, []userpilot.User{{UserID: "u2", Metadata: clear}})
			must(err)
			_, err = c.BulkIdentifyCompanies(ctx, []userpilot.Company{{CompanyID: "c2", Metadata: clear}})
			must(err)

			u1, _ := s.User("u1")
			u2, _ := s.User("u2")
			c1, _ := s.Company("c1")
			c2, _ := s.Company("c2")
			for name, md := range map[string]map[string]any{"identify": u1.Metadata, "bulk users": u2.Metadata, "companies identify": c1.Metadata, "bulk companies": c2.Metadata} {
				for _, k := range []string{"plan", "seats"} {
					if got := cleared(md, k); got != tt.wantCleared {
						t.Errorf("%s: %s = %v (cleared %v), want cleared %v", name, k, md[k], got, tt.wantCleared)
					}
				}
			}
		})
	}
}

// TestClearValueOnTheWire checks the bodies: ClearEmptyString sends "" for
// identify values and keeps null in track events.
func TestClearValueOnTheWire(t *testing.T) {
	s := userpilottest.NewTestServer(t, userpilottest.Options{JobDuration: -1})
	c := sandboxClient(t, s, userpilot.WithClearValue(userpilot.ClearEmptyString))
	ctx := context.Background()
	if err := c.IdentifyUser(ctx, userpilot.User{UserID: "u1", Metadata: map[string]any{"gone": nil}}); err != nil {
		t.Fatal(err)
	}
	if err := c.Track(ctx, userpilot.Event{UserID: "u1", Name: "e", Metadata: map[string]any{"none": nil}}); err != nil {
		t.Fatal(err)
	}
	reqs := s.Requests()
	if len(reqs) != 2 {
		t.Fatalf("%d requests, want 2", len(reqs))
	}
	if got, want := string(reqs[0].Body), `{"metadata":{"gone":""},"user_id":"u1"}`; got != want {
		t.Errorf("identify body %s, want %s", got, want)
	}
	if got, want := string(reqs[1].Body), `{"event_name":"e","metadata":{"none":null},"user_id":"u1"}`; got != want {
		t.Errorf("track body %s, want %s", got, want)
	}
	if _, err := userpilot.NewClient(testKey, userpilot.WithClearValue("nil")); err == nil {
		t.Error(`WithClearValue("nil"): want error`)
	}
}
