package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// TestExpiredAtTheSecond: an item is expired from the second its TTL names
// (DynamoDB may delete it from then on), and live the second before.
func TestExpiredAtTheSecond(t *testing.T) {
	now := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		item map[string]types.AttributeValue
		want bool
	}{
		{map[string]types.AttributeValue{attrExpires: expiresAt(now)}, true},
		{map[string]types.AttributeValue{attrExpires: expiresAt(now.Add(-time.Second))}, true},
		{map[string]types.AttributeValue{attrExpires: expiresAt(now.Add(time.Second))}, false},
		{map[string]types.AttributeValue{}, false},
		{map[string]types.AttributeValue{attrExpires: &types.AttributeValueMemberN{Value: "not a number"}}, false},
	} {
		if got := expired(tc.item, now); got != tc.want {
			t.Errorf("expired(%v) at %d = %v, want %v", tc.item[attrExpires], now.Unix(), got, tc.want)
		}
	}
}

// TestParallelReportsACancelledContext: work cut short by the caller's
// context is an error, not a success with items left undone.
func TestParallelReportsACancelledContext(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	var ran atomic.Int64
	err := parallel(ctx, 5*batchConcurrency, func(context.Context, int) error { ran.Add(1); return nil })
	if !errors.Is(err, context.Canceled) {
		t.Errorf("parallel with a cancelled context: %v after %d of %d calls, want context.Canceled", err, ran.Load(), 5*batchConcurrency)
	}
}

// TestBatchGetAtTheChunkEdges: 99, 100 and 101 keys are read in one, one
// and two BatchGetItem calls of at most 100 keys (never an empty or
// out-of-range chunk).
func TestBatchGetAtTheChunkEdges(t *testing.T) {
	t.Parallel()
	s := newStore(t)
	for _, n := range []int{99, 100, 101} {
		keys := make([]map[string]types.AttributeValue, n)
		for i := range keys {
			keys[i] = key(profilePK("production", KindUser, fmt.Sprintf("u%03d", i)), skProfile)
		}
		items, err := s.batchGet(t.Context(), keys)
		if err != nil || len(items) != 0 {
			t.Errorf("batchGet of %d missing keys: %d items, %v; want none, no error", n, len(items), err)
		}
	}
}

// TestSummaryTooLargeForAnItem: a summary body within 1 KiB of DynamoDB's
// 400 KB item limit (the rest of the item needs the room) is refused with
// ErrItemTooLarge before any write.
func TestSummaryTooLargeForAnItem(t *testing.T) {
	s := New(nil, "unused")
	sum := &ActivitySummary{Kind: KindUser, ID: "u1", Context: map[string]ContextValue{ContextPage: {}}}
	empty, err := json.Marshal(summaryBody{Context: sum.Context})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		size   int
		tooBig bool
	}{{maxItemBytes - 1024, false}, {maxItemBytes - 1023, true}, {maxItemBytes - 512, true}} {
		sum.Context[ContextPage] = ContextValue{Value: strings.Repeat("x", tc.size-len(empty))}
		_, _, _, err := s.summaryValues(sum)
		if got := errors.Is(err, ErrItemTooLarge); got != tc.tooBig {
			t.Errorf("summary body of %d bytes: %v, want too large %v", tc.size, err, tc.tooBig)
		}
	}
}

// TestBackoffDelayBounds: the backoff before attempt a lies between half
// and all of 20 ms·2^a, capped at 2 s (backoffBase, backoffCap).
func TestBackoffDelayBounds(t *testing.T) {
	for a := range 12 {
		d := min(20*time.Millisecond<<min(a, 10), 2*time.Second)
		lo, hi := d, time.Duration(0)
		for range 2000 {
			got := backoffDelay(a)
			lo, hi = min(lo, got), max(hi, got)
		}
		if lo < d/2 || hi > d || hi-lo < d/4 {
			t.Errorf("attempt %d: delays from %v to %v, want between %v and %v, spread over that range", a, lo, hi, d/2, d)
		}
	}
}

// TestActivitySummariesRefusesABadShard: a shard outside 0..SummaryShards-1
// or an unknown kind is ErrInvalid, each on its own.
func TestActivitySummariesRefusesABadShard(t *testing.T) {
	s := New(nil, "unused")
	for _, tc := range []struct {
		kind  Kind
		shard int
	}{{KindUser, -1}, {KindUser, SummaryShards}, {KindCompany, SummaryShards + 1}, {"account", 0}} {
		if _, _, err := s.ActivitySummaries(t.Context(), "production", tc.kind, tc.shard, "", 10); !errors.Is(err, ErrInvalid) {
			t.Errorf("ActivitySummaries(%s, shard %d): %v, want ErrInvalid", tc.kind, tc.shard, err)
		}
	}
}
