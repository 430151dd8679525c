package store

import (
	"testing"
	"time"
)

// TestMergeRulesCompanyAndTimestamps pins the merge rules a silent bug would
// break without any other test noticing (DynamoDB Local).
func TestMergeRulesCompanyAndTimestamps(t *testing.T) {
	t.Parallel()
	s := newStore(t)
	ctx := t.Context()
	t0 := time.Date(2026, 11, 27, 10, 0, 0, 0, time.UTC)
	merge := func(id string, in IdentifyInput) *MergeResult {
		t.Helper()
		res, err := s.MergeIdentify(ctx, "production", KindUser, id, in)
		if err != nil {
			t.Fatal(err)
		}
		return res
	}
	get := func(id string) *Profile {
		t.Helper()
		p, err := s.GetProfile(ctx, "production", KindUser, id)
		if err != nil {
			t.Fatal(err)
		}
		return p
	}

	t.Run("an identify without company_id keeps the stored company", func(t *testing.T) {
		merge("u1", IdentifyInput{CompanyID: "c1", Properties: map[string]any{"plan": "pro"}, At: t0})
		merge("u1", IdentifyInput{Properties: map[string]any{"plan": "team"}, At: t0.Add(time.Minute)})
		if p := get("u1"); p.CompanyID != "c1" || p.Properties["plan"].Value != "team" {
			t.Errorf("profile company %q plan %v, want c1 and team", p.CompanyID, p.Properties["plan"].Value)
		}
	})
	t.Run("a change that touches only the company is saved", func(t *testing.T) {
		merge("u2", IdentifyInput{CompanyID: "c1", Properties: map[string]any{"plan": "pro"}, At: t0})
		v := get("u2").Version
		res := merge("u2", IdentifyInput{CompanyID: "c2", Properties: map[string]any{"plan": "pro"}, At: t0})
		if p := get("u2"); p.CompanyID != "c2" || p.Version != v+1 || len(res.Changed) != 0 {
			t.Errorf("company %q version %d→%d changed %v, want c2 saved with no property change", p.CompanyID, v, p.Version, res.Changed)
		}
		// And nothing at all changed: nothing is written.
		merge("u2", IdentifyInput{CompanyID: "c2", Properties: map[string]any{"plan": "pro"}, At: t0})
		if p := get("u2"); p.Version != v+1 {
			t.Errorf("version %d after a no-op identify, want %d (no write)", p.Version, v+1)
		}
	})
	t.Run("an identify without a timestamp is stamped with the store's now", func(t *testing.T) {
		now := t0.Add(time.Hour)
		s.now = func() time.Time { return now }
		defer func() { s.now = time.Now }()
		merge("u3", IdentifyInput{Properties: map[string]any{"plan": "pro"}})
		if p := get("u3"); !p.Properties["plan"].At.Equal(now) {
			t.Errorf("plan stamped %v, want the store's now %v", p.Properties["plan"].At, now)
		}
		// An older stamped event cannot overwrite it; a newer one can.
		merge("u3", IdentifyInput{Properties: map[string]any{"plan": "old"}, At: now.Add(-time.Second)})
		if p := get("u3"); p.Properties["plan"].Value != "pro" {
			t.Errorf("plan %v, want pro kept against an older event", p.Properties["plan"].Value)
		}
		merge("u3", IdentifyInput{Properties: map[string]any{"plan": "new"}, At: now.Add(time.Second)})
		if p := get("u3"); p.Properties["plan"].Value != "new" {
			t.Errorf("plan %v, want new from a newer event", p.Properties["plan"].Value)
		}
	})
	t.Run("a new match value leaves the link stale, not moved", func(t *testing.T) {
		p := &Profile{Env: "production", Kind: KindUser, ID: "u4", MatchValue: "a@x.com", HubSpotID: "101", HubSpotObject: "contacts", LinkMatch: "a@x.com"}
		if err := s.PutProfile(ctx, p); err != nil {
			t.Fatal(err)
		}
		res := merge("u4", IdentifyInput{Properties: map[string]any{"email": "B@x.com"}, MatchProperty: "email", At: t0})
		got := get("u4")
		if !res.MatchChanged || got.MatchValue != "b@x.com" || got.Link().ValidFor(got.MatchValue, "contacts") {
			t.Errorf("after the email change: match %q link %+v valid=%v, want b@x.com and a stale link", got.MatchValue, got.Link(), got.Link().ValidFor(got.MatchValue, "contacts"))
		}
		if !got.Dirty {
			t.Error("a linked profile whose match value changed is not marked Dirty for the next push to re-resolve")
		}
		if got.LinkMatch != "a@x.com" {
			t.Errorf("LinkMatch %q, want the value the link was made under kept (a@x.com)", got.LinkMatch)
		}
	})
}
