package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pilotsync/pilotsync/shared/config"
	"github.com/pilotsync/pilotsync/shared/handler"
	"github.com/pilotsync/pilotsync/shared/hubspot"
	"github.com/pilotsync/pilotsync/shared/hubspot/hubspottest"
	"github.com/pilotsync/pilotsync/shared/inbound"
	"github.com/pilotsync/pilotsync/shared/store"
	"github.com/pilotsync/pilotsync/shared/store/storetest"
	"github.com/pilotsync/pilotsync/shared/userpilot"
	"github.com/pilotsync/pilotsync/shared/userpilot/userpilottest"
	"github.com/pilotsync/pilotsync/shared/wire"
)

var discard = slog.New(slog.DiscardHandler)

// stack is the poll function's world in a test: DynamoDB Local, the HubSpot
// and Userpilot sandboxes on a manual clock, and the real handler.
type stack struct {
	t   *testing.T
	clk *hubspottest.ManualClock
	hs  *hubspottest.Server
	up  *userpilottest.Server
	st  *store.Store
	cfg *config.Config
	hsc *hubspot.Client
	upc *userpilot.Client
	h   *handler.Poll
}

func testConfig() *config.Config {
	cfg := config.Defaults()
	cfg.Mapping.Users.Inbound = []config.PropertyMapping{
		{HubSpot: "firstname", Userpilot: "first_name"},
		{HubSpot: "lastname", Userpilot: "last_name"},
		{HubSpot: "lifecyclestage", Userpilot: "hs_stage"},
	}
	cfg.Mapping.Companies.Match = config.Match{Userpilot: "domain", HubSpot: "domain"}
	cfg.Mapping.Companies.Inbound = []config.PropertyMapping{{HubSpot: "name", Userpilot: "company_name"}, {HubSpot: "industry", Userpilot: "industry"}}
	return cfg
}

func newStack(t *testing.T, searchLag time.Duration) *stack {
	t.Helper()
	s := &stack{t: t, clk: hubspottest.NewManualClock(time.Date(2026, 11, 27, 10, 0, 0, 0, time.UTC)), cfg: testConfig()}
	s.hs = hubspottest.NewTestServer(t, hubspottest.Options{Clock: s.clk.Now, SearchLag: searchLag, PerTenSeconds: -1, SearchPerSecond: -1, Daily: -1})
	s.hs.CheckSpec(t) // every request conforms to HubSpot's spec (issue 9)
	s.up = userpilottest.NewTestServer(t, userpilottest.Options{RateLimit: -1, JobDuration: -1})
	s.st = storetest.FreshTable(t)
	var err error
	s.hsc, err = hubspot.NewClient(hubspot.WithBaseURL(s.hs.URL), hubspot.WithToken(hubspottest.DefaultToken), hubspot.WithLogger(discard),
		hubspot.WithLimits(hubspot.Limits{PerWindow: 1_000_000, Window: time.Second, SearchPerSecond: 1_000_000}))
	if err != nil {
		t.Fatal(err)
	}
	s.upc, err = userpilot.NewClient(userpilottest.DefaultAPIKey, userpilot.WithBaseURL(s.up.URL), userpilot.WithLogger(discard),
		userpilot.WithRateLimit(1_000_000, time.Second), userpilot.WithJobPolling(time.Millisecond, 5*time.Millisecond, time.Second))
	if err != nil {
		t.Fatal(err)
	}
	s.h = s.handler(s.st)
	return s
}

// handler builds the real poll handler over st (the store, or a wrapper).
func (s *stack) handler(st inbound.InboundStore) *handler.Poll {
	s.t.Helper()
	in, err := wire.Inbound(s.cfg, st, s.hsc, s.upc, inbound.WithClock(s.clk.Now), inbound.WithLogger(discard))
	if err != nil {
		s.t.Fatal(err)
	}
	return handler.NewPoll(in, handler.WithPollImports(s.st, s.cfg), handler.WithPollLogger(discard))
}

func (s *stack) invoke(h *handler.Poll, in handler.PollInput) handler.PollResult {
	s.t.Helper()
	return s.invokeWithin(h, in, 5*time.Minute)
}

