package store

import (
	"errors"
	"strings"
	"testing"
	"time"
)

// TestItemSizeLimitIsInclusive: a profile whose item is exactly DynamoDB's
// 400 KB limit (by the store's estimate) is stored, by both stores' rule; a
// byte more is refused with ErrItemTooLarge and nothing is stored.
func TestItemSizeLimitIsInclusive(t *testing.T) {
	t.Parallel()
	s := newStore(t)
	ctx := t.Context()
	now := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	s.now = func() time.Time { return now }
	sized := func(id string, extra int) *Profile {
		p := &Profile{Env: "production", Kind: KindUser, ID: id, Properties: map[string]Property{"blob": {Value: "", At: now}}}
		item, err := encodeProfile(p, 1, now)
		if err != nil {
			t.Fatal(err)
		}
		p.Properties["blob"] = Property{Value: strings.Repeat("x", maxItemBytes-itemSize(item)+extra), At: now}
		return p
	}
	exact := sized("exact", 0)
	if err := s.PutProfile(ctx, exact); err != nil {
		t.Fatalf("profile of exactly %d bytes: %v", maxItemBytes, err)
	}
	if _, err := Stored(sized("exact2", 0), now); err != nil {
		t.Errorf("Stored of exactly %d bytes: %v", maxItemBytes, err)
	}
	over := sized("over", 1)
	if err := s.PutProfile(ctx, over); !errors.Is(err, ErrItemTooLarge) {
		t.Errorf("profile a byte over: %v, want ErrItemTooLarge", err)
	}
	if _, err := Stored(sized("over2", 1), now); !errors.Is(err, ErrItemTooLarge) {
		t.Errorf("Stored a byte over: %v, want ErrItemTooLarge", err)
	}
	if _, err := s.GetProfile(ctx, "production", KindUser, "over"); !errors.Is(err, ErrNotFound) {
		t.Errorf("the refused profile was stored: %v", err)
	}
}
