package store

import (
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/pilotsync/pilotsync/shared/awstest"
)

// newStore creates a table of its own for the test and deletes it at cleanup.
func newStore(t testing.TB) *Store {
	t.Helper()
	db, name := awstest.Table(t, CreateTable)
	return New(db, name)
}

func TestCreateTableSchema(t *testing.T) {
	t.Parallel()
	s := newStore(t)
	ctx := t.Context()
	db := s.db.(callTimeout).db.(*dynamodb.Client) // New bounds every call (timeout.go)
	out, err := db.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(s.table)})
	if err != nil {
		t.Fatal(err)
	}
	tbl := out.Table
	if got := len(tbl.GlobalSecondaryIndexes); got != 1 || aws.ToString(tbl.GlobalSecondaryIndexes[0].IndexName) != GSI1Name {
		t.Errorf("GSIs = %+v, want one %s", tbl.GlobalSecondaryIndexes, GSI1Name)
	}
	ttl, err := db.DescribeTimeToLive(ctx, &dynamodb.DescribeTimeToLiveInput{TableName: aws.String(s.table)})
	if err != nil {
		t.Fatal(err)
	}
	if got := aws.ToString(ttl.TimeToLiveDescription.AttributeName); got != "expires_at" {
		t.Errorf("TTL attribute = %q, want expires_at", got)
	}
	// A second call on an existing table is a no-op, not an error.
	if err := CreateTable(ctx, db, s.table); err != nil {
		t.Errorf("CreateTable on existing table: %v", err)
	}
}

func TestProfileRoundTrip(t *testing.T) {
	t.Parallel()
	s := newStore(t)
	ctx := t.Context()
	at := time.Date(2026, 11, 1, 10, 0, 0, 123456789, time.UTC)
	in := &Profile{
		Env: "production", Kind: KindUser, ID: "u#1", CompanyID: "c1",
		MatchValue: "  Ann@Example.COM ",
		Properties: map[string]Property{
			"email":   {Value: "Ann@Example.com", At: at},
			"plan":    {Value: "pro", At: at.Add(-time.Hour)},
			"seats":   {Value: float64(12), At: at},
			"trial":   {Value: true, At: at},
			"gone":    {Value: nil, At: at},
			"tags":    {Value: []any{"a", "b"}, At: at},
			"address": {Value: map[string]any{"city": "Oslo"}, At: at},
			"empty":   {Value: "", At: at},
		},
		HubSpotID: "901", HubSpotObject: "contacts",
		InboundHashes:  map[string]string{"plan": "h1"},
		OutboundHashes: map[string]string{"up_plan": "h2"},
		Quarantined:    map[string]string{"up_seats": "INVALID_INTEGER"},
		Dirty:          true,
	}
	if err := s.PutProfile(ctx, in); err != nil {
		t.Fatalf("PutProfile: %v", err)
	}
	if in.Version != 1 || in.UpdatedAt.IsZero() || in.MatchValue != "ann@example.com" {
		t.Errorf("after put: Version=%d UpdatedAt=%v MatchValue=%q, want 1, set, normalized", in.Version, in.UpdatedAt, in.MatchValue)
	}
	got, err := s.GetProfile(ctx, "production", KindUser, "u#1")
	if err != nil {
		t.Fatalf("GetProfile: %v", err)
	}
	if !got.UpdatedAt.Equal(in.UpdatedAt) {
		t.Errorf("UpdatedAt = %v, want %v", got.UpdatedAt, in.UpdatedAt)
	}
	got.UpdatedAt, in.UpdatedAt = time.Time{}, time.Time{}
	if !reflect.DeepEqual(got, in) {
		t.Errorf("round trip:\n got %+v\nwant %+v", got, in)
	}
	// Other environment and kind are separate.
	for _, c := range []struct {
		env  string
		kind Kind
	}{{"staging", KindUser}, {"production", KindCompany}} {
		if _, err := s.GetProfile(ctx, c.env, c.kind, "u#1"); !errors.Is(err, ErrNotFound) {
			t.Errorf("GetProfile(%s, %s) err = %v, want ErrNotFound", c.env, c.kind, err)
		}
	}
	many, err := s.GetProfiles(ctx, "production", KindUser, []string{"u#1", "u#1", "nobody"})
	if err != nil {
		t.Fatal(err)
	}
	if len(many) != 1 || many["u#1"] == nil || many["u#1"].Version != 1 {
		t.Errorf("GetProfiles = %v, want only u#1 at version 1", many)
	}
}

