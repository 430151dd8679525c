package handler

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/pilotsync/pilotsync/shared/config"
	"github.com/pilotsync/pilotsync/shared/hubspot/hubspottest"
	"github.com/pilotsync/pilotsync/shared/measured"
	"github.com/pilotsync/pilotsync/shared/store"
)

// watchedStore records every profile id the daily job reads for linking
// (each page's ids, once per page processed).
type watchedStore struct {
	*store.Store
	mu   sync.Mutex
	seen map[string]int
}

func (w *watchedStore) GetProfiles(ctx context.Context, env string, kind store.Kind, ids []string) (map[string]*store.Profile, error) {
	w.mu.Lock()
	for _, id := range ids {
		w.seen[string(kind)+"/"+id]++
	}
	w.mu.Unlock()
	return w.Store.GetProfiles(ctx, env, kind, ids)
}

// TestMeasuredResumesAcrossInvocations: a pass over many profiles with a
// small time budget stops at checkpoints and is finished by follow-up
// invocations ({"action":"continue"}), processing every profile exactly
// once. 20,000 profiles here; 200,000 with PILOTSYNC_SOAK=1 (make soak).
func TestMeasuredResumesAcrossInvocations(t *testing.T) {
	t.Parallel()
	n := 20_000
	if os.Getenv("PILOTSYNC_SOAK") != "" {
		n = 200_000
	}
	const linkedEvery = 100 // every 100th user has a profile and a HubSpot contact
	r := newMeasuredRig(t, 30)
	at := time.Now().UTC().Truncate(time.Second)
	day := at.Format(time.DateOnly)
	t0 := time.Now()
	userIDs, _ := r.seedPeople(n/linkedEvery, 0)
	sums := make([]*store.ActivitySummary, 0, n)
	for i := range n {
		id := fmt.Sprintf("x%d", i) // never identified: no profile
		if i%linkedEvery == 0 {
			id = fmt.Sprintf("u%d", i/linkedEvery) // the seeded contacts u0..u(n/100-1)
		}
		ms := at.Add(-time.Duration(i%3600) * time.Second).UnixMilli()
		sums = append(sums, &store.ActivitySummary{Env: config.EnvProduction, Kind: store.KindUser, ID: id,
			Days:    map[string]*store.DaySummary{day: {Events: int64(1 + i%7), Active: int64(1 + i%7), Sessions: 1, TimeMs: 60_000, FirstMs: ms, LastMs: ms}},
			Context: map[string]store.ContextValue{store.ContextCountryCode: {Value: "DE", AtMs: ms}}})
	}
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for chunk := range slices.Chunk(sums, (n+7)/8) {
		wg.Go(func() { errs <- r.st.PutActivitySummaries(r.ctx, config.EnvProduction, chunk) })
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	t.Logf("seeded %d summaries in %v", n, time.Since(t0))

	ws := &watchedStore{Store: r.st, seen: map[string]int{}}
	budget := time.Second
	if n > 20_000 {
		budget = 5 * time.Second
	}
	invocations := 0
	in := MeasuredInput{Source: "aws.events", DetailType: "Scheduled Event", Time: at}
	var total int64
	for {
		invocations++
		if invocations > 1000 {
			t.Fatal("the pass never completed")
		}
		res, err := r.handler(at, budget, ws).Handle(r.ctx, in)
		if err != nil {
			t.Fatalf("invocation %d: %v", invocations, err)
		}
		total += res.Counts[measured.CountConsidered]
		if res.Status == measured.StatusComplete {
			break
		}
		if res.Status != measured.StatusIncomplete {
			t.Fatalf("invocation %d: status %q", invocations, res.Status)
		}
		in = MeasuredInput{Action: MeasuredActionContinue}
	}
	t.Logf("%d invocations, %v", invocations, time.Since(t0))
	if invocations < 3 {
		t.Errorf("finished in %d invocations; the budget should have split the pass", invocations)
	}
	if total != int64(n) {
		t.Errorf("considered %d summaries over the invocations, want %d", total, n)
	}
	for _, s := range sums {
		if got := ws.seen["user/"+s.ID]; got != 1 {
			t.Fatalf("user %s processed %d times, want once", s.ID, got)
		}
	}
	if len(ws.seen) != n {
		t.Errorf("processed %d profiles, want %d", len(ws.seen), n)
	}
	// Every linked profile was sent exactly once, with its value.
	sentTo := map[string]int{}
	for _, req := range r.hs.RequestsTo(hubspottest.EndpointBatchUpdate) {
		var body struct {
			Inputs []struct {
				ID string `json:"id"`
			} `json:"inputs"`
		}
		if err := json.Unmarshal(req.Body, &body); err != nil {
			t.Fatal(err)
		}
		for _, in := range body.Inputs {
			sentTo[in.ID]++
		}
	}
	for id, hsID := range userIDs {
		if sentTo[hsID] != 1 {
			t.Errorf("contact of %s updated %d times, want once", id, sentTo[hsID])
		}
		if rec, _ := r.hs.Record("contacts", hsID); rec.Properties["up_country"] != "DE" || rec.Properties["up_sessions"] != "1" {
			t.Errorf("contact of %s holds %v", id, rec.Properties)
		}
	}
	// A follow-up after the pass is complete does nothing, cheaply: the
	// template's follow-up schedule sends it every 15 minutes all day.
	hsBefore := len(r.hs.Requests())
	res, err := r.handler(at, budget, ws).Handle(r.ctx, MeasuredInput{Action: MeasuredActionContinue})
	if err != nil || res.Status != measured.StatusIdle {
		t.Errorf("continue after completion: %v %v, want idle", res.Status, err)
	}
	if n := len(r.hs.Requests()) - hsBefore; n != 0 {
		t.Errorf("idle continue made %d HubSpot requests, want none", n)
	}
	if got := res.Counts[measured.CountStoreReads]; got > 1 {
		t.Errorf("idle continue read %d store items, want at most the checkpoint", got)
	}
}
