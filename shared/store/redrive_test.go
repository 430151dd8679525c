package store

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// stingyDB passes batch calls to DynamoDB Local with only part of their
// items and hands the rest back as unprocessed, as DynamoDB does under load.
type stingyDB struct {
	dynamoAPI
	batchGets, batchWrites atomic.Int32
}

func (d *stingyDB) BatchGetItem(ctx context.Context, in *dynamodb.BatchGetItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.BatchGetItemOutput, error) {
	d.batchGets.Add(1)
	out := &dynamodb.BatchGetItemOutput{Responses: map[string][]map[string]types.AttributeValue{}, UnprocessedKeys: map[string]types.KeysAndAttributes{}}
	for table, ka := range in.RequestItems {
		half := (len(ka.Keys) + 1) / 2
		sent := ka
		sent.Keys = ka.Keys[:half]
		res, err := d.dynamoAPI.BatchGetItem(ctx, &dynamodb.BatchGetItemInput{RequestItems: map[string]types.KeysAndAttributes{table: sent}}, opts...)
		if err != nil {
			return nil, err
		}
		out.Responses[table] = res.Responses[table]
		if rest := ka.Keys[half:]; len(rest) > 0 {
			left := ka
			left.Keys = rest
			out.UnprocessedKeys[table] = left
		}
	}
	return out, nil
}

func (d *stingyDB) BatchWriteItem(ctx context.Context, in *dynamodb.BatchWriteItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.BatchWriteItemOutput, error) {
	d.batchWrites.Add(1)
	out := &dynamodb.BatchWriteItemOutput{UnprocessedItems: map[string][]types.WriteRequest{}}
	for table, reqs := range in.RequestItems {
		half := (len(reqs) + 1) / 2
		if _, err := d.dynamoAPI.BatchWriteItem(ctx, &dynamodb.BatchWriteItemInput{RequestItems: map[string][]types.WriteRequest{table: reqs[:half]}}, opts...); err != nil {
			return nil, err
		}
		if len(reqs) > half {
			out.UnprocessedItems[table] = reqs[half:]
		}
	}
	return out, nil
}

// TestBatchWriteRedrivesUnprocessed and TestBatchGetRedrivesUnprocessed
// were one test; they run apart (in parallel) because each waits out its
// own backoffs.
func TestBatchWriteRedrivesUnprocessed(t *testing.T) {
	t.Parallel()
	s := newStore(t)
	ctx := t.Context()
	stingy := &stingyDB{dynamoAPI: s.db}
	s.db = stingy
	ids := redriveIDs()
	if err := s.LedgerRecord(ctx, "production", ids, time.Hour); err != nil {
		t.Fatal(err)
	}
	// 12 chunks of 25; each call lands half of what is left: 25 -> 12 -> 6 -> 3 -> 1 -> 0 (5 calls).
	if got, want := stingy.batchWrites.Load(), int32(12*5); got != want {
		t.Errorf("BatchWriteItem calls = %d, want %d", got, want)
	}
	s.db = stingy.dynamoAPI
	seen, err := s.LedgerSeen(ctx, "production", ids)
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range ids {
		if !seen[id] {
			t.Fatalf("%s not seen after re-driven write", id)
		}
	}
}

func TestBatchGetRedrivesUnprocessed(t *testing.T) {
	t.Parallel()
	s := newStore(t)
	ctx := t.Context()
	ids := redriveIDs()
	if err := s.LedgerRecord(ctx, "production", ids, time.Hour); err != nil {
		t.Fatal(err)
	}
	stingy := &stingyDB{dynamoAPI: s.db}
	s.db = stingy
	seen, err := s.LedgerSeen(ctx, "production", ids)
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range ids {
		if !seen[id] {
			t.Fatalf("%s not seen after re-driven read", id)
		}
	}
	if got := stingy.batchGets.Load(); got < 3*7 {
		t.Errorf("BatchGetItem calls = %d, want at least %d (3 chunks re-driven to completion)", got, 3*7)
	}
}

// redriveIDs is 300 event ids: 12 write chunks and 3 read chunks.
func redriveIDs() []string {
	ids := make([]string, 300)
	for i := range ids {
		ids[i] = fmt.Sprintf("e%d", i)
	}
	return ids
}

func TestBatchHonoursContext(t *testing.T) {
	s := newStore(t)
	// Nothing is ever processed: only the context can end the re-drive loop.
	s.db = &neverDB{dynamoAPI: s.db}
	ctx, cancel := context.WithTimeout(t.Context(), 150*time.Millisecond)
	defer cancel()
	start := time.Now()
	err := s.LedgerRecord(ctx, "production", []string{"a", "b"}, time.Hour)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("err = %v, want context.DeadlineExceeded", err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("returned after %v, want promptly after the deadline", d)
	}
}

type neverDB struct{ dynamoAPI }

func (neverDB) BatchWriteItem(_ context.Context, in *dynamodb.BatchWriteItemInput, _ ...func(*dynamodb.Options)) (*dynamodb.BatchWriteItemOutput, error) {
	return &dynamodb.BatchWriteItemOutput{UnprocessedItems: in.RequestItems}, nil
}
