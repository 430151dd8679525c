package outbound

import (
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pilotsync/pilotsync/shared/hubspot"
	"github.com/pilotsync/pilotsync/shared/hubspot/hubspottest"
	"github.com/pilotsync/pilotsync/shared/identity"
	"github.com/pilotsync/pilotsync/shared/store"
)

// duringUpdate runs hook once, before the first batch update request is
// sent: what an identify event does to the profile while the push waits
// for HubSpot.
type duringUpdate struct {
	once sync.Once
	hook func()
}

func (d *duringUpdate) RoundTrip(req *http.Request) (*http.Response, error) {
	if strings.HasSuffix(req.URL.Path, "/batch/update") {
		d.once.Do(d.hook)
	}
	return http.DefaultTransport.RoundTrip(req)
}

// TestPushSaveKeepsAConcurrentChange: a profile changed while its values
// were being sent (the save meets a version conflict) is read again and the
// push's outcome applied to the fresh copy: the new value is kept and stays
// dirty for the next push, and what was sent is recorded as sent.
func TestPushSaveKeepsAConcurrentChange(t *testing.T) {
	r := newRig(t)
	t0 := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	hook := &duringUpdate{hook: func() {
		_, err := r.st.MergeIdentify(t.Context(), env, store.KindUser, "a", store.IdentifyInput{
			Properties: map[string]any{"plan": "enterprise"}, At: t0.Add(time.Minute), Outbound: []string{"plan"}})
		if err != nil {
			t.Errorf("concurrent identify: %v", err)
		}
	}}
	hc, err := hubspot.NewClient(hubspot.WithBaseURL(r.hs.URL), hubspot.WithToken(hubspottest.DefaultToken), hubspot.WithLogger(slog.New(slog.DiscardHandler)),
		hubspot.WithLimits(hubspot.Limits{PerWindow: 1_000_000, Window: time.Second, SearchPerSecond: 1_000_000}),
		hubspot.WithHTTPClient(&http.Client{Transport: hook}))
	if err != nil {
		t.Fatal(err)
	}
	r.push, err = New(r.st, hc, r.linker, Config{Env: env, Objects: []Object{{Kind: store.KindUser, HubSpotObject: "contacts",
		Mappings: []Mapping{{Userpilot: "plan", HubSpot: "userpilot_plan"}}}}}, WithLogger(slog.New(slog.DiscardHandler)))
	if err != nil {
		t.Fatal(err)
	}
	r.put(&store.Profile{ID: "a", MatchValue: "a@example.com", HubSpotID: r.ids[0], HubSpotObject: "contacts", Properties: planProp("pro", t0)})

	rep := r.run()
	if rep.Status != StatusComplete || rep.Totals.Sent != 1 {
		t.Fatalf("report %s %q %+v, want complete with one sent", rep.Status, rep.Error, rep.Totals)
	}
	// One dirty read, one re-read after the conflict; two writes.
	if rep.Totals.StoreReads != 2 || rep.Totals.StoreWrites != 2 {
		t.Errorf("store reads %d writes %d, want 2 and 2 (the conflict's re-read and second write counted)", rep.Totals.StoreReads, rep.Totals.StoreWrites)
	}
	a := r.get("a")
	if a.Properties["plan"].Value != "enterprise" {
		t.Errorf("plan %v, want the concurrent identify's enterprise kept", a.Properties["plan"].Value)
	}
	if a.OutboundHashes["userpilot_plan"] != identity.ValueHash("pro") || !a.OutboundAt["userpilot_plan"].Equal(t0) {
		t.Errorf("sent marks %v %v, want pro at t0 recorded", a.OutboundHashes, a.OutboundAt)
	}
	if !a.Dirty {
		t.Error("not dirty: the concurrent change would never be sent")
	}
	r.run()
	if v := r.hubspot(r.ids[0])["userpilot_plan"]; v != "enterprise" {
		t.Errorf("HubSpot holds %q after the next push, want enterprise", v)
	}
}
