package store

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// countBackoff replaces s's backoff with one that records each attempt it is
// asked to wait for and returns at once, so a test can run a retry loop to
// its bound without waiting its real backoff out.
func countBackoff(s *Store) func() []int {
	var mu sync.Mutex
	var waits []int
	s.backoff = func(ctx context.Context, attempt int) error {
		mu.Lock()
		defer mu.Unlock()
		waits = append(waits, attempt)
		return ctx.Err()
	}
	return func() []int {
		mu.Lock()
		defer mu.Unlock()
		return slices.Clone(waits)
	}
}

// repeat returns n copies of err.
func repeat(err error, n int) []error {
	errs := make([]error, n)
	for i := range errs {
		errs[i] = err
	}
	return errs
}

// TestProfileWriteGivesUpAfterItsLastRedrive: a write DynamoDB throttles every
// time is sent maxRedrives+1 times, waiting before each retry and never before
// the first try, then fails naming the profile; nothing is stored.
func TestProfileWriteGivesUpAfterItsLastRedrive(t *testing.T) {
	t.Parallel()
	s := newStore(t)
	waits := countBackoff(s)
	f := newFlaky(s)
	f.fail("PutItem", repeat(errThrottled, 100)...)
	p := &Profile{Env: "production", Kind: KindUser, ID: "throttled"}
	err := s.PutProfile(t.Context(), p)
	if err == nil || errors.Is(err, ErrConflict) || p.Version != 0 {
		t.Fatalf("PutProfile throttled every time: %v, version %d; want a failure that is not a conflict", err, p.Version)
	}
	if n := f.count("PutItem"); n != maxRedrives+1 {
		t.Errorf("PutItem sent %d times, want %d (the first try and %d redrives)", n, maxRedrives+1, maxRedrives)
	}
	want := make([]int, maxRedrives)
	for i := range want {
		want[i] = i + 1
	}
	if got := waits(); !slices.Equal(got, want) {
		t.Errorf("waited before attempts %v, want %v", got, want)
	}
	if _, err := s.GetProfile(t.Context(), "production", KindUser, "throttled"); !errors.Is(err, ErrNotFound) {
		t.Errorf("the refused profile reads back: %v, want ErrNotFound", err)
	}
}

// TestMergeGivesUpAfterItsLastAttempt: an identify whose every write loses to
// another writer is merged maxMergeAttempts times (each a fresh read and a
// write), waiting before each retry with the capped backoff and never before
// the first, then reports ErrConflict.
func TestMergeGivesUpAfterItsLastAttempt(t *testing.T) {
	t.Parallel()
	s := newStore(t)
	waits := countBackoff(s)
	f := newFlaky(s)
	lost := &types.ConditionalCheckFailedException{Message: aws.String("The conditional request failed")}
	f.fail("PutItem", repeat(lost, 2*maxMergeAttempts)...)
	_, err := s.MergeIdentify(t.Context(), "production", KindUser, "u1", IdentifyInput{Properties: map[string]any{"plan": "pro"}})
	if !errors.Is(err, ErrConflict) {
		t.Fatalf("merge losing every write: %v, want ErrConflict", err)
	}
	if n := f.count("PutItem"); n != maxMergeAttempts {
		t.Errorf("%d writes, want %d", n, maxMergeAttempts)
	}
	want := make([]int, maxMergeAttempts-1)
	for i := range want {
		want[i] = min(i+1, 4)
	}
	if got := waits(); !slices.Equal(got, want) {
		t.Errorf("waited before attempts %v, want %v", got, want)
	}
}