// invokeWithin invokes the handler as a Lambda with the given timeout.
func (s *stack) invokeWithin(h *handler.Poll, in handler.PollInput, timeout time.Duration) handler.PollResult {
	s.t.Helper()
	ctx, cancel := context.WithTimeout(s.t.Context(), timeout)
	defer cancel()
	res, err := h.Handle(ctx, in)
	// A failed run also answers with an error (Lambda counts it); nothing else does.
	if err != nil && (!errors.Is(err, handler.ErrRunFailed) || res.Status != inbound.StatusFailed) {
		s.t.Fatalf("Handle(%+v): %v", in, err)
	}
	if res.Status == inbound.StatusFailed && err == nil {
		s.t.Fatalf("Handle(%+v): status failed without an error", in)
	}
	return res
}

var scheduled = handler.PollInput{Source: "aws.events", DetailType: "Scheduled Event"}

// poll runs scheduled polls until one completes (the time budget may split
// the work) and returns the summed counts per object type.
func (s *stack) poll() map[string]inbound.Counts {
	s.t.Helper()
	sum := map[string]inbound.Counts{}
	polls := 0
	defer func() { s.t.Logf("poll: %d invocations", polls) }()
	for range 10 {
		polls++
		// A 20 s invocation keeps 5 s in reserve: a slow machine splits the
		// work over a few polls, as the 300 s Lambda would with more records.
		res := s.invokeWithin(s.h, scheduled, 20*time.Second)
		if res.Status == inbound.StatusFailed {
			s.t.Fatalf("poll failed: %s", res.Message)
		}
		for _, o := range res.Inbound.Objects {
			c := sum[o.Object]
			c.Add(o.Counts)
			sum[o.Object] = c
		}
		if res.Inbound.Complete {
			return sum
		}
	}
	s.t.Fatal("poll did not complete in 10 invocations")
	return nil
}

// written returns the metadata Userpilot accepted per user ("co:" prefix for
// companies), in order, from the requests since the last reset.
func (s *stack) written() map[string][]map[string]any {
	out := map[string][]map[string]any{}
	type row struct {
		UserID    string         `json:"user_id"`
		CompanyID string         `json:"company_id"`
		Metadata  map[string]any `json:"metadata"`
	}
	for _, r := range s.up.Requests() {
		if r.Status/100 != 2 {
			continue
		}
		var body struct {
			row
			Users     []row `json:"users"`
			Companies []row `json:"companies"`
		}
		switch r.Endpoint {
		case userpilottest.EndpointIdentify, userpilottest.EndpointCompaniesIdentify, userpilottest.EndpointUsersBulk, userpilottest.EndpointCompaniesBulk:
		default:
			continue
		}
		if err := r.Decode(&body); err != nil {
			s.t.Fatalf("decode %s body: %v", r.Endpoint, err)
		}
		rows := append(body.Users, body.Companies...)
		if body.UserID != "" || body.CompanyID != "" {
			rows = append(rows, body.row)
		}
		for _, w := range rows {
			if w.UserID != "" {
				out[w.UserID] = append(out[w.UserID], w.Metadata)
			} else {
				out["co:"+w.CompanyID] = append(out["co:"+w.CompanyID], w.Metadata)
			}
		}
	}
	return out
}

// world is the seeded portal: 20,000 contacts, 2,000 companies and 5,000
// profiles, and which profile should link to which record.
type world struct {
	contacts, companies []string
	// wantUser maps user profile id -> contact index; wantCompany company
	// profile id -> company index.
	wantUser, wantCompany map[string]int
}

const (
	nContacts  = 20_000
	nCompanies = 2_000
	aliasIdx   = 3 // the contact matched by an additional email
)

