package inbound

import (
	"strings"
	"testing"
	"time"

	"github.com/pilotsync/pilotsync/shared/config"
	"github.com/pilotsync/pilotsync/shared/hubspot"
	"github.com/pilotsync/pilotsync/shared/store"
)

// parseUsers reads integration.yaml with the users mapping given (indented
// under mapping.users) and companies off, the way config.Load reads a file:
// its defaults applied once, there.
func parseUsers(t *testing.T, users string) *config.Config {
	t.Helper()
	src := "mapping:\n  users:\n"
	for line := range strings.SplitSeq(strings.TrimSpace(users), "\n") {
		src += "    " + line + "\n"
	}
	src += "  companies:\n    enabled: false\n"
	cfg, err := config.Parse("integration.yaml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

// TestObjectsFromConfigDefaultsAndOptions: what integration.yaml leaves
// empty takes config's defaults; clear_on_unlink and additional_emails
// follow the config when set and their defaults when not.
func TestObjectsFromConfigDefaultsAndOptions(t *testing.T) {
	on := true
	for _, tt := range []struct {
		name string
		cfg  func(t *testing.T) *config.Config
		want string // HubSpot object, matches, additional emails, clear on unlink, mappings
	}{
		{"defaults", func(t *testing.T) *config.Config { return parseUsers(t, "enabled: true") }, "contacts email email extra=true clear=true"},
		{"empty values take the defaults", func(t *testing.T) *config.Config {
			return parseUsers(t, `hubspot_object: ""`+"\n"+`match: {hubspot: "", userpilot: ""}`)
		}, "contacts email email extra=true clear=true"},
		{"custom object and match", func(t *testing.T) *config.Config {
			return parseUsers(t, "hubspot_object: 2-777\nmatch: {hubspot: app_id, userpilot: user_id}\ninbound:\n  - {hubspot: plan_tier, userpilot: tier}")
		}, "2-777 app_id user_id extra=false clear=true plan_tier->tier"},
		{"clear on unlink off", func(t *testing.T) *config.Config { return parseUsers(t, "clear_on_unlink: false") }, "contacts email email extra=true clear=false"},
		{"clear on unlink on", func(t *testing.T) *config.Config { return parseUsers(t, "clear_on_unlink: true") }, "contacts email email extra=true clear=true"},
		{"additional emails off", func(t *testing.T) *config.Config { return parseUsers(t, "match: {additional_emails: false}") }, "contacts email email extra=false clear=true"},
		{"additional emails on for another match", func(t *testing.T) *config.Config {
			// config.Parse refuses this pair; a config built in code is
			// taken as it says.
			cfg := parseUsers(t, "match: {hubspot: work_email}")
			cfg.Mapping.Users.Match.AdditionalEmails = &on
			return cfg
		}, "contacts work_email email extra=true clear=true"},
		{"another match: no additional emails by default", func(t *testing.T) *config.Config { return parseUsers(t, "match: {hubspot: work_email}") },
			"contacts work_email email extra=false clear=true"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			objs, err := ObjectsFromConfig(tt.cfg(t))
			if err != nil || len(objs) != 1 {
				t.Fatalf("ObjectsFromConfig: %v, %d objects; want users", err, len(objs))
			}
			o := objs[0]
			got := o.HubSpotObject + " " + o.MatchHubSpot + " " + o.MatchUserpilot + " extra=" + bstr(o.AdditionalEmails) + " clear=" + bstr(o.ClearOnUnlink)
			for _, m := range o.Inbound {
				got += " " + m.HubSpot + "->" + m.Userpilot
			}
			if got != tt.want {
				t.Errorf("got  %q\nwant %q", got, tt.want)
			}
		})
	}
}

func bstr(b bool) string {
	if b {
		return "true"
	}
	return "false"
}

// TestObjectsFromConfigReportsEveryProblem: every problem of a config built
// in code (config.Parse would refuse them first) is reported at once,
// naming where it is.
func TestObjectsFromConfigReportsEveryProblem(t *testing.T) {
	cfg := config.Defaults()
	cfg.Mapping.Users.Inbound = []config.PropertyMapping{
		{HubSpot: " ", Userpilot: ""}, {HubSpot: "firstname", Userpilot: "firstname"}, {HubSpot: "x", Userpilot: "__hubspot__user_id"},
	}
	cfg.Mapping.Users.Match.Userpilot = ""
	_, err := ObjectsFromConfig(cfg)
	if err == nil {
		t.Fatal("mapping accepted, want errors")
	}
	for _, want := range []string{
		"mapping.users.match.userpilot: no userpilot property to match on",
		"mapping.users.inbound[0]: no property named",
		`mapping.users.inbound[2]: userpilot property "__hubspot__user_id" is reserved for the link`,
		"mapping.companies.match.hubspot: no hubspot property to match on",
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q, want it to say %q", err, want)
		}
	}
	if strings.Contains(err.Error(), "inbound[1]") || strings.Contains(err.Error(), "hubspot_object") {
		t.Errorf("error %q names a valid setting", err)
	}

	cfg.Mapping.Users.Inbound = cfg.Mapping.Users.Inbound[1:2]
	cfg.Mapping.Users.Match.Userpilot = "email"
	cfg.Mapping.Companies.Match.HubSpot = "domain"
	objs, err := ObjectsFromConfig(cfg)
	if err != nil || len(objs) != 2 {
		t.Fatalf("ObjectsFromConfig: %v, %d objects; want users and companies", err, len(objs))
	}
	if co := objs[1]; co.Kind != store.KindCompany || co.HubSpotObject != "companies" || co.MatchHubSpot != "domain" || co.MatchUserpilot != "company_id" || co.AdditionalEmails {
		t.Errorf("companies %+v, want companies matched by domain on company_id", co)
	}
}

