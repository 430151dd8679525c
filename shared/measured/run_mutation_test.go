package measured

import (
	"context"
	"fmt"
	"maps"
	"testing"
	"time"

	"github.com/pilotsync/pilotsync/shared/config"
	"github.com/pilotsync/pilotsync/shared/hubspot/hubspottest"
	"github.com/pilotsync/pilotsync/shared/store"
)

// batchInputs returns the inputs of every batch update request since
// request number from: record id -> properties sent.
func batchInputs(t *testing.T, hs *hubspottest.Server, from int) []map[string]map[string]string {
	t.Helper()
	var out []map[string]map[string]string
	for _, req := range hs.RequestsTo(hubspottest.EndpointBatchUpdate)[from:] {
		m, err := req.BatchInputs()
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, m)
	}
	return out
}

// TestRunSendsTheMeasuredValues: a daily run computes every mapped metric
// of each profile active in the period and writes it, encoded for the
// property's type, to the linked HubSpot record, users to contacts and
// companies to companies; a profile HubSpot does not know, or activity
// without a profile, is counted and sends nothing; what was sent is
// recorded, so the next run sends nothing unchanged, then only what
// changed, and everything again to a record the profile is newly linked to.
func TestRunSendsTheMeasuredValues(t *testing.T) {
	r := newRig(t)
	var users []config.MeasuredMapping
	for _, m := range []struct{ metric, prop string }{
		{config.MetricSessions, "up_sessions"}, {config.MetricEvents, "up_events"}, {config.MetricActiveDays, "up_active_days"},
		{config.MetricTimeSpentSeconds, "up_time"}, {config.MetricFirstSeen, "up_first_seen"}, {config.MetricLastSeen, "up_last_seen"},
		{config.MetricLastSeenDate, "up_last_seen_date"}, {config.MetricCountryCode, "up_country"}, {config.MetricLastPage, "up_page"},
		{config.MetricBrowser, "up_browser"}, // never seen: never sent
	} {
		users = append(users, r.prop("contacts", m.prop, m.metric))
	}
	companies := []config.MeasuredMapping{r.prop("companies", "up_sessions", config.MetricSessions)}
	contacts := r.hs.SeedContacts(3, nil)
	cos := r.hs.AddRecords("companies", []hubspottest.SeedRecord{{Properties: map[string]string{"name": "acme"}}})
	r.person(store.KindUser, "u1", contacts[0], r.day, 2, 5, map[string]string{store.ContextCountryCode: "DE", store.ContextPage: "app.example.com/x"})
	r.person(store.KindUser, "u2", "-", r.day, 1, 1, nil) // HubSpot does not know them
	r.person(store.KindUser, "x1", "", r.day, 1, 1, nil)  // never identified
	r.person(store.KindCompany, "acme", cos[0], r.day, 3, 7, nil)
	targets := []Target{{Kind: store.KindUser, Object: "contacts", Mappings: users}, {Kind: store.KindCompany, Object: "companies", Mappings: companies}}
	e := r.engine(targets, Options{}, nil)

	rep, err := e.Run(t.Context(), r.at, ModeStart)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Status != StatusComplete || rep.Pass == "" || rep.Period != PeriodOf(r.at, 7) {
		t.Fatalf("report %s pass %q period %+v", rep.Status, rep.Pass, rep.Period)
	}
	ms := func(h, m int) string {
		d, _ := time.Parse(time.DateOnly, r.day)
		return d.Add(time.Duration(h)*time.Hour + time.Duration(m)*time.Minute).Format("2006-01-02T15:04:05Z")
	}
	want := map[string]string{"up_sessions": "2", "up_events": "5", "up_active_days": "1", "up_time": "90",
		"up_first_seen": ms(10, 0), "up_last_seen": ms(10, 1), "up_last_seen_date": r.day, "up_country": "DE", "up_page": "app.example.com/x"}
	got := r.record("contacts", contacts[0])
	for k, v := range want {
		if got[k] != v {
			t.Errorf("contact of u1: %s = %q, want %q", k, got[k], v)
		}
	}
	if _, ok := got["up_browser"]; ok {
		t.Errorf("up_browser written (%q): a context never seen has no value", got["up_browser"])
	}
	for _, id := range contacts[1:] {
		if v := r.record("contacts", id)["up_sessions"]; v != "" {
			t.Errorf("contact %s got sessions %q", id, v)
		}
	}
	if v := r.record("companies", cos[0])["up_sessions"]; v != "3" {
		t.Errorf("company sessions %q, want 3", v)
	}
	wantCounts := map[string]int64{CountConsidered: 4, CountChanged: 2, CountSent: 2, CountValuesSent: 10, CountUnchanged: 0,
		CountUnmatched: 1, CountNoProfile: 1, CountPages: 2 * store.SummaryShards, CountHubSpotCalls: 4, CountQuarantined: 0, CountRetryLater: 0,
		// the two records' sent values, a checkpoint per page and the last
		CountStoreWrites: 2 + 2*store.SummaryShards + 1}
	// Reads: the checkpoint, a read per page (of its summaries, or one for
	// an empty page) and the profiles of each page's summaries.
	reads := int64(1)
	for _, ids := range [][]string{{"u1", "u2", "x1"}, {"acme"}} {
		per := map[int]int64{}
		for _, id := range ids {
			per[shardOf(id)]++
		}
		for shard := range store.SummaryShards {
			reads += max(per[shard], 1) + per[shard]
		}
	}
	wantCounts[CountStoreReads] = reads
	for k, v := range wantCounts {
		pass := v
		if k == CountStoreReads {
			pass-- // the pass's counts are its pages': the checkpoint read is the invocation's
		}
		if rep.Counts[k] != v || rep.PassCounts[k] != pass {
			t.Errorf("count %s = %d (pass %d), want %d (%d)", k, rep.Counts[k], rep.PassCounts[k], v, pass)
		}
	}
	if s := r.summary(store.KindUser, "u1"); s.SentTo != contacts[0] || !maps.Equal(s.Sent, want) {
		t.Errorf("u1's summary records %v to %s, want %v to %s", s.Sent, s.SentTo, want, contacts[0])
	}
	runs := r.runs()
	if len(runs) != 1 || runs[0].ID == "" || runs[0].Error != "" || runs[0].Counts[CountSent] != 2 || runs[0].Counts["pass_"+CountSent] != 2 ||
		runs[0].APICalls["hubspot"] != 4 {
		t.Errorf("run records %+v", runs)
	}
	if cp := r.checkpoint(); !cp.Done || cp.Pass != rep.Pass {
		t.Errorf("checkpoint %+v, want pass %s done", cp, rep.Pass)
	}

	// The same day again: a new pass, nothing changed, nothing sent.
	calls := r.hs.Count(hubspottest.EndpointBatchUpdate)
	rep2, err := e.Run(t.Context(), r.at, ModeStart)
	if err != nil {
		t.Fatal(err)
	}
	if rep2.Pass == rep.Pass || rep2.Counts[CountUnchanged] != 2 || rep2.Counts[CountChanged] != 0 || r.hs.Count(hubspottest.EndpointBatchUpdate) != calls {
		t.Errorf("second run: pass %s counts %v, %d batch updates; want a new pass with nothing sent", rep2.Pass, rep2.Counts, r.hs.Count(hubspottest.EndpointBatchUpdate)-calls)
	}

	// More events today: only the events value goes.
	r.setEvents(store.KindUser, "u1", r.day, 9)
	calls = len(r.hs.RequestsTo(hubspottest.EndpointBatchUpdate))
	if _, err := e.Run(t.Context(), r.at, ModeStart); err != nil {
		t.Fatal(err)
	}
	if in := batchInputs(t, r.hs, calls); len(in) != 1 || !maps.Equal(in[0][contacts[0]], map[string]string{"up_events": "9"}) || len(in[0]) != 1 {
		t.Errorf("third run sent %v, want only u1's events", in)
	}

	// u1 is linked to another contact now: everything goes there.
	r.linker.byMatch["u1@m"] = contacts[1]
	calls = len(r.hs.RequestsTo(hubspottest.EndpointBatchUpdate))
	if _, err := e.Run(t.Context(), r.at, ModeStart); err != nil {
		t.Fatal(err)
	}
	if in := batchInputs(t, r.hs, calls); len(in) != 1 || len(in[0][contacts[1]]) != len(want) {
		t.Errorf("after the relink sent %v, want all %d values to %s", in, len(want), contacts[1])
	}
	if s := r.summary(store.KindUser, "u1"); s.SentTo != contacts[1] {
		t.Errorf("u1's values recorded as sent to %s, want %s", s.SentTo, contacts[1])
	}
}