func (s *stack) seed() *world {
	s.t.Helper()
	w := &world{wantUser: map[string]int{}, wantCompany: map[string]int{}}
	old := s.clk.Now().Add(-24 * time.Hour)
	w.contacts = s.hs.SeedContacts(nContacts, func(i int) hubspottest.SeedRecord {
		email := fmt.Sprintf("contact%d@example.com", i)
		if i%7 == 0 {
			email = fmt.Sprintf("Contact%d@Example.COM", i) // case differs on the HubSpot side
		}
		props := map[string]string{"email": email, "firstname": fmt.Sprintf("F%d", i), "lastname": fmt.Sprintf("L%d", i)}
		if i == aliasIdx {
			props["hs_additional_emails"] = "other@example.com;Alias3@example.com"
		}
		return hubspottest.SeedRecord{Properties: props, ModifiedAt: old}
	})
	cos := make([]hubspottest.SeedRecord, nCompanies)
	for i := range cos {
		cos[i] = hubspottest.SeedRecord{Properties: map[string]string{"domain": fmt.Sprintf("co%d.example.com", i), "name": fmt.Sprintf("Company %d", i)}, ModifiedAt: old}
	}
	w.companies = s.hs.AddRecords("companies", cos)

	var ps []*store.Profile
	user := func(id, email string) {
		ps = append(ps, &store.Profile{Env: config.EnvProduction, Kind: store.KindUser, ID: id, MatchValue: email,
			Properties: map[string]store.Property{"email": {Value: email, At: old}}})
	}
	for i := 0; i < nContacts; i += 5 { // 4,000 users with a contact
		email := fmt.Sprintf("contact%d@example.com", i)
		if i%10 == 0 {
			email = fmt.Sprintf("  CONTACT%d@example.com ", i) // case and whitespace differ on the Userpilot side
		}
		user(fmt.Sprintf("u%d", i), email)
		w.wantUser[fmt.Sprintf("u%d", i)] = i
	}
	user("ualias", "alias3@example.com")
	w.wantUser["ualias"] = aliasIdx
	for k := range 499 { // users HubSpot does not know
		user(fmt.Sprintf("nobody%d", k), fmt.Sprintf("nobody%d@example.com", k))
	}
	for i := 0; i < nCompanies; i += 4 { // 500 companies
		id := fmt.Sprintf("c%d", i)
		ps = append(ps, &store.Profile{Env: config.EnvProduction, Kind: store.KindCompany, ID: id, MatchValue: fmt.Sprintf("CO%d.example.com", i)})
		w.wantCompany[id] = i
	}
	if len(ps) != 5_000 {
		s.t.Fatalf("seeded %d profiles, want 5,000", len(ps))
	}
	if err := s.st.PutProfiles(s.t.Context(), ps); err != nil {
		s.t.Fatal(err)
	}
	return w
}

// crashingStore fails PutProfiles on its crashAt-th call, as if the process
// died after writing to Userpilot and before saving the page.
type crashingStore struct {
	*store.Store
	mu      sync.Mutex
	calls   int
	crashAt int
}

func (c *crashingStore) PutProfiles(ctx context.Context, ps []*store.Profile) error {
	c.mu.Lock()
	c.calls++
	crash := c.calls == c.crashAt
	c.mu.Unlock()
	if crash {
		return fmt.Errorf("injected crash")
	}
	return c.Store.PutProfiles(ctx, ps)
}

