package store

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/pilotsync/pilotsync/shared/awstest"
)

// TestPackSummariesFillsEachTransactionToTheLimit: packSummaries leaves out
// company deltas and deltas without a time wherever they come in a batch
// and packs the user deltas after them; a user with more events than one
// transaction holds fills a transaction to exactly maxTransactItems actions
// (the company's update, the user's, one mark per event) and goes on in the
// next, never past the limit.
func TestPackSummariesFillsEachTransactionToTheLimit(t *testing.T) {
	at := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	deltas := []ActivityDelta{
		{Kind: KindCompany, ID: "c1", Day: "2026-12-01", LastSeen: at, EventIDs: []string{"company:e"}},
		{Kind: KindUser, ID: "u0", CompanyID: "c1", Day: "2026-12-01", EventIDs: []string{"user:no-time"}},
	}
	const n = 150
	for i := range n {
		deltas = append(deltas, ActivityDelta{Kind: KindUser, ID: "u1", CompanyID: "c1", Day: "2026-12-01",
			LastSeen: at.Add(time.Duration(i) * time.Second), Events: 1, EventIDs: []string{fmt.Sprintf("user:e%03d", i)}})
	}
	companies, txs := packSummaries(deltas)
	if len(companies) != 1 || companies[0] != "c1" {
		t.Fatalf("companies %v, want [c1]", companies)
	}
	list := txs["c1"]
	if len(list) != 2 {
		t.Fatalf("%d transactions, want 2", len(list))
	}
	first := maxTransactItems - 2 // the company's update and the user's
	for i, want := range []struct{ actions, deltas int }{{maxTransactItems, first}, {2 + n - first, n - first}} {
		tx := list[i]
		if tx.actions != want.actions || len(tx.deltas["u1"]) != want.deltas || len(tx.users) != 1 || tx.users[0] != "u1" {
			t.Errorf("transaction %d: %d actions, users %v, %d of u1's deltas; want %d actions, [u1], %d deltas",
				i, tx.actions, tx.users, len(tx.deltas["u1"]), want.actions, want.deltas)
		}
	}
}

// TestPackSummariesAddsAUserToAFullTransaction: a company's next user
// joins its last transaction when its update and its events fill it to
// exactly maxTransactItems actions.
func TestPackSummariesAddsAUserToAFullTransaction(t *testing.T) {
	at := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	var deltas []ActivityDelta
	first := maxTransactItems - 4 // with the company's update, u1's, u2's and u2's event
	for i := range first {
		deltas = append(deltas, ActivityDelta{Kind: KindUser, ID: "u1", CompanyID: "c1", Day: "2026-12-01",
			LastSeen: at.Add(time.Duration(i) * time.Second), Events: 1, EventIDs: []string{fmt.Sprintf("e%03d", i)}})
	}
	deltas = append(deltas, ActivityDelta{Kind: KindUser, ID: "u2", CompanyID: "c1", Day: "2026-12-01", LastSeen: at, Events: 1, EventIDs: []string{"u2:e"}})
	_, txs := packSummaries(deltas)
	if list := txs["c1"]; len(list) != 1 || list[0].actions != maxTransactItems || !slices.Equal(list[0].users, []string{"u1", "u2"}) {
		for i, tx := range list {
			t.Logf("transaction %d: %d actions, users %v", i, tx.actions, tx.users)
		}
		t.Errorf("%d transactions, want one of %d actions for u1 and u2", len(list), maxTransactItems)
	}
}

// TestRedeliveredActivityWritesNoSummary: a redelivered delta, all of whose
// events are already counted, sends one summary transaction (refused by its
// marks) and no second one for users left with nothing to add, and leaves
// the summaries as they were.
func TestRedeliveredActivityWritesNoSummary(t *testing.T) {
	t.Parallel()
	s := newStore(t).WithActivitySummary(30*time.Minute, 40)
	ctx := t.Context()
	at := time.Now().UTC().Add(-time.Hour).Truncate(time.Millisecond)
	d := oneEvent("u1", "c1", at, "e1")
	if err := s.AddActivity(ctx, "production", []ActivityDelta{d}); err != nil {
		t.Fatal(err)
	}
	spy := &txSizes{dynamoAPI: s.db}
	s.db = spy
	if err := s.summarize(ctx, "production", []ActivityDelta{d}); err != nil {
		t.Fatalf("summarize a redelivered delta: %v", err)
	}
	if len(spy.sizes) != 1 {
		t.Errorf("summarize of a redelivered delta sent %d transactions (%v), want 1", len(spy.sizes), spy.sizes)
	}
	if got := dayEvents(t, s, KindUser, "u1", at); got != 1 {
		t.Errorf("summary after the redelivery: %d events, want 1", got)
	}
}

