package store

import (
	"context"
	"errors"
	"slices"
	"sync"
	"testing"

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
