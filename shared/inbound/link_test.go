package inbound

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pilotsync/pilotsync/shared/config"
	"github.com/pilotsync/pilotsync/shared/hubspot"
	"github.com/pilotsync/pilotsync/shared/identity"
	"github.com/pilotsync/pilotsync/shared/store"
)

var now0 = time.Date(2026, 11, 27, 10, 0, 0, 0, time.UTC)

func usersObject() Object {
	return Object{
		Kind: store.KindUser, HubSpotObject: "contacts", MatchHubSpot: "email", MatchUserpilot: "email",
		AdditionalEmails: true,
		Inbound: []config.PropertyMapping{
			{HubSpot: "firstname", Userpilot: "first_name"},
			{HubSpot: "lifecyclestage", Userpilot: "hs_stage"},
		},
	}
}

// linkedHashes are the InboundHashes of a profile that inbound already
// wrote record id's values to.
func linkedHashes(obj Object, id string, props map[string]string) map[string]string {
	h := map[string]string{KeyObjectType: ValueHash(obj.HubSpotObject), obj.linkKey(): ValueHash(id)}
	for _, m := range obj.Inbound {
		if v, ok := props[m.HubSpot]; ok {
			h[m.Userpilot] = ValueHash(v)
		}
	}
	return h
}

// plan runs the planner over recs with profiles as the store holds them.
func plan(obj Object, profiles []*store.Profile, recs []hubspot.Record) (*planner, []*change) {
	byID := map[string]*store.Profile{}
	byHS := map[string][]string{}
	byMatch := map[string][]string{}
	for _, p := range profiles {
		p.MatchValue = identity.Normalize(p.MatchValue)
		byID[p.ID] = p
		if p.HubSpotID != "" {
			byHS[p.HubSpotID] = append(byHS[p.HubSpotID], p.ID)
		}
		if p.MatchValue != "" {
			byMatch[p.MatchValue] = append(byMatch[p.MatchValue], p.ID)
		}
	}
	pl := newPlanner(obj, "production", now0, byID, byHS, byMatch)
	for _, r := range recs {
		pl.apply(obj.view(r))
	}
	return pl, pl.result()
}

func rec(id string, props ...string) hubspot.Record {
	r := hubspot.Record{ID: id, Properties: map[string]string{}, UpdatedAt: now0}
	for i := 0; i < len(props); i += 2 {
		r.Properties[props[i]] = props[i+1]
	}
	return r
}