// TestSummaryOfAUserNamedLikeItsCompany: a user whose id is its company's
// (numeric ids collide: user 42 of company 42) has its own summary and
// adds to its company's, batch after batch.
func TestSummaryOfAUserNamedLikeItsCompany(t *testing.T) {
	t.Parallel()
	s := newStore(t).WithActivitySummary(30*time.Minute, 40)
	ctx := t.Context()
	at := time.Now().UTC().Add(-time.Hour).Truncate(time.Millisecond)
	for i := range 2 {
		if err := s.AddActivity(ctx, "production", []ActivityDelta{oneEvent("42", "42", at, fmt.Sprintf("e%d", i))}); err != nil {
			t.Fatal(err)
		}
	}
	for _, kind := range []Kind{KindUser, KindCompany} {
		if got := dayEvents(t, s, kind, "42", at); got != 2 {
			t.Errorf("%s 42 summary: %d events, want 2", kind, got)
		}
	}
}

// concurrentCompanyWrite adds one event of another user to company c1's
// summary through a second store on the same table, just before the second
// summary transaction that updates c1: a concurrent invocation's write.
type concurrentCompanyWrite struct {
	dynamoAPI
	other *Store
	at    time.Time // the event's time
	mu    sync.Mutex
	seen  int
}

func (d *concurrentCompanyWrite) TransactWriteItems(ctx context.Context, in *dynamodb.TransactWriteItemsInput, o ...func(*dynamodb.Options)) (*dynamodb.TransactWriteItemsOutput, error) {
	updatesC1 := false
	for _, it := range in.TransactItems {
		if it.Update != nil && getS(it.Update.Key, attrSK) == "c1" && strings.Contains(getS(it.Update.Key, attrPK), "#msum#company#") {
			updatesC1 = true
		}
	}
	d.mu.Lock()
	if updatesC1 {
		d.seen++
	}
	now := d.seen == 2 && updatesC1
	d.mu.Unlock()
	if now {
		if err := d.other.AddActivity(ctx, "production", []ActivityDelta{oneEvent("other", "c1", d.at, "other-1")}); err != nil {
			return nil, fmt.Errorf("the concurrent write: %w", err)
		}
	}
	return d.dynamoAPI.TransactWriteItems(ctx, in, o...)
}

// TestCompanySummaryReReadAfterAConcurrentWrite: a company's summary is
// carried from one transaction of a batch to the next; when another
// invocation writes it in between, the next transaction's conflict re-reads
// it, and both writers' events are counted (not retried on the stale copy
// until it gives up).
func TestCompanySummaryReReadAfterAConcurrentWrite(t *testing.T) {
	t.Parallel()
	s := newStore(t).WithActivitySummary(30*time.Minute, 40)
	s.backoff = func(context.Context, int) error { return nil }
	other := New(awstest.DynamoDB(t), s.table).WithActivitySummary(30*time.Minute, 40)
	ctx := t.Context()
	at := time.Now().UTC().Add(-time.Hour).Truncate(time.Millisecond)
	s.db = &concurrentCompanyWrite{dynamoAPI: s.db, other: other, at: at}
	var deltas []ActivityDelta
	const n = 150 // more events than one transaction holds: c1's summary is carried to a second
	for i := range n {
		deltas = append(deltas, oneEvent("u1", "c1", at, fmt.Sprintf("e%03d", i)))
	}
	if err := s.AddActivity(ctx, "production", deltas); err != nil {
		t.Fatalf("AddActivity with a concurrent write to the company summary: %v", err)
	}
	if got := dayEvents(t, s, KindCompany, "c1", at); got != n+1 {
		t.Errorf("c1 summary: %d events, want %d", got, n+1)
	}
}

