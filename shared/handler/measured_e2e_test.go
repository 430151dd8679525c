package handler

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pilotsync/pilotsync/shared/config"
	"github.com/pilotsync/pilotsync/shared/hubspot/hubspottest"
	"github.com/pilotsync/pilotsync/shared/measured"
	"github.com/pilotsync/pilotsync/shared/store"
)

// genEvent is one generated activity event.
type genEvent struct {
	id, user, company string
	at                time.Time
	sessionStart      bool
	ctx               store.ActivityContext
}

// generateActivity makes days of activity ending at end for users (user i in
// company i%companies): a few active days each, one to three sessions a day
// of events a few minutes apart, some session_start events, some events
// without context (sent from a backend), and some days before the period.
func generateActivity(rng *rand.Rand, users, companies, days int, end time.Time) []genEvent {
	countries := []string{"DE", "FR", "US", "BR", "JP"}
	browsers := []string{"Chrome", "Firefox", "Safari", "Edge"}
	systems := []string{"macOS", "Windows", "Linux", "iOS", "Android"}
	devices := []string{"desktop", "mobile", "tablet"}
	paths := []string{"/", "/home", "/settings/billing", "/reports/42"}
	start := time.Date(end.Year(), end.Month(), end.Day(), 0, 0, 0, 0, time.UTC).AddDate(0, 0, -(days + 3))
	var out []genEvent
	n := 0
	for u := range users {
		user, company := fmt.Sprintf("u%d", u), fmt.Sprintf("c%d", u%companies)
		for range rng.IntN(4) { // 0-3 active days (some users inactive)
			day := start.AddDate(0, 0, rng.IntN(days+3))
			for range 1 + rng.IntN(3) {
				at := day.Add(time.Duration(rng.Int64N(int64(22 * time.Hour))))
				for e := range 1 + rng.IntN(5) {
					if !at.Before(end) {
						break
					}
					n++
					ev := genEvent{id: "ev" + strconv.Itoa(n), user: user, company: company, at: at.Truncate(time.Millisecond),
						sessionStart: e == 0 && rng.IntN(3) == 0}
					if rng.IntN(4) > 0 {
						ev.ctx = store.ActivityContext{Hostname: "app.example.com", Pathname: paths[rng.IntN(len(paths))],
							CountryCode: countries[rng.IntN(len(countries))], Browser: browsers[rng.IntN(len(browsers))],
							OperatingSystem: systems[rng.IntN(len(systems))], DeviceType: devices[rng.IntN(len(devices))]}
					}
					out = append(out, ev)
					at = at.Add(time.Duration(1+rng.IntN(25))*time.Minute + time.Duration(rng.IntN(60000))*time.Millisecond)
				}
			}
		}
	}
	return out
}