func TestLinkingRules(t *testing.T) {
	obj := usersObject()
	type want struct {
		counts Counts
		writes map[string]string // profile id -> described metadata
		links  map[string]string // profile id -> hubspot id after
	}
	tests := []struct {
		name     string
		profiles []*store.Profile
		recs     []hubspot.Record
		want     want
	}{
		{
			name:     "email differing in case and whitespace links and writes everything",
			profiles: []*store.Profile{{Kind: store.KindUser, ID: "u1", MatchValue: "ann@example.com"}},
			recs:     []hubspot.Record{rec("101", "email", "  Ann@Example.COM ", "firstname", "Ann")},
			want: want{
				counts: Counts{Read: 1, Linked: 1},
				writes: map[string]string{"u1": "__hubspot__object_type=contacts __hubspot__user_id=101 first_name=Ann "},
				links:  map[string]string{"u1": "101"},
			},
		},
		{
			name:     "a contact matching by an additional email links",
			profiles: []*store.Profile{{Kind: store.KindUser, ID: "u2", MatchValue: "old@example.com"}},
			recs:     []hubspot.Record{rec("102", "email", "new@example.com", "hs_additional_emails", "x@example.com; OLD@example.com")},
			want: want{
				counts: Counts{Read: 1, Linked: 1},
				writes: map[string]string{"u2": "__hubspot__object_type=contacts __hubspot__user_id=102 "},
				links:  map[string]string{"u2": "102"},
			},
		},
		{
			name: "an additional email never steals a profile linked by its primary email",
			profiles: []*store.Profile{{Kind: store.KindUser, ID: "u3", MatchValue: "a@example.com", HubSpotID: "200", HubSpotObject: "contacts",
				InboundHashes: linkedHashes(obj, "200", nil)}},
			recs: []hubspot.Record{rec("201", "email", "b@example.com", "hs_additional_emails", "a@example.com")},
			want: want{
				counts: Counts{Read: 1, Unmatched: 1},
				links:  map[string]string{"u3": "200"},
			},
		},
		{
			name: "nothing changed: skipped, nothing written",
			profiles: []*store.Profile{{Kind: store.KindUser, ID: "u4", MatchValue: "c@example.com", HubSpotID: "103", HubSpotObject: "contacts",
				InboundHashes: linkedHashes(obj, "103", map[string]string{"firstname": "Cy"})}},
			recs: []hubspot.Record{rec("103", "email", "c@example.com", "firstname", "Cy")},
			want: want{counts: Counts{Read: 1, Skipped: 1}, links: map[string]string{"u4": "103"}},
		},
		{
			name: "only the changed property is written; a cleared one is removed",
			profiles: []*store.Profile{{Kind: store.KindUser, ID: "u5", MatchValue: "d@example.com", HubSpotID: "104", HubSpotObject: "contacts",
				InboundHashes: linkedHashes(obj, "104", map[string]string{"firstname": "Di", "lifecyclestage": "lead"})}},
			recs: []hubspot.Record{rec("104", "email", "d@example.com", "firstname", "Diana")},
			want: want{
				counts: Counts{Read: 1},
				writes: map[string]string{"u5": "first_name=Diana hs_stage=<nil> "},
				links:  map[string]string{"u5": "104"},
			},
		},
		{
			name: "a value pilotsync wrote to HubSpot is not copied back",
			profiles: []*store.Profile{{Kind: store.KindUser, ID: "u6", MatchValue: "e@example.com", HubSpotID: "105", HubSpotObject: "contacts",
				InboundHashes:  linkedHashes(obj, "105", map[string]string{"firstname": "Ed"}),
				OutboundHashes: map[string]string{"lifecyclestage": ValueHash("customer")}}},
			recs: []hubspot.Record{rec("105", "email", "e@example.com", "firstname", "Ed", "lifecyclestage", "customer")},
			want: want{counts: Counts{Read: 1, Skipped: 1, Echoes: 1}, links: map[string]string{"u6": "105"}},
		},
		{
			name: "email changed in HubSpot: re-linked to the user with the new email, the old one unlinked",
			profiles: []*store.Profile{
				{Kind: store.KindUser, ID: "old", MatchValue: "f@example.com", HubSpotID: "106", HubSpotObject: "contacts", InboundHashes: linkedHashes(obj, "106", nil)},
				{Kind: store.KindUser, ID: "new", MatchValue: "f2@example.com"},
			},
			recs: []hubspot.Record{rec("106", "email", "F2@example.com")},
			want: want{
				counts: Counts{Read: 1, Linked: 1, Unlinked: 1},
				writes: map[string]string{
					"new": "__hubspot__object_type=contacts __hubspot__user_id=106 ",
					"old": "__hubspot__object_type=<nil> __hubspot__user_id=<nil> ",
				},
				links: map[string]string{"old": "", "new": "106"},
			},
		},
		{
			name: "email changed in Userpilot: the stale link is dropped",
			profiles: []*store.Profile{
				{Kind: store.KindUser, ID: "u7", MatchValue: "g-new@example.com", HubSpotID: "107", HubSpotObject: "contacts", InboundHashes: linkedHashes(obj, "107", nil)},
			},
			recs: []hubspot.Record{rec("107", "email", "g@example.com")},
			want: want{
				counts: Counts{Read: 1, Unlinked: 1, Unmatched: 1},
				writes: map[string]string{"u7": "__hubspot__object_type=<nil> __hubspot__user_id=<nil> "},
				links:  map[string]string{"u7": ""},
			},
		},
		{
			name: "a profile whose primary email matches another record is re-linked to it",
			profiles: []*store.Profile{
				{Kind: store.KindUser, ID: "u8", MatchValue: "h@example.com", HubSpotID: "108", HubSpotObject: "contacts", InboundHashes: linkedHashes(obj, "108", nil)},
			},
			recs: []hubspot.Record{rec("109", "email", "h@example.com")},
			want: want{
				counts: Counts{Read: 1, Relinked: 1},
				writes: map[string]string{"u8": "__hubspot__user_id=109 "},
				links:  map[string]string{"u8": "109"},
			},
		},
		{
			name: "merge: both old ids' profiles move to the surviving record",
			profiles: []*store.Profile{
				{Kind: store.KindUser, ID: "p", MatchValue: "p@example.com", HubSpotID: "110", HubSpotObject: "contacts", InboundHashes: linkedHashes(obj, "110", nil)},
				{Kind: store.KindUser, ID: "m", MatchValue: "m@example.com", HubSpotID: "111", HubSpotObject: "contacts", InboundHashes: linkedHashes(obj, "111", nil)},
				{Kind: store.KindUser, ID: "x", MatchValue: "x@example.com", HubSpotID: "111", HubSpotObject: "contacts", InboundHashes: linkedHashes(obj, "111", nil)},
			},
			recs: []hubspot.Record{rec("112", "email", "p@example.com", "hs_additional_emails", "m@example.com", "hs_merged_object_ids", "110;111")},
			want: want{
				counts: Counts{Read: 1, Relinked: 3},
				writes: map[string]string{
					"p": "__hubspot__user_id=112 ", "m": "__hubspot__user_id=112 ", "x": "__hubspot__user_id=112 ",
				},
				links: map[string]string{"p": "112", "m": "112", "x": "112"},
			},
		},
		{
			name:     "no profile matches: unmatched",
			profiles: []*store.Profile{{Kind: store.KindUser, ID: "u9", MatchValue: "i@example.com"}},
			recs:     []hubspot.Record{rec("113", "email", "nobody@example.com"), rec("114")},
			want:     want{counts: Counts{Read: 2, Unmatched: 2}, links: map[string]string{"u9": ""}},
		},
		{
			name: "two records in one page: the later one wins the profile",
			profiles: []*store.Profile{
				{Kind: store.KindUser, ID: "u10", MatchValue: "j@example.com"},
			},
			recs: []hubspot.Record{rec("115", "email", "j@example.com", "firstname", "A"), rec("116", "email", "J@example.com", "firstname", "B")},
			want: want{
				counts: Counts{Read: 2, Linked: 1, Relinked: 1},
				writes: map[string]string{"u10": "__hubspot__object_type=contacts __hubspot__user_id=116 first_name=B "},
				links:  map[string]string{"u10": "116"},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pl, changes := plan(obj, tt.profiles, tt.recs)
			if pl.counts != tt.want.counts {
				t.Errorf("counts\n got %+v\nwant %+v", pl.counts, tt.want.counts)
			}
			got := map[string]string{}
			for _, c := range changes {
				got[c.p.ID] = describe(c.meta)
			}
			if !maps.Equal(got, tt.want.writes) && !(len(got) == 0 && len(tt.want.writes) == 0) {
				t.Errorf("writes\n got %v\nwant %v", got, tt.want.writes)
			}
			for id, hs := range tt.want.links {
				if p := pl.profiles[id]; p.HubSpotID != hs {
					t.Errorf("profile %s linked to %q, want %q", id, p.HubSpotID, hs)
				}
			}
		})
	}
}

