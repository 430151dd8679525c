package measured

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/pilotsync/pilotsync/shared/config"
	"github.com/pilotsync/pilotsync/shared/hubspot"
	"github.com/pilotsync/pilotsync/shared/hubspot/hubspottest"
	"github.com/pilotsync/pilotsync/shared/store"
)

// TestRunSkipsMappingsHubSpotCannotTake: a measured mapping whose HubSpot
// property is missing, read-only, calculated or of a type the metric
// cannot be written to is reported once per run (a problem and a failure
// naming it) and skipped, while the others are sent and proved clean; the
// properties are read once per object however many pages the run does; a
// kind with no usable mapping reads no profile.
func TestRunSkipsMappingsHubSpotCannotTake(t *testing.T) {
	r := newRig(t)
	ok := r.prop("contacts", "up_events", config.MetricEvents)
	r.hs.CreateProperty("contacts", hubspottest.Property{Name: "up_ro", Label: "ro", Type: "number", FieldType: "number", GroupName: "pilotsync", ReadOnlyValue: true})
	r.hs.CreateProperty("contacts", hubspottest.Property{Name: "up_calc", Label: "calc", Type: "number", FieldType: "calculation_equation", GroupName: "pilotsync", Calculated: true})
	r.hs.CreateProperty("contacts", hubspottest.Property{Name: "up_text", Label: "text", Type: "string", FieldType: "text", GroupName: "pilotsync"})
	users := []config.MeasuredMapping{ok,
		{Metric: config.MetricSessions, HubSpot: "up_missing"},
		{Metric: config.MetricSessions, HubSpot: "up_ro"},
		{Metric: config.MetricActiveDays, HubSpot: "up_calc"},
		{Metric: config.MetricFirstSeen, HubSpot: "up_text"},
	}
	companies := []config.MeasuredMapping{{Metric: config.MetricSessions, HubSpot: "up_nothing"}}
	contacts := r.hs.SeedContacts(2, nil)
	r.person(store.KindUser, idsInShard("u", 4, 1)[0], contacts[0], r.day, 1, 3, nil)
	r.person(store.KindUser, idsInShard("v", 5, 1)[0], contacts[1], r.day, 1, 6, nil)
	r.person(store.KindCompany, "acme", "-", r.day, 1, 1, nil)
	e := r.engine([]Target{{Kind: store.KindUser, Object: "contacts", Mappings: users}, {Kind: store.KindCompany, Object: "companies", Mappings: companies}}, Options{}, nil)
	rep, err := e.Run(t.Context(), r.at, ModeStart)
	if err != nil {
		t.Fatal(err)
	}
	if got := r.hs.Count(hubspottest.EndpointProperties); got != 2 {
		t.Errorf("%d property reads, want one per object", got)
	}
	wantWhy := map[string]string{
		"up_missing": `the contacts property "up_missing" does not exist (run pilotsync setup)`,
		"up_ro":      `the contacts property "up_ro" is read-only or calculated`,
		"up_calc":    `the contacts property "up_calc" is read-only or calculated`,
		"up_text":    `the contacts property "up_text" has type string, but metric first_seen needs date or datetime`,
		"up_nothing": `the companies property "up_nothing" does not exist (run pilotsync setup)`,
	}
	if len(rep.Problems) != len(wantWhy) {
		t.Errorf("problems %+v, want one per bad mapping", rep.Problems)
	}
	for _, p := range rep.Problems {
		prop := p.Key[strings.LastIndex(p.Key, "/")+1:]
		why, known := wantWhy[prop]
		obj := "contacts"
		if prop == "up_nothing" {
			obj = "companies"
		}
		if !known || p.Key != "measured/"+obj+"/property/"+prop || p.Title != "pilotsync: measured property "+prop+" is not sent" || !strings.HasSuffix(p.Detail, ": "+why+".") {
			t.Errorf("problem %+v, want %q", p, why)
		}
	}
	for prop, why := range wantWhy {
		if !slices.ContainsFunc(rep.Failures, func(f store.Failure) bool { return f.Field == prop && f.Reason == why }) {
			t.Errorf("failures %+v, want %s: %s", rep.Failures, prop, why)
		}
	}
	if !slices.Equal(rep.Clean, []string{"measured/contacts/property/up_events"}) {
		t.Errorf("clean %v, want the usable mapping proved fixed", rep.Clean)
	}
	for i, want := range []string{"3", "6"} {
		got := r.record("contacts", contacts[i])
		if got["up_events"] != want || got["up_text"] != "" || got["up_ro"] != "" {
			t.Errorf("contact %d holds %v, want only events %s", i, got, want)
		}
	}
	if rep.Counts[CountConsidered] != 3 || r.st.gets["company/acme"] != 0 {
		t.Errorf("considered %d, company profile read %d times; want 3 and no read", rep.Counts[CountConsidered], r.st.gets["company/acme"])
	}
}