// TestIDMatches (issue 14 item 8): "id", "user_id" for users and
// "company_id" for companies name the Userpilot record itself, so a record
// links without a stored profile; "company_id" on users (or "user_id" on
// companies) is an ordinary metadata key, matched against stored profiles.
func TestIDMatches(t *testing.T) {
	for _, tt := range []struct {
		name     string
		kind     store.Kind
		object   string
		match    string
		idMatch  bool
		profile  string // the Userpilot id written, when idMatch
		writeKey string
	}{
		{"users on user_id", store.KindUser, "contacts", "user_id", true, "U-1", "U-1"},
		{"users on id", store.KindUser, "contacts", "id", true, "U-1", "U-1"},
		{"companies on company_id", store.KindCompany, "companies", "company_id", true, "U-1", "co:U-1"},
		{"companies on id", store.KindCompany, "companies", "id", true, "U-1", "co:U-1"},
		{"users on a company_id key", store.KindUser, "contacts", "company_id", false, "", ""},
		{"companies on a user_id key", store.KindCompany, "companies", "user_id", false, "", ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			o := Object{Kind: tt.kind, HubSpotObject: tt.object, MatchHubSpot: "app_id", MatchUserpilot: tt.match,
				Inbound: []config.PropertyMapping{{HubSpot: "tier", Userpilot: "tier"}}}
			e := newEnv(t, o)
			e.hs.put(tt.object, "9001", now0.Add(-time.Hour), map[string]string{"app_id": " U-1 ", "tier": "gold"})
			rep := e.run(t, ModeFull)
			if !rep.Complete {
				t.Fatalf("report %+v", rep)
			}
			w := e.up.written()
			if !tt.idMatch {
				if len(w) != 0 || rep.Totals.Unmatched != 1 || e.st.get(tt.kind, "U-1") != nil {
					t.Errorf("written %v, totals %+v; want the record unmatched, no profile made", w, rep.Totals)
				}
				return
			}
			p := e.st.get(tt.kind, tt.profile)
			if p == nil || p.HubSpotID != "9001" || rep.Totals.Linked != 1 {
				t.Fatalf("profile %+v, totals %+v; want %s made and linked to 9001", p, rep.Totals, tt.profile)
			}
			if len(w[tt.writeKey]) != 1 || w[tt.writeKey][0]["tier"] != "gold" || w[tt.writeKey][0][o.linkKey()] != "9001" {
				t.Errorf("written %v, want %s with tier and the link", w, tt.writeKey)
			}
			// The next poll walks the same HubSpot object for changes.
			e.up.reset()
			e.hs.put(tt.object, "9001", now0.Add(time.Minute), map[string]string{"app_id": "U-1", "tier": "platinum"})
			e.clock.advance(5 * time.Minute)
			rep = e.run(t, ModeIncremental)
			if w := e.up.written()[tt.writeKey]; rep.Objects[0].Mode != ModeIncremental || len(w) != 1 || describe(w[0]) != "tier=platinum " {
				t.Errorf("incremental run %s wrote %v, want the changed tier", rep.Objects[0].Mode, e.up.written())
			}
		})
	}
}

