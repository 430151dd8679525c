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
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// flakyDB answers the next calls of an operation with queued errors (nil:
// send this one) before passing calls through to DynamoDB Local, the way
// DynamoDB throttles or cancels a transaction now and then.
type flakyDB struct {
	dynamoAPI
	mu    sync.Mutex
	queue map[string][]error
	calls map[string]int
}

func newFlaky(s *Store) *flakyDB {
	f := &flakyDB{dynamoAPI: s.db, queue: map[string][]error{}, calls: map[string]int{}}
	s.db = f
	return f
}

// fail queues errs for the next calls of op.
func (f *flakyDB) fail(op string, errs ...error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.queue[op] = append(f.queue[op], errs...)
}

func (f *flakyDB) count(op string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.calls[op]
}

func (f *flakyDB) next(op string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls[op]++
	if q := f.queue[op]; len(q) > 0 {
		f.queue[op] = q[1:]
		return q[0]
	}
	return nil
}

func (f *flakyDB) GetItem(ctx context.Context, in *dynamodb.GetItemInput, o ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error) {
	if err := f.next("GetItem"); err != nil {
		return nil, err
	}
	return f.dynamoAPI.GetItem(ctx, in, o...)
}

func (f *flakyDB) PutItem(ctx context.Context, in *dynamodb.PutItemInput, o ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error) {
	if err := f.next("PutItem"); err != nil {
		return nil, err
	}
	return f.dynamoAPI.PutItem(ctx, in, o...)
}

func (f *flakyDB) UpdateItem(ctx context.Context, in *dynamodb.UpdateItemInput, o ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error) {
	if err := f.next("UpdateItem"); err != nil {
		return nil, err
	}
	return f.dynamoAPI.UpdateItem(ctx, in, o...)
}

func (f *flakyDB) BatchGetItem(ctx context.Context, in *dynamodb.BatchGetItemInput, o ...func(*dynamodb.Options)) (*dynamodb.BatchGetItemOutput, error) {
	if err := f.next("BatchGetItem"); err != nil {
		return nil, err
	}
	return f.dynamoAPI.BatchGetItem(ctx, in, o...)
}

func (f *flakyDB) BatchWriteItem(ctx context.Context, in *dynamodb.BatchWriteItemInput, o ...func(*dynamodb.Options)) (*dynamodb.BatchWriteItemOutput, error) {
	if err := f.next("BatchWriteItem"); err != nil {
		return nil, err
	}
	return f.dynamoAPI.BatchWriteItem(ctx, in, o...)
}

func (f *flakyDB) TransactWriteItems(ctx context.Context, in *dynamodb.TransactWriteItemsInput, o ...func(*dynamodb.Options)) (*dynamodb.TransactWriteItemsOutput, error) {
	if err := f.next("TransactWriteItems"); err != nil {
		return nil, err
	}
	return f.dynamoAPI.TransactWriteItems(ctx, in, o...)
}

var (
	errThrottled = &types.ProvisionedThroughputExceededException{Message: aws.String("throughput exceeded")}
	errFatal     = errors.New("access denied")
)

// cancelled is a TransactionCanceledException with one reason per action.
func cancelled(codes ...string) error {
	rs := make([]types.CancellationReason, len(codes))
	for i, c := range codes {
		rs[i] = types.CancellationReason{Code: aws.String(c)}
	}
	return &types.TransactionCanceledException{Message: aws.String("Transaction cancelled"), CancellationReasons: rs}
}

// ordinary reports an error a caller treats as an outcome, not a failure.
func ordinary(err error) bool {
	return errors.Is(err, ErrConflict) || errors.Is(err, ErrNotFound) || errors.Is(err, ErrLeaseHeld) || errors.Is(err, ErrLeaseLost)
}