// TestRunAuditAndAPICalls: after the pages, the link audit runs per kind
// and its counts are the run's and the pass's; with the client's counters
// the run reports the calls it caused per endpoint (the audit's and linker's
// included), not those made before it.
func TestRunAuditAndAPICalls(t *testing.T) {
	r := newRig(t)
	mm := r.prop("contacts", "up_events", config.MetricEvents)
	cm := r.prop("companies", "up_events", config.MetricEvents)
	contacts := r.hs.SeedContacts(1, nil)
	r.person(store.KindUser, "u1", contacts[0], r.day, 1, 4, nil)
	var kinds []store.Kind
	audit := func(ctx context.Context, k store.Kind) (map[string]int64, error) {
		kinds = append(kinds, k)
		if _, err := r.hc.ListProperties(ctx, "contacts"); err != nil { // the audit's own HubSpot reads
			return nil, err
		}
		return map[string]int64{"checked": int64(len(kinds) * 10), "relinked": 1}, nil
	}
	if _, err := r.hc.ListProperties(t.Context(), "contacts"); err != nil { // before the run: not its call
		t.Fatal(err)
	}
	if _, err := r.hc.ListPropertyGroups(t.Context(), "contacts"); err != nil { // an endpoint the run does not use
		t.Fatal(err)
	}
	e := r.engine([]Target{{Kind: store.KindUser, Object: "contacts", Mappings: []config.MeasuredMapping{mm}}, {Kind: store.KindCompany, Object: "companies", Mappings: []config.MeasuredMapping{cm}}},
		Options{APIStats: func() map[string]int64 { return r.hc.Stats().Calls }}, audit)
	rep, err := e.Run(t.Context(), r.at, ModeStart)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(kinds, []store.Kind{store.KindUser, store.KindCompany}) {
		t.Errorf("audited %v, want users then companies", kinds)
	}
	for k, v := range map[string]int64{"audit_user_checked": 10, "audit_user_relinked": 1, "audit_company_checked": 20, "audit_company_relinked": 1, CountHubSpotCalls: 4} {
		if rep.Counts[k] != v || rep.PassCounts[k] != v {
			t.Errorf("%s = %d (pass %d), want %d", k, rep.Counts[k], rep.PassCounts[k], v)
		}
	}
	runs := r.runs()
	// One property list (companies have no summaries: their properties are
	// never needed), the audits' two, one batch update.
	want := map[string]int64{"hubspot.properties": 3, "hubspot.batch_update": 1}
	if len(runs) != 1 || !maps.Equal(runs[0].APICalls, want) || runs[0].Counts["pass_audit_company_checked"] != 20 {
		t.Errorf("run record %+v, want API calls %v", runs, want)
	}
}