// TestInboundEndToEnd is issue 4's done-when, through the real handler.
func TestInboundEndToEnd(t *testing.T) {
	t.Parallel()
	s := newStack(t, 30*time.Second)
	start := time.Now()
	w := s.seed()
	t.Logf("seeded in %s", time.Since(start).Round(time.Millisecond))
	ctx := t.Context()

	step := func(name string) func() {
		t0 := time.Now()
		return func() { t.Logf("%s took %s", name, time.Since(t0).Round(time.Millisecond)) }
	}

	// 1. Full sync links exactly the matching profiles and writes them once.
	done := step("full sync")
	res := s.invoke(s.h, handler.PollInput{Action: handler.PollActionSync})
	done()
	if res.Status != inbound.StatusComplete {
		t.Fatalf("sync: status %s: %s", res.Status, res.Message)
	}
	objs := map[string]inbound.ObjectReport{}
	for _, o := range res.Inbound.Objects {
		objs[o.Object] = o
	}
	if o := objs["users"]; o.Mode != inbound.ModeFull || o.Read != nContacts || o.Linked != int64(len(w.wantUser)) || o.Written != int64(len(w.wantUser)) || o.Failed != 0 {
		t.Errorf("users: %+v, want %d read, %d linked and written", o, nContacts, len(w.wantUser))
	}
	if o := objs["companies"]; o.Read != nCompanies || o.Linked != int64(len(w.wantCompany)) || o.Written != int64(len(w.wantCompany)) {
		t.Errorf("companies: %+v, want %d read, %d linked and written", o, nCompanies, len(w.wantCompany))
	}
	got := s.written()
	if len(got) != len(w.wantUser)+len(w.wantCompany) {
		t.Errorf("%d records written to Userpilot, want %d", len(got), len(w.wantUser)+len(w.wantCompany))
	}
	users := s.up.Users()
	for id, i := range w.wantUser {
		if n := len(got[id]); n != 1 {
			t.Errorf("user %s written %d times, want once", id, n)
		}
		u := users[id]
		if u.Metadata[inbound.KeyUserID] != w.contacts[i] || u.Metadata["first_name"] != fmt.Sprintf("F%d", i) || u.Metadata[inbound.KeyObjectType] != "contacts" {
			t.Errorf("userpilot user %s = %v, want linked to contact %s with its first name", id, u.Metadata, w.contacts[i])
			break
		}
	}
	companies := s.up.Companies()
	for id, i := range w.wantCompany {
		if c := companies[id]; c.Metadata[inbound.KeyCompanyID] != w.companies[i] || c.Metadata["company_name"] != fmt.Sprintf("Company %d", i) {
			t.Errorf("userpilot company %s = %v, want linked to %s", id, c.Metadata, w.companies[i])
			break
		}
	}
	if p, err := s.st.GetProfile(ctx, config.EnvProduction, store.KindUser, "ualias"); err != nil || p.HubSpotID != w.contacts[aliasIdx] {
		t.Errorf("ualias profile %+v (%v), want linked by additional email to %s", p, err, w.contacts[aliasIdx])
	}
	if runs, err := s.st.ListRuns(ctx, config.EnvProduction, inbound.JobInbound, 1); err != nil || len(runs) != 1 || runs[0].Counts["users.linked"] != int64(len(w.wantUser)) {
		t.Errorf("run record %+v (%v), want users.linked=%d", runs, err, len(w.wantUser))
	}

	// 2. 15,000 contacts change, 11,000 in one bulk edit sharing a millisecond.
	s.clk.Advance(time.Minute)
	s.hs.BulkEdit("contacts", w.contacts[:11_000], map[string]string{"lifecyclestage": "customer"})
	for i := 11_000; i < 15_000; i++ {
		s.clk.Advance(time.Millisecond)
		s.hs.Update("contacts", w.contacts[i], map[string]string{"lastname": fmt.Sprintf("Changed%d", i)})
	}
	s.clk.Advance(5 * time.Minute)
	s.up.ResetRequests()
	done = step("poll of 15,000 changes")
	sum := s.poll()
	done()
	if sum["users"].Read != 15_000 || sum["companies"].Read != 0 {
		t.Errorf("read %+v, want each of the 15,000 changed contacts once and no company", sum)
	}
	got = s.written()
	wantChanged := 0
	for id, i := range w.wantUser {
		if i >= 15_000 {
			if len(got[id]) != 0 {
				t.Errorf("unchanged user %s written %v", id, got[id])
			}
			continue
		}
		wantChanged++
		want := "hs_stage=customer "
		if i >= 11_000 {
			want = fmt.Sprintf("last_name=Changed%d ", i)
		}
		if len(got[id]) != 1 || describe(got[id][0]) != want {
			t.Errorf("user %s writes %v, want exactly one: %s", id, got[id], want)
			break
		}
	}
	if len(got) != wantChanged {
		t.Errorf("%d users written, want the %d changed linked ones", len(got), wantChanged)
	}

	// 3. A poll with no changes: one search per object type, nothing written.
	s.clk.Advance(5 * time.Minute)
	s.hs.ResetRequests()
	s.up.ResetRequests()
	sum = s.poll()
	if n := s.hs.Count(hubspottest.EndpointSearch); n != 2 {
		t.Errorf("idle poll made %d search calls, want 2 (one per object type)", n)
	}
	if n := len(s.up.Requests()); n != 0 || sum["users"].Read != 0 {
		t.Errorf("idle poll: %d userpilot requests, %d read; want none", n, sum["users"].Read)
	}

	// 4. Search lag: changes not yet visible are picked up by a later poll.
	for i := 15_000; i < 15_050; i++ {
		s.clk.Advance(time.Millisecond)
		s.hs.Update("contacts", w.contacts[i], map[string]string{"firstname": "Lagged"})
	}
	s.clk.Advance(10 * time.Second) // less than the 30 s lag
	s.up.ResetRequests()
	if sum = s.poll(); sum["users"].Read != 0 {
		t.Errorf("read %d records still hidden by search lag, want 0", sum["users"].Read)
	}
	s.clk.Advance(5 * time.Minute)
	sum = s.poll()
	got = s.written()
	if sum["users"].Read != 50 || len(got) != 10 {
		t.Errorf("after the lag: read %d, wrote %d users; want 50 and 10", sum["users"].Read, len(got))
	}

	// 5. A crash after a random page loses nothing, and only the page in
	// flight is written twice.
	changed := w.contacts[15_050:18_050]
	s.clk.Advance(time.Minute)
	s.hs.BulkEdit("contacts", changed, map[string]string{"firstname": "Crash"})
	s.clk.Advance(5 * time.Minute)
	s.up.ResetRequests()
	crash := &crashingStore{Store: s.st, crashAt: 1 + rand.IntN(len(changed)/hubspot.MaxSearchLimit)}
	res = s.invoke(s.handler(crash), scheduled)
	if res.Status != inbound.StatusFailed || !strings.Contains(res.Message, "injected crash") {
		t.Fatalf("crashed run: %s %s", res.Status, res.Message)
	}
	s.poll()
	got = s.written()
	users = s.up.Users()
	twice := 0
	for id, i := range w.wantUser {
		if i < 15_050 || i >= 18_050 {
			continue
		}
		switch n := len(got[id]); {
		case n == 2:
			twice++
		case n != 1:
			t.Errorf("user %s written %d times", id, n)
		}
		if users[id].Metadata["first_name"] != "Crash" {
			t.Errorf("user %s first_name %v after the crash, want Crash", id, users[id].Metadata["first_name"])
		}
	}
	if twice > hubspot.MaxSearchLimit {
		t.Errorf("%d users written twice, want at most one page (%d)", twice, hubspot.MaxSearchLimit)
	}
	t.Logf("crash at page %d: %d users written twice", crash.crashAt, twice)

	// 6. Email changed in HubSpot: re-linked to the user with the new email.
	s.clk.Advance(time.Minute)
	s.hs.Update("contacts", w.contacts[5], map[string]string{"email": "Nobody7@example.com"})
	// Merged contacts: both old ids' users move to the surviving record.
	merged := s.hs.Merge("contacts", w.contacts[10], w.contacts[20])
	s.clk.Advance(5 * time.Minute)
	sum = s.poll()
	if u := sum["users"]; u.Linked != 1 || u.Unlinked != 1 || u.Relinked != 2 {
		t.Errorf("counts %+v, want 1 linked and 1 unlinked (email change), 2 re-linked (merge)", u)
	}
	users = s.up.Users()
	for id, want := range map[string]any{"nobody7": w.contacts[5], "u5": nil, "u10": merged, "u20": merged} {
		p, err := s.st.GetProfile(ctx, config.EnvProduction, store.KindUser, id)
		if err != nil {
			t.Fatal(err)
		}
		wantHS, _ := want.(string)
		if p.HubSpotID != wantHS {
			t.Errorf("profile %s linked to %q, want %q", id, p.HubSpotID, wantHS)
		}
		if got := users[id].Metadata[inbound.KeyUserID]; got != want {
			t.Errorf("userpilot %s %s = %v, want %v", id, inbound.KeyUserID, got, want)
		}
	}

	// 7. Two concurrent polls: one works, the other exits.
	s.clk.Advance(time.Minute)
	s.hs.BulkEdit("contacts", w.contacts[100:600], map[string]string{"firstname": "Again"})
	s.clk.Advance(5 * time.Minute)
	s.hs.SetFault(hubspottest.EndpointSearch, hubspottest.Fault{RateSlow: 1, Slow: 300 * time.Millisecond})
	var wg sync.WaitGroup
	results := make([]handler.PollResult, 2)
	for i := range results {
		wg.Go(func() { results[i] = s.invoke(s.h, scheduled) })
	}
	wg.Wait()
	s.hs.ClearFaults()
	statuses := []string{results[0].Status, results[1].Status}
	if (statuses[0] == inbound.StatusLeaseHeld) == (statuses[1] == inbound.StatusLeaseHeld) {
		t.Errorf("concurrent statuses %v, want exactly one lease_held", statuses)
	}
	for _, r := range results {
		if r.Status != inbound.StatusLeaseHeld && (r.Status != inbound.StatusComplete || r.Inbound.Totals.Read != 500) {
			t.Errorf("working poll %s read %d, want complete with 500", r.Status, r.Inbound.Totals.Read)
		}
	}
	t.Logf("total %s", time.Since(start).Round(time.Millisecond))
}

func describe(m map[string]any) string {
	var keys []string
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	var b strings.Builder
	for _, k := range keys {
		fmt.Fprintf(&b, "%s=%v ", k, m[k])
	}
	return b.String()
}