// TestProfileWritesRetryTransientErrors: a throttled write or a transaction
// cancelled for contention is sent again and lands; any other error is
// returned at once, is not a conflict, and stores nothing.
func TestProfileWritesRetryTransientErrors(t *testing.T) {
	t.Parallel()
	s := newStore(t)
	ctx := t.Context()
	f := newFlaky(s)

	// A profile without lookups is one conditional PutItem.
	f.fail("PutItem", errThrottled, errThrottled)
	p := &Profile{Env: "production", Kind: KindUser, ID: "plain"}
	if err := s.PutProfile(ctx, p); err != nil || p.Version != 1 {
		t.Fatalf("PutProfile after two throttled tries: %v, version %d; want stored at 1", err, p.Version)
	}
	if got := f.count("PutItem"); got != 3 {
		t.Errorf("PutItem calls %d, want 3", got)
	}
	f.fail("PutItem", errFatal)
	p.CompanyID = "c1"
	if err := s.PutProfile(ctx, p); !errors.Is(err, errFatal) || ordinary(err) || p.Version != 1 {
		t.Errorf("PutProfile under a fatal error: %v, version %d; want the error, version 1 kept", err, p.Version)
	}
	if got := f.count("PutItem"); got != 4 {
		t.Errorf("PutItem calls %d, want 4 (a fatal error is not retried)", got)
	}

	// With lookups it is a transaction: throttled and contended ones are
	// retried, whichever way DynamoDB says so.
	f.fail("TransactWriteItems", cancelled("None", "ThrottlingError"), cancelled("TransactionConflict", "None"),
		errThrottled, cancelled("None", "RequestLimitExceeded"), cancelled("ProvisionedThroughputExceeded", "None"))
	q := &Profile{Env: "production", Kind: KindUser, ID: "linked", MatchValue: "a@x.com"}
	if err := s.PutProfile(ctx, q); err != nil || q.Version != 1 {
		t.Fatalf("PutProfile after five transient cancellations: %v, version %d", err, q.Version)
	}
	if m, err := s.LookupByMatch(ctx, "production", KindUser, []string{"a@x.com"}); err != nil || !slices.Equal(m["a@x.com"], []string{"linked"}) {
		t.Errorf("lookup %v (%v), want linked", m, err)
	}
	for _, fatal := range []error{cancelled("None", "ValidationError"), cancelled("TransactionConflict", "ValidationError"), cancelled(), errFatal} {
		before := f.count("TransactWriteItems")
		f.fail("TransactWriteItems", fatal)
		r := &Profile{Env: "production", Kind: KindUser, ID: "refused", MatchValue: "r@x.com"}
		if err := s.PutProfile(ctx, r); err == nil || ordinary(err) || r.Version != 0 {
			t.Errorf("PutProfile under %v: %v, version %d; want a failure that is not a conflict", fatal, err, r.Version)
		}
		if got := f.count("TransactWriteItems") - before; got != 1 {
			t.Errorf("under %v: %d transaction calls, want 1 (not retried)", fatal, got)
		}
	}
	if _, err := s.GetProfile(ctx, "production", KindUser, "refused"); !errors.Is(err, ErrNotFound) {
		t.Errorf("refused profile stored: %v", err)
	}

	// A merge retries its write the same way.
	f.fail("PutItem", errThrottled)
	if res, err := s.MergeIdentify(ctx, "production", KindUser, "merged", IdentifyInput{Properties: map[string]any{"plan": "pro"}}); err != nil || res.Profile.Version != 1 {
		t.Errorf("merge after a throttled write: %+v, %v", res, err)
	}
	f.fail("GetItem", errFatal)
	if _, err := s.MergeIdentify(ctx, "production", KindUser, "merged", IdentifyInput{Properties: map[string]any{"plan": "team"}}); !errors.Is(err, errFatal) {
		t.Errorf("merge whose read fails: %v, want the read's error", err)
	}
	f.fail("PutItem", errFatal)
	if _, err := s.MergeIdentify(ctx, "production", KindUser, "merged", IdentifyInput{Properties: map[string]any{"plan": "team"}}); !errors.Is(err, errFatal) || ordinary(err) {
		t.Errorf("merge whose write fails: %v, want the write's error", err)
	}
	if p, err := s.GetProfile(ctx, "production", KindUser, "merged"); err != nil || p.Properties["plan"].Value != "pro" {
		t.Errorf("merged = %+v (%v), want plan pro kept", p, err)
	}
}