// TestRunResumesWhereItStopped: a pass that outgrows one invocation's
// budget stops between pages and the follow-ups (ModeContinue) continue
// from the checkpoint, inside a shard as across shards, measuring the
// period the pass started with: every profile is read and sent exactly
// once, and the pass's counts add up. A follow-up after the pass is done,
// or before any, does nothing.
func TestRunResumesWhereItStopped(t *testing.T) {
	r := newRig(t)
	mm := r.prop("contacts", "up_events", config.MetricEvents)
	ids := append(idsInShard("p", 3, 5), idsInShard("q", 9, 2)...)
	contacts := r.hs.SeedContacts(len(ids), nil)
	for i, id := range ids {
		r.person(store.KindUser, id, contacts[i], r.day, 1, int64(i+1), nil)
	}
	// Each clock read is a minute on: two pages fit in a budget of six.
	clock := r.at
	now := func() time.Time { clock = clock.Add(time.Minute); return clock }
	e := r.engine([]Target{{Kind: store.KindUser, Object: "contacts", Mappings: []config.MeasuredMapping{mm}}},
		Options{PageSize: 2, Budget: 6 * time.Minute, Now: now}, nil)

	if rep, err := e.Run(t.Context(), r.at, ModeContinue); err != nil || rep.Status != StatusIdle {
		t.Fatalf("continue before any pass: %+v, %v; want idle", rep, err)
	}
	var pass string
	var considered int64
	invocations := 0
	for mode := ModeStart; ; mode = ModeContinue {
		invocations++
		if invocations > 40 {
			t.Fatal("the pass never completed")
		}
		// Later invocations run on later days: the pass keeps its period.
		rep, err := e.Run(t.Context(), r.at.Add(time.Duration(invocations-1)*48*time.Hour), mode)
		if err != nil {
			t.Fatal(err)
		}
		if pass == "" {
			pass = rep.Pass
		}
		if rep.Pass != pass || rep.Period != PeriodOf(r.at, 7) {
			t.Fatalf("invocation %d: pass %s period %+v, want pass %s measuring %+v", invocations, rep.Pass, rep.Period, pass, PeriodOf(r.at, 7))
		}
		if rep.Counts[CountPages] > 2 {
			t.Errorf("invocation %d did %d pages in a budget of two", invocations, rep.Counts[CountPages])
		}
		considered += rep.Counts[CountConsidered]
		if rep.Status == StatusComplete {
			if rep.PassCounts[CountConsidered] != int64(len(ids)) || rep.PassCounts[CountSent] != int64(len(ids)) ||
				rep.PassCounts[CountPages] != store.SummaryShards+3 {
				t.Errorf("pass counts %v, want %d considered and sent over %d pages", rep.PassCounts, len(ids), store.SummaryShards+3)
			}
			break
		}
		if rep.Status != StatusIncomplete {
			t.Fatalf("invocation %d: status %s", invocations, rep.Status)
		}
	}
	// 16 shards: 5 summaries in shard 3 at two a page are 3 pages, 2 in
	// shard 9 two (a full page does not know it was the last): 19 pages,
	// two an invocation.
	if invocations != 10 || considered != int64(len(ids)) {
		t.Errorf("%d invocations considered %d, want 10 and %d", invocations, considered, len(ids))
	}
	for _, id := range ids {
		if n := r.st.gets["user/"+id]; n != 1 {
			t.Errorf("%s read %d times, want once", id, n)
		}
	}
	sent := map[string]int{}
	for _, in := range batchInputs(t, r.hs, 0) {
		for id := range in {
			sent[id]++
		}
	}
	for i, id := range contacts {
		if sent[id] != 1 || r.record("contacts", id)["up_events"] != fmt.Sprint(i+1) {
			t.Errorf("contact %s updated %d times holding %q, want once with %d", id, sent[id], r.record("contacts", id)["up_events"], i+1)
		}
	}
	reqs := len(r.hs.Requests())
	rep, err := e.Run(t.Context(), r.at, ModeContinue)
	if err != nil || rep.Status != StatusIdle || len(r.hs.Requests()) != reqs || rep.Counts[CountStoreReads] != 1 {
		t.Errorf("continue after the pass: %+v, %v, %d requests; want idle, only the checkpoint read", rep, err, len(r.hs.Requests())-reqs)
	}
}

