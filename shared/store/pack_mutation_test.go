package store

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
)

// txSizes records how many actions each TransactWriteItems call carried.
type txSizes struct {
	dynamoAPI
	mu    sync.Mutex
	sizes []int
}

func (d *txSizes) TransactWriteItems(ctx context.Context, in *dynamodb.TransactWriteItemsInput, o ...func(*dynamodb.Options)) (*dynamodb.TransactWriteItemsOutput, error) {
	d.mu.Lock()
	d.sizes = append(d.sizes, len(in.TransactItems))
	d.mu.Unlock()
	return d.dynamoAPI.TransactWriteItems(ctx, in, o...)
}

// TestPutProfilesPacksFullTransactions: profiles with lookups are packed
// into transactions of at most DynamoDB's 100 actions, filled to exactly
// 100 when the writes fit, and every profile is stored.
func TestPutProfilesPacksFullTransactions(t *testing.T) {
	t.Parallel()
	s := newStore(t)
	spy := &txSizes{dynamoAPI: s.db}
	s.db = spy
	var ps []*Profile
	for i := range 120 { // a profile and its match lookup: 2 actions each
		ps = append(ps, &Profile{Env: "production", Kind: KindUser, ID: fmt.Sprintf("p%03d", i), MatchValue: fmt.Sprintf("p%03d@x.com", i)})
	}
	if err := s.PutProfiles(t.Context(), ps); err != nil {
		t.Fatal(err)
	}
	got := slices.Clone(spy.sizes)
	slices.Sort(got) // the transactions run in parallel
	if want := []int{40, 100, 100}; !slices.Equal(got, want) {
		t.Errorf("transaction sizes %v, want %v", got, want)
	}
	for _, p := range ps {
		if p.Version != 1 {
			t.Fatalf("%s at version %d, want stored at 1", p.ID, p.Version)
		}
	}
}

// TestConflictedTransactionIsNotResentEmpty: when every profile of a
// transaction fails its condition, they are all reported as conflicts and
// nothing is sent again (not an empty transaction).
func TestConflictedTransactionIsNotResentEmpty(t *testing.T) {
	t.Parallel()
	s := newStore(t)
	waits := countBackoff(s)
	f := newFlaky(s)
	f.fail("TransactWriteItems", cancelled("ConditionalCheckFailed", "None", "ConditionalCheckFailed", "None"))
	ps := []*Profile{
		{Env: "production", Kind: KindUser, ID: "a", MatchValue: "a@x.com"},
		{Env: "production", Kind: KindUser, ID: "b", MatchValue: "b@x.com"},
	}
	err := s.PutProfiles(t.Context(), ps)
	var be *BatchError
	if !errors.As(err, &be) || len(be.Failed) != 2 {
		t.Fatalf("PutProfiles: %v, want both profiles failed", err)
	}
	for _, pe := range be.Failed {
		if !errors.Is(pe.Err, ErrConflict) {
			t.Errorf("%s: %v, want a conflict", pe.ID, pe.Err)
		}
	}
	if n := f.count("TransactWriteItems"); n != 1 {
		t.Errorf("%d transactions, want 1", n)
	}
	if w := waits(); len(w) != 0 {
		t.Errorf("waited %v, want no backoff", w)
	}
}

// TestPutProfilesPacksByBytes: a transaction also stays within DynamoDB's
// 4 MB: profiles that add up to exactly the packer's budget share one, the
// next profile starts another, and DynamoDB Local takes both (items of
// exactly 4 MB it refused: it counts the whole payload).
func TestPutProfilesPacksByBytes(t *testing.T) {
	t.Parallel()
	s := newStore(t)
	at := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	s.now = func() time.Time { return at }
	spy := &txSizes{dynamoAPI: s.db}
	s.db = spy
	profile := func(i, n int) *Profile {
		return &Profile{Env: "production", Kind: KindUser, ID: fmt.Sprintf("p%02d", i), MatchValue: fmt.Sprintf("p%02d@x.com", i),
			Properties: map[string]Property{"blob": {Value: strings.Repeat("x", n), At: at}}}
	}
	size := func(p *Profile) int {
		w, err := s.planWrite(p, at)
		if err != nil {
			t.Fatal(err)
		}
		return w.bytes
	}
	var ps []*Profile
	total := 0
	for i := range 10 {
		p := profile(i, 380_000)
		ps = append(ps, p)
		total += size(p)
	}
	// The eleventh fills the transaction to the byte (one more byte of
	// value is one more byte of item).
	last := profile(10, 0)
	last = profile(10, transactBudget-total-size(last))
	if got := total + size(last); got != transactBudget {
		t.Fatalf("filled to %d bytes, want %d", got, transactBudget)
	}
	ps = append(ps, last, profile(11, 10))
	if err := s.PutProfiles(t.Context(), ps); err != nil {
		t.Fatal(err)
	}
	got := slices.Clone(spy.sizes)
	slices.Sort(got)
	if want := []int{2, 22}; !slices.Equal(got, want) {
		t.Errorf("transaction sizes %v, want %v (11 profiles filling the budget with their lookups, then 1)", got, want)
	}
}
