package store

import (
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// eventIDs returns n event ids starting with prefix.
func eventIDs(prefix string, n int) []string {
	ids := make([]string, n)
	for i := range ids {
		ids[i] = fmt.Sprintf("%s%03d", prefix, i)
	}
	return ids
}

// TestAddActivityPacksFullTransactions: a transaction holds one update per
// profile and day plus one mark per event id, filled to exactly DynamoDB's
// 100 actions; a delta whose profile and day a full transaction already
// updates starts the next one with its own update, and counts it.
func TestAddActivityPacksFullTransactions(t *testing.T) {
	t.Parallel()
	s := newStore(t)
	spy := &txSizes{dynamoAPI: s.db}
	s.db = spy
	d := func(id, day string, ev int64, ids []string) ActivityDelta {
		return ActivityDelta{Kind: KindCompany, ID: id, Day: day, Events: ev, EventIDs: ids}
	}
	err := s.AddActivity(t.Context(), "production", []ActivityDelta{
		d("c1", "2026-11-01", 1, eventIDs("a", 49)), // 50 actions
		d("c1", "2026-11-02", 2, eventIDs("b", 49)), // 50: the first transaction is full
		d("c1", "2026-11-01", 4, eventIDs("c", 1)),  // its day's update again: 2 actions
		d("c2", "2026-11-01", 8, eventIDs("d", 98)), // 99: 101 with the 2 before, so a third
	})
	if err != nil {
		t.Fatal(err)
	}
	got := slices.Clone(spy.sizes)
	slices.Sort(got) // the transactions run in parallel
	if want := []int{2, 99, 100}; !slices.Equal(got, want) {
		t.Errorf("transaction sizes %v, want %v", got, want)
	}
	for _, tc := range []struct {
		id, day string
		want    int64
	}{{"c1", "2026-11-01", 5}, {"c1", "2026-11-02", 2}, {"c2", "2026-11-01", 8}} {
		days, err := s.Activity(t.Context(), "production", KindCompany, tc.id, tc.day, tc.day)
		if err != nil || len(days) != 1 || days[0].Events != tc.want {
			t.Errorf("%s on %s: %+v (%v), want %d events", tc.id, tc.day, days, err, tc.want)
		}
	}
}

// TestActivityKeptForItsRetention: a day's aggregate expires 400 days after
// it was written and an event's applied mark 35 days after, as the
// constants document.
func TestActivityKeptForItsRetention(t *testing.T) {
	t.Parallel()
	s := newStore(t)
	now := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	s.now = func() time.Time { return now }
	err := s.AddActivity(t.Context(), "production", []ActivityDelta{
		{Kind: KindCompany, ID: "c1", Day: "2026-12-01", Events: 1, EventIDs: []string{"e1"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := storedExpiry(t, s, key(activityPK("production", KindCompany, "c1"), "2026-12-01")), now.AddDate(0, 0, 400).Unix(); got != want {
		t.Errorf("aggregate expires_at %d, want %d (400 days on)", got, want)
	}
	if got, want := storedExpiry(t, s, key(activityMarkPK("production", "e1"), skActivityMark)), now.AddDate(0, 0, 35).Unix(); got != want {
		t.Errorf("mark expires_at %d, want %d (35 days on)", got, want)
	}
}

// TestAddActivityWithMoreReasonsThanActions: a cancellation listing more
// reasons than the transaction had actions (not an answer to this request)
// is returned as an error; a failed condition past the last action names
// no delta to drop.
func TestAddActivityWithMoreReasonsThanActions(t *testing.T) {
	t.Parallel()
	s := newStore(t)
	f := newFlaky(s)
	// The update and the mark, then a reason for an action never sent.
	f.fail("TransactWriteItems", cancelled("None", "None", "ConditionalCheckFailed"))
	err := s.AddActivity(t.Context(), "production", []ActivityDelta{
		{Kind: KindCompany, ID: "c1", Day: "2026-11-01", Events: 1, EventIDs: []string{"e1"}},
	})
	var ce *types.TransactionCanceledException
	if !errors.As(err, &ce) {
		t.Fatalf("AddActivity: %v, want the cancellation returned", err)
	}
}
