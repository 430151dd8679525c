package deadline

import (
	"context"
	"testing"
	"time"
)

func TestWorkAndCleanup(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	d, _ := ctx.Deadline()

	work, stop := Work(ctx, 5*time.Second)
	defer stop()
	wd, ok := work.Deadline()
	if !ok || wd.Sub(d) > -5*time.Second+10*time.Millisecond || wd.Sub(d) < -5*time.Second-10*time.Millisecond {
		t.Errorf("work deadline %s before the invocation's, want 5s", d.Sub(wd))
	}
	stop() // the work is over (cancelled, as at its deadline)
	clean, done := Cleanup(work, time.Minute)
	defer done()
	if clean.Err() != nil {
		t.Fatalf("cleanup context is done with its parent: %v", clean.Err())
	}
	cd, _ := clean.Deadline()
	if !cd.Before(d) || d.Sub(cd) > maxAnswerMargin+10*time.Millisecond {
		t.Errorf("cleanup deadline %s before the invocation's, want within (0, %s]", d.Sub(cd), maxAnswerMargin)
	}
	short, done2 := Cleanup(work, time.Second)
	defer done2()
	if sd, _ := short.Deadline(); time.Until(sd) > time.Second {
		t.Errorf("cleanup with max 1s ends in %s", time.Until(sd))
	}
}

func TestWorkShortInvocationKeepsTimeForWork(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	work, stop := Work(ctx, time.Minute)
	defer stop()
	if wd, _ := work.Deadline(); time.Until(wd) < 1900*time.Millisecond {
		t.Errorf("work gets %s of 3s, want about two thirds", time.Until(wd))
	}
}

func TestNoDeadline(t *testing.T) {
	work, stop := Work(context.Background(), time.Second)
	defer stop()
	if _, ok := work.Deadline(); ok {
		t.Error("work without an invocation deadline got one")
	}
	clean, done := Cleanup(work, time.Second)
	defer done()
	if cd, ok := clean.Deadline(); !ok || time.Until(cd) > time.Second {
		t.Errorf("cleanup without invocation deadline: %v %v, want max", cd, ok)
	}
}
