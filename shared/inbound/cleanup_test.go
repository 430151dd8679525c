package inbound

import (
	"context"
	"testing"
	"time"
)

// TestCleanupOutlivesTheDeadline: a run whose invocation deadline passes
// mid-page still releases its lease and writes its run record, through a
// store that, like DynamoDB, refuses calls on an expired context.
func TestCleanupOutlivesTheDeadline(t *testing.T) {
	e := newEnv(t)
	e.seed(6)
	e.hs.delay = 200 * time.Millisecond // the first list page outlasts the deadline
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	rep, err := e.in.Run(ctx, ModeFull)
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	if ctx.Err() == nil {
		t.Fatal("the run ended before its deadline; the test needs it to pass")
	}
	if rep.Complete {
		t.Errorf("report %+v, want an incomplete run", rep)
	}
	runs, err := e.st.ListRuns(context.Background(), "production", JobInbound, 0)
	if err != nil || len(runs) != 1 || runs[0].ID != rep.RunID {
		t.Errorf("run records %+v (%v), want the run's record saved after its deadline", runs, err)
	}
	if err := e.st.AcquireLease(context.Background(), "production", leaseName, "next-run", time.Minute); err != nil {
		t.Errorf("next run cannot take the lease (%v): want it released after the deadline", err)
	}
}
