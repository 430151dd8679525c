package linker_test

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"testing"
	"time"

	"github.com/pilotsync/pilotsync/shared/awstest"
	"github.com/pilotsync/pilotsync/shared/config"
	"github.com/pilotsync/pilotsync/shared/hubspot"
	"github.com/pilotsync/pilotsync/shared/hubspot/hubspottest"
	"github.com/pilotsync/pilotsync/shared/identity"
	"github.com/pilotsync/pilotsync/shared/identity/linker"
	"github.com/pilotsync/pilotsync/shared/store"
	"github.com/pilotsync/pilotsync/shared/userpilot"
	"github.com/pilotsync/pilotsync/shared/userpilot/userpilottest"
)

const env = "production"

type rig struct {
	t   *testing.T
	ctx context.Context
	st  *store.Store
	hs  *hubspottest.Server
	lk  *linker.Linker
	hsc *hubspot.Client
}

var emailUsers = linker.Object{HubSpotObject: "contacts", MatchHubSpot: "email", MatchUserpilot: "email", AdditionalEmails: true}

func newRig(t *testing.T, users linker.Object, hsOpts hubspottest.Options) *rig {
	t.Helper()
	ctx := awstest.Context(t)
	db, table := awstest.Table(t, store.CreateTable)
	hsOpts.Logger = slog.New(slog.DiscardHandler)
	if hsOpts.PerTenSeconds == 0 {
		hsOpts.PerTenSeconds = -1
		hsOpts.SearchPerSecond = -1
		hsOpts.Daily = -1
	}
	hs := hubspottest.NewTestServer(t, hsOpts)
	client, err := hubspot.NewClient(hubspot.WithBaseURL(hs.URL), hubspot.WithToken(hs.Token()),
		hubspot.WithLogger(slog.New(slog.DiscardHandler)),
		hubspot.WithLimits(hubspot.Limits{PerWindow: 1_000_000, Window: time.Second, SearchPerSecond: 1_000_000}))
	if err != nil {
		t.Fatal(err)
	}
	r := &rig{t: t, ctx: ctx, st: store.New(db, table), hs: hs, hsc: client}
	r.lk, err = linker.New(linker.Options{Env: env, Store: r.st, HubSpot: client,
		Objects: map[store.Kind]linker.Object{store.KindUser: users}, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func (r *rig) contact(props map[string]string) string {
	r.t.Helper()
	return r.hs.AddRecords("contacts", []hubspottest.SeedRecord{{Properties: props}})[0]
}

// profile stores a user profile with email as its match value.
func (r *rig) profile(id, email string) *store.Profile {
	r.t.Helper()
	p := &store.Profile{Env: env, Kind: store.KindUser, ID: id, MatchValue: email}
	if err := r.st.PutProfile(r.ctx, p); err != nil {
		r.t.Fatal(err)
	}
	return p
}

func (r *rig) stored(id string) *store.Profile {
	r.t.Helper()
	p, err := r.st.GetProfile(r.ctx, env, store.KindUser, id)
	if err != nil {
		r.t.Fatal(err)
	}
	return p
}

func (r *rig) resolve(ps ...*store.Profile) map[string]identity.Resolution {
	r.t.Helper()
	res, err := r.lk.Resolve(r.ctx, store.KindUser, ps)
	if err != nil {
		r.t.Fatal(err)
	}
	return res
}

func wantLink(t *testing.T, p *store.Profile, id, match string) {
	t.Helper()
	if want := (identity.Link{ID: id, Object: "contacts", Match: match}); id == "" {
		want = identity.Link{}
		if p.Link() != want {
			t.Fatalf("profile %s link = %+v, want unlinked", p.ID, p.Link())
		}
	} else if p.Link() != want {
		t.Fatalf("profile %s link = %+v, want %+v", p.ID, p.Link(), want)
	}
}

func TestResolveLinksStoresAndKeepsValidLinks(t *testing.T) {
	r := newRig(t, emailUsers, hubspottest.Options{})
	a := r.contact(map[string]string{"email": "A@x.com"})
	u1, u2, u3 := r.profile("u1", "a@x.com"), r.profile("u2", "nobody@x.com"), r.profile("u3", "")
	res := r.resolve(u1, u2, u3)
	if got := res["u1"]; got.Outcome != identity.Linked || got.HubSpotID != a || got.Relinked {
		t.Fatalf("u1 = %+v, want linked to %s", got, a)
	}
	if got := res["u2"]; got.Outcome != identity.NotFound {
		t.Fatalf("u2 = %+v, want not found", got)
	}
	if got := res["u3"]; got.Outcome != identity.NoMatchValue {
		t.Fatalf("u3 = %+v, want no match value", got)
	}
	wantLink(t, r.stored("u1"), a, "a@x.com")
	wantLink(t, r.stored("u2"), "", "")
	// The passed profile carries the stored version: storing it again works.
	u1.Properties = map[string]store.Property{"plan": {Value: "pro"}}
	if err := r.st.PutProfile(r.ctx, u1); err != nil {
		t.Fatalf("store the resolved profile again: %v", err)
	}
	// A valid link costs no call.
	r.hs.ResetRequests()
	again := r.resolve(r.stored("u1"))
	if again["u1"].HubSpotID != a || len(r.hs.Requests()) != 0 {
		t.Fatalf("second resolve = %+v with %d HubSpot calls, want the kept link and none", again["u1"], len(r.hs.Requests()))
	}
}

func TestResolveStaleLinkAfterMatchValueChange(t *testing.T) {
	r := newRig(t, emailUsers, hubspottest.Options{})
	a := r.contact(map[string]string{"email": "a@x.com"})
	b := r.contact(map[string]string{"email": "b@x.com"})
	u1 := r.profile("u1", "a@x.com")
	r.resolve(u1)
	// An identify gives u1 the email of another contact: the link made
	// under a@x.com is stale.
	u1 = r.stored("u1")
	u1.MatchValue = "b@x.com"
	if err := r.st.PutProfile(r.ctx, u1); err != nil {
		t.Fatal(err)
	}
	res := r.resolve(r.stored("u1"))
	if got := res["u1"]; got.HubSpotID != b || !got.Relinked {
		t.Fatalf("u1 = %+v, want re-linked from %s to %s", got, a, b)
	}
	wantLink(t, r.stored("u1"), b, "b@x.com")
	// An email nobody has unlinks.
	u1 = r.stored("u1")
	u1.MatchValue = "c@x.com"
	if err := r.st.PutProfile(r.ctx, u1); err != nil {
		t.Fatal(err)
	}
	res = r.resolve(r.stored("u1"))
	if got := res["u1"]; got.Outcome != identity.NotFound || !got.Unlinked {
		t.Fatalf("u1 = %+v, want unlinked", got)
	}
	wantLink(t, r.stored("u1"), "", "")
}

func TestResolveLegacyLinkWithoutMatchIsReResolved(t *testing.T) {
	r := newRig(t, emailUsers, hubspottest.Options{})
	a := r.contact(map[string]string{"email": "a@x.com"})
	// A link stored before links recorded their match value.
	p := &store.Profile{Env: env, Kind: store.KindUser, ID: "u1", MatchValue: "a@x.com", HubSpotID: "999", HubSpotObject: "contacts"}
	if err := r.st.PutProfile(r.ctx, p); err != nil {
		t.Fatal(err)
	}
	if got := r.resolve(r.stored("u1"))["u1"]; got.HubSpotID != a {
		t.Fatalf("u1 = %+v, want %s", got, a)
	}
	wantLink(t, r.stored("u1"), a, "a@x.com")
}

func TestResolveAdditionalEmails(t *testing.T) {
	for _, on := range []bool{true, false} {
		t.Run(map[bool]string{true: "on", false: "off"}[on], func(t *testing.T) {
			obj := emailUsers
			obj.AdditionalEmails = on
			r := newRig(t, obj, hubspottest.Options{})
			c := r.contact(map[string]string{"email": "c@x.com", identity.PropAdditionalEmails: "d@x.com;e@x.com"})
			got := r.resolve(r.profile("u1", "e@x.com"))["u1"]
			if on && (got.Outcome != identity.Linked || got.HubSpotID != c) {
				t.Fatalf("u1 = %+v, want linked to %s by its additional email", got, c)
			}
			if !on && got.Outcome != identity.NotFound {
				t.Fatalf("u1 = %+v, want not found with additional emails off", got)
			}
		})
	}
}

func TestResolveNonDefaultMapping(t *testing.T) {
	// Users are a custom object matched on a property other than email,
	// holding the Userpilot user id.
	obj := linker.Object{HubSpotObject: "2-777", MatchHubSpot: "app_user_id", MatchUserpilot: "user_id"}
	r := newRig(t, obj, hubspottest.Options{})
	r.hs.AddObjectType("app_users", "2-777")
	r.hs.CreateProperty("2-777", hubspottest.Property{Name: "app_user_id", Type: "string", FieldType: "text", HasUniqueValue: true})
	// Match values are looked up normalized, as they are stored.
	id := r.hs.AddRecords("2-777", []hubspottest.SeedRecord{{Properties: map[string]string{"app_user_id": "u-42"}}})[0]
	r.hs.AddRecords("contacts", []hubspottest.SeedRecord{{Properties: map[string]string{"email": "u-42"}}})
	// Not stored yet: an id match needs no stored match value.
	p := &store.Profile{Env: env, Kind: store.KindUser, ID: "U-42"}
	got := r.resolve(p)["U-42"]
	if got.Outcome != identity.Linked || got.HubSpotID != id {
		t.Fatalf("U-42 = %+v, want linked to %s", got, id)
	}
	if s := r.stored("U-42"); s.HubSpotID != id || s.HubSpotObject != "2-777" || s.LinkMatch != "u-42" {
		t.Fatalf("stored link = %+v, want %s on 2-777 under u-42", s.Link(), id)
	}
}

func TestGoneUnlinksOrRelinks(t *testing.T) {
	r := newRig(t, emailUsers, hubspottest.Options{})
	a := r.contact(map[string]string{"email": "a@x.com"})
	b := r.contact(map[string]string{"email": "b@x.com"})
	c := r.contact(map[string]string{"email": "c@x.com"})
	ua, ub, uc := r.profile("ua", "a@x.com"), r.profile("ub", "b@x.com"), r.profile("uc", "c@x.com")
	r.resolve(ua, ub, uc)
	r.hs.Archive("contacts", a)
	merged := r.hs.Merge("contacts", c, b) // b's email joins the survivor's additional emails
	res, err := r.lk.Gone(r.ctx, store.KindUser, []*store.Profile{r.stored("ua"), r.stored("ub"), r.stored("uc")})
	if err != nil {
		t.Fatal(err)
	}
	if got := res["ua"]; got.Outcome != identity.NotFound || !got.Unlinked {
		t.Fatalf("ua = %+v, want unlinked (archived)", got)
	}
	wantLink(t, r.stored("ua"), "", "")
	if got := res["ub"]; got.HubSpotID != merged || !got.Relinked {
		t.Fatalf("ub = %+v, want re-linked to the merged record %s", got, merged)
	}
	wantLink(t, r.stored("ub"), merged, "b@x.com")
	if got := res["uc"]; got.HubSpotID != merged {
		t.Fatalf("uc = %+v, want %s", got, merged)
	}
}

func TestGoneSameRecordKeepsLink(t *testing.T) {
	r := newRig(t, emailUsers, hubspottest.Options{})
	a := r.contact(map[string]string{"email": "a@x.com"})
	r.resolve(r.profile("ua", "a@x.com"))
	res, err := r.lk.Gone(r.ctx, store.KindUser, []*store.Profile{r.stored("ua")})
	if err != nil {
		t.Fatal(err)
	}
	if got := res["ua"]; got.HubSpotID != a || got.Relinked || got.Unlinked {
		t.Fatalf("ua = %+v, want still linked to %s", got, a)
	}
}

func TestResolveAfterConcurrentWrite(t *testing.T) {
	r := newRig(t, emailUsers, hubspottest.Options{})
	a := r.contact(map[string]string{"email": "a@x.com"})
	b := r.contact(map[string]string{"email": "b@x.com"})
	old := r.profile("u1", "a@x.com")
	// Another writer (an identify) moves the email on after old was read.
	cur := r.stored("u1")
	cur.MatchValue = "b@x.com"
	cur.Properties = map[string]store.Property{"plan": {Value: "pro"}}
	if err := r.st.PutProfile(r.ctx, cur); err != nil {
		t.Fatal(err)
	}
	got := r.resolve(old)["u1"]
	if got.HubSpotID != b {
		t.Fatalf("u1 = %+v, want %s (the value the store holds now), not %s", got, b, a)
	}
	s := r.stored("u1")
	wantLink(t, s, b, "b@x.com")
	if s.Properties["plan"].Value != "pro" || old.Version != s.Version {
		t.Fatalf("stored = %+v (version %d), passed version %d: the other write must survive and the passed profile be current", s.Properties, s.Version, old.Version)
	}
}

// TestAuditRepairsSilentDeletesAndMerges: 1,000 linked users whose records
// were merged (400) or archived (300) with no event to notice it; the audit
// checks every link in ceil(1000/100) batch reads by id and repairs each.
func TestAuditRepairsSilentDeletesAndMerges(t *testing.T) {
	r := newRig(t, emailUsers, hubspottest.Options{})
	const n = 1000
	recs := make([]hubspottest.SeedRecord, n)
	for i := range recs {
		recs[i] = hubspottest.SeedRecord{Properties: map[string]string{"email": fmt.Sprintf("user%d@x.com", i)}}
	}
	ids := r.hs.AddRecords("contacts", recs)
	ps := make([]*store.Profile, n)
	for i := range ps {
		m := fmt.Sprintf("user%d@x.com", i)
		ps[i] = &store.Profile{Env: env, Kind: store.KindUser, ID: fmt.Sprint("u", i), MatchValue: m}
		linker.Set(ps[i], ids[i], "contacts", m)
	}
	if err := r.st.PutProfiles(r.ctx, ps); err != nil {
		t.Fatal(err)
	}
	survivor := map[int]string{}
	for k := range 200 {
		id := r.hs.Merge("contacts", ids[2*k], ids[2*k+1])
		survivor[2*k], survivor[2*k+1] = id, id
	}
	for i := 400; i < 700; i++ {
		r.hs.Archive("contacts", ids[i])
	}
	r.hs.ResetRequests()
	rep, err := r.lk.Audit(r.ctx, store.KindUser)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Checked != n || rep.RelinkedMerged != 400 || rep.UnlinkedDeleted != 300 || rep.Valid != 300 || rep.Relinked != 0 {
		t.Errorf("report %+v, want 1000 checked, 400 relinked_merged, 300 unlinked_deleted, 300 valid", rep)
	}
	byID := 0
	for _, q := range r.hs.RequestsTo(hubspottest.EndpointBatchRead) {
		var body struct {
			IDProperty string `json:"idProperty"`
		}
		if err := json.Unmarshal(q.Body, &body); err != nil {
			t.Fatal(err)
		}
		if body.IDProperty == "" {
			byID++
		}
	}
	if byID != 10 || rep.BatchReads != 10 {
		t.Errorf("%d batch reads by id (report %d), want ceil(1000/100) = 10", byID, rep.BatchReads)
	}
	for i := range n {
		got := r.stored(fmt.Sprint("u", i))
		want := ids[i]
		switch {
		case i < 400:
			want = survivor[i]
		case i < 700:
			want = ""
		}
		if got.HubSpotID != want {
			t.Fatalf("u%d linked to %q, want %q", i, got.HubSpotID, want)
		}
	}
	// A second audit finds nothing to repair.
	rep, err = r.lk.Audit(r.ctx, store.KindUser)
	if err != nil || rep.Checked != 700 || rep.Valid != 700 {
		t.Errorf("second audit %+v %v, want 700 valid", rep, err)
	}
}

// TestLinkChangesRewriteUserpilot: a re-link writes the new record's inbound
// values and clears those it lacks; an unlink removes the ids and (with
// clear_on_unlink) the inbound values.
func TestLinkChangesRewriteUserpilot(t *testing.T) {
	obj := emailUsers
	obj.Inbound = []config.PropertyMapping{{HubSpot: "firstname", Userpilot: "first_name"}, {HubSpot: "jobtitle", Userpilot: "job"}}
	obj.ClearOnUnlink = true
	r := newRig(t, obj, hubspottest.Options{})
	up := userpilottest.NewTestServer(t, userpilottest.Options{RateLimit: -1, JobDuration: -1})
	upc, err := userpilot.NewClient(userpilottest.DefaultAPIKey, userpilot.WithBaseURL(up.URL), userpilot.WithLogger(slog.New(slog.DiscardHandler)))
	if err != nil {
		t.Fatal(err)
	}
	r.lk, err = linker.New(linker.Options{Env: env, Store: r.st, HubSpot: r.hsc, Userpilot: upc,
		Objects: map[store.Kind]linker.Object{store.KindUser: obj}, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	a := r.contact(map[string]string{"email": "a@x.com", "firstname": "Ann", "jobtitle": "CTO"})
	b := r.contact(map[string]string{"email": "b@x.com", "firstname": "Bob"})
	r.resolve(r.profile("u1", "a@x.com"))
	md := func() map[string]any {
		u, _ := up.User("u1")
		return u.Metadata
	}
	if m := md(); m["__hubspot__user_id"] != a || m["first_name"] != "Ann" || m["job"] != "CTO" {
		t.Fatalf("after the link: %v", m)
	}
	p := r.stored("u1")
	p.MatchValue = "b@x.com"
	if err := r.st.PutProfile(r.ctx, p); err != nil {
		t.Fatal(err)
	}
	r.resolve(r.stored("u1"))
	if m := md(); m["__hubspot__user_id"] != b || m["first_name"] != "Bob" || m["job"] != nil {
		t.Fatalf("after the re-link: %v, want Bob's values and no job (Bob has none)", m)
	}
	if h := r.stored("u1").InboundHashes["first_name"]; h != identity.ValueHash("Bob") {
		t.Errorf("inbound hash of first_name = %q, want Bob's", h)
	}
	p = r.stored("u1")
	p.MatchValue = "nobody@x.com"
	if err := r.st.PutProfile(r.ctx, p); err != nil {
		t.Fatal(err)
	}
	r.resolve(r.stored("u1"))
	for _, k := range []string{"__hubspot__user_id", "__hubspot__object_type", "first_name"} {
		if v := md()[k]; v != nil {
			t.Errorf("after the unlink %s = %v, want removed", k, v)
		}
	}
}
