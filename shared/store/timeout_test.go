package store

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/pilotsync/pilotsync/shared/awstest"
)

// TestCallTimeout: with DynamoDB hanging (a stalled proxy in front of
// DynamoDB Local) a store call without a deadline of its own fails after the
// per-call timeout instead of hanging, and works again once DynamoDB does.
func TestCallTimeout(t *testing.T) {
	ctx := context.Background()
	table := awstest.UniqueName("timeout")
	if err := CreateTable(ctx, awstest.DynamoDB(t), table); err != nil {
		t.Fatal(err)
	}
	db, proxy := awstest.DynamoDBVia(t)
	s := New(db, table)
	if _, ok := s.db.(callTimeout); !ok {
		t.Fatalf("New's client is %T, want every call under callTimeout", s.db)
	}
	if err := s.PutCursor(ctx, "production", "c", "v1"); err != nil {
		t.Fatal(err)
	}
	// CallTimeout, shortened for the stall only: on a loaded machine a call
	// to a working DynamoDB Local can take longer than 500 ms.
	s.db = callTimeout{db, 500 * time.Millisecond}
	proxy.Stall()
	start := time.Now()
	_, err := s.GetCursor(ctx, "production", "c")
	if took := time.Since(start); err == nil || !errors.Is(err, context.DeadlineExceeded) || took > 3*time.Second {
		t.Fatalf("GetCursor with DynamoDB hanging: %v after %s, want a deadline error after about 500ms", err, took)
	}
	proxy.Resume()
	s.db = callTimeout{db, CallTimeout}
	if v, err := s.GetCursor(ctx, "production", "c"); err != nil || v != "v1" {
		t.Fatalf("GetCursor after DynamoDB is back: %q, %v", v, err)
	}
}