func TestIDMatchNeedsNoProfile(t *testing.T) {
	obj := Object{Kind: store.KindUser, HubSpotObject: "contacts", MatchHubSpot: "userpilot_id", MatchUserpilot: "user_id",
		Inbound: []config.PropertyMapping{{HubSpot: "firstname", Userpilot: "first_name"}}}
	pl, changes := plan(obj, nil, []hubspot.Record{rec("201", "userpilot_id", " User-A ", "firstname", "Al"), rec("202")})
	if want := (Counts{Read: 2, Linked: 1, Unmatched: 1}); pl.counts != want {
		t.Errorf("counts %+v, want %+v", pl.counts, want)
	}
	if len(changes) != 1 || changes[0].p.ID != "User-A" || changes[0].p.Version != 0 {
		t.Fatalf("changes %v, want one new profile User-A (case kept)", changes)
	}
	if got, want := describe(changes[0].meta), "__hubspot__object_type=contacts __hubspot__user_id=201 first_name=Al "; got != want {
		t.Errorf("write %q, want %q", got, want)
	}
	if !pl.touched["User-A"] {
		t.Error("new profile not marked for saving")
	}
}

func TestApplyWrittenKeepsNewerUserpilotValues(t *testing.T) {
	p := &store.Profile{ID: "u", Properties: map[string]store.Property{"first_name": {Value: "Newer", At: now0.Add(time.Hour)}}}
	c := &change{p: p, hashes: map[string]string{"first_name": ValueHash("Old"), "gone": absentHash},
		props: map[string]store.Property{"first_name": {Value: "Old", At: now0}, "x": {Value: "1", At: now0}}}
	p.InboundHashes = map[string]string{"gone": "abc"}
	c.applyWritten()
	if v := p.Properties["first_name"].Value; v != "Newer" {
		t.Errorf("first_name = %v, want the newer Newer kept", v)
	}
	if v := p.Properties["x"].Value; v != "1" {
		t.Errorf("x = %v, want 1", v)
	}
	if _, ok := p.InboundHashes["gone"]; ok {
		t.Error("absent hash kept, want it deleted")
	}
	if p.InboundHashes["first_name"] != ValueHash("Old") {
		t.Error("hash of the written value not recorded")
	}
}