// TestCompanySummaryCarriedWithoutAConflict: the company summary carried
// from one transaction of a batch to the next has the version the first
// wrote, so a user with more events than one transaction holds is counted in
// exactly two summary transactions, with no conflict and no re-read between.
func TestCompanySummaryCarriedWithoutAConflict(t *testing.T) {
	t.Parallel()
	s := newStore(t).WithActivitySummary(30*time.Minute, 40)
	ctx := t.Context()
	at := time.Now().UTC().Add(-time.Hour).Truncate(time.Millisecond)
	var deltas []ActivityDelta
	const n = 150
	for i := range n {
		deltas = append(deltas, oneEvent("u1", "c1", at, fmt.Sprintf("e%03d", i)))
	}
	spy := &txSizes{dynamoAPI: s.db}
	s.db = spy
	if err := s.summarize(ctx, "production", deltas); err != nil {
		t.Fatal(err)
	}
	if len(spy.sizes) != 2 {
		t.Errorf("summarize of %d events of one user sent %d transactions (%v), want 2", n, len(spy.sizes), spy.sizes)
	}
	if got := dayEvents(t, s, KindCompany, "c1", at); got != n {
		t.Errorf("c1 summary: %d events, want %d", got, n)
	}
}

// TestPartlyRedeliveredActivityResendsAtOnce: when some events of a
// summary transaction were already counted, the rest is resent at once (no
// backoff: that is not contention) and counted.
func TestPartlyRedeliveredActivityResendsAtOnce(t *testing.T) {
	t.Parallel()
	s := newStore(t).WithActivitySummary(30*time.Minute, 40)
	ctx := t.Context()
	at := time.Now().UTC().Add(-time.Hour).Truncate(time.Millisecond)
	if err := s.AddActivity(ctx, "production", []ActivityDelta{oneEvent("u1", "c1", at, "e1")}); err != nil {
		t.Fatal(err)
	}
	var backoffs int
	s.backoff = func(context.Context, int) error { backoffs++; return nil }
	if err := s.summarize(ctx, "production", []ActivityDelta{oneEvent("u1", "c1", at, "e1"), oneEvent("u1", "c1", at, "e2")}); err != nil {
		t.Fatal(err)
	}
	if backoffs != 0 {
		t.Errorf("%d backoffs before resending the events not yet counted, want none", backoffs)
	}
	for _, kind := range []Kind{KindUser, KindCompany} {
		id := map[Kind]string{KindUser: "u1", KindCompany: "c1"}[kind]
		if got := dayEvents(t, s, kind, id, at); got != 2 {
			t.Errorf("%s %s summary: %d events, want 2", kind, id, got)
		}
	}
}

// TestActivitySummaryDefaults: a store given no session timeout and no
// retention (WithActivitySummary(0, 0)) uses the defaults: events 10
// minutes apart are one session (30 minutes), and a day is kept for the
// longest period (365 days) plus a week: 371 days old, it is still there.
func TestActivitySummaryDefaults(t *testing.T) {
	t.Parallel()
	s := newStore(t).WithActivitySummary(0, 0)
	ctx := t.Context()
	at := time.Now().UTC().AddDate(0, 0, -371).Truncate(24 * time.Hour).Add(12 * time.Hour)
	for i, d := range []time.Duration{0, 10 * time.Minute} {
		if err := s.AddActivity(ctx, "production", []ActivityDelta{oneEvent("u1", "", at.Add(d), fmt.Sprintf("e%d", i))}); err != nil {
			t.Fatal(err)
		}
	}
	sum, err := s.GetActivitySummary(ctx, "production", KindUser, "u1")
	day := sum.Days[at.Format(dayLayout)]
	if err != nil || day == nil || day.Events != 2 || day.Sessions != 1 || len(sum.Sessions) != 1 {
		t.Errorf("summary: %+v, day %+v (%v); want the day kept, 2 events in 1 session", sum, day, err)
	}
}