// TestInboundMatchOnAnotherProperty (issue 14 item 8): users matched on a
// HubSpot property other than email, against a Userpilot metadata key other
// than email, link by that pair and not by email.
func TestInboundMatchOnAnotherProperty(t *testing.T) {
	o := Object{Kind: store.KindUser, HubSpotObject: "contacts", MatchHubSpot: "crm_key", MatchUserpilot: "crm_key",
		Inbound: []config.PropertyMapping{{HubSpot: "firstname", Userpilot: "first_name"}}}
	e := newEnv(t, o)
	e.hs.put("contacts", "1001", now0.Add(-time.Hour), map[string]string{"email": "a@example.com", "crm_key": "K-7", "firstname": "Ann"})
	e.hs.put("contacts", "1002", now0.Add(-time.Hour), map[string]string{"email": "k-8", "crm_key": "other", "firstname": "Bob"})
	e.st.add(&store.Profile{Kind: store.KindUser, ID: "u1", MatchValue: "k-7"}, &store.Profile{Kind: store.KindUser, ID: "u2", MatchValue: "k-8"})
	rep := e.run(t, ModeFull)
	if !rep.Complete || rep.Totals.Linked != 1 || rep.Totals.Unmatched != 1 {
		t.Fatalf("report %s %+v, want u1 linked, 1002 unmatched", rep.Status, rep.Totals)
	}
	if p := e.st.get(store.KindUser, "u1"); p.HubSpotID != "1001" {
		t.Errorf("u1 linked to %q, want 1001 (crm_key K-7)", p.HubSpotID)
	}
	if p := e.st.get(store.KindUser, "u2"); p.HubSpotID != "" {
		t.Errorf("u2 linked to %q, want unlinked (its key matches 1002's email, not its crm_key)", p.HubSpotID)
	}
	if got := e.hs.props; len(got) == 0 || got[0] != "crm_key" {
		t.Errorf("requested properties %v, want crm_key first", got)
	}
}