// TestObjectsFromConfig: the inbound objects come from the config as
// config.Parse gives it (defaults applied once there); a hand-built config
// naming a reserved Userpilot property or leaving a match empty is refused.
func TestObjectsFromConfig(t *testing.T) {
	cfg, err := config.Parse("integration.yaml", []byte(`
mapping:
  users:
    inbound:
      - hubspot: firstname
      - userpilot: plan
  companies:
    enabled: false
`))
	if err != nil {
		t.Fatal(err)
	}
	reserved := *cfg
	reserved.Mapping.Users.Inbound = append(slices.Clone(cfg.Mapping.Users.Inbound), config.PropertyMapping{HubSpot: "x", Userpilot: "__hubspot__user_id"})
	if _, err := ObjectsFromConfig(&reserved); err == nil || !strings.Contains(err.Error(), "mapping.users.inbound[2]") {
		t.Fatalf("reserved userpilot property: %v, want an error naming mapping.users.inbound[2]", err)
	}
	empty := *cfg
	empty.Mapping.Users.Match.HubSpot = ""
	if _, err := ObjectsFromConfig(&empty); err == nil || !strings.Contains(err.Error(), "mapping.users") {
		t.Fatalf("empty match: %v, want an error naming mapping.users", err)
	}
	objs, err := ObjectsFromConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if len(objs) != 1 {
		t.Fatalf("got %d objects, want users only", len(objs))
	}
	o := objs[0]
	got := fmt.Sprintf("%s %s %s %v", o.HubSpotObject, o.MatchHubSpot, o.MatchUserpilot, o.AdditionalEmails)
	for _, m := range o.Inbound {
		got += " " + m.HubSpot + "->" + m.Userpilot
	}
	if want := "contacts email email true firstname->firstname plan->plan"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
	if got, want := o.properties(), []string{"email", "hs_additional_emails", "hs_merged_object_ids", "firstname", "plan"}; !slices.Equal(got, want) {
		t.Errorf("properties %v, want %v", got, want)
	}
}

// TestEmailChangedAfterTheLookupIsNotLinkedByTheOldOne: a profile found by
// its email whose email changed before its profile was read (an identify
// landing in between) is not linked to the record of the old email: that
// record is someone else's now.
func TestEmailChangedAfterTheLookupIsNotLinkedByTheOldOne(t *testing.T) {
	e := newEnv(t)
	e.hs.put("contacts", "1001", now0.Add(-time.Hour), map[string]string{"email": "old@example.com", "firstname": "Old"})
	e.st.add(&store.Profile{Kind: store.KindUser, ID: "u1", MatchValue: "old@example.com"})
	var once sync.Once
	e.st.afterLookupByMatch = func() {
		once.Do(func() {
			p := e.st.get(store.KindUser, "u1")
			p.MatchValue = "new@example.com"
			if err := e.st.PutProfile(context.Background(), p); err != nil {
				t.Error(err)
			}
		})
	}
	if rep := e.run(t, ModeFull); !rep.Complete {
		t.Fatalf("report %+v", rep)
	}
	if p := e.st.get(store.KindUser, "u1"); p.HubSpotID != "" {
		t.Errorf("u1 (now new@example.com) linked to %q, want unlinked: 1001 is old@example.com", p.HubSpotID)
	}
	if w := e.up.written()["u1"]; len(w) != 0 {
		t.Errorf("u1 written %v, want nothing", w)
	}
}

