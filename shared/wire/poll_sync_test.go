package wire

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/pilotsync/pilotsync/shared/config"
	"github.com/pilotsync/pilotsync/shared/handler"
	"github.com/pilotsync/pilotsync/shared/hubspot"
	"github.com/pilotsync/pilotsync/shared/hubspot/hubspottest"
	"github.com/pilotsync/pilotsync/shared/inbound"
	"github.com/pilotsync/pilotsync/shared/outbound"
	"github.com/pilotsync/pilotsync/shared/store"
	"github.com/pilotsync/pilotsync/shared/userpilot"
	"github.com/pilotsync/pilotsync/shared/userpilot/userpilottest"
)

const syncBothWaysConfig = `
mapping:
  users:
    inbound:
      - hubspot: firstname
        userpilot: first_name
    outbound:
      - userpilot: plan
        hubspot: userpilot_plan
  companies:
    enabled: false
`

// TestPollSyncBothWays: {"action":"sync"} through the handler built as the
// function builds it, over DynamoDB Local and the sandboxes, runs the full
// inbound sync and then the outbound push: HubSpot's first names reach
// Userpilot, Userpilot's plans reach HubSpot; progress is reported for both
// directions (records done of HubSpot's total, calls), and the JSON report
// carries both run records.
func TestPollSyncBothWays(t *testing.T) {
	ctx := context.Background()
	sb := newSandboxes(t, syncBothWaysConfig)
	cfg, st, hs, up := sb.cfg, sb.st, sb.hs, sb.up
	hs.CreateProperty("contacts", hubspottest.Property{Name: "userpilot_plan", Type: "string", FieldType: "text"})
	const n = 250 // three list pages
	ids := hs.SeedContacts(n, func(i int) hubspottest.SeedRecord {
		return hubspottest.SeedRecord{Properties: map[string]string{"email": email(i), "firstname": "First" + itoa(i)}, ModifiedAt: time.Now().Add(-time.Hour)}
	})
	env := config.DefaultEnvironment
	for i := range n {
		if _, err := st.MergeIdentify(ctx, env, store.KindUser, "u"+itoa(i), store.IdentifyInput{
			Properties: map[string]any{"email": email(i), "plan": "plan-" + itoa(i)}, At: time.Now().Add(-time.Minute),
			MatchProperty: "email", Outbound: []string{"plan"}}); err != nil {
			t.Fatal(err)
		}
	}
	hsc, err := hubspot.NewClient(hubspot.WithBaseURL(hs.URL), hubspot.WithToken(hubspottest.DefaultToken), hubspot.WithLogger(previewLog),
		hubspot.WithLimits(hubspot.Limits{PerWindow: 1_000_000, Window: time.Second, SearchPerSecond: 1_000_000}))
	if err != nil {
		t.Fatal(err)
	}
	upc, err := userpilot.NewClient(userpilottest.DefaultAPIKey, userpilot.WithBaseURL(up.URL), userpilot.WithLogger(previewLog),
		userpilot.WithRateLimit(1_000_000, time.Second), userpilot.WithJobPolling(time.Millisecond, 5*time.Millisecond, time.Second))
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var progress []handler.Progress
	h, err := NewPoll(&Deps{Config: cfg, Store: st, HubSpot: hsc, Userpilot: upc, Log: previewLog}, handler.WithPollProgress(func(p handler.Progress) {
		mu.Lock()
		progress = append(progress, p)
		mu.Unlock()
	}))
	if err != nil {
		t.Fatal(err)
	}
	res, err := h.Handle(ctx, handler.PollInput{Action: handler.PollActionSync})
	if err != nil {
		t.Fatal(err)
	}
	if res.Status != inbound.StatusComplete || res.Inbound == nil || res.Inbound.Mode != inbound.ModeFull || res.Inbound.Totals.Written != n {
		t.Fatalf("sync inbound %+v", res.Inbound)
	}
	if res.Outbound == nil || res.Outbound.Status != outbound.StatusComplete || res.Outbound.Totals.Sent != n || res.Counts["outbound.sent"] != n {
		t.Fatalf("sync outbound %+v", res.Outbound)
	}
	for _, i := range []int{0, 137, n - 1} {
		if u, ok := up.User("u" + itoa(i)); !ok || u.Metadata["first_name"] != "First"+itoa(i) {
			t.Errorf("userpilot u%d = %+v, want first_name First%d", i, u, i)
		}
		if r, ok := hs.Record("contacts", ids[i]); !ok || r.Properties["userpilot_plan"] != "plan-"+itoa(i) {
			t.Errorf("hubspot %s = %+v, want userpilot_plan plan-%d", ids[i], r.Properties, i)
		}
	}
	var in, out []handler.Progress
	for _, p := range progress {
		switch p.Direction {
		case handler.DirectionInbound:
			in = append(in, p)
		case handler.DirectionOutbound:
			out = append(out, p)
		}
	}
	if len(in) != 3 || in[2].Done != n || in[2].Total != n || in[0].Done != 100 || in[2].Calls <= in[0].Calls {
		t.Errorf("inbound progress %+v, want 3 pages up to %d of %d with growing calls", in, n, n)
	}
	if len(out) == 0 || out[len(out)-1].Done != n || out[len(out)-1].Sent != n || out[len(out)-1].Calls == 0 {
		t.Errorf("outbound progress %+v, want %d done and sent", out, n)
	}
	// A deployed manual invocation answers the same report as JSON.
	b, err := json.Marshal(res)
	if err != nil {
		t.Fatal(err)
	}
	var back map[string]any
	if err := json.Unmarshal(b, &back); err != nil || back["inbound"] == nil || back["outbound"] == nil || back["action"] != "sync" {
		t.Errorf("report JSON %s", b)
	}
}

func email(i int) string { return "user" + itoa(i) + "@example.com" }

func itoa(i int) string { return fmt.Sprint(i) }
