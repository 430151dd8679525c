package store

import (
	"fmt"
	"slices"
	"testing"
)

// TestQuarantineSummaryCountsEveryPageUpToItsLimit: the items scanned are
// summed over the pages, and each page asks only for what is left of
// maxItems, so a summary over short pages stops at maxItems exactly.
func TestQuarantineSummaryCountsEveryPageUpToItsLimit(t *testing.T) {
	t.Parallel()
	s := newStore(t)
	ctx := t.Context()
	for i := range 5 {
		p := &Profile{Env: "production", Kind: KindUser, ID: fmt.Sprintf("q%d", i), Quarantined: map[string]string{"plan": "read-only property"}}
		if err := s.PutProfile(ctx, p); err != nil {
			t.Fatal(err)
		}
	}
	spy := &limitSpy{dynamoAPI: s.db, scanPage: 1}
	s2 := *s
	s2.db = spy
	sum, err := s2.QuarantineSummary(ctx, "production", 3)
	if err != nil {
		t.Fatal(err)
	}
	if sum.Scanned != 3 || sum.Profiles != 3 || sum.ByReason[KindUser]["read-only property"] != 3 || sum.Complete {
		t.Errorf("QuarantineSummary(max 3) over pages of one = %+v, want 3 scanned, 3 profiles, not complete", sum)
	}
	if want := []int32{3, 2, 1}; !slices.Equal(spy.limits, want) {
		t.Errorf("Scan limits %v, want %v (what is left of maxItems)", spy.limits, want)
	}
}