// TestBatchProfileWritesRetryTransientErrors: PutProfiles resends a
// transaction DynamoDB throttled or cancelled for contention until it lands;
// an error that is neither fails every profile of the transaction, not as a
// conflict.
func TestBatchProfileWritesRetryTransientErrors(t *testing.T) {
	t.Parallel()
	s := newStore(t)
	ctx := t.Context()
	f := newFlaky(s)
	batch := func(prefix string) []*Profile {
		var ps []*Profile
		for _, id := range []string{"a", "b", "c"} {
			ps = append(ps, &Profile{Env: "production", Kind: KindUser, ID: prefix + id, MatchValue: prefix + id + "@x.com"})
		}
		return ps
	}
	f.fail("TransactWriteItems", errThrottled, cancelled("TransactionConflict", "None", "None", "None", "None", "None"))
	ok := batch("ok-")
	if err := s.PutProfiles(ctx, ok); err != nil {
		t.Fatalf("PutProfiles after transient failures: %v", err)
	}
	for _, p := range ok {
		if p.Version != 1 {
			t.Errorf("%s at version %d, want 1", p.ID, p.Version)
		}
	}
	if got := f.count("TransactWriteItems"); got != 3 {
		t.Errorf("transaction calls %d, want 3", got)
	}
	for _, fatal := range []error{errFatal, cancelled("None", "ValidationError", "None", "None", "None", "None")} {
		bad := batch("bad-")
		f.fail("TransactWriteItems", fatal)
		err := s.PutProfiles(ctx, bad)
		var be *BatchError
		if !errors.As(err, &be) || errors.Is(err, ErrConflict) || !slices.Equal(be.IDs(), []string{"bad-a", "bad-b", "bad-c"}) {
			t.Errorf("PutProfiles under %v: %v, want all three failed, not as conflicts", fatal, err)
		}
		for _, p := range bad {
			if p.Version != 0 {
				t.Errorf("%s at version %d after a failed write", p.ID, p.Version)
			}
		}
	}
	got, err := s.GetProfiles(ctx, "production", KindUser, []string{"bad-a", "bad-b", "bad-c"})
	if err != nil || len(got) != 0 {
		t.Errorf("failed profiles stored: %v (%v)", got, err)
	}
}

// TestStateWritesRetryTransientErrors: checkpoints, ledger writes and reads
// and activity are sent again after throttling or contention and land once.
func TestStateWritesRetryTransientErrors(t *testing.T) {
	t.Parallel()
	s := newStore(t).WithActivitySummary(30*time.Minute, 40)
	at := time.Now().UTC().Add(-time.Hour).Truncate(time.Millisecond)
	day := at.Format(dayLayout)
	ctx := t.Context()
	f := newFlaky(s)

	if err := s.AcquireLease(ctx, "production", "poll", "run1", time.Minute); err != nil {
		t.Fatal(err)
	}
	f.fail("TransactWriteItems", cancelled("TransactionConflict", "None"), errThrottled)
	if err := s.PutCursorLeased(ctx, "production", "c", "v1", "poll", "run1"); err != nil {
		t.Fatalf("checkpoint after transient failures: %v", err)
	}
	for _, fatal := range []error{cancelled("None", "ValidationError"), cancelled(), errFatal} {
		f.fail("TransactWriteItems", fatal)
		if err := s.PutCursorLeased(ctx, "production", "c", "v2", "poll", "run1"); err == nil || ordinary(err) {
			t.Errorf("checkpoint under %v: %v, want a failure that is not a lost lease", fatal, err)
		}
	}
	if v, _ := s.GetCursor(ctx, "production", "c"); v != "v1" {
		t.Errorf("cursor %q, want v1", v)
	}

	f.fail("BatchWriteItem", errThrottled, errThrottled)
	if err := s.LedgerRecord(ctx, "production", []string{"e1", "e2"}, time.Hour); err != nil {
		t.Fatalf("ledger record after throttling: %v", err)
	}
	f.fail("BatchGetItem", errThrottled)
	if seen, err := s.LedgerSeen(ctx, "production", []string{"e1", "e2", "e3"}); err != nil || !seen["e1"] || !seen["e2"] || seen["e3"] {
		t.Errorf("ledger seen after throttling: %v, %v", seen, err)
	}
	f.fail("BatchWriteItem", errFatal)
	if err := s.LedgerRecord(ctx, "production", []string{"e4"}, time.Hour); !errors.Is(err, errFatal) {
		t.Errorf("ledger record under a fatal error: %v", err)
	}
	f.fail("BatchGetItem", errFatal)
	if _, err := s.LedgerSeen(ctx, "production", []string{"e1"}); !errors.Is(err, errFatal) {
		t.Errorf("ledger seen under a fatal error: %v", err)
	}

	// The day aggregate's transaction, then the summaries' transaction: each
	// throttled once and cancelled for contention once.
	f.fail("TransactWriteItems", errThrottled, cancelled("TransactionConflict", "None"), nil,
		errThrottled, cancelled("None", "TransactionConflict", "None"))
	d := ActivityDelta{Kind: KindUser, ID: "u1", Day: day, Events: 2, Sessions: 1, EventIDs: []string{"a1"}, LastSeen: at, CompanyID: "c1"}
	if err := s.AddActivity(ctx, "production", []ActivityDelta{d}); err != nil {
		t.Fatalf("AddActivity after transient failures: %v", err)
	}
	days, err := s.Activity(ctx, "production", KindUser, "u1", day, day)
	if err != nil || len(days) != 1 || days[0].Events != 2 {
		t.Errorf("activity %+v (%v), want 2 events once", days, err)
	}
	for _, who := range []struct {
		kind Kind
		id   string
	}{{KindUser, "u1"}, {KindCompany, "c1"}} {
		sum, err := s.GetActivitySummary(ctx, "production", who.kind, who.id)
		if err != nil || sum.Days[day] == nil || sum.Days[day].Events != 2 || sum.Days[day].Active != 1 {
			t.Errorf("%s %s summary %+v (%v), want the event once", who.kind, who.id, sum, err)
		}
	}
	// A fatal error in the summaries' transaction fails the call.
	f.fail("TransactWriteItems", nil, errFatal)
	d.EventIDs, d.LastSeen = []string{"a2"}, at.Add(time.Minute)
	if err := s.AddActivity(ctx, "production", []ActivityDelta{d}); !errors.Is(err, errFatal) {
		t.Errorf("AddActivity whose summaries fail: %v, want the error", err)
	}
	f.fail("TransactWriteItems", errFatal)
	d.EventIDs = []string{"a3"}
	if err := s.AddActivity(ctx, "production", []ActivityDelta{d}); !errors.Is(err, errFatal) {
		t.Errorf("AddActivity whose aggregate fails: %v, want the error", err)
	}
}