// TestNewDefaults: an engine built without options measures 30 days, reads
// pages of 100 summaries and works for ten minutes of its clock; pages
// without a known profile ask the linker nothing.
func TestNewDefaults(t *testing.T) {
	r := newRig(t)
	mm := r.prop("contacts", "up_events", config.MetricEvents)
	r.summariesWithoutProfiles(7, 101)
	// A clock 5 s on at each read: 17 pages of three reads fit in ten minutes.
	clock := r.at
	e := New(r.st, r.hc, r.linker, nil, Options{Env: env, PeriodDays: config.DefaultPeriodDays, Targets: []Target{{Kind: store.KindUser, Object: "contacts", Mappings: []config.MeasuredMapping{mm}}},
		Now: func() time.Time { clock = clock.Add(5 * time.Second); return clock }})
	// Pages of activity without profiles never ask the linker (here: failing).
	r.linker.err = errInjected
	rep, err := e.Run(t.Context(), r.at, ModeStart)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Period != PeriodOf(r.at, config.DefaultPeriodDays) || rep.Status != StatusComplete || rep.Counts[CountPages] != store.SummaryShards+1 ||
		rep.Counts[CountNoProfile] != 101 {
		t.Errorf("report %s period %+v counts %v; want %d days, complete in %d pages", rep.Status, rep.Period, rep.Counts, config.DefaultPeriodDays, store.SummaryShards+1)
	}
}

// TestTargetsFrom: the enabled kinds with measured mappings, users first.
func TestTargetsFrom(t *testing.T) {
	no := false
	cfg := config.Defaults()
	mm := []config.MeasuredMapping{{Metric: config.MetricSessions, HubSpot: "up_sessions"}}
	cfg.Mapping.Users.Measured = mm
	cfg.Mapping.Companies.Measured = mm
	got := TargetsFrom(cfg)
	if len(got) != 2 || got[0].Kind != store.KindUser || got[0].Object != "contacts" || got[1].Kind != store.KindCompany || got[1].Object != "companies" ||
		!slices.Equal(got[1].Mappings, mm) {
		t.Errorf("TargetsFrom = %+v", got)
	}
	cfg.Mapping.Users.Enabled = &no
	cfg.Mapping.Companies.Measured = nil
	if got := TargetsFrom(cfg); len(got) != 0 {
		t.Errorf("TargetsFrom = %+v, want none: users disabled, companies without measured", got)
	}
}

