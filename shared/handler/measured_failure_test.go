package handler

import (
	"context"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pilotsync/pilotsync/shared/config"
	"github.com/pilotsync/pilotsync/shared/hubspot"
	"github.com/pilotsync/pilotsync/shared/hubspot/hubspottest"
	"github.com/pilotsync/pilotsync/shared/identity/linker"
	"github.com/pilotsync/pilotsync/shared/measured"
	"github.com/pilotsync/pilotsync/shared/notify"
	"github.com/pilotsync/pilotsync/shared/store"
)

// refusingHubSpot passes calls to the sandbox client but refuses, as HubSpot
// answers a 207 for an invalid value, the sessions value of chosen records.
type refusingHubSpot struct {
	*hubspot.Client
	refuse map[string]bool
}

func (h refusingHubSpot) BatchUpdate(ctx context.Context, obj string, in []hubspot.UpdateInput) (*hubspot.BatchUpdateResult, error) {
	var pass []hubspot.UpdateInput
	var failed []hubspot.RecordError
	for _, u := range in {
		if _, sets := u.Properties["up_sessions"]; sets && h.refuse[u.ID] {
			failed = append(failed, hubspot.RecordError{ID: u.ID, Category: "VALIDATION_ERROR", Property: "up_sessions", Message: "refused"})
			continue
		}
		pass = append(pass, u)
	}
	res, err := h.Client.BatchUpdate(ctx, obj, pass)
	if res != nil {
		res.Failed = append(res.Failed, failed...)
	}
	return res, err
}

// problemLog is a MeasuredNotifier that keeps what it was told.
type problemLog struct {
	mu       sync.Mutex
	problems []notify.Problem
	resolved []string
}

func (p *problemLog) Problem(_ context.Context, _ string, pb notify.Problem) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.problems = append(p.problems, pb)
	return nil
}

func (p *problemLog) Resolved(_ context.Context, _, key string) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.resolved = append(p.resolved, key)
	return nil
}

// TestMeasuredFailures: values HubSpot refuses for good are quarantined with
// the reason and reported in one email per property and reason, the rest of
// each record is sent on the next run and the refused value is not sent
// again; a user whose contact was deleted is unmatched; a mistyped target is
// reported once and skipped.
func TestMeasuredFailures(t *testing.T) {
	t.Parallel()
	const users = 60
	r := newMeasuredRig(t, 30)
	// up_device is mistyped: a number property cannot hold a device type.
	r.hs.CreateProperty("contacts", hubspottest.Property{Name: "up_device", Type: "number", FieldType: "number"})
	userIDs, _ := r.seedPeople(users, 3)
	at := time.Now().UTC().Truncate(time.Second)
	rng := rand.New(rand.NewPCG(5, 5))
	var evs []genEvent
	for i := range users {
		for e := range 3 {
			evs = append(evs, genEvent{id: fmt.Sprintf("f%d-%d", i, e), user: fmt.Sprintf("u%d", i), company: fmt.Sprintf("c%d", i%3),
				at: at.Add(-time.Duration(i+1)*time.Hour + time.Duration(e)*time.Minute), ctx: genCtx(rng)})
		}
	}
	r.record(rng, evs)
	refuse := map[string]bool{}
	for i := range 5 { // 5 of 60 refuse the sessions value
		refuse[userIDs[fmt.Sprintf("u%d", i*7)]] = true
	}
	archived := userIDs["u59"]
	r.hs.Archive("contacts", archived)

	lk, err := linker.New(linker.Options{Env: config.EnvProduction, Store: r.st, HubSpot: r.hc,
		Objects: linker.ObjectsFromConfig(r.cfg), Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	eng := measured.New(r.st, refusingHubSpot{r.hc, refuse}, lk, nil, measured.Options{Env: config.EnvProduction,
		PeriodDays: 30, Targets: measured.TargetsFrom(r.cfg), Log: slog.New(slog.DiscardHandler)})
	notes := &problemLog{}
	h := NewMeasured(r.cfg, eng, slog.New(slog.DiscardHandler)).WithNotifier(notes)
	h.now = func() time.Time { return at }

	res, err := h.Handle(r.ctx, MeasuredInput{Action: "measure"})
	if err != nil {
		t.Fatal(err)
	}
	c := res.Counts
	if c[measured.CountQuarantined] != 5 {
		t.Errorf("quarantined %d values, want 5 (counts %v)", c[measured.CountQuarantined], c)
	}
	var refusedMails, typeMails int
	for _, p := range notes.problems {
		switch {
		case strings.Contains(p.Key, "VALIDATION_ERROR/up_sessions"):
			refusedMails++
			if p.Count != 5 || !strings.Contains(p.Detail, "refused") {
				t.Errorf("refusal problem %+v: want 5 records and HubSpot's reason", p)
			}
		case strings.Contains(p.Key, "property/up_device"):
			typeMails++
			if !strings.Contains(p.Detail, "has type number, but metric device_type needs string") {
				t.Errorf("type problem detail %q", p.Detail)
			}
		}
	}
	if refusedMails != 1 || typeMails != 1 {
		t.Errorf("problems %+v: want one for the refusals and one for the mistyped property", notes.problems)
	}
	if c[measured.CountUnmatched] != 1 {
		t.Errorf("the user whose contact was deleted: want 1 unmatched (the linker finds no record), counts %v", c)
	}
	for id, hsID := range userIDs {
		rec, _ := r.hs.Record("contacts", hsID)
		_, hasDevice := rec.Properties["up_device"]
		switch {
		case hasDevice:
			t.Errorf("%s: the mistyped up_device was written", id)
		case hsID == archived:
		case refuse[hsID] && rec.Properties["up_events"] != "":
			t.Errorf("%s: a refused record got values %v", id, rec.Properties)
		case !refuse[hsID] && rec.Properties["up_events"] != "3":
			t.Errorf("%s: up_events = %q, want 3", id, rec.Properties["up_events"])
		}
	}

	// Next run: the refused records get their other values; the refused
	// sessions value is not sent again.
	before := len(r.hs.RequestsTo(hubspottest.EndpointBatchUpdate))
	res, err = h.Handle(r.ctx, MeasuredInput{Action: "measure"})
	if err != nil {
		t.Fatal(err)
	}
	for hsID := range refuse {
		rec, _ := r.hs.Record("contacts", hsID)
		if rec.Properties["up_events"] != "3" || rec.Properties["up_sessions"] != "" {
			t.Errorf("refused record %s after the second run: %v", hsID, rec.Properties)
		}
	}
	for _, req := range r.hs.RequestsTo(hubspottest.EndpointBatchUpdate)[before:] {
		inputs, err := req.BatchInputs()
		if err != nil {
			t.Fatal(err)
		}
		for id, props := range inputs {
			if _, ok := props["up_sessions"]; ok && refuse[id] {
				t.Errorf("the refused sessions value of %s was sent again", id)
			}
		}
	}
	if res.Counts[measured.CountQuarantined] != 0 {
		t.Errorf("second run quarantined %d", res.Counts[measured.CountQuarantined])
	}
}

func genCtx(rng *rand.Rand) store.ActivityContext {
	return store.ActivityContext{Hostname: "app.example.com", Pathname: "/p", CountryCode: []string{"DE", "FR"}[rng.IntN(2)], Browser: "Chrome"}
}