func TestPutProfileConflict(t *testing.T) {
	t.Parallel()
	s := newStore(t)
	ctx := t.Context()
	p := &Profile{Env: "production", Kind: KindCompany, ID: "c1", MatchValue: "c1"}
	if err := s.PutProfile(ctx, p); err != nil {
		t.Fatal(err)
	}
	stale := *p
	p.Properties = map[string]Property{"name": {Value: "Acme", At: time.Now()}}
	if err := s.PutProfile(ctx, p); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		p    *Profile
	}{
		{"new profile that exists", &Profile{Env: "production", Kind: KindCompany, ID: "c1"}},
		{"stale version", &stale},
		{"future version", &Profile{Env: "production", Kind: KindCompany, ID: "c1", Version: 9, MatchValue: "c1"}},
		{"hand-built profile with the wrong lookup snapshot", func() *Profile {
			cp := *p
			cp.stored = storedLinks{}
			return &cp
		}()},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := tt.p.Version
			err := s.PutProfile(ctx, tt.p)
			if !errors.Is(err, ErrConflict) {
				t.Fatalf("err = %v, want ErrConflict", err)
			}
			if tt.p.Version != v {
				t.Errorf("Version changed to %d on failure, want %d", tt.p.Version, v)
			}
		})
	}
	got, err := s.GetProfile(ctx, "production", KindCompany, "c1")
	if err != nil {
		t.Fatal(err)
	}
	if got.Version != 2 || got.Properties["name"].Value != "Acme" {
		t.Errorf("stored = version %d props %v, want version 2 with name", got.Version, got.Properties)
	}
}