// TestRunStopsBeforeTheInvocationDeadline: an invocation whose deadline
// comes before its budget stops deadlineMargin before the deadline, before
// a page that might not finish in time; one with no time left at all still
// does its first page, so every invocation makes progress.
func TestRunStopsBeforeTheInvocationDeadline(t *testing.T) {
	r := newRig(t)
	mm := r.prop("contacts", "up_events", config.MetricEvents)
	for _, tc := range []struct {
		left  time.Duration
		pages int64
	}{
		// Every clock read is 10 s on, a page takes 10: pages start at 20,
		// 50 and 80 s, and the next would end after the 105 s left.
		{deadlineMargin + 105*time.Second, 3},
		{deadlineMargin - time.Second, 1},
	} {
		ctx, cancel := context.WithTimeout(t.Context(), tc.left)
		clock := time.Now()
		now := func() time.Time { clock = clock.Add(10 * time.Second); return clock }
		e := r.engine([]Target{{Kind: store.KindUser, Object: "contacts", Mappings: []config.MeasuredMapping{mm}}}, Options{Budget: time.Hour, Now: now}, nil)
		rep, err := e.Run(ctx, r.at, ModeStart)
		cancel()
		if err != nil {
			t.Fatal(err)
		}
		if rep.Status != StatusIncomplete || rep.Counts[CountPages] != tc.pages {
			t.Errorf("%v left: status %s after %d pages, want incomplete after %d", tc.left, rep.Status, rep.Counts[CountPages], tc.pages)
		}
	}
}
