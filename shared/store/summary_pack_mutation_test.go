package store

import (
	"context"
	"fmt"
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

// TestRedeliveredActivityWritesNoSummary: a redelivered delta, all of whose
// events are already counted, sends one summary transaction (refused by its
// marks) and no second one for users left with nothing to add, and leaves
// the summaries as they were.
func TestRedeliveredActivityWritesNoSummary(t *testing.T) {
	t.Parallel()
	s := newStore(t).WithActivitySummary(30*time.Minute, 40)
	ctx := t.Context()
	at := time.Now().UTC().Add(-time.Hour).Truncate(time.Millisecond)
	d := ActivityDelta{Kind: KindUser, ID: "u1", CompanyID: "c1", Day: at.Format(dayLayout), Events: 1,
		FirstSeen: at, LastSeen: at, EventIDs: []string{"user:e1"}}
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
	sum, err := s.GetActivitySummary(ctx, "production", KindUser, "u1")
	if err != nil || sum.Days[d.Day] == nil || sum.Days[d.Day].Events != 1 {
		t.Errorf("summary after the redelivery: %+v (%v), want 1 event", sum, err)
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
		d := ActivityDelta{Kind: KindUser, ID: "42", CompanyID: "42", Day: at.Format(dayLayout), Events: 1,
			FirstSeen: at, LastSeen: at, EventIDs: []string{fmt.Sprintf("user:e%d", i)}}
		if err := s.AddActivity(ctx, "production", []ActivityDelta{d}); err != nil {
			t.Fatal(err)
		}
	}
	for _, kind := range []Kind{KindUser, KindCompany} {
		sum, err := s.GetActivitySummary(ctx, "production", kind, "42")
		if err != nil || sum.Days[at.Format(dayLayout)] == nil || sum.Days[at.Format(dayLayout)].Events != 2 {
			t.Errorf("%s 42 summary: %+v (%v), want 2 events", kind, sum, err)
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
		at := d.at
		err := d.other.AddActivity(ctx, "production", []ActivityDelta{{Kind: KindUser, ID: "other", CompanyID: "c1",
			Day: at.Format(dayLayout), Events: 1, FirstSeen: at, LastSeen: at, EventIDs: []string{"user:other-1"}}})
		if err != nil {
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
		deltas = append(deltas, ActivityDelta{Kind: KindUser, ID: "u1", CompanyID: "c1", Day: at.Format(dayLayout), Events: 1,
			FirstSeen: at, LastSeen: at, EventIDs: []string{fmt.Sprintf("user:e%03d", i)}})
	}
	if err := s.AddActivity(ctx, "production", deltas); err != nil {
		t.Fatalf("AddActivity with a concurrent write to the company summary: %v", err)
	}
	sum, err := s.GetActivitySummary(ctx, "production", KindCompany, "c1")
	if err != nil || sum.Days[at.Format(dayLayout)] == nil || sum.Days[at.Format(dayLayout)].Events != n+1 {
		t.Errorf("c1 summary: %+v (%v), want %d events", sum, err, n+1)
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
		deltas = append(deltas, ActivityDelta{Kind: KindUser, ID: "u1", CompanyID: "c1", Day: at.Format(dayLayout), Events: 1,
			FirstSeen: at, LastSeen: at, EventIDs: []string{fmt.Sprintf("user:e%03d", i)}})
	}
	spy := &txSizes{dynamoAPI: s.db}
	s.db = spy
	if err := s.summarize(ctx, "production", deltas); err != nil {
		t.Fatal(err)
	}
	if len(spy.sizes) != 2 {
		t.Errorf("summarize of %d events of one user sent %d transactions (%v), want 2", n, len(spy.sizes), spy.sizes)
	}
	sum, err := s.GetActivitySummary(ctx, "production", KindCompany, "c1")
	if err != nil || sum.Days[at.Format(dayLayout)] == nil || sum.Days[at.Format(dayLayout)].Events != n {
		t.Errorf("c1 summary: %+v (%v), want %d events", sum, err, n)
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
	delta := func(id string) ActivityDelta {
		return ActivityDelta{Kind: KindUser, ID: "u1", CompanyID: "c1", Day: at.Format(dayLayout), Events: 1,
			FirstSeen: at, LastSeen: at, EventIDs: []string{"user:" + id}}
	}
	if err := s.AddActivity(ctx, "production", []ActivityDelta{delta("e1")}); err != nil {
		t.Fatal(err)
	}
	var backoffs int
	s.backoff = func(context.Context, int) error { backoffs++; return nil }
	if err := s.summarize(ctx, "production", []ActivityDelta{delta("e1"), delta("e2")}); err != nil {
		t.Fatal(err)
	}
	if backoffs != 0 {
		t.Errorf("%d backoffs before resending the events not yet counted, want none", backoffs)
	}
	for _, kind := range []Kind{KindUser, KindCompany} {
		id := map[Kind]string{KindUser: "u1", KindCompany: "c1"}[kind]
		sum, err := s.GetActivitySummary(ctx, "production", kind, id)
		if err != nil || sum.Days[at.Format(dayLayout)] == nil || sum.Days[at.Format(dayLayout)].Events != 2 {
			t.Errorf("%s %s summary: %+v (%v), want 2 events", kind, id, sum, err)
		}
	}
}

// TestActivitySummaryDefaults: a store given no session timeout and no
// retention (WithActivitySummary(0, 0)) uses the defaults: events 10
// minutes apart are one session (30 minutes), and a day two days old is
// kept (the longest period plus a week).
func TestActivitySummaryDefaults(t *testing.T) {
	t.Parallel()
	s := newStore(t).WithActivitySummary(0, 0)
	ctx := t.Context()
	at := time.Now().UTC().AddDate(0, 0, -2).Truncate(time.Hour)
	for i, d := range []time.Duration{0, 10 * time.Minute} {
		e := at.Add(d)
		if err := s.AddActivity(ctx, "production", []ActivityDelta{{Kind: KindUser, ID: "u1", Day: e.Format(dayLayout), Events: 1,
			FirstSeen: e, LastSeen: e, EventIDs: []string{fmt.Sprintf("user:e%d", i)}}}); err != nil {
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
		deltas = append(deltas, ActivityDelta{Kind: KindUser, ID: fmt.Sprintf("u%02d", i), Day: at.Format(dayLayout), Events: 1,
			FirstSeen: at, LastSeen: at, EventIDs: []string{fmt.Sprintf("user:e%02d", i)}})
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