func TestMergeIdentifyRace(t *testing.T) {
	t.Parallel()
	s := newStore(t)
	ctx := t.Context()
	const writers, perWriter = 12, 4
	base := time.Now().UTC()
	var wg sync.WaitGroup
	var created atomic.Int32
	errs := make(chan error, writers*perWriter)
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range perWriter {
				res, err := s.MergeIdentify(ctx, "production", KindUser, "u1", IdentifyInput{
					Properties:    map[string]any{fmt.Sprintf("w%d_%d", w, i): float64(i), "email": "u1@example.com"},
					At:            base.Add(time.Duration(w*perWriter+i) * time.Millisecond),
					MatchProperty: "email",
				})
				if err != nil {
					errs <- err
					return
				}
				if res.Created {
					created.Add(1)
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Errorf("MergeIdentify: %v", err)
	}
	if got := created.Load(); got != 1 {
		t.Errorf("Created reported %d times, want 1", got)
	}
	p, err := s.GetProfile(ctx, "production", KindUser, "u1")
	if err != nil {
		t.Fatal(err)
	}
	for w := range writers {
		for i := range perWriter {
			name := fmt.Sprintf("w%d_%d", w, i)
			if got := p.Properties[name].Value; got != float64(i) {
				t.Errorf("property %s = %v, want %d (a racing writer's change was lost)", name, got, i)
			}
		}
	}
	if got := p.Properties["email"].At; !got.Equal(base.Add((writers*perWriter - 1) * time.Millisecond)) {
		t.Errorf("email timestamp = %v, want the newest event's", got)
	}
	ids, err := s.LookupByMatch(ctx, "production", KindUser, []string{"U1@example.com"})
	if err != nil {
		t.Fatal(err)
	}
	if want := map[string][]string{"u1@example.com": {"u1"}}; !reflect.DeepEqual(ids, want) {
		t.Errorf("LookupByMatch = %v, want %v", ids, want)
	}
}

func TestMergeIdentifyRules(t *testing.T) {
	t.Parallel()
	t0 := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	type event struct {
		at    time.Duration
		props map[string]any
	}
	tests := []struct {
		name        string
		events      []event
		want        map[string]any // absent: not in map; nil: tombstone
		wantChanged []string       // of the last event
	}{
		{
			name:        "newer overwrites",
			events:      []event{{0, map[string]any{"plan": "free"}}, {time.Second, map[string]any{"plan": "pro"}}},
			want:        map[string]any{"plan": "pro"},
			wantChanged: []string{"plan"},
		},
		{
			name:   "older never overwrites newer (out of order)",
			events: []event{{time.Second, map[string]any{"plan": "pro"}}, {0, map[string]any{"plan": "free", "seats": 3}}},
			want:   map[string]any{"plan": "pro", "seats": float64(3)},
			// seats is new, plan is older than stored
			wantChanged: []string{"seats"},
		},
		{
			name:        "equal timestamp: incoming wins",
			events:      []event{{0, map[string]any{"plan": "free"}}, {0, map[string]any{"plan": "pro"}}},
			want:        map[string]any{"plan": "pro"},
			wantChanged: []string{"plan"},
		},
		{
			name:        "redelivered event changes nothing",
			events:      []event{{0, map[string]any{"plan": "free", "n": 1}}, {0, map[string]any{"plan": "free", "n": int64(1)}}},
			want:        map[string]any{"plan": "free", "n": float64(1)},
			wantChanged: nil,
		},
		{
			name:        "nil removes",
			events:      []event{{0, map[string]any{"plan": "free"}}, {time.Second, map[string]any{"plan": nil}}},
			want:        map[string]any{"plan": nil},
			wantChanged: []string{"plan"},
		},
		{
			name:        "older event cannot resurrect a removed property",
			events:      []event{{time.Second, map[string]any{"plan": nil}}, {0, map[string]any{"plan": "free"}}},
			want:        map[string]any{"plan": nil},
			wantChanged: nil,
		},
	}
	s := newStore(t)
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := t.Context()
			id := fmt.Sprintf("u%d", i)
			var res *MergeResult
			for _, e := range tt.events {
				var err error
				res, err = s.MergeIdentify(ctx, "production", KindUser, id, IdentifyInput{Properties: e.props, At: t0.Add(e.at)})
				if err != nil {
					t.Fatal(err)
				}
			}
			if !slices.Equal(res.Changed, tt.wantChanged) {
				t.Errorf("Changed = %v, want %v", res.Changed, tt.wantChanged)
			}
			p, err := s.GetProfile(ctx, "production", KindUser, id)
			if err != nil {
				t.Fatal(err)
			}
			got := map[string]any{}
			for k, v := range p.Properties {
				got[k] = v.Value
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("properties = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestMergeIdentifyMatchAndDirty(t *testing.T) {
	t.Parallel()
	s := newStore(t)
	ctx := t.Context()
	t0 := time.Now()
	merge := func(id string, in IdentifyInput) *MergeResult {
		t.Helper()
		res, err := s.MergeIdentify(ctx, "production", KindUser, id, in)
		if err != nil {
			t.Fatal(err)
		}
		return res
	}
	out := []string{"plan"}
	res := merge("u1", IdentifyInput{Properties: map[string]any{"email": " A@X.com", "name": "A"}, At: t0, MatchProperty: "email", Outbound: out, CompanyID: "c1"})
	if !res.Created || !res.MatchChanged || res.Profile.MatchValue != "a@x.com" || res.Profile.Dirty || res.Profile.CompanyID != "c1" {
		t.Errorf("first merge = %+v, want created, match a@x.com, not dirty, company c1", res)
	}
	res = merge("u1", IdentifyInput{Properties: map[string]any{"plan": "pro"}, At: t0.Add(time.Second), MatchProperty: "email", Outbound: out})
	if res.MatchChanged || !res.Profile.Dirty {
		t.Errorf("plan change: MatchChanged=%v Dirty=%v, want false, true", res.MatchChanged, res.Profile.Dirty)
	}
	res = merge("u1", IdentifyInput{Properties: map[string]any{"email": "b@x.com"}, At: t0.Add(2 * time.Second), MatchProperty: "email", Outbound: out})
	if !res.MatchChanged || res.Profile.MatchValue != "b@x.com" {
		t.Errorf("email change: %+v, want MatchChanged to b@x.com", res)
	}
	got, err := s.LookupByMatch(ctx, "production", KindUser, []string{"a@x.com", "b@x.com"})
	if err != nil {
		t.Fatal(err)
	}
	if want := map[string][]string{"b@x.com": {"u1"}}; !reflect.DeepEqual(got, want) {
		t.Errorf("LookupByMatch = %v, want %v", got, want)
	}
	// The id as match property.
	res = merge("U2", IdentifyInput{Properties: map[string]any{"x": 1}, At: t0, MatchProperty: "user_id"})
	if res.Profile.MatchValue != "u2" || !res.MatchChanged {
		t.Errorf("user_id match: %+v, want u2", res)
	}
	// Nothing new: no write, version unchanged.
	v := res.Profile.Version
	res = merge("U2", IdentifyInput{Properties: map[string]any{"x": 1}, At: t0, MatchProperty: "user_id"})
	if res.Profile.Version != v || res.MatchChanged || len(res.Changed) > 0 {
		t.Errorf("no-op merge wrote: version %d -> %d, %+v", v, res.Profile.Version, res)
	}
}

func TestLookupsFollowLinkChanges(t *testing.T) {
	t.Parallel()
	s := newStore(t)
	ctx := t.Context()
	a := &Profile{Env: "production", Kind: KindUser, ID: "a", MatchValue: "one@x.com", HubSpotID: "100", HubSpotObject: "contacts"}
	b := &Profile{Env: "production", Kind: KindUser, ID: "b", MatchValue: "ONE@x.com"}
	for _, p := range []*Profile{a, b} {
		if err := s.PutProfile(ctx, p); err != nil {
			t.Fatal(err)
		}
	}
	check := func(step string, wantMatch, wantHS map[string][]string) {
		t.Helper()
		gotM, err := s.LookupByMatch(ctx, "production", KindUser, []string{"one@x.com", "two@x.com", ""})
		if err != nil {
			t.Fatal(err)
		}
		gotH, err := s.LookupByHubSpotID(ctx, "production", KindUser, []string{"100", "200"})
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(gotM, wantMatch) {
			t.Errorf("%s: LookupByMatch = %v, want %v", step, gotM, wantMatch)
		}
		if !reflect.DeepEqual(gotH, wantHS) {
			t.Errorf("%s: LookupByHubSpotID = %v, want %v", step, gotH, wantHS)
		}
	}
	check("initial", map[string][]string{"one@x.com": {"a", "b"}}, map[string][]string{"100": {"a"}})

	a.MatchValue, a.HubSpotID = "two@x.com", "200"
	if err := s.PutProfile(ctx, a); err != nil {
		t.Fatal(err)
	}
	check("after change", map[string][]string{"one@x.com": {"b"}, "two@x.com": {"a"}}, map[string][]string{"200": {"a"}})

	a.MatchValue, a.HubSpotID, a.HubSpotObject = "", "", ""
	b.HubSpotID = "200"
	if err := s.PutProfiles(ctx, []*Profile{a, b}); err != nil {
		t.Fatal(err)
	}
	check("after unlink", map[string][]string{"one@x.com": {"b"}}, map[string][]string{"200": {"b"}})

	// Other kinds and environments do not see these entries.
	got, err := s.LookupByMatch(ctx, "staging", KindUser, []string{"one@x.com"})
	if err != nil || len(got) != 0 {
		t.Errorf("staging lookup = %v, %v; want empty", got, err)
	}
}

func TestPutProfilesBatch(t *testing.T) {
	t.Parallel()
	s := newStore(t)
	ctx := t.Context()
	const n = 500
	ps := make([]*Profile, n)
	ids := make([]string, n)
	values := make([]string, n)
	for i := range ps {
		ids[i] = fmt.Sprintf("u%04d", i)
		// Every tenth match value is shared by two profiles: those must land in
		// different transactions.
		values[i] = fmt.Sprintf("user%d@example.com", i)
		if i%10 == 9 {
			values[i] = values[i-1]
		}
		ps[i] = &Profile{
			Env: "production", Kind: KindUser, ID: ids[i], MatchValue: values[i],
			HubSpotID:  fmt.Sprint(10000 + i),
			Properties: map[string]Property{"email": {Value: values[i], At: time.Now()}},
			Dirty:      i%3 == 0,
		}
	}
	if err := s.PutProfiles(ctx, ps); err != nil {
		t.Fatalf("PutProfiles: %v", err)
	}
	got, err := s.GetProfiles(ctx, "production", KindUser, ids)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != n {
		t.Fatalf("GetProfiles returned %d, want %d", len(got), n)
	}
	for _, p := range ps {
		if p.Version != 1 || got[p.ID].Version != 1 {
			t.Fatalf("%s: version %d / stored %d, want 1", p.ID, p.Version, got[p.ID].Version)
		}
	}
	byMatch, err := s.LookupByMatch(ctx, "production", KindUser, values)
	if err != nil {
		t.Fatal(err)
	}
	total := 0
	for _, v := range byMatch {
		total += len(v)
	}
	if total != n {
		t.Errorf("lookup entries = %d, want %d", total, n)
	}
	hsIDs := make([]string, n)
	for i := range hsIDs {
		hsIDs[i] = fmt.Sprint(10000 + i)
	}
	byHS, err := s.LookupByHubSpotID(ctx, "production", KindUser, hsIDs)
	if err != nil {
		t.Fatal(err)
	}
	if len(byHS) != n || !slices.Equal(byHS["10007"], []string{"u0007"}) {
		t.Errorf("LookupByHubSpotID: %d entries, 10007 -> %v; want %d, [u0007]", len(byHS), byHS["10007"], n)
	}

	// Second round: two stale profiles fail alone, the rest are stored.
	stale := map[string]bool{"u0003": true, "u0250": true}
	for _, p := range ps {
		p.HubSpotID = "h" + p.ID
		if stale[p.ID] {
			p.Version = 0
		}
	}
	err = s.PutProfiles(ctx, ps)
	var be *BatchError
	if !errors.As(err, &be) || !errors.Is(err, ErrConflict) {
		t.Fatalf("err = %v, want *BatchError with ErrConflict", err)
	}
	if got, want := be.IDs(), []string{"u0003", "u0250"}; !slices.Equal(got, want) {
		t.Errorf("failed ids = %v, want %v", got, want)
	}
	for _, p := range ps {
		want := int64(2)
		if stale[p.ID] {
			want = 0
		}
		if p.Version != want {
			t.Errorf("%s version = %d, want %d", p.ID, p.Version, want)
		}
	}
	byHS, err = s.LookupByHubSpotID(ctx, "production", KindUser, []string{"10001", "hu0001", "10003", "hu0003"})
	if err != nil {
		t.Fatal(err)
	}
	if want := map[string][]string{"hu0001": {"u0001"}, "10003": {"u0003"}}; !reflect.DeepEqual(byHS, want) {
		t.Errorf("after second round LookupByHubSpotID = %v, want %v", byHS, want)
	}
}

func TestItemTooLarge(t *testing.T) {
	t.Parallel()
	s := newStore(t)
	ctx := t.Context()
	big := &Profile{Env: "production", Kind: KindUser, ID: "big", Properties: map[string]Property{
		"blob": {Value: strings.Repeat("x", maxItemBytes), At: time.Now()},
	}}
	if err := s.PutProfile(ctx, big); !errors.Is(err, ErrItemTooLarge) || !strings.Contains(err.Error(), "big") {
		t.Errorf("PutProfile err = %v, want ErrItemTooLarge naming the profile", err)
	}
	small := &Profile{Env: "production", Kind: KindUser, ID: "small"}
	err := s.PutProfiles(ctx, []*Profile{big, small})
	var be *BatchError
	if !errors.As(err, &be) || !slices.Equal(be.IDs(), []string{"big"}) || !errors.Is(err, ErrItemTooLarge) {
		t.Errorf("PutProfiles err = %v, want BatchError for big only", err)
	}
	if small.Version != 1 {
		t.Errorf("small not stored: version %d", small.Version)
	}
}

func TestDirtyProfiles(t *testing.T) {
	t.Parallel()
	s := newStore(t)
	ctx := t.Context()
	var ps []*Profile
	for i := range 120 {
		ps = append(ps, &Profile{Env: "production", Kind: KindUser, ID: fmt.Sprintf("u%d", i), Dirty: i%2 == 0})
	}
	ps = append(ps, &Profile{Env: "production", Kind: KindCompany, ID: "c1", Dirty: true})
	ps = append(ps, &Profile{Env: "staging", Kind: KindUser, ID: "u0", Dirty: true})
	if err := s.PutProfiles(ctx, ps); err != nil {
		t.Fatal(err)
	}
	list := func() map[string]*Profile {
		t.Helper()
		out := map[string]*Profile{}
		for p, err := range s.DirtyProfiles(ctx, "production", KindUser) {
			if err != nil {
				t.Fatal(err)
			}
			out[p.ID] = p
		}
		return out
	}
	got := list()
	if len(got) != 60 {
		t.Fatalf("dirty = %d, want 60", len(got))
	}
	shards := map[int]bool{}
	for id, p := range got {
		shards[dirtyShard(id)] = true
		if !p.Dirty || p.Version != 1 {
			t.Errorf("%s from index: Dirty=%v Version=%d", id, p.Dirty, p.Version)
		}
	}
	if len(shards) < 8 {
		t.Errorf("dirty marks spread over %d shards, want most of %d", len(shards), dirtyShards)
	}
	// Clear ten marks through the profiles yielded by the index.
	var clear []*Profile
	for i := 0; i < 20; i += 2 {
		p := got[fmt.Sprintf("u%d", i)]
		p.Dirty = false
		clear = append(clear, p)
	}
	if err := s.PutProfiles(ctx, clear); err != nil {
		t.Fatal(err)
	}
	if got := list(); len(got) != 50 {
		t.Errorf("after clearing 10: dirty = %d, want 50", len(got))
	}
}

func TestLease(t *testing.T) {
	t.Parallel()
	s := newStore(t)
	ctx := t.Context()
	const racers = 10
	var wins atomic.Int32
	var wg sync.WaitGroup
	for i := range racers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			err := s.AcquireLease(ctx, "production", "poll", fmt.Sprintf("owner%d", i), time.Minute)
			switch {
			case err == nil:
				wins.Add(1)
			case !errors.Is(err, ErrLeaseHeld):
				t.Errorf("AcquireLease: %v", err)
			}
		}()
	}
	wg.Wait()
	if got := wins.Load(); got != 1 {
		t.Fatalf("%d owners acquired the lease, want exactly 1", got)
	}

	// Expiry lets another owner take over; the old owner can neither renew nor release.
	// The store's clock stands still between calls (a loaded machine cannot
	// expire the lease early) and is moved past the expiry.
	now := time.Now()
	s.now = func() time.Time { return now }
	if err := s.AcquireLease(ctx, "production", "sync", "a", 300*time.Millisecond); err != nil {
		t.Fatal(err)
	}
	if err := s.AcquireLease(ctx, "production", "sync", "a", 300*time.Millisecond); err != nil {
		t.Errorf("re-acquire by the same owner: %v", err)
	}
	if err := s.AcquireLease(ctx, "production", "sync", "b", time.Minute); !errors.Is(err, ErrLeaseHeld) {
		t.Errorf("b while a holds: %v, want ErrLeaseHeld", err)
	}
	if err := s.RenewLease(ctx, "production", "sync", "a", 300*time.Millisecond); err != nil {
		t.Errorf("renew by holder: %v", err)
	}
	now = now.Add(400 * time.Millisecond)
	if err := s.RenewLease(ctx, "production", "sync", "a", time.Minute); !errors.Is(err, ErrLeaseLost) {
		t.Errorf("renew after expiry: %v, want ErrLeaseLost", err)
	}
	if err := s.AcquireLease(ctx, "production", "sync", "b", time.Minute); err != nil {
		t.Fatalf("b after expiry: %v", err)
	}
	if err := s.RenewLease(ctx, "production", "sync", "a", time.Minute); !errors.Is(err, ErrLeaseLost) {
		t.Errorf("renew after loss: %v, want ErrLeaseLost", err)
	}
	if err := s.ReleaseLease(ctx, "production", "sync", "a"); !errors.Is(err, ErrLeaseLost) {
		t.Errorf("release by old owner: %v, want ErrLeaseLost", err)
	}
	// Environments are separate leases.
	if err := s.AcquireLease(ctx, "staging", "sync", "a", time.Minute); err != nil {
		t.Errorf("staging lease: %v", err)
	}
	if err := s.ReleaseLease(ctx, "production", "sync", "b"); err != nil {
		t.Errorf("release by holder: %v", err)
	}
	if err := s.AcquireLease(ctx, "production", "sync", "c", time.Minute); err != nil {
		t.Errorf("acquire after release: %v", err)
	}
}

func TestCursor(t *testing.T) {
	t.Parallel()
	s := newStore(t)
	ctx := t.Context()
	if got, err := s.GetCursor(ctx, "production", "inbound/contacts"); err != nil || got != "" {
		t.Fatalf("empty cursor = %q, %v; want \"\", nil", got, err)
	}
	for _, v := range []string{"1700000000000|42", "1700000000001|7"} {
		if err := s.PutCursor(ctx, "production", "inbound/contacts", v); err != nil {
			t.Fatal(err)
		}
		if got, err := s.GetCursor(ctx, "production", "inbound/contacts"); err != nil || got != v {
			t.Errorf("cursor = %q, %v; want %q", got, err, v)
		}
	}
	if got, _ := s.GetCursor(ctx, "staging", "inbound/contacts"); got != "" {
		t.Errorf("staging cursor = %q, want empty", got)
	}
}

// TestPutCursorLeased: a checkpoint lands only while its writer holds a live
// lease, so a run that lost its lease (expired, or taken by a newer run)
// cannot move the cursor past work it did not finish.
func TestPutCursorLeased(t *testing.T) {
	t.Parallel()
	s := newStore(t)
	ctx := t.Context()
	const name = "inbound:users:contacts"
	if err := s.PutCursorLeased(ctx, "production", name, "v0", "inbound", "a"); !errors.Is(err, ErrLeaseLost) {
		t.Errorf("checkpoint without any lease: %v, want ErrLeaseLost", err)
	}
	// The store's clock stands still between calls and is moved past the
	// lease's expiry.
	now := time.Now()
	s.now = func() time.Time { return now }
	if err := s.AcquireLease(ctx, "production", "inbound", "a", 300*time.Millisecond); err != nil {
		t.Fatal(err)
	}
	if err := s.PutCursorLeased(ctx, "production", name, "v1", "inbound", "a"); err != nil {
		t.Fatalf("checkpoint by holder: %v", err)
	}
	if err := s.PutCursorLeased(ctx, "production", name, "x", "inbound", "b"); !errors.Is(err, ErrLeaseLost) {
		t.Errorf("checkpoint by non-holder: %v, want ErrLeaseLost", err)
	}
	now = now.Add(400 * time.Millisecond)
	if err := s.PutCursorLeased(ctx, "production", name, "v2", "inbound", "a"); !errors.Is(err, ErrLeaseLost) {
		t.Errorf("checkpoint after expiry: %v, want ErrLeaseLost", err)
	}
	if err := s.AcquireLease(ctx, "production", "inbound", "b", time.Minute); err != nil {
		t.Fatal(err)
	}
	if err := s.PutCursorLeased(ctx, "production", name, "v3", "inbound", "a"); !errors.Is(err, ErrLeaseLost) {
		t.Errorf("checkpoint by the old holder: %v, want ErrLeaseLost", err)
	}
	if got, err := s.GetCursor(ctx, "production", name); err != nil || got != "v1" {
		t.Errorf("cursor = %q, %v; want v1 (only the holder's checkpoint)", got, err)
	}
	if err := s.PutCursorLeased(ctx, "production", name, "v4", "inbound", "b"); err != nil {
		t.Fatalf("checkpoint by the new holder: %v", err)
	}
	if got, _ := s.GetCursor(ctx, "production", name); got != "v4" {
		t.Errorf("cursor = %q, want v4", got)
	}
}

func TestLedger(t *testing.T) {
	t.Parallel()
	s := newStore(t)
	ctx := t.Context()
	const n = 1000
	ids := make([]string, n)
	for i := range ids {
		ids[i] = fmt.Sprintf("evt-%d", i)
	}
	if err := s.LedgerRecord(ctx, "production", ids[:n/2], time.Hour); err != nil {
		t.Fatal(err)
	}
	seen, err := s.LedgerSeen(ctx, "production", ids)
	if err != nil {
		t.Fatal(err)
	}
	if len(seen) != n {
		t.Fatalf("LedgerSeen returned %d ids, want %d", len(seen), n)
	}
	for i, id := range ids {
		if want := i < n/2; seen[id] != want {
			t.Fatalf("seen[%s] = %v, want %v", id, seen[id], want)
		}
	}
	other, err := s.LedgerSeen(ctx, "staging", ids[:10])
	if err != nil {
		t.Fatal(err)
	}
	for id, ok := range other {
		if ok {
			t.Errorf("staging sees %s", id)
		}
	}
	// Two hours later the entries have expired, even though nothing deleted them.
	s.now = func() time.Time { return time.Now().Add(2 * time.Hour) }
	seen, err = s.LedgerSeen(ctx, "production", ids[:n/2])
	if err != nil {
		t.Fatal(err)
	}
	for id, ok := range seen {
		if ok {
			t.Fatalf("expired entry %s still seen", id)
		}
	}
}

func TestActivity(t *testing.T) {
	t.Parallel()
	s := newStore(t)
	ctx := t.Context()
	t0 := time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC)
	// 250 single-event deltas for one user on one day (several transactions),
	// delivered out of order.
	var deltas []ActivityDelta
	for i := 249; i >= 0; i-- {
		deltas = append(deltas, ActivityDelta{
			Kind: KindUser, ID: "u1", Day: "2026-11-02", Events: 1, TimeSpentSeconds: 2,
			Sessions:  int64(i % 50 / 49), // 5 sessions
			FirstSeen: t0.Add(time.Duration(i) * time.Second), LastSeen: t0.Add(time.Duration(i) * time.Second),
			EventIDs: []string{fmt.Sprintf("e%d", i)},
		})
	}
	deltas = append(deltas, ActivityDelta{Kind: KindUser, ID: "u1", Day: "2026-11-03", Events: 3, EventIDs: []string{"x1", "x2", "x3"}})
	deltas = append(deltas, ActivityDelta{Kind: KindCompany, ID: "c1", Day: "2026-11-02", Events: 250, Sessions: 5})
	if err := s.AddActivity(ctx, "production", deltas); err != nil {
		t.Fatal(err)
	}
	want := []DayActivity{
		{Day: "2026-11-02", Events: 250, Sessions: 5, TimeSpentSeconds: 500, FirstSeen: t0, LastSeen: t0.Add(249 * time.Second)},
		{Day: "2026-11-03", Events: 3},
	}
	check := func(step string) {
		t.Helper()
		got, err := s.Activity(ctx, "production", KindUser, "u1", "2026-11-01", "2026-11-30")
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s: Activity =\n %+v\nwant\n %+v", step, got, want)
		}
	}
	check("first delivery")
	// Redelivery, mixed with one new event: only the new one counts.
	redo := append(slices.Clone(deltas[:100]), ActivityDelta{
		Kind: KindUser, ID: "u1", Day: "2026-11-02", Events: 1, LastSeen: t0.Add(time.Hour), EventIDs: []string{"e-new"},
	})
	if err := s.AddActivity(ctx, "production", redo); err != nil {
		t.Fatal(err)
	}
	want[0].Events, want[0].LastSeen = 251, t0.Add(time.Hour)
	check("redelivery")

	got, err := s.Activity(ctx, "production", KindUser, "u1", "2026-11-03", "2026-11-03")
	if err != nil || len(got) != 1 || got[0].Day != "2026-11-03" {
		t.Errorf("one-day range = %+v, %v", got, err)
	}
	if err := s.AddActivity(ctx, "production", []ActivityDelta{{Kind: KindUser, ID: "u1", Day: "2026/11/02"}}); !errors.Is(err, ErrInvalid) {
		t.Errorf("bad day: %v, want ErrInvalid", err)
	}
}

