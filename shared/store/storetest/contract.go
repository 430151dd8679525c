package storetest

import (
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pilotsync/pilotsync/shared/store"
)

// Env is the environment the contract writes in.
const env = "production"

// RunContract tests that the store open returns behaves like the DynamoDB
// store: every method of Store, the merge rules, its errors (version
// conflicts, invalid input) and its honouring of contexts. open is called
// once per subtest and must return an empty store.
func RunContract(t *testing.T, open func(t *testing.T) Store) {
	for _, c := range []struct {
		name string
		fn   func(t *testing.T, s Store)
	}{
		{"ProfileRoundTrip", testProfileRoundTrip},
		{"PutProfileConflict", testPutProfileConflict},
		{"InvalidProfiles", testInvalidProfiles},
		{"PutProfilesBatch", testPutProfilesBatch},
		{"LookupsFollowLinks", testLookupsFollowLinks},
		{"MergeTimestamps", testMergeTimestamps},
		{"MergeCompanyAndMatch", testMergeCompanyAndMatch},
		{"MergeDirty", testMergeDirty},
		{"MergeRace", testMergeRace},
		{"DirtyProfiles", testDirtyProfiles},
		{"Cursors", testCursors},
		{"Leases", testLeases},
		{"EnabledAt", testEnabledAt},
		{"Problems", testProblems},
		{"Ledger", testLedger},
		{"Activity", testActivity},
		{"Runs", testRuns},
		{"Context", testContext},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			c.fn(t, open(t))
		})
	}
}

var t0 = time.Date(2026, 11, 1, 10, 0, 0, 123456789, time.UTC)

func mustPut(t *testing.T, s Store, p *store.Profile) {
	t.Helper()
	if err := s.PutProfile(t.Context(), p); err != nil {
		t.Fatalf("put %s: %v", p.ID, err)
	}
}

func mustGet(t *testing.T, s Store, kind store.Kind, id string) *store.Profile {
	t.Helper()
	p, err := s.GetProfile(t.Context(), env, kind, id)
	if err != nil {
		t.Fatalf("get %s: %v", id, err)
	}
	return p
}

func merge(t *testing.T, s Store, id string, in store.IdentifyInput) *store.MergeResult {
	t.Helper()
	res, err := s.MergeIdentify(t.Context(), env, store.KindUser, id, in)
	if err != nil {
		t.Fatalf("merge %s: %v", id, err)
	}
	return res
}

func testProfileRoundTrip(t *testing.T, s Store) {
	ctx := t.Context()
	before := time.Now().Add(-time.Second)
	in := &store.Profile{
		Env: env, Kind: store.KindUser, ID: "u#1", CompanyID: "c1", MatchValue: "  Ann@Example.COM ",
		Properties: map[string]store.Property{
			"email": {Value: "Ann@Example.com", At: t0},
			"seats": {Value: 12, At: t0},
			"trial": {Value: true, At: t0},
			"gone":  {Value: nil, At: t0},
			"tags":  {Value: []string{"a", "b"}, At: t0},
			"addr":  {Value: map[string]any{"city": "Oslo"}, At: t0},
		},
		HubSpotID: "901", HubSpotObject: "contacts",
		InboundHashes: map[string]string{"plan": "h1"}, OutboundHashes: map[string]string{"email": "h2"},
		Quarantined: map[string]string{"phone": "bad"}, Dirty: true,
	}
	mustPut(t, s, in)
	if in.Version != 1 || in.MatchValue != "ann@example.com" || in.UpdatedAt.Before(before) {
		t.Errorf("after put: version %d match %q updated %v, want 1, normalized, set", in.Version, in.MatchValue, in.UpdatedAt)
	}
	got := mustGet(t, s, store.KindUser, "u#1")
	want := map[string]any{"email": "Ann@Example.com", "seats": float64(12), "trial": true, "gone": nil,
		"tags": []any{"a", "b"}, "addr": map[string]any{"city": "Oslo"}}
	for name, v := range want {
		p := got.Properties[name]
		if !reflect.DeepEqual(p.Value, v) || !p.At.Equal(t0) || p.At.Location() != time.UTC {
			t.Errorf("property %s = %#v at %v, want %#v at %v", name, p.Value, p.At, v, t0)
		}
	}
	if got.Version != 1 || got.CompanyID != "c1" || got.MatchValue != "ann@example.com" || got.HubSpotID != "901" ||
		got.HubSpotObject != "contacts" || !got.Dirty || got.InboundHashes["plan"] != "h1" ||
		got.OutboundHashes["email"] != "h2" || got.Quarantined["phone"] != "bad" || !got.UpdatedAt.Equal(in.UpdatedAt) {
		t.Errorf("got %+v", got)
	}
	if _, err := s.GetProfile(ctx, env, store.KindUser, "nobody"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("missing profile: err %v, want ErrNotFound", err)
	}
	if _, err := s.GetProfile(ctx, "staging", store.KindUser, "u#1"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("other environment: err %v, want ErrNotFound", err)
	}
	if _, err := s.GetProfile(ctx, env, store.KindCompany, "u#1"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("other kind: err %v, want ErrNotFound", err)
	}
	// A profile read back and changed keeps its maps apart from the store's.
	got.Properties["email"] = store.Property{Value: "x", At: t0}
	if again := mustGet(t, s, store.KindUser, "u#1"); again.Properties["email"].Value != "Ann@Example.com" {
		t.Errorf("changing a read profile changed the store: %v", again.Properties["email"])
	}
	ps, err := s.GetProfiles(ctx, env, store.KindUser, []string{"u#1", "u#1", "nobody"})
	if err != nil || len(ps) != 1 || ps["u#1"].Version != 1 {
		t.Errorf("GetProfiles = %v, %v; want u#1 only", ps, err)
	}
}

