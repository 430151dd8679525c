package store

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
)

// limitSpy records the Limit of each Query and Scan (-1: none sent). With
// scanPage set, each Scan asks DynamoDB for at most that many items
// instead: a page that stops early with a LastEvaluatedKey, as DynamoDB's
// does when it reaches 1 MB before the Limit.
type limitSpy struct {
	dynamoAPI
	scanPage int32
	mu       sync.Mutex
	limits   []int32
}

func (d *limitSpy) record(l *int32) {
	v := int32(-1)
	if l != nil {
		v = *l
	}
	d.mu.Lock()
	d.limits = append(d.limits, v)
	d.mu.Unlock()
}

func (d *limitSpy) Query(ctx context.Context, in *dynamodb.QueryInput, o ...func(*dynamodb.Options)) (*dynamodb.QueryOutput, error) {
	d.record(in.Limit)
	return d.dynamoAPI.Query(ctx, in, o...)
}

func (d *limitSpy) Scan(ctx context.Context, in *dynamodb.ScanInput, o ...func(*dynamodb.Options)) (*dynamodb.ScanOutput, error) {
	d.record(in.Limit)
	if d.scanPage > 0 {
		short := *in
		short.Limit = aws.Int32(d.scanPage)
		in = &short
	}
	return d.dynamoAPI.Scan(ctx, in, o...)
}

// TestListRunsSendsValidLimits: DynamoDB's Query takes a Limit from 1 up
// (https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_Query.html).
// ListRuns of all runs sends none, and a limit is sent as it is, up to
// 1,000 a page.
func TestListRunsSendsValidLimits(t *testing.T) {
	t.Parallel()
	s := newStore(t)
	ctx := t.Context()
	start := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	for i := range 3 {
		if err := s.PutRun(ctx, RunRecord{Env: "production", Job: "poll", ID: fmt.Sprint(i), Started: start.Add(time.Duration(i) * time.Minute)}); err != nil {
			t.Fatal(err)
		}
	}
	for _, tc := range []struct {
		limit     int
		wantLimit int32
		wantRuns  int
	}{{0, -1, 3}, {-1, -1, 3}, {2, 2, 2}, {5000, 1000, 3}} {
		spy := &limitSpy{dynamoAPI: s.db}
		s2 := *s
		s2.db = spy
		runs, err := s2.ListRuns(ctx, "production", "poll", tc.limit)
		if err != nil || len(runs) != tc.wantRuns {
			t.Errorf("ListRuns(limit %d): %d runs (%v), want %d", tc.limit, len(runs), err, tc.wantRuns)
		}
		if len(spy.limits) == 0 || slices.ContainsFunc(spy.limits, func(l int32) bool { return l != tc.wantLimit }) {
			t.Errorf("ListRuns(limit %d) sent Query limits %v, want %d (-1: none)", tc.limit, spy.limits, tc.wantLimit)
		}
	}
}

// TestListRunsSkipsAnExpiredRecordBeforeLiveOnes: an expired record that
// DynamoDB has not deleted yet is skipped wherever it sorts, and the older
// live records after it are listed.
func TestListRunsSkipsAnExpiredRecordBeforeLiveOnes(t *testing.T) {
	t.Parallel()
	s := newStore(t)
	ctx := t.Context()
	now := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	start := now.Add(-time.Hour)
	// The newest run was stored long ago, by a clock that was wrong: it has
	// expired.
	s.now = func() time.Time { return now.Add(-2 * runRetention) }
	if err := s.PutRun(ctx, RunRecord{Env: "production", Job: "poll", ID: "expired", Started: start.Add(time.Minute)}); err != nil {
		t.Fatal(err)
	}
	s.now = func() time.Time { return now }
	if err := s.PutRun(ctx, RunRecord{Env: "production", Job: "poll", ID: "live", Started: start}); err != nil {
		t.Fatal(err)
	}
	runs, err := s.ListRuns(ctx, "production", "poll", 0)
	if err != nil || len(runs) != 1 || runs[0].ID != "live" {
		t.Errorf("ListRuns: %+v (%v), want only the live run", runs, err)
	}
}

// TestRunRecordKeptNinetyDays: a run record's TTL is 90 days after it is
// stored, as PutRun documents.
func TestRunRecordKeptNinetyDays(t *testing.T) {
	t.Parallel()
	s := newStore(t)
	ctx := t.Context()
	now := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	s.now = func() time.Time { return now }
	r := RunRecord{Env: "production", Job: "poll", ID: "r1", Started: now}
	if err := s.PutRun(ctx, r); err != nil {
		t.Fatal(err)
	}
	sk, _, err := EncodeRun(r)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := storedExpiry(t, s, key(runPK("production", "poll"), sk)), now.AddDate(0, 0, 90).Unix(); got != want {
		t.Errorf("expires_at %d, want %d (90 days on)", got, want)
	}
}