// TestEveryRetryLoopStopsAtItsBound: each write and read that retries a
// throttled DynamoDB call sends it maxRedrives+1 times in all, waits before
// each retry with the attempt's backoff (never before the first try), then
// fails: no loop gives up early, retries forever, or skips its wait.
func TestEveryRetryLoopStopsAtItsBound(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, op string
		passed   int // calls of op that go through before the throttling
		call     func(ctx context.Context, s *Store) error
	}{
		{"profiles with lookups", "TransactWriteItems", 0, func(ctx context.Context, s *Store) error {
			return s.PutProfiles(ctx, []*Profile{
				{Env: "production", Kind: KindUser, ID: "a", MatchValue: "a@x.com"},
				{Env: "production", Kind: KindUser, ID: "b", MatchValue: "b@x.com"},
			})
		}},
		{"cursor under a lease", "TransactWriteItems", 0, func(ctx context.Context, s *Store) error {
			return s.PutCursorLeased(ctx, "production", "inbound-users", "c1", "poll", "me")
		}},
		{"activity", "TransactWriteItems", 0, func(ctx context.Context, s *Store) error {
			return s.AddActivity(ctx, "production", []ActivityDelta{{Kind: KindUser, ID: "u1", Day: "2026-12-01", Events: 1, EventIDs: []string{"e1"}}})
		}},
		{"activity summary", "TransactWriteItems", 1, func(ctx context.Context, s *Store) error {
			// The day aggregates land; the summary transaction is throttled.
			return s.WithActivitySummary(30*time.Minute, 30).AddActivity(ctx, "production", []ActivityDelta{
				{Kind: KindUser, ID: "u1", Day: "2026-12-01", Events: 1, LastSeen: time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC), EventIDs: []string{"e1"}}})
		}},
		{"ledger write", "BatchWriteItem", 0, func(ctx context.Context, s *Store) error {
			return s.LedgerRecord(ctx, "production", []string{"e1", "e2"}, time.Hour)
		}},
		{"ledger read", "BatchGetItem", 0, func(ctx context.Context, s *Store) error {
			_, err := s.LedgerSeen(ctx, "production", []string{"e1", "e2"})
			return err
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s := newStore(t)
			waits := countBackoff(s)
			f := newFlaky(s)
			f.fail(tc.op, append(make([]error, tc.passed), repeat(errThrottled, 100)...)...)
			err := tc.call(t.Context(), s)
			var be *BatchError
			if err == nil {
				t.Fatalf("throttled every time: no error")
			}
			if errors.As(err, &be) && len(be.Failed) != 2 {
				t.Errorf("%d profiles failed, want both: %v", len(be.Failed), err)
			}
			if n := f.count(tc.op); n != tc.passed+maxRedrives+1 {
				t.Errorf("%s sent %d times, want %d", tc.op, n, tc.passed+maxRedrives+1)
			}
			want := make([]int, maxRedrives)
			for i := range want {
				want[i] = i + 1
			}
			if got := waits(); !slices.Equal(got, want) {
				t.Errorf("waited before attempts %v, want %v", got, want)
			}
		})
	}
}

// TestLedgerSeenSkipsOnlyExpiredEntries: an expired ledger entry (DynamoDB
// deletes expired items only eventually) is not seen, and the entries read
// after it in the same batch still are.
func TestLedgerSeenSkipsOnlyExpiredEntries(t *testing.T) {
	t.Parallel()
	s := newStore(t)
	ctx := t.Context()
	at := time.Now().UTC()
	s.now = func() time.Time { return at }
	var ids, short, long []string
	for i := range 20 {
		id := fmt.Sprintf("e%02d", i)
		ids = append(ids, id)
		if i%2 == 0 {
			short = append(short, id)
		} else {
			long = append(long, id)
		}
	}
	if err := s.LedgerRecord(ctx, "production", short, time.Hour); err != nil {
		t.Fatal(err)
	}
	if err := s.LedgerRecord(ctx, "production", long, 3*time.Hour); err != nil {
		t.Fatal(err)
	}
	at = at.Add(2 * time.Hour) // the short entries have expired
	seen, err := s.LedgerSeen(ctx, "production", ids)
	if err != nil {
		t.Fatal(err)
	}
	for i, id := range ids {
		if want := i%2 == 1; seen[id] != want {
			t.Errorf("%s seen %v, want %v", id, seen[id], want)
		}
	}
}