func TestEnabledAtFirstWriterWins(t *testing.T) {
	t.Parallel()
	s := newStore(t)
	ctx := t.Context()
	base := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	const n = 10
	got := make([]time.Time, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var err error
			got[i], err = s.EnabledAt(ctx, "production", base.Add(time.Duration(i)*time.Minute))
			if err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	for i := range got {
		if !got[i].Equal(got[0]) {
			t.Fatalf("callers disagree: %v vs %v", got[i], got[0])
		}
	}
	later, err := s.EnabledAt(ctx, "production", base.Add(time.Hour))
	if err != nil || !later.Equal(got[0]) {
		t.Errorf("later call = %v, %v; want %v", later, err, got[0])
	}
	if st, _ := s.EnabledAt(ctx, "staging", base.Add(time.Hour)); !st.Equal(base.Add(time.Hour)) {
		t.Errorf("staging = %v, want its own time", st)
	}
}

func TestRuns(t *testing.T) {
	t.Parallel()
	s := newStore(t)
	ctx := t.Context()
	base := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	for i := range 5 {
		r := RunRecord{
			Env: "production", Job: "poll", ID: fmt.Sprintf("r%d", i),
			Started: base.Add(time.Duration(i) * time.Minute), Finished: base.Add(time.Duration(i)*time.Minute + time.Second),
			Counts: map[string]int64{"read": int64(i)}, APICalls: map[string]int64{"hubspot.search": 2},
		}
		if i == 4 {
			for j := range 600 {
				r.Failures = append(r.Failures, Failure{Record: fmt.Sprint(j), Field: "plan", Reason: "INVALID_OPTION"})
			}
			r.Error = "partial"
		}
		if err := s.PutRun(ctx, r); err != nil {
			t.Fatal(err)
		}
	}
	got, err := s.ListRuns(ctx, "production", "poll", 3)
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, r := range got {
		ids = append(ids, r.ID)
	}
	if want := []string{"r4", "r3", "r2"}; !slices.Equal(ids, want) {
		t.Errorf("ListRuns ids = %v, want %v", ids, want)
	}
	if r := got[0]; len(r.Failures) != maxRunFailures || r.Error != "partial" || r.Counts["read"] != 4 || !r.Started.Equal(base.Add(4*time.Minute)) {
		t.Errorf("newest run = %d failures, %q, %v, %v", len(r.Failures), r.Error, r.Counts, r.Started)
	} else if last := r.Failures[maxRunFailures-1].Reason; !strings.Contains(last, "101 more") {
		t.Errorf("last failure = %q, want a count of the rest", last)
	}
	// 91 days later all have expired.
	s.now = func() time.Time { return time.Now().Add(91 * 24 * time.Hour) }
	if got, err := s.ListRuns(ctx, "production", "poll", 0); err != nil || len(got) != 0 {
		t.Errorf("after 91 days: %d runs, %v; want none", len(got), err)
	}
}

func TestProblems(t *testing.T) {
	t.Parallel()
	s := newStore(t)
	ctx := t.Context()
	t0 := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	steps := []struct {
		name       string
		open       bool
		at         time.Duration
		wantNotify bool
	}{
		{"new problem notifies", true, 0, true},
		{"repeat within window is quiet", true, 30 * time.Minute, false},
		{"repeat after window notifies", true, 61 * time.Minute, true},
		{"close reports it was open", false, 0, true},
		{"close again reports it was not", false, 0, false},
		{"reopen notifies", true, 62 * time.Minute, true},
	}
	for _, st := range steps {
		var got bool
		var err error
		if st.open {
			got, err = s.OpenProblem(ctx, "production", "hubspot-auth", "401 from HubSpot", t0.Add(st.at), time.Hour)
		} else {
			got, err = s.CloseProblem(ctx, "production", "hubspot-auth")
		}
		if err != nil {
			t.Fatalf("%s: %v", st.name, err)
		}
		if got != st.wantNotify {
			t.Errorf("%s: got %v, want %v", st.name, got, st.wantNotify)
		}
	}
	// Racing openers: exactly one notifies.
	var n atomic.Int32
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ok, err := s.OpenProblem(ctx, "production", "race", "x", t0, time.Hour)
			if err != nil {
				t.Error(err)
			}
			if ok {
				n.Add(1)
			}
		}()
	}
	wg.Wait()
	if got := n.Load(); got != 1 {
		t.Errorf("%d racing openers notified, want 1", got)
	}
}
