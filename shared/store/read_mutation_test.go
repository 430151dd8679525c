package store

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// TestReadsSkipOnlyWhatTheyShould: a repeated id, an empty value or a
// lookup entry emptied by an unlink is skipped without dropping the values
// that follow it.
func TestReadsSkipOnlyWhatTheyShould(t *testing.T) {
	t.Parallel()
	s := newStore(t)
	ctx := t.Context()
	var ids, emails, hsIDs []string
	for i := range 20 {
		p := &Profile{Env: "production", Kind: KindUser, ID: fmt.Sprintf("u%02d", i),
			MatchValue: fmt.Sprintf("u%02d@x.com", i), HubSpotID: fmt.Sprint(100 + i)}
		if err := s.PutProfile(ctx, p); err != nil {
			t.Fatal(err)
		}
		if i%2 == 0 { // unlink: the lookup entries stay as bare keys
			p.MatchValue, p.HubSpotID = "", ""
			if err := s.PutProfile(ctx, p); err != nil {
				t.Fatal(err)
			}
		}
		ids = append(ids, p.ID, p.ID)
		emails = append(emails, "", fmt.Sprintf("U%02d@x.com", i), fmt.Sprintf("u%02d@x.com", i))
		hsIDs = append(hsIDs, "", fmt.Sprint(100+i), fmt.Sprint(100+i))
	}
	got, err := s.GetProfiles(ctx, "production", KindUser, ids)
	if err != nil || len(got) != 20 {
		t.Errorf("GetProfiles of 20 ids, each twice: %d profiles (%v), want 20", len(got), err)
	}
	byMatch, err := s.LookupByMatch(ctx, "production", KindUser, emails)
	if err != nil || len(byMatch) != 10 {
		t.Errorf("LookupByMatch: %v (%v), want the 10 linked users", byMatch, err)
	}
	byHS, err := s.LookupByHubSpotID(ctx, "production", KindUser, hsIDs)
	if err != nil || len(byHS) != 10 {
		t.Errorf("LookupByHubSpotID: %v (%v), want the 10 linked users", byHS, err)
	}
	for i := 1; i < 20; i += 2 {
		if m, h := byMatch[fmt.Sprintf("u%02d@x.com", i)], byHS[fmt.Sprint(100+i)]; len(m) != 1 || len(h) != 1 || m[0] != fmt.Sprintf("u%02d", i) || h[0] != m[0] {
			t.Errorf("u%02d: by match %v, by hubspot id %v", i, m, h)
		}
	}
	seen, err := s.LedgerSeen(ctx, "production", []string{"e1", "e1", "e2"})
	if err != nil || len(seen) != 2 {
		t.Errorf("LedgerSeen of a repeated id: %v (%v)", seen, err)
	}
}

// TestMalformedPropertyIsSkipped: a props entry that is not a {v, t} map
// (written by hand, or by a future version) is left out when the profile is
// read; the other properties are read.
func TestMalformedPropertyIsSkipped(t *testing.T) {
	t.Parallel()
	s := newStore(t)
	ctx := t.Context()
	p := &Profile{Env: "production", Kind: KindUser, ID: "u1", Properties: map[string]Property{}}
	for i := range 20 {
		p.Properties[fmt.Sprintf("p%02d", i)] = Property{Value: fmt.Sprint(i), At: time.Unix(1, 0)}
	}
	item, err := encodeProfile(p, 1, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	item[attrProps].(*types.AttributeValueMemberM).Value["bad"] = &types.AttributeValueMemberS{Value: "not a property"}
	if _, err := s.db.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(s.table), Item: item}); err != nil {
		t.Fatal(err)
	}
	got, err := s.GetProfile(ctx, "production", KindUser, "u1")
	if err != nil || len(got.Properties) != 20 {
		t.Fatalf("GetProfile: %d properties (%v), want the 20 well-formed ones", len(got.Properties), err)
	}
	if v := got.Properties["p07"].Value; v != "7" {
		t.Errorf("p07 = %v, want 7", v)
	}
}

