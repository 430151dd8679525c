package store

import (
	"errors"
	"fmt"
	"testing"
	"time"
)

// TestSummaryOfALargeDelta: a user delta may carry maxDeltaEventIDs event
// ids; with the company it names, its summary transaction holds the user's
// and the company's updates and a mark per id, within DynamoDB's 100
// actions. The delta is counted once, in the user's and the company's
// summaries. (With 99 ids allowed, the transaction had 101 actions and
// DynamoDB refused it every time: the summaries never counted the events.)
func TestSummaryOfALargeDelta(t *testing.T) {
	t.Parallel()
	s := newStore(t).WithActivitySummary(30*time.Minute, 40)
	ctx := t.Context()
	at := time.Now().UTC().Add(-time.Hour).Truncate(time.Millisecond)
	day := at.Format(dayLayout)
	ids := make([]string, maxDeltaEventIDs)
	for i := range ids {
		ids[i] = fmt.Sprintf("big-%03d", i)
	}
	d := ActivityDelta{Kind: KindUser, ID: "u1", Day: day, Events: int64(len(ids)), EventIDs: ids, LastSeen: at, CompanyID: "c1"}
	if err := s.AddActivity(ctx, "production", []ActivityDelta{d}); err != nil {
		t.Fatalf("AddActivity of a delta with %d event ids: %v", len(ids), err)
	}
	for _, who := range []struct {
		kind Kind
		id   string
	}{{KindUser, "u1"}, {KindCompany, "c1"}} {
		sum, err := s.GetActivitySummary(ctx, "production", who.kind, who.id)
		if err != nil || sum.Days[day] == nil || sum.Days[day].Events != int64(len(ids)) {
			t.Errorf("%s %s summary %+v (%v), want %d events", who.kind, who.id, sum, err, len(ids))
		}
	}
	// Redelivered: counted once.
	if err := s.AddActivity(ctx, "production", []ActivityDelta{d}); err != nil {
		t.Fatalf("redelivered: %v", err)
	}
	if sum, err := s.GetActivitySummary(ctx, "production", KindCompany, "c1"); err != nil || sum.Days[day].Events != int64(len(ids)) {
		t.Errorf("company summary after a redelivery %+v (%v), want %d events", sum, err, len(ids))
	}
	// One more id is refused, not half applied.
	d.EventIDs = append(ids, "big-extra")
	if err := s.AddActivity(ctx, "production", []ActivityDelta{d}); !errors.Is(err, ErrInvalid) {
		t.Errorf("delta with %d event ids: %v, want ErrInvalid", len(d.EventIDs), err)
	}
}