// TestPlanValuesStates: the preview computes each mapping with a run's
// rules: "send" with the encoding when the value differs from what the
// linked record was sent, "unchanged" (with its encoding) when it does not
// or was refused for good, "no_value" for a metric without one (a context
// never seen, or no activity), "problem" for a mapping HubSpot cannot take;
// values sent to another record are sent again.
func TestPlanValuesStates(t *testing.T) {
	day := "2026-03-01"
	at, _ := time.Parse(time.DateOnly, day)
	ms := at.Add(10 * time.Hour).UnixMilli()
	sum := &store.ActivitySummary{SentTo: "101",
		Days:    map[string]*store.DaySummary{day: {Sessions: 2, Events: 5, Active: 7, FirstMs: ms, LastMs: ms}},
		Context: map[string]store.ContextValue{store.ContextCountryCode: {Value: "DE"}},
		Sent:    map[string]string{"up_sessions": "2", "up_events": quarantineMark + "5"}}
	tg := Target{Kind: store.KindUser, Object: "contacts", Mappings: []config.MeasuredMapping{
		{Metric: config.MetricSessions, HubSpot: "up_sessions"},
		{Metric: config.MetricEvents, HubSpot: "up_events"},
		{Metric: config.MetricLastSeen, HubSpot: "up_last_seen"},
		{Metric: config.MetricCountryCode, HubSpot: "up_country"},
		{Metric: config.MetricBrowser, HubSpot: "up_browser"},
		{Metric: config.MetricActiveDays, HubSpot: "up_missing"},
		{Metric: config.MetricActiveDays, HubSpot: "up_enum"},
	}}
	props := []hubspot.Property{{Name: "up_sessions", Type: "number"}, {Name: "up_events", Type: "number"}, {Name: "up_last_seen", Type: "datetime"},
		{Name: "up_country", Type: "string"}, {Name: "up_browser", Type: "string"}, {Name: "up_enum", Type: "enumeration"}}
	p := Period{From: day, To: day}
	type want struct {
		state, encoded, problem string
		value                   any
	}
	check := func(name string, got []PlannedValue, wants []want) {
		t.Helper()
		if len(got) != len(wants) {
			t.Fatalf("%s: %d values, want %d", name, len(got), len(wants))
		}
		for i, w := range wants {
			g := got[i]
			if g.Metric != tg.Mappings[i].Metric || g.HubSpot != tg.Mappings[i].HubSpot || g.State != w.state || g.Encoded != w.encoded ||
				!strings.Contains(g.Problem, w.problem) || (w.problem == "") != (g.Problem == "") || fmt.Sprint(g.Value) != fmt.Sprint(w.value) {
				t.Errorf("%s: %s: %+v, want %+v", name, g.HubSpot, g, w)
			}
		}
		if got[0].Type != "number" || got[5].Type != "" {
			t.Errorf("%s: types %q %q, want the property's (none when missing)", name, got[0].Type, got[5].Type)
		}
	}
	last := time.UnixMilli(ms).UTC()
	check("linked", PlanValues(tg, props, sum, p, "101"), []want{
		{"unchanged", "2", "", int64(2)},
		{"unchanged", "5", "", int64(5)}, // refused for good: not sent again
		{"send", last.Format("2006-01-02T15:04:05Z"), "", last},
		{"send", "DE", "", "DE"},
		{"no_value", "", "", nil},
		{"problem", "", `"up_missing" does not exist`, nil},
		{"problem", "", "has type enumeration, but metric active_days needs number", nil},
	})
	check("relinked", PlanValues(tg, props, sum, p, "202"), []want{
		{"send", "2", "", int64(2)},
		{"send", "5", "", int64(5)},
		{"send", last.Format("2006-01-02T15:04:05Z"), "", last},
		{"send", "DE", "", "DE"},
		{"no_value", "", "", nil},
		{"problem", "", `"up_missing" does not exist`, nil},
		{"problem", "", "needs number", nil},
	})
	check("no activity", PlanValues(tg, props, nil, p, "101"), []want{
		{"send", "0", "", int64(0)},
		{"send", "0", "", int64(0)},
		{"no_value", "", "", nil},
		{"no_value", "", "", nil},
		{"no_value", "", "", nil},
		{"problem", "", "does not exist", nil},
		{"problem", "", "needs number", nil},
	})
}

// TestEncodeChangedInvalid: a computed value the codec cannot encode for
// the property's type is reported invalid, and the others still go.
func TestEncodeChangedInvalid(t *testing.T) {
	ms := []mapping{{metric: "a", prop: "pa", propType: "number"}, {metric: "b", prop: "pb", propType: "number"}, {metric: "c", prop: "pc", propType: "string"}}
	changed, invalid := encodeChanged(ms, map[string]any{"a": "not a number", "b": int64(3), "c": "x"}, map[string]string{"pc": "x"})
	if !maps.Equal(changed, map[string]string{"pb": "3"}) || len(invalid) != 1 || invalid["pa"] == nil {
		t.Errorf("changed %v invalid %v, want pb sent, pa invalid, pc unchanged", changed, invalid)
	}
}

// TestPeriodOfOneDayAndNone: a period of one day measures that day; a
// period of none is refused, naming the setting.
func TestPeriodOfOneDayAndNone(t *testing.T) {
	r := newRig(t)
	mm := r.prop("contacts", "up_events", config.MetricEvents)
	opts := Options{Env: env, Targets: []Target{{Kind: store.KindUser, Object: "contacts", Mappings: []config.MeasuredMapping{mm}}}}
	opts.PeriodDays = 0
	if rep, err := New(r.st, r.hc, r.linker, nil, opts).Run(t.Context(), r.at, ModeStart); err == nil || !strings.Contains(err.Error(), "measured.period_days") {
		t.Errorf("period of 0 days: %+v, %v; want refused naming measured.period_days", rep, err)
	}
	opts.PeriodDays = 1
	rep, err := New(r.st, r.hc, r.linker, nil, opts).Run(t.Context(), r.at, ModeStart)
	if err != nil || rep.Status != StatusComplete || rep.Period != PeriodOf(r.at, 1) {
		t.Errorf("period of 1 day: %+v, %v; want complete over %+v", rep, err, PeriodOf(r.at, 1))
	}
}

