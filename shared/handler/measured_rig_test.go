package handler

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/pilotsync/pilotsync/shared/awstest"
	"github.com/pilotsync/pilotsync/shared/config"
	"github.com/pilotsync/pilotsync/shared/hubspot"
	"github.com/pilotsync/pilotsync/shared/hubspot/hubspottest"
	"github.com/pilotsync/pilotsync/shared/identity/linker"
	"github.com/pilotsync/pilotsync/shared/measured"
	"github.com/pilotsync/pilotsync/shared/store"
)

// measuredProps are the HubSpot properties every metric is mapped to in the
// daily tests, on contacts and companies alike.
var measuredProps = map[string]string{
	config.MetricSessions:         "up_sessions",
	config.MetricEvents:           "up_events",
	config.MetricActiveDays:       "up_active_days",
	config.MetricTimeSpentSeconds: "up_time_spent",
	config.MetricFirstSeen:        "up_first_seen",
	config.MetricLastSeen:         "up_last_seen",
	config.MetricCountryCode:      "up_country",
	config.MetricBrowser:          "up_browser",
	config.MetricOperatingSystem:  "up_os",
	config.MetricDeviceType:       "up_device",
	config.MetricLastPage:         "up_last_page",
	config.MetricLastSeenDate:     "up_last_seen_date",
}

// measuredRig is the daily job on DynamoDB Local and the HubSpot sandbox,
// with the real identity linker and the real handler.
type measuredRig struct {
	t   *testing.T
	ctx context.Context
	st  *store.Store
	hs  *hubspottest.Server
	hc  *hubspot.Client
	cfg *config.Config
	// audits counts link audit calls per kind (the audit is a fake until the
	// identity linker offers one).
	mu     sync.Mutex
	audits map[store.Kind]int
}

func newMeasuredRig(t *testing.T, periodDays int) *measuredRig {
	t.Helper()
	ctx := awstest.Context(t)
	db, table := awstest.Table(t, store.CreateTable)
	hs := hubspottest.NewTestServer(t, hubspottest.Options{PerTenSeconds: -1, SearchPerSecond: -1, Daily: -1,
		Logger: slog.New(slog.DiscardHandler)})
	hc, err := hubspot.NewClient(hubspot.WithBaseURL(hs.URL), hubspot.WithToken(hs.Token()),
		hubspot.WithLogger(slog.New(slog.DiscardHandler)))
	if err != nil {
		t.Fatal(err)
	}
	cfg := config.Defaults()
	cfg.Mapping.Companies.Match.HubSpot = "userpilot_company_id"
	cfg.Measured.PeriodDays = periodDays
	hs.CreateProperty("companies", hubspottest.Property{Name: "userpilot_company_id", Type: "string", FieldType: "text", HasUniqueValue: true})
	for _, spec := range config.MetricSpecs() {
		mm := config.MeasuredMapping{Metric: spec.Metric, HubSpot: measuredProps[spec.Metric]}
		cfg.Mapping.Users.Measured = append(cfg.Mapping.Users.Measured, mm)
		cfg.Mapping.Companies.Measured = append(cfg.Mapping.Companies.Measured, mm)
		for _, obj := range []string{"contacts", "companies"} {
			hs.CreateProperty(obj, hubspottest.Property{Name: mm.HubSpot, Type: spec.Type, FieldType: spec.FieldType, GroupName: "pilotsync"})
		}
	}
	st := store.New(db, table).WithActivitySummary(cfg.Measured.SessionTimeout.D(), periodDays+7)
	return &measuredRig{t: t, ctx: ctx, st: st, hs: hs, hc: hc, cfg: cfg, audits: map[store.Kind]int{}}
}

// handler builds the daily handler as wire.NewDailyMeasured does, with a test
// budget and page size, a fake link audit, and the run time at.
func (r *measuredRig) handler(at time.Time, budget time.Duration, st measured.Store) *Measured {
	r.t.Helper()
	lk, err := linker.New(linker.Options{Env: config.EnvProduction, Store: r.st, HubSpot: r.hc,
		Objects: linker.ObjectsFromConfig(r.cfg), Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		r.t.Fatal(err)
	}
	audit := func(_ context.Context, kind store.Kind) (map[string]int64, error) {
		r.mu.Lock()
		defer r.mu.Unlock()
		r.audits[kind]++
		return map[string]int64{"checked": 1}, nil
	}
	if st == nil {
		st = r.st
	}
	eng := measured.New(st, r.hc, lk, audit, measured.Options{Env: config.EnvProduction, PeriodDays: r.cfg.Measured.PeriodDays,
		Targets: measured.TargetsFrom(r.cfg), Budget: budget, Log: slog.New(slog.DiscardHandler),
		APIStats: func() map[string]int64 { return r.hc.Stats().Calls }})
	h := NewMeasured(r.cfg, eng, slog.New(slog.DiscardHandler))
	h.now = func() time.Time { return at }
	return h
}

// seedPeople adds users contacts (email u<i>@example.com) and companies
// records (userpilot_company_id c<i>) to HubSpot and their profiles to the
// store, and returns the HubSpot ids by profile id.
func (r *measuredRig) seedPeople(users, companies int) (userIDs, companyIDs map[string]string) {
	r.t.Helper()
	userIDs, companyIDs = map[string]string{}, map[string]string{}
	var ps []*store.Profile
	ids := r.hs.SeedContacts(users, func(i int) hubspottest.SeedRecord {
		return hubspottest.SeedRecord{Properties: map[string]string{"email": fmt.Sprintf("u%d@example.com", i)}}
	})
	for i, id := range ids {
		u := fmt.Sprintf("u%d", i)
		userIDs[u] = id
		ps = append(ps, &store.Profile{Env: config.EnvProduction, Kind: store.KindUser, ID: u, MatchValue: u + "@example.com"})
	}
	var seeds []hubspottest.SeedRecord
	for i := range companies {
		seeds = append(seeds, hubspottest.SeedRecord{Properties: map[string]string{"userpilot_company_id": fmt.Sprintf("c%d", i)}})
	}
	for i, id := range r.hs.AddRecords("companies", seeds) {
		c := fmt.Sprintf("c%d", i)
		companyIDs[c] = id
		ps = append(ps, &store.Profile{Env: config.EnvProduction, Kind: store.KindCompany, ID: c, MatchValue: c})
	}
	if err := r.st.PutProfiles(r.ctx, ps); err != nil {
		r.t.Fatalf("PutProfiles: %v", err)
	}
	return userIDs, companyIDs
}
