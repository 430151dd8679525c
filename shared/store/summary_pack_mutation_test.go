package store

import (
	"fmt"
	"testing"
	"time"
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