// TestConflictsDoNotUseUpRetries: the profiles (or activity deltas) whose
// condition failed leave the transaction and the rest is resent at once; a
// transaction that loses one member to a conflict many times over still
// stores the others, because a conflict is not contention and does not count
// toward the retry limit.
func TestConflictsDoNotUseUpRetries(t *testing.T) {
	t.Parallel()
	s := newStore(t)
	ctx := t.Context()
	f := newFlaky(s)
	const n, drops = 16, maxRedrives + 2
	waits := countBackoff(s) // a conflict is resent at once: no backoff
	// Each cancellation fails the first profile left (one action each).
	for k := range drops {
		codes := make([]string, n-k)
		for i := range codes {
			codes[i] = "None"
		}
		codes[0] = "ConditionalCheckFailed"
		f.fail("TransactWriteItems", cancelled(codes...))
	}
	var ps []*Profile
	for i := range n {
		ps = append(ps, &Profile{Env: "production", Kind: KindUser, ID: fmt.Sprintf("p%02d", i)})
	}
	err := s.PutProfiles(ctx, ps)
	var be *BatchError
	if !errors.As(err, &be) || len(be.Failed) != drops {
		t.Fatalf("PutProfiles: %v, want %d conflicts", err, drops)
	}
	for _, pe := range be.Failed {
		if !errors.Is(pe.Err, ErrConflict) {
			t.Errorf("%s failed with %v, want a conflict", pe.ID, pe.Err)
		}
	}
	for _, p := range ps[drops:] {
		if p.Version != 1 {
			t.Errorf("%s at version %d, want stored", p.ID, p.Version)
		}
	}
	if w := waits(); len(w) != 0 {
		t.Errorf("profiles: waited before attempts %v, want no backoff after conflicts", w)
	}

	// Activity: each cancellation says the first delta's event was applied.
	day := time.Now().UTC().Format(dayLayout)
	var ds []ActivityDelta
	for i := range n {
		ds = append(ds, ActivityDelta{Kind: KindCompany, ID: fmt.Sprintf("c%02d", i), Day: day, Events: 1, EventIDs: []string{fmt.Sprintf("ev%02d", i)}})
	}
	for k := range drops {
		// n-k updates, then n-k marks; the first mark's condition fails.
		codes := make([]string, 2*(n-k))
		for i := range codes {
			codes[i] = "None"
		}
		codes[n-k] = "ConditionalCheckFailed"
		f.fail("TransactWriteItems", cancelled(codes...))
	}
	if err := s.AddActivity(ctx, "production", ds); err != nil {
		t.Fatalf("AddActivity: %v", err)
	}
	for i, d := range ds {
		got, err := s.Activity(ctx, "production", KindCompany, d.ID, day, day)
		want := int64(0)
		if i >= drops {
			want = 1
		}
		if err != nil || (want == 0) != (len(got) == 0) || (want == 1 && got[0].Events != 1) {
			t.Errorf("%s activity %+v (%v), want %d events", d.ID, got, err, want)
		}
	}
	if w := waits(); len(w) != 0 {
		t.Errorf("waited before attempts %v, want no backoff after conflicts", w)
	}
}