// TestPlanRecord: the preview's plan for one profile and record is what a
// run would write to that profile, typed as the run types it, with the
// run's counts; the profile itself is left as it was.
func TestPlanRecord(t *testing.T) {
	obj := valuesObject()
	rec := hubspot.Record{ID: "1001", UpdatedAt: now0, Properties: map[string]string{"email": "A@example.com", "firstname": "Ann", "score": "42", "vip": "maybe", "lifecyclestage": "lead"}}
	t.Run("would link", func(t *testing.T) {
		p := &store.Profile{Env: "production", Kind: store.KindUser, ID: "u1", MatchValue: "a@example.com"}
		plan := PlanRecord(obj, "production", now0, p, rec, valuesTypes)
		want := "__hubspot__object_type=contacts __hubspot__user_id=1001 first_name=Ann hs_stage=lead score=42 vip=maybe "
		if got := describe(plan.Meta); got != want || plan.Counts != (Counts{Read: 1, Linked: 1}) {
			t.Errorf("plan %s %+v, want %s linked", got, plan.Counts, want)
		}
		if plan.Meta["score"] == "42" || len(plan.Untyped) != 2 {
			t.Errorf("plan typed %#v, untyped %v; want score typed, lifecyclestage and vip untyped", plan.Meta["score"], plan.Untyped)
		}
		if p.HubSpotID != "" || p.InboundHashes != nil {
			t.Errorf("profile changed by the plan: %+v", p)
		}
	})
	t.Run("without types", func(t *testing.T) {
		p := &store.Profile{Env: "production", Kind: store.KindUser, ID: "u1", MatchValue: "a@example.com"}
		plan := PlanRecord(obj, "production", now0, p, rec, nil)
		if plan.Meta["score"] != "42" || plan.Untyped != nil {
			t.Errorf("plan %v untyped %v, want the values as HubSpot's strings", plan.Meta, plan.Untyped)
		}
	})
	t.Run("stale link", func(t *testing.T) {
		hashes := linkedHashes(obj, "1001", nil)
		p := &store.Profile{Env: "production", Kind: store.KindUser, ID: "u1", MatchValue: "b@example.com", HubSpotID: "1001", HubSpotObject: "contacts", LinkMatch: "b@example.com", InboundHashes: hashes}
		plan := PlanRecord(obj, "production", now0, p, rec, valuesTypes)
		if got := describe(plan.Meta); got != "__hubspot__object_type=<nil> __hubspot__user_id=<nil> " || plan.Counts != (Counts{Read: 1, Unlinked: 1, Unmatched: 1}) {
			t.Errorf("plan %s %+v, want the link keys cleared, unlinked", got, plan.Counts)
		}
		if p.HubSpotID != "1001" || len(p.InboundHashes) != len(hashes) {
			t.Errorf("profile changed by the plan: %+v", p)
		}
	})
	t.Run("id match names another user", func(t *testing.T) {
		o := Object{Kind: store.KindUser, HubSpotObject: "contacts", MatchHubSpot: "app_id", MatchUserpilot: "user_id",
			Inbound: []config.PropertyMapping{{HubSpot: "tier", Userpilot: "tier"}}}
		p := &store.Profile{Env: "production", Kind: store.KindUser, ID: "U-1", MatchValue: "u-1", HubSpotID: "9001", HubSpotObject: "contacts", LinkMatch: "u-1",
			InboundHashes: linkedHashes(o, "9001", map[string]string{"tier": "gold"})}
		plan := PlanRecord(o, "production", now0, p, hubspot.Record{ID: "9001", Properties: map[string]string{"app_id": "U-2", "tier": "gold"}}, nil)
		if got := describe(plan.Meta); got != "__hubspot__object_type=<nil> __hubspot__user_id=<nil> " || plan.Counts != (Counts{Read: 1, Linked: 1, Unlinked: 1}) {
			t.Errorf("plan for U-1 %s %+v, want only U-1's link cleared (U-2 takes the record)", got, plan.Counts)
		}
	})
	if got := obj.RecordProperties(); strings.Join(got, ",") != "email,hs_additional_emails,hs_merged_object_ids,firstname,lifecyclestage,score,vip" {
		t.Errorf("record properties %v", got)
	}
}

// TestObjectsFromConfigCompaniesOnly: with users disabled, companies are
// still synced.
func TestObjectsFromConfigCompaniesOnly(t *testing.T) {
	cfg, err := config.Parse("integration.yaml", []byte("mapping:\n  users:\n    enabled: false\n  companies:\n    match: {hubspot: domain}\nactivity:\n  sink: none\n"))
	if err != nil {
		t.Fatal(err)
	}
	objs, err := ObjectsFromConfig(cfg)
	if err != nil || len(objs) != 1 || objs[0].Kind != store.KindCompany {
		t.Fatalf("ObjectsFromConfig: %+v, %v; want companies only", objs, err)
	}
}

// TestObjectsFromConfigReportsProblemsAfterAReservedName: a reserved
// userpilot property does not hide the problems of the entries after it.
func TestObjectsFromConfigReportsProblemsAfterAReservedName(t *testing.T) {
	cfg := config.Defaults()
	cfg.Mapping.Users.Inbound = []config.PropertyMapping{{HubSpot: "x", Userpilot: "__hubspot__user_id"}, {HubSpot: " "}}
	cfg.Mapping.Companies.Enabled = new(false)
	_, err := ObjectsFromConfig(cfg)
	if err == nil || !strings.Contains(err.Error(), "inbound[0]: userpilot property") || !strings.Contains(err.Error(), "inbound[1]: no property named") {
		t.Errorf("error %v, want both inbound[0] and inbound[1] named", err)
	}
}