func testPutProfileConflict(t *testing.T, s Store) {
	ctx := t.Context()
	p := &store.Profile{Env: env, Kind: store.KindUser, ID: "u1", MatchValue: "a@x.com"}
	mustPut(t, s, p)
	a, b := mustGet(t, s, store.KindUser, "u1"), mustGet(t, s, store.KindUser, "u1")
	a.CompanyID = "c1"
	mustPut(t, s, a)
	b.CompanyID = "c2"
	err := s.PutProfile(ctx, b)
	if !errors.Is(err, store.ErrConflict) || b.Version != 1 {
		t.Errorf("stale put: err %v version %d, want ErrConflict and version 1 kept", err, b.Version)
	}
	if got := mustGet(t, s, store.KindUser, "u1"); got.CompanyID != "c1" || got.Version != 2 {
		t.Errorf("after conflict: %+v, want c1 at version 2", got)
	}
	// Version 0 means "create": an existing profile is a conflict.
	if err := s.PutProfile(ctx, &store.Profile{Env: env, Kind: store.KindUser, ID: "u1"}); !errors.Is(err, store.ErrConflict) {
		t.Errorf("create over existing: err %v, want ErrConflict", err)
	}
	// A hand-built profile with the right version but not read from the
	// store does not know its stored lookup values: refused, so it cannot
	// orphan lookup entries.
	hand := &store.Profile{Env: env, Kind: store.KindUser, ID: "u1", MatchValue: "b@x.com", Version: 2}
	if err := s.PutProfile(ctx, hand); !errors.Is(err, store.ErrConflict) {
		t.Errorf("hand-built put: err %v, want ErrConflict", err)
	}
	// A version that was never stored.
	if err := s.PutProfile(ctx, &store.Profile{Env: env, Kind: store.KindUser, ID: "u9", Version: 3}); !errors.Is(err, store.ErrConflict) {
		t.Errorf("put of a missing profile at version 3: err %v, want ErrConflict", err)
	}
	// The writer that won can write again with its bumped version.
	a.CompanyID = "c3"
	mustPut(t, s, a)
	if a.Version != 3 {
		t.Errorf("version %d, want 3", a.Version)
	}
}