// TestActivitySummariesPages: reading a shard page by page (limit 2) with
// the id each page returns gives every summary of the shard once, in id
// order, and the last page says the shard is done.
func TestActivitySummariesPages(t *testing.T) {
	t.Parallel()
	s := newStore(t).WithActivitySummary(30*time.Minute, 40)
	ctx := t.Context()
	at := time.Now().UTC().Add(-time.Hour).Truncate(time.Millisecond)
	var deltas []ActivityDelta
	for i := range 80 {
		deltas = append(deltas, oneEvent(fmt.Sprintf("u%02d", i), "", at, fmt.Sprintf("e%02d", i)))
	}
	if err := s.AddActivity(ctx, "production", deltas); err != nil {
		t.Fatal(err)
	}
	shard := summaryShard("u00")
	var want []string
	for _, d := range deltas {
		if summaryShard(d.ID) == shard {
			want = append(want, d.ID)
		}
	}
	if len(want) < 3 {
		t.Fatalf("only %d users in shard %d: the test needs more than one page", len(want), shard)
	}
	var got []string
	after := ""
	for page := 0; ; page++ {
		if page > len(want) {
			t.Fatalf("more pages than summaries: %v", got)
		}
		list, next, err := s.ActivitySummaries(ctx, "production", KindUser, shard, after, 2)
		if err != nil {
			t.Fatal(err)
		}
		for _, sum := range list {
			got = append(got, sum.ID)
		}
		if next == "" {
			break
		}
		after = next
	}
	if !slices.Equal(got, want) {
		t.Errorf("shard %d read in pages of 2: %v, want %v", shard, got, want)
	}
}

// oneEvent is user's delta of one event at at (event id "user:"+event), naming
// company ("": none), as the forwarder records an activity event.
func oneEvent(user, company string, at time.Time, event string) ActivityDelta {
	return ActivityDelta{Kind: KindUser, ID: user, CompanyID: company, Day: at.Format(dayLayout), Events: 1,
		FirstSeen: at, LastSeen: at, EventIDs: []string{"user:" + event}}
}

// dayEvents is the event count of at's day in the summary of kind id (0
// when the day is not there).
func dayEvents(t *testing.T, s *Store, kind Kind, id string, at time.Time) int64 {
	t.Helper()
	sum, err := s.GetActivitySummary(t.Context(), "production", kind, id)
	if err != nil {
		t.Fatalf("summary of %s %s: %v", kind, id, err)
	}
	if d := sum.Days[at.Format(dayLayout)]; d != nil {
		return d.Events
	}
	return 0
}

// TestActivitySummaryKeepsTheDaysConfigured: a store kept for 3 days drops
// a day 5 days old from the summary once a new event is added.
func TestActivitySummaryKeepsTheDaysConfigured(t *testing.T) {
	t.Parallel()
	s := newStore(t).WithActivitySummary(30*time.Minute, 3)
	ctx := t.Context()
	now := time.Now().UTC().Truncate(time.Millisecond)
	old := now.AddDate(0, 0, -5)
	for i, at := range []time.Time{old, now} {
		if err := s.AddActivity(ctx, "production", []ActivityDelta{oneEvent("u1", "", at, fmt.Sprintf("e%d", i))}); err != nil {
			t.Fatal(err)
		}
	}
	sum, err := s.GetActivitySummary(ctx, "production", KindUser, "u1")
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := sum.Days[old.Format(dayLayout)]; ok || sum.Days[now.Format(dayLayout)] == nil {
		t.Errorf("summary days %v, want only %s (3 days kept)", slices.Collect(maps.Keys(sum.Days)), now.Format(dayLayout))
	}
}

// TestSummaryWithMoreReasonsThanActions: a cancellation of the summary
// transaction listing more reasons than it had actions names no event to
// drop: the transaction is retried whole, and the event is counted once.
func TestSummaryWithMoreReasonsThanActions(t *testing.T) {
	t.Parallel()
	s := newStore(t).WithActivitySummary(30*time.Minute, 40)
	waits := countBackoff(s)
	f := newFlaky(s)
	// The day aggregate's transaction goes through; the summary's (the
	// user's update and the event's mark) is cancelled with a third reason.
	f.fail("TransactWriteItems", nil, cancelled("None", "None", "ConditionalCheckFailed"))
	at := time.Now().UTC().Add(-time.Hour).Truncate(time.Millisecond)
	if err := s.AddActivity(t.Context(), "production", []ActivityDelta{oneEvent("u1", "", at, "e1")}); err != nil {
		t.Fatal(err)
	}
	if got := dayEvents(t, s, KindUser, "u1", at); got != 1 {
		t.Errorf("summary day: %d events, want 1", got)
	}
	if n, w := f.count("TransactWriteItems"), waits(); n != 3 || len(w) != 1 {
		t.Errorf("%d transactions after waits %v, want 3 (the summary's retried once, after a backoff)", n, w)
	}
}