// TestThrottledWritesBackOff: a write DynamoDB keeps throttling is retried
// with growing pauses until its context ends, not in a tight loop that
// hammers a table already over its capacity.
func TestThrottledWritesBackOff(t *testing.T) {
	t.Parallel()
	s := newStore(t)
	f := newFlaky(s)
	throttle := func(op string, err error) {
		errs := make([]error, 1000)
		for i := range errs {
			errs[i] = err
		}
		f.fail(op, errs...)
	}
	const window = 400 * time.Millisecond
	// 20-40 ms, then 40-80, 80-160 and 160-320 ms: at most 5 calls fit.
	const most = 6
	for _, c := range []struct {
		name, op string
		err      error
		call     func(ctx context.Context) error
	}{
		{"PutProfile", "PutItem", errThrottled, func(ctx context.Context) error {
			return s.PutProfile(ctx, &Profile{Env: "production", Kind: KindUser, ID: "a"})
		}},
		{"PutProfile with lookups", "TransactWriteItems", cancelled("None", "ThrottlingError"), func(ctx context.Context) error {
			return s.PutProfile(ctx, &Profile{Env: "production", Kind: KindUser, ID: "b", MatchValue: "b@x.com"})
		}},
		{"PutProfiles", "TransactWriteItems", cancelled("ThrottlingError", "None", "None", "None"), func(ctx context.Context) error {
			return s.PutProfiles(ctx, []*Profile{{Env: "production", Kind: KindUser, ID: "c", MatchValue: "c@x.com"}, {Env: "production", Kind: KindUser, ID: "d", MatchValue: "d@x.com"}})
		}},
		{"PutCursorLeased", "TransactWriteItems", cancelled("None", "ThrottlingError"), func(ctx context.Context) error {
			return s.PutCursorLeased(ctx, "production", "c", "v", "poll", "run1")
		}},
		{"LedgerRecord", "BatchWriteItem", errThrottled, func(ctx context.Context) error {
			return s.LedgerRecord(ctx, "production", []string{"e1"}, time.Hour)
		}},
		{"LedgerSeen", "BatchGetItem", errThrottled, func(ctx context.Context) error {
			_, err := s.LedgerSeen(ctx, "production", []string{"e1"})
			return err
		}},
		{"AddActivity", "TransactWriteItems", cancelled("ThrottlingError", "None"), func(ctx context.Context) error {
			return s.AddActivity(ctx, "production", []ActivityDelta{{Kind: KindCompany, ID: "c1", Day: "2026-11-02", Events: 1, EventIDs: []string{"a1"}}})
		}},
	} {
		f.mu.Lock()
		f.queue = map[string][]error{}
		f.mu.Unlock()
		if c.name == "PutCursorLeased" {
			if err := s.AcquireLease(t.Context(), "production", "poll", "run1", time.Minute); err != nil {
				t.Fatal(err)
			}
		}
		throttle(c.op, c.err)
		before := f.count(c.op)
		ctx, cancel := context.WithTimeout(t.Context(), window)
		err := c.call(ctx)
		cancel()
		n := f.count(c.op) - before
		if err == nil || ordinary(err) {
			t.Errorf("%s throttled throughout: %v, want a failure", c.name, err)
		}
		if !errors.Is(err, context.DeadlineExceeded) && n < 3 {
			t.Errorf("%s throttled throughout gave up after %d calls: %v", c.name, n, err)
		}
		if n > most {
			t.Errorf("%s throttled throughout: %d calls in %v, want at most %d (backoff)", c.name, n, window, most)
		}
	}
}

// TestMergeConflictsBackOff: a merge that keeps losing its write to other
// writers re-reads and retries with growing pauses (up to 320 ms), not in a
// tight loop. Every retry waits first, for attempts 1, 2, 3, 4, 4, ...;
// only the most writes is bounded by time (a loaded machine makes fewer).
func TestMergeConflictsBackOff(t *testing.T) {
	t.Parallel()
	s := newStore(t)
	f := newFlaky(s)
	errs := make([]error, 1000)
	for i := range errs {
		errs[i] = &types.ConditionalCheckFailedException{Message: aws.String("The conditional request failed")}
	}
	f.fail("PutItem", errs...)
	var mu sync.Mutex
	var waits []int
	wait := s.backoff
	s.backoff = func(ctx context.Context, attempt int) error {
		mu.Lock()
		waits = append(waits, attempt)
		mu.Unlock()
		return wait(ctx, attempt)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 400*time.Millisecond)
	defer cancel()
	_, err := s.MergeIdentify(ctx, "production", KindUser, "u1", IdentifyInput{Properties: map[string]any{"plan": "pro"}})
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("merge losing every write: %v, want it to retry until the deadline", err)
	}
	n := f.count("PutItem")
	if n < 1 || n > 6 {
		t.Errorf("merge losing every write: %d writes in 400ms, want 1 to 6 (backoff)", n)
	}
	mu.Lock()
	defer mu.Unlock()
	// The wait after the last write may be cut short by the deadline.
	if len(waits) != n-1 && len(waits) != n {
		t.Errorf("%d writes after %d waits, want a wait before each retry", n, len(waits))
	}
	for i, a := range waits {
		if want := min(i+1, 4); a != want {
			t.Errorf("waits for attempts %v, want 1, 2, 3, 4, 4, ...", waits)
			break
		}
	}
}