func testInvalidProfiles(t *testing.T, s Store) {
	ctx := t.Context()
	for _, p := range []*store.Profile{
		{Env: "", Kind: store.KindUser, ID: "u1"},
		{Env: "prod#x", Kind: store.KindUser, ID: "u1"},
		{Env: env, Kind: "person", ID: "u1"},
		{Env: env, Kind: store.KindUser, ID: ""},
		{Env: env, Kind: store.KindUser, ID: "u1", Properties: map[string]store.Property{"": {Value: "x", At: t0}}},
	} {
		if err := s.PutProfile(ctx, p); !errors.Is(err, store.ErrInvalid) {
			t.Errorf("put %+v: err %v, want ErrInvalid", p, err)
		}
	}
	if _, err := s.GetProfile(ctx, env, "person", "u1"); !errors.Is(err, store.ErrInvalid) {
		t.Errorf("get with a bad kind: err %v, want ErrInvalid", err)
	}
	if _, err := s.GetProfiles(ctx, env, store.KindUser, []string{"u1", ""}); !errors.Is(err, store.ErrInvalid) {
		t.Errorf("get an empty id: err %v, want ErrInvalid", err)
	}
	if _, err := s.MergeIdentify(ctx, env, store.KindUser, "", store.IdentifyInput{}); !errors.Is(err, store.ErrInvalid) {
		t.Errorf("merge an empty id: err %v, want ErrInvalid", err)
	}
	if _, err := s.LookupByMatch(ctx, "", store.KindUser, []string{"a"}); !errors.Is(err, store.ErrInvalid) {
		t.Errorf("lookup in no environment: err %v, want ErrInvalid", err)
	}
	big := &store.Profile{Env: env, Kind: store.KindUser, ID: "big",
		Properties: map[string]store.Property{"blob": {Value: strings.Repeat("x", 410*1024), At: t0}}}
	if err := s.PutProfile(ctx, big); !errors.Is(err, store.ErrItemTooLarge) {
		t.Errorf("put a 410 KB profile: err %v, want ErrItemTooLarge", err)
	}
	if _, err := s.GetProfile(ctx, env, store.KindUser, "big"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("the refused profile was stored: %v", err)
	}
}

func testPutProfilesBatch(t *testing.T, s Store) {
	ctx := t.Context()
	old := &store.Profile{Env: env, Kind: store.KindUser, ID: "u2"}
	mustPut(t, s, old)
	stale := mustGet(t, s, store.KindUser, "u2")
	mustPut(t, s, old) // now at version 2
	var ps []*store.Profile
	for i := range 120 {
		ps = append(ps, &store.Profile{Env: env, Kind: store.KindUser, ID: fmt.Sprintf("n%03d", i), MatchValue: fmt.Sprintf("N%d@x.com", i)})
	}
	dup := &store.Profile{Env: env, Kind: store.KindUser, ID: "n000"}
	bad := &store.Profile{Env: env, Kind: store.KindUser, ID: "bad", Properties: map[string]store.Property{"": {}}}
	err := s.PutProfiles(ctx, append(ps, stale, dup, bad))
	var be *store.BatchError
	if !errors.As(err, &be) || !errors.Is(err, store.ErrConflict) {
		t.Fatalf("err %v, want a *BatchError with a conflict", err)
	}
	if got := strings.Join(be.IDs(), ","); got != "bad,n000,u2" {
		t.Errorf("failed %s, want bad,n000,u2 (sorted)", got)
	}
	for _, p := range ps {
		if p.Version != 1 || !strings.Contains(p.MatchValue, "@x.com") || p.MatchValue != strings.ToLower(p.MatchValue) {
			t.Fatalf("stored %s at version %d match %q, want 1 and normalized", p.ID, p.Version, p.MatchValue)
		}
	}
	ids := make([]string, len(ps))
	for i, p := range ps {
		ids[i] = p.ID
	}
	got, err := s.GetProfiles(ctx, env, store.KindUser, ids)
	if err != nil || len(got) != len(ps) {
		t.Errorf("read back %d of %d (%v)", len(got), len(ps), err)
	}
	m, err := s.LookupByMatch(ctx, env, store.KindUser, []string{"n119@x.com"})
	if err != nil || strings.Join(m["n119@x.com"], ",") != "n119" {
		t.Errorf("lookup n119 = %v (%v)", m, err)
	}
	if err := s.PutProfiles(ctx, nil); err != nil {
		t.Errorf("empty batch: %v", err)
	}
}