// record adds the events as the forwarder does: one user delta per event,
// naming its company and carrying its context. Batches hold a few companies'
// events (as a queue fed per account tends to) and arrive in random order,
// their events shuffled; 4 batches are recorded at once.
func (r *measuredRig) record(rng *rand.Rand, evs []genEvent) {
	r.t.Helper()
	evs = slices.Clone(evs)
	slices.SortStableFunc(evs, func(a, b genEvent) int { return strings.Compare(a.company, b.company) })
	batches := slices.Collect(slices.Chunk(evs, 250))
	rng.Shuffle(len(batches), func(i, j int) { batches[i], batches[j] = batches[j], batches[i] })
	for _, b := range batches {
		rng.Shuffle(len(b), func(i, j int) { b[i], b[j] = b[j], b[i] })
	}
	var wg sync.WaitGroup
	errs := make(chan error, len(batches))
	sem := make(chan struct{}, 4)
	for _, b := range batches {
		wg.Go(func() {
			sem <- struct{}{}
			defer func() { <-sem }()
			ds := make([]store.ActivityDelta, len(b))
			for i, e := range b {
				d := store.ActivityDelta{Kind: store.KindUser, ID: e.user, CompanyID: e.company, Day: e.at.Format(time.DateOnly),
					FirstSeen: e.at, LastSeen: e.at, EventIDs: []string{"user:" + e.id}, Context: e.ctx}
				if e.sessionStart {
					d.Sessions = 1
				} else {
					d.Events = 1
				}
				ds[i] = d
			}
			errs <- r.st.AddActivity(r.ctx, config.EnvProduction, ds)
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			r.t.Fatalf("AddActivity: %v", err)
		}
	}
}

// expectMeasured is the independent calculation: the HubSpot values each
// profile should hold after a daily run at `at` over periodDays, keyed by
// profile id ("u1", "c3") then HubSpot property.
func expectMeasured(evs []genEvent, at time.Time, periodDays int, timeout time.Duration) map[string]map[string]string {
	from := at.UTC().AddDate(0, 0, -(periodDays - 1)).Format(time.DateOnly)
	to := at.UTC().Format(time.DateOnly)
	in := func(t time.Time) bool { d := t.UTC().Format(time.DateOnly); return d >= from && d <= to }
	type agg struct {
		sessions, events, timeMs int64
		days                     map[string]bool
		first, last              time.Time
		ctx                      map[string]genEvent // metric -> latest event with it
		any                      bool
	}
	aggs := map[string]*agg{}
	get := func(id string) *agg {
		if aggs[id] == nil {
			aggs[id] = &agg{days: map[string]bool{}, ctx: map[string]genEvent{}}
		}
		return aggs[id]
	}
	byUser := map[string][]genEvent{}
	for _, e := range evs {
		byUser[e.user] = append(byUser[e.user], e)
	}
	ctxValue := func(e genEvent, metric string) string {
		switch metric {
		case config.MetricCountryCode:
			return e.ctx.CountryCode
		case config.MetricBrowser:
			return e.ctx.Browser
		case config.MetricOperatingSystem:
			return e.ctx.OperatingSystem
		case config.MetricDeviceType:
			return e.ctx.DeviceType
		case config.MetricLastPage:
			if e.ctx.Hostname == "" {
				return ""
			}
			return e.ctx.Hostname + e.ctx.Pathname
		}
		return ""
	}
	autos := []string{config.MetricCountryCode, config.MetricBrowser, config.MetricOperatingSystem, config.MetricDeviceType, config.MetricLastPage}
	for user, list := range byUser {
		slices.SortFunc(list, func(a, b genEvent) int { return a.at.Compare(b.at) })
		targets := []*agg{get(user), get(list[0].company)}
		// Sessions: split where the gap exceeds the timeout; a session counts
		// on its first event's day; its time is last - first + 30 s.
		var sStart, sEnd time.Time
		flush := func() {
			if !sStart.IsZero() && in(sStart) {
				for _, a := range targets {
					a.sessions++
					a.timeMs += sEnd.Sub(sStart).Milliseconds() + 30_000
				}
			}
		}
		for _, e := range list {
			if sStart.IsZero() || e.at.Sub(sEnd) > timeout {
				flush()
				sStart = e.at
			}
			sEnd = e.at
			for _, a := range targets {
				for _, m := range autos {
					v := ctxValue(e, m)
					if v == "" {
						continue
					}
					if old, ok := a.ctx[m]; !ok || e.at.After(old.at) || (e.at.Equal(old.at) && v > ctxValue(old, m)) {
						a.ctx[m] = e
					}
				}
				if !in(e.at) {
					continue
				}
				a.any = true
				if !e.sessionStart {
					a.events++
				}
				a.days[e.at.UTC().Format(time.DateOnly)] = true
				if a.first.IsZero() || e.at.Before(a.first) {
					a.first = e.at
				}
				if e.at.After(a.last) {
					a.last = e.at
				}
			}
		}
		flush()
	}
	out := map[string]map[string]string{}
	for id, a := range aggs {
		v := map[string]string{
			measuredProps[config.MetricSessions]:         strconv.FormatInt(a.sessions, 10),
			measuredProps[config.MetricEvents]:           strconv.FormatInt(a.events, 10),
			measuredProps[config.MetricActiveDays]:       strconv.Itoa(len(a.days)),
			measuredProps[config.MetricTimeSpentSeconds]: strconv.FormatInt(a.timeMs/1000, 10),
		}
		if a.any {
			v[measuredProps[config.MetricFirstSeen]] = a.first.UTC().Format("2006-01-02T15:04:05Z")
			v[measuredProps[config.MetricLastSeen]] = a.last.UTC().Format("2006-01-02T15:04:05Z")
			v[measuredProps[config.MetricLastSeenDate]] = a.last.UTC().Format(time.DateOnly)
			for _, m := range autos {
				if e, ok := a.ctx[m]; ok {
					v[measuredProps[m]] = ctxValue(e, m)
				}
			}
		}
		out[id] = v
	}
	return out
}

// TestMeasuredDailyRun: 30 days of generated activity for 2,000 users and
// 200 companies, recorded as the forwarder records it; one daily run through
// the real handler gives HubSpot exactly the independently computed values,
// and a second run the same day sends nothing.
func TestMeasuredDailyRun(t *testing.T) {
	t.Parallel()
	const users, companies, period = 2000, 200, 30
	r := newMeasuredRig(t, period)
	t0 := time.Now()
	userIDs, companyIDs := r.seedPeople(users, companies)
	at := time.Now().UTC().Truncate(time.Second)
	rng := rand.New(rand.NewPCG(11, 30))
	evs := generateActivity(rng, users, companies, period, at)
	t.Logf("seeded %d profiles in %v", users+companies, time.Since(t0))
	t0 = time.Now()
	r.record(rng, evs)
	t.Logf("recorded %d events in %v", len(evs), time.Since(t0))
	t0 = time.Now()
	want := expectMeasured(evs, at, period, r.cfg.Measured.SessionTimeout.D())

	h := r.handler(at, time.Hour, nil)
	res, err := h.Handle(r.ctx, MeasuredInput{Source: "aws.events", DetailType: "Scheduled Event", Time: at})
	if err != nil {
		t.Fatalf("Handle: %v", err)
	}
	t.Logf("daily run in %v: %v", time.Since(t0), res.Counts)
	if res.Status != measured.StatusComplete {
		t.Fatalf("status = %q, want complete (counts %v)", res.Status, res.Counts)
	}
	checkRecord := func(obj, id, hsID string) {
		t.Helper()
		rec, ok := r.hs.Record(obj, hsID)
		if !ok {
			t.Fatalf("%s %s: no HubSpot record %s", obj, id, hsID)
		}
		for _, prop := range measuredProps {
			got, has := rec.Properties[prop]
			w, wantHas := want[id][prop]
			if has != wantHas || got != w {
				t.Errorf("%s %s %s = %q (set %v), want %q (set %v)", obj, id, prop, got, has, w, wantHas)
			}
		}
	}
	active := 0
	for id, hsID := range userIDs {
		if want[id] != nil {
			active++
		}
		checkRecord("contacts", id, hsID)
	}
	for id, hsID := range companyIDs {
		checkRecord("companies", id, hsID)
	}
	if t.Failed() {
		t.FailNow()
	}
	c := res.Counts
	if got := c[measured.CountConsidered]; got != int64(active+len(companyIDs)) {
		t.Errorf("considered %d profiles, want the %d with recorded activity", got, active+len(companyIDs))
	}
	if got, want := c[measured.CountHubSpotCalls], int64(len(r.hs.Requests())); got != want {
		t.Errorf("reported %d HubSpot calls, the sandbox answered %d: %v", got, want, r.hs.Counts())
	}
	if got, want := int64(r.hs.Count(hubspottest.EndpointBatchUpdate)), c[measured.CountPages]; got > want {
		t.Errorf("%d batch updates, want at most one per page of 100 summaries (%d)", got, want)
	}
	// One read per profile: the summary page plus the profile (linking).
	if reads := c[measured.CountStoreReads]; reads > 2*c[measured.CountConsidered]+2*c[measured.CountPages]+5 {
		t.Errorf("store reads = %d for %d profiles in %d pages", reads, c[measured.CountConsidered], c[measured.CountPages])
	}
	if r.audits[store.KindUser] != 1 || r.audits[store.KindCompany] != 1 {
		t.Errorf("link audits = %v, want one per kind", r.audits)
	}
	if c["audit_user_checked"] != 1 {
		t.Errorf("audit report not in the counts: %v", c)
	}
	runs, err := r.st.ListRuns(r.ctx, config.EnvProduction, measured.JobName, 1)
	if err != nil || len(runs) != 1 {
		t.Fatalf("run records: %v %v", runs, err)
	}
	for _, k := range []string{measured.CountSent, measured.CountStoreReads, measured.CountStoreWrites, measured.CountHubSpotCalls, measured.CountConsidered} {
		if runs[0].Counts[k] != c[k] {
			t.Errorf("run record %s = %d, report %d", k, runs[0].Counts[k], c[k])
		}
	}

	// A second run the same UTC day sends nothing: an hour later, or halfway
	// to midnight when that is nearer (an hour after 23:00 is the next day,
	// whose period starts a day later: the test failed when run then).
	updates := r.hs.Count(hubspottest.EndpointBatchUpdate)
	midnight := at.Truncate(24 * time.Hour).Add(24 * time.Hour)
	later := at.Add(min(time.Hour, midnight.Sub(at)/2))
	res2, err := r.handler(later, time.Hour, nil).Handle(r.ctx, MeasuredInput{Action: "measure"})
	if err != nil {
		t.Fatalf("second Handle: %v", err)
	}
	if res2.Status != measured.StatusComplete || res2.Counts[measured.CountSent] != 0 || res2.Counts[measured.CountChanged] != 0 {
		t.Errorf("second run: status %q counts %v, want complete with nothing sent", res2.Status, res2.Counts)
	}
	if got := r.hs.Count(hubspottest.EndpointBatchUpdate); got != updates {
		t.Errorf("second run made %d batch updates, want 0", got-updates)
	}
	if res2.Counts[measured.CountUnchanged] != c[measured.CountSent] {
		t.Errorf("second run: %d unchanged, want the %d sent before", res2.Counts[measured.CountUnchanged], c[measured.CountSent])
	}
}