// TestPassStopsAMarginBeforeTheInvocationDeadline: an invocation deadline
// no later than the budget's end bounds the pass, deadlineMargin before
// it: the pass stops (incomplete, checkpointed) with its clock short of
// that point (plus the few clock steps of finishing the run).
func TestPassStopsAMarginBeforeTheInvocationDeadline(t *testing.T) {
	r := newRig(t)
	mm := r.prop("contacts", "up_events", config.MetricEvents)
	r.summariesWithoutProfiles(7, 101)
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	d, _ := ctx.Deadline()
	// The engine's clock starts now and moves 5 s at each read: the pass's
	// 17 pages would take minutes of it.
	clock := time.Now()
	e := New(r.st, r.hc, r.linker, nil, Options{Env: env, PeriodDays: 30, Budget: 2 * time.Minute,
		Targets: []Target{{Kind: store.KindUser, Object: "contacts", Mappings: []config.MeasuredMapping{mm}}},
		Now:     func() time.Time { clock = clock.Add(5 * time.Second); return clock }})
	rep, err := e.Run(ctx, r.at, ModeStart)
	if err != nil {
		t.Fatal(err)
	}
	// After the stop the run reads the clock a few more times (its record).
	if rep.Status != StatusIncomplete || clock.After(d.Add(-deadlineMargin+20*time.Second)) {
		t.Errorf("status %s, clock %s after the deadline's margin start; want incomplete before the invocation deadline",
			rep.Status, clock.Sub(d.Add(-deadlineMargin)).Round(time.Second))
	}
}

// TestPageGoesOnPastAnUnmatchedProfileAndAnAbsentValue: an unmatched
// profile of a page, and a metric with no value (a context never seen),
// are skipped alone: the page's other profiles and metrics are sent.
func TestPageGoesOnPastAnUnmatchedProfileAndAnAbsentValue(t *testing.T) {
	r := newRig(t)
	br := r.prop("contacts", "up_browser", config.MetricBrowser)
	ev := r.prop("contacts", "up_events", config.MetricEvents)
	contacts := r.hs.SeedContacts(2, nil)
	ids := idsInShard("p", 3, 3)
	slices.Sort(ids) // the page's order: the unmatched profile first
	r.person(store.KindUser, ids[0], "-", r.day, 1, 2, nil)
	r.person(store.KindUser, ids[1], contacts[0], r.day, 1, 3, nil)
	r.person(store.KindUser, ids[2], contacts[1], r.day, 1, 4, nil)
	e := r.engine([]Target{{Kind: store.KindUser, Object: "contacts", Mappings: []config.MeasuredMapping{br, ev}}}, Options{}, nil)
	rep, err := e.Run(t.Context(), r.at, ModeStart)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Counts[CountUnmatched] != 1 {
		t.Errorf("counts %v, want one unmatched", rep.Counts)
	}
	for i, want := range []string{"3", "4"} {
		if got := r.record("contacts", contacts[i]); got["up_events"] != want || got["up_browser"] != "" {
			t.Errorf("contact %d holds %v, want events %s and no browser", i, got, want)
		}
	}
}