func testLookupsFollowLinks(t *testing.T, s Store) {
	ctx := t.Context()
	a := &store.Profile{Env: env, Kind: store.KindUser, ID: "a", MatchValue: "Shared@X.com", HubSpotID: "1"}
	b := &store.Profile{Env: env, Kind: store.KindUser, ID: "b", MatchValue: "shared@x.com"}
	co := &store.Profile{Env: env, Kind: store.KindCompany, ID: "a", MatchValue: "shared@x.com", HubSpotID: "1"}
	other := &store.Profile{Env: "staging", Kind: store.KindUser, ID: "z", MatchValue: "shared@x.com", HubSpotID: "1"}
	for _, p := range []*store.Profile{b, a, co, other} {
		mustPut(t, s, p)
	}
	look := func(vals ...string) string {
		t.Helper()
		m, err := s.LookupByMatch(ctx, env, store.KindUser, vals)
		if err != nil {
			t.Fatal(err)
		}
		h, err := s.LookupByHubSpotID(ctx, env, store.KindUser, []string{"1", "2", ""})
		if err != nil {
			t.Fatal(err)
		}
		return fmt.Sprint(m, h)
	}
	if got, want := look(" SHARED@x.com ", "none@x.com", ""), "map[shared@x.com:[a b]] map[1:[a]]"; got != want {
		t.Errorf("lookups %s, want %s", got, want)
	}
	a.MatchValue, a.HubSpotID = "new@x.com", "2"
	mustPut(t, s, a)
	if got, want := look("shared@x.com", "new@x.com"), "map[new@x.com:[a] shared@x.com:[b]] map[2:[a]]"; got != want {
		t.Errorf("after re-link %s, want %s", got, want)
	}
	a.MatchValue, a.HubSpotID = "", ""
	mustPut(t, s, a)
	if got, want := look("shared@x.com", "new@x.com"), "map[shared@x.com:[b]] map[]"; got != want {
		t.Errorf("after unlink %s, want %s", got, want)
	}
	// A re-read profile moves its entries too.
	rb := mustGet(t, s, store.KindUser, "b")
	rb.MatchValue = "b@x.com"
	mustPut(t, s, rb)
	if got, want := look("shared@x.com", "b@x.com"), "map[b@x.com:[b]] map[]"; got != want {
		t.Errorf("after moving b %s, want %s", got, want)
	}
	// A failed (conflicting) write moves nothing.
	stale := &store.Profile{Env: env, Kind: store.KindUser, ID: "b", MatchValue: "c@x.com", Version: 1}
	if err := s.PutProfile(ctx, stale); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("stale put: %v", err)
	}
	if got, want := look("b@x.com", "c@x.com"), "map[b@x.com:[b]] map[]"; got != want {
		t.Errorf("after a conflict %s, want %s", got, want)
	}
}

func testMergeTimestamps(t *testing.T, s Store) {
	r := merge(t, s, "u1", store.IdentifyInput{Properties: map[string]any{"plan": "free", "seats": 3, "tags": []string{"a"}}, At: t0})
	if !r.Created || strings.Join(r.Changed, ",") != "plan,seats,tags" || r.Profile.Version != 1 {
		t.Errorf("first merge %+v", r)
	}
	// Older values are ignored; an equal value changes nothing.
	r = merge(t, s, "u1", store.IdentifyInput{Properties: map[string]any{"plan": "old", "seats": float64(3), "tags": []any{"a"}}, At: t0.Add(-time.Hour)})
	if r.Created || len(r.Changed) != 0 || r.Profile.Version != 1 {
		t.Errorf("older merge %+v, want nothing changed or written", r)
	}
	// Same values at the same time (a redelivery): nothing is written.
	r = merge(t, s, "u1", store.IdentifyInput{Properties: map[string]any{"plan": "free", "seats": 3}, At: t0})
	if len(r.Changed) != 0 || r.Profile.Version != 1 {
		t.Errorf("redelivered merge %+v, want no write", r)
	}
	// At an equal timestamp the incoming value wins.
	r = merge(t, s, "u1", store.IdentifyInput{Properties: map[string]any{"plan": "pro"}, At: t0})
	if strings.Join(r.Changed, ",") != "plan" || r.Profile.Version != 2 {
		t.Errorf("equal-time merge %+v, want plan changed", r)
	}
	// An equal value at a newer time refreshes the timestamp without a change.
	r = merge(t, s, "u1", store.IdentifyInput{Properties: map[string]any{"plan": "pro"}, At: t0.Add(time.Hour)})
	if len(r.Changed) != 0 || r.Profile.Version != 3 {
		t.Errorf("refresh merge %+v, want a write without a change", r)
	}
	if p := mustGet(t, s, store.KindUser, "u1"); !p.Properties["plan"].At.Equal(t0.Add(time.Hour)) {
		t.Errorf("plan at %v, want refreshed", p.Properties["plan"].At)
	}
	// A nil value removes the property as a tombstone an older value cannot undo.
	r = merge(t, s, "u1", store.IdentifyInput{Properties: map[string]any{"plan": nil}, At: t0.Add(2 * time.Hour)})
	if strings.Join(r.Changed, ",") != "plan" {
		t.Errorf("removal %+v", r)
	}
	merge(t, s, "u1", store.IdentifyInput{Properties: map[string]any{"plan": "back"}, At: t0.Add(time.Hour)})
	p := mustGet(t, s, store.KindUser, "u1")
	if pl, ok := p.Properties["plan"]; !ok || pl.Value != nil || !pl.At.Equal(t0.Add(2*time.Hour)) {
		t.Errorf("plan = %+v, want the tombstone kept", pl)
	}
	// Removing a property never seen records its tombstone.
	r = merge(t, s, "u1", store.IdentifyInput{Properties: map[string]any{"phone": nil}, At: t0})
	if len(r.Changed) != 0 {
		t.Errorf("removal of an unknown property changed %v", r.Changed)
	}
	merge(t, s, "u1", store.IdentifyInput{Properties: map[string]any{"phone": "123"}, At: t0.Add(-time.Minute)})
	if ph, ok := mustGet(t, s, store.KindUser, "u1").Properties["phone"]; !ok || ph.Value != nil {
		t.Errorf("phone = %+v, want the tombstone to block the older value", ph)
	}
	// Without a timestamp the store's now is the source time: a value stamped
	// a minute ago loses to it.
	merge(t, s, "u2", store.IdentifyInput{Properties: map[string]any{"plan": "now"}})
	r = merge(t, s, "u2", store.IdentifyInput{Properties: map[string]any{"plan": "earlier"}, At: time.Now().Add(-time.Minute)})
	if len(r.Changed) != 0 {
		t.Errorf("a value older than an untimed one won: %+v", r)
	}
	if at := mustGet(t, s, store.KindUser, "u2").Properties["plan"].At; time.Since(at) > time.Minute || at.Location() != time.UTC {
		t.Errorf("untimed value stamped %v, want about now in UTC", at)
	}
	if _, err := s.MergeIdentify(t.Context(), env, store.KindUser, "u3", store.IdentifyInput{Properties: map[string]any{"": "x"}}); !errors.Is(err, store.ErrInvalid) {
		t.Errorf("merge of an empty property name: err %v, want ErrInvalid", err)
	}
}