// TestEmptyHubSpotValueClearsTheUserpilotProperty: HubSpot answers a cleared
// property as "": Userpilot gets the property cleared (null), not set to an
// empty string, and the next run has nothing to write.
func TestEmptyHubSpotValueClearsTheUserpilotProperty(t *testing.T) {
	e := newEnv(t)
	e.hs.put("contacts", "1001", now0.Add(-2*time.Hour), map[string]string{"email": "a@example.com", "firstname": "Ann"})
	e.st.add(&store.Profile{Kind: store.KindUser, ID: "u1", MatchValue: "a@example.com"})
	e.run(t, ModeFull)
	e.hs.put("contacts", "1001", now0.Add(-time.Hour), map[string]string{"email": "a@example.com", "firstname": ""})
	e.up.reset()
	e.clock.advance(5 * time.Minute)
	e.run(t, ModeFull)
	w := e.up.written()["u1"]
	if v, has := firstWrite(w)["first_name"]; len(w) != 1 || !has || v != nil {
		t.Errorf("written %v, want first_name cleared (null)", w)
	}
}

func firstWrite(w []map[string]any) map[string]any {
	if len(w) == 0 {
		return nil
	}
	return w[0]
}

// TestPropertiesAskedOnce: a HubSpot property named twice (mapped inbound
// and used to match, or mapped to two Userpilot properties) is asked for
// once, and an empty name not at all.
func TestPropertiesAskedOnce(t *testing.T) {
	o := Object{Kind: store.KindUser, HubSpotObject: "contacts", MatchHubSpot: "email", MatchUserpilot: "email",
		Inbound: []config.PropertyMapping{{HubSpot: "email", Userpilot: "hs_email"}, {HubSpot: "firstname", Userpilot: "a"}, {HubSpot: "firstname", Userpilot: "b"}, {HubSpot: ""}}}
	if got, want := o.properties(), []string{"email", "hs_merged_object_ids", "firstname"}; !slices.Equal(got, want) {
		t.Errorf("properties %v, want %v", got, want)
	}
}

// TestIDMatchLinksEveryRecordOfAPageToItsStoredProfile: users matched by
// user id: each record of a page is linked to the stored profile its id
// names (read directly, with its version), and all of them are written.
func TestIDMatchLinksEveryRecordOfAPageToItsStoredProfile(t *testing.T) {
	obj := Object{Kind: store.KindUser, HubSpotObject: "contacts", MatchHubSpot: "userpilot_id", MatchUserpilot: "user_id",
		Inbound: []config.PropertyMapping{{HubSpot: "firstname", Userpilot: "first_name"}}}
	e := newEnv(t, obj)
	for i, id := range []string{"u1", "u2", "u3"} {
		e.hs.put("contacts", fmt.Sprint(1001+i), now0.Add(-time.Hour), map[string]string{"userpilot_id": id, "firstname": "F" + id})
		e.st.add(&store.Profile{Kind: store.KindUser, ID: id, MatchValue: id,
			Properties: map[string]store.Property{"plan": {Value: "pro", At: now0.Add(-2 * time.Hour)}}})
	}
	rep := e.run(t, ModeFull)
	if rep.Status != StatusComplete || rep.Totals.Linked != 3 || rep.Totals.Written != 3 {
		t.Fatalf("report %s %q %+v, want the three linked and written", rep.Status, rep.Error, rep.Totals)
	}
	for i, id := range []string{"u1", "u2", "u3"} {
		p := e.st.get(store.KindUser, id)
		if p.HubSpotID != fmt.Sprint(1001+i) || p.Properties["plan"].Value != "pro" {
			t.Errorf("%s: linked %q, plan %v; want %d and its stored plan kept", id, p.HubSpotID, p.Properties["plan"].Value, 1001+i)
		}
	}
}