// TestPageSendsTheChangedPastAnUnchangedOne: a profile whose values were
// sent already is skipped alone; the page's changed profiles are sent.
func TestPageSendsTheChangedPastAnUnchangedOne(t *testing.T) {
	r := newRig(t)
	ev := r.prop("contacts", "up_events", config.MetricEvents)
	contacts := r.hs.SeedContacts(3, nil)
	ids := idsInShard("s", 2, 3)
	slices.Sort(ids)
	for i, id := range ids {
		r.person(store.KindUser, id, contacts[i], r.day, 1, 1, nil)
	}
	targets := []Target{{Kind: store.KindUser, Object: "contacts", Mappings: []config.MeasuredMapping{ev}}}
	if _, err := r.engine(targets, Options{}, nil).Run(t.Context(), r.at, ModeStart); err != nil {
		t.Fatal(err)
	}
	r.setEvents(store.KindUser, ids[1], r.day, 5)
	r.setEvents(store.KindUser, ids[2], r.day, 7)
	rep, err := r.engine(targets, Options{}, nil).Run(t.Context(), r.at.Add(24*time.Hour), ModeStart)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Counts[CountUnchanged] != 1 || rep.Counts[CountChanged] != 2 {
		t.Errorf("counts %v, want the first unchanged and two changed", rep.Counts)
	}
	for i, want := range []string{"1", "5", "7"} {
		if got := r.record("contacts", contacts[i])["up_events"]; got != want {
			t.Errorf("contact %d: events %q, want %s", i, got, want)
		}
	}
}

// TestHubSpotCallsCountAFullBatchOnce: a page of exactly one batch update's
// worth of changed records counts one call, as many as HubSpot answered.
func TestHubSpotCallsCountAFullBatchOnce(t *testing.T) {
	r := newRig(t)
	ev := r.prop("contacts", "up_events", config.MetricEvents)
	contacts := r.hs.SeedContacts(hubspot.MaxBatchInputs, nil)
	for i, id := range idsInShard("f", 4, hubspot.MaxBatchInputs) {
		r.person(store.KindUser, id, contacts[i], r.day, 1, 1, nil)
	}
	before := len(r.hs.Requests())
	rep, err := r.engine([]Target{{Kind: store.KindUser, Object: "contacts", Mappings: []config.MeasuredMapping{ev}}}, Options{}, nil).Run(t.Context(), r.at, ModeStart)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := rep.Counts[CountHubSpotCalls], int64(len(r.hs.Requests())-before); got != want || rep.Counts[CountChanged] != hubspot.MaxBatchInputs {
		t.Errorf("counted %d HubSpot calls, the sandbox answered %d (counts %v)", got, want, rep.Counts)
	}
}

// summariesWithoutProfiles stores n users' summaries of one active day (the
// run's) in shard, with no profile: pages the linker is never asked about.
func (r *rig) summariesWithoutProfiles(shard, n int) {
	r.t.Helper()
	var sums []*store.ActivitySummary
	for _, id := range idsInShard("n", shard, n) {
		sums = append(sums, &store.ActivitySummary{Env: env, Kind: store.KindUser, ID: id,
			Days: map[string]*store.DaySummary{r.day: {Events: 1, Active: 1, FirstMs: r.at.UnixMilli(), LastMs: r.at.UnixMilli()}}})
	}
	if err := r.st.PutActivitySummaries(r.t.Context(), env, sums); err != nil {
		r.t.Fatal(err)
	}
}

// TestPlanValuesGoesOnPastAMetricWithoutValue: the preview of a mapping
// with no value (a context never seen) does not hide the mappings after it.
func TestPlanValuesGoesOnPastAMetricWithoutValue(t *testing.T) {
	day := "2026-03-01"
	tg := Target{Kind: store.KindUser, Object: "contacts", Mappings: []config.MeasuredMapping{
		{Metric: config.MetricBrowser, HubSpot: "up_browser"}, {Metric: config.MetricEvents, HubSpot: "up_events"}}}
	props := []hubspot.Property{{Name: "up_browser", Type: "string"}, {Name: "up_events", Type: "number"}}
	sum := &store.ActivitySummary{Days: map[string]*store.DaySummary{day: {Events: 4, Active: 4}}}
	got := PlanValues(tg, props, sum, Period{From: day, To: day}, "101")
	if len(got) != 2 || got[0].State != "no_value" || got[1].State != "send" || got[1].Encoded != "4" {
		t.Errorf("planned %+v, want browser without a value, events 4 to send", got)
	}
}