func testMergeCompanyAndMatch(t *testing.T, s Store) {
	ctx := t.Context()
	merge(t, s, "u1", store.IdentifyInput{CompanyID: "c1", Properties: map[string]any{"email": " A@X.com "}, At: t0, MatchProperty: "email"})
	// An identify without company_id keeps the stored company.
	r := merge(t, s, "u1", store.IdentifyInput{Properties: map[string]any{"plan": "pro"}, At: t0, MatchProperty: "email"})
	if r.Profile.CompanyID != "c1" || mustGet(t, s, store.KindUser, "u1").CompanyID != "c1" {
		t.Errorf("company %q, want c1 kept", r.Profile.CompanyID)
	}
	// A change that touches only the company is saved.
	r = merge(t, s, "u1", store.IdentifyInput{CompanyID: "c2", At: t0})
	if got := mustGet(t, s, store.KindUser, "u1"); got.CompanyID != "c2" || got.Version != r.Profile.Version || got.Version != 3 {
		t.Errorf("after a company-only change: company %q version %d, want c2 at 3", got.CompanyID, got.Version)
	}
	// The match value follows the match property, normalized, with its lookup.
	if p := mustGet(t, s, store.KindUser, "u1"); p.MatchValue != "a@x.com" {
		t.Errorf("match %q, want a@x.com", p.MatchValue)
	}
	r = merge(t, s, "u1", store.IdentifyInput{Properties: map[string]any{"email": "B@x.com"}, At: t0.Add(time.Minute), MatchProperty: "email"})
	if !r.MatchChanged || r.Profile.MatchValue != "b@x.com" {
		t.Errorf("email change: %+v, want match changed to b@x.com", r)
	}
	m, _ := s.LookupByMatch(ctx, env, store.KindUser, []string{"a@x.com", "b@x.com"})
	if fmt.Sprint(m) != "map[b@x.com:[u1]]" {
		t.Errorf("lookups %v, want b@x.com only", m)
	}
	// "" leaves the match value; user_id uses the id.
	r = merge(t, s, "u1", store.IdentifyInput{Properties: map[string]any{"email": "c@x.com"}, At: t0.Add(2 * time.Minute)})
	if r.MatchChanged || r.Profile.MatchValue != "b@x.com" {
		t.Errorf("no match property: %+v, want b@x.com kept", r)
	}
	r = merge(t, s, "U2", store.IdentifyInput{Properties: map[string]any{"x": "1"}, At: t0, MatchProperty: "user_id"})
	if !r.MatchChanged || r.Profile.MatchValue != "u2" {
		t.Errorf("user_id match: %+v, want u2", r)
	}
	r = merge(t, s, "u3", store.IdentifyInput{Properties: map[string]any{"n": 42}, At: t0, MatchProperty: "n"})
	if r.Profile.MatchValue != "42" {
		t.Errorf("number match %q, want 42", r.Profile.MatchValue)
	}
}

func testMergeDirty(t *testing.T, s Store) {
	out := []string{"plan"}
	r := merge(t, s, "u1", store.IdentifyInput{Properties: map[string]any{"color": "red"}, At: t0, Outbound: out})
	if r.Profile.Dirty {
		t.Error("dirty after a change of an unmapped property")
	}
	r = merge(t, s, "u1", store.IdentifyInput{Properties: map[string]any{"plan": "pro"}, At: t0, Outbound: out})
	if !r.Profile.Dirty || !mustGet(t, s, store.KindUser, "u1").Dirty {
		t.Error("not dirty after a change of a mapped property")
	}
	// A merge never clears the mark, even with nothing mapped changing.
	merge(t, s, "u1", store.IdentifyInput{Properties: map[string]any{"color": "blue"}, At: t0, Outbound: out})
	if !mustGet(t, s, store.KindUser, "u1").Dirty {
		t.Error("a merge cleared the dirty mark")
	}
	// An older value of a mapped property changes nothing, so no mark.
	merge(t, s, "u2", store.IdentifyInput{Properties: map[string]any{"plan": "pro"}, At: t0})
	merge(t, s, "u2", store.IdentifyInput{Properties: map[string]any{"plan": "old"}, At: t0.Add(-time.Hour), Outbound: out})
	if mustGet(t, s, store.KindUser, "u2").Dirty {
		t.Error("dirty after an ignored older value")
	}
	// Companies become dirty the same way.
	res, err := s.MergeIdentify(t.Context(), env, store.KindCompany, "c1", store.IdentifyInput{Properties: map[string]any{"plan": "pro"}, At: t0, Outbound: out})
	if err != nil || !res.Profile.Dirty {
		t.Errorf("company merge: %v dirty %v, want dirty", err, res != nil && res.Profile.Dirty)
	}
}

// testMergeRace: concurrent merges into one profile all land (each retries
// its conflicts), and the version counts every write.
func testMergeRace(t *testing.T, s Store) {
	const n = 8
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			_, err := s.MergeIdentify(t.Context(), env, store.KindUser, "u1", store.IdentifyInput{
				Properties: map[string]any{fmt.Sprint("p", i): "v"}, At: t0})
			if err != nil {
				t.Errorf("merge %d: %v", i, err)
			}
		})
	}
	wg.Wait()
	p := mustGet(t, s, store.KindUser, "u1")
	if len(p.Properties) != n || p.Version != n {
		t.Errorf("got %d properties at version %d, want %d and %d", len(p.Properties), p.Version, n, n)
	}
}

func testDirtyProfiles(t *testing.T, s Store) {
	for i := range 40 {
		mustPut(t, s, &store.Profile{Env: env, Kind: store.KindUser, ID: fmt.Sprintf("u%02d", i), Dirty: i%2 == 0})
	}
	mustPut(t, s, &store.Profile{Env: env, Kind: store.KindCompany, ID: "c1", Dirty: true})
	mustPut(t, s, &store.Profile{Env: "staging", Kind: store.KindUser, ID: "s1", Dirty: true})
	dirty := func() []string {
		t.Helper()
		var ids []string
		for p, err := range s.DirtyProfiles(t.Context(), env, store.KindUser) {
			if err != nil {
				t.Fatal(err)
			}
			if !p.Dirty || p.Version != 1 {
				t.Errorf("yielded %+v", p)
			}
			ids = append(ids, p.ID)
		}
		slices.Sort(ids)
		return ids
	}
	// The DynamoDB index is eventually consistent: wait for it.
	var got []string
	for range 50 {
		if got = dirty(); len(got) == 20 {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if len(got) != 20 || got[0] != "u00" || got[19] != "u38" {
		t.Fatalf("dirty %v, want the 20 even users", got)
	}
	p := mustGet(t, s, store.KindUser, "u00")
	p.Dirty = false
	mustPut(t, s, p)
	for range 50 {
		if got = dirty(); len(got) == 19 {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if slices.Contains(got, "u00") {
		t.Errorf("u00 still dirty after the mark was cleared")
	}
	for _, err := range s.DirtyProfiles(t.Context(), env, "person") {
		if !errors.Is(err, store.ErrInvalid) {
			t.Errorf("bad kind: err %v, want ErrInvalid", err)
		}
	}
}
