package sleep

import (
	"context"
	"errors"
	"testing"
	"time"
)

func TestForWaits(t *testing.T) {
	start := time.Now()
	if err := For(context.Background(), 20*time.Millisecond); err != nil {
		t.Fatalf("For = %v, want nil", err)
	}
	if got := time.Since(start); got < 20*time.Millisecond {
		t.Errorf("waited %s, want at least 20ms", got)
	}
}

func TestForEndsWithTheContext(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Millisecond)
	defer cancel()
	start := time.Now()
	if err := For(ctx, time.Hour); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("For = %v, want deadline exceeded", err)
	}
	if got := time.Since(start); got > 5*time.Second {
		t.Errorf("waited %s after the deadline", got)
	}
	done, cancel2 := context.WithCancel(context.Background())
	cancel2()
	if err := For(done, 0); !errors.Is(err, context.Canceled) {
		t.Errorf("For(done, 0) = %v, want canceled", err)
	}
	if err := For(context.Background(), 0); err != nil {
		t.Errorf("For(live, 0) = %v, want nil", err)
	}
}

// TestUntilWakes: a closed wake channel ends the wait early without an
// error; a nil one never does.
func TestUntilWakes(t *testing.T) {
	wake := make(chan struct{})
	go func() {
		time.Sleep(5 * time.Millisecond)
		close(wake)
	}()
	start := time.Now()
	if err := Until(context.Background(), time.Minute, wake); err != nil {
		t.Fatalf("Until woken = %v, want nil", err)
	}
	if took := time.Since(start); took > 30*time.Second {
		t.Fatalf("Until waited %s after the wake", took)
	}
	start = time.Now()
	if err := Until(context.Background(), 20*time.Millisecond, nil); err != nil || time.Since(start) < 20*time.Millisecond {
		t.Fatalf("Until with no wake = %v after %s, want nil after 20ms", err, time.Since(start))
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := Until(ctx, time.Minute, make(chan struct{})); !errors.Is(err, context.Canceled) {
		t.Fatalf("Until on a cancelled context = %v, want context.Canceled", err)
	}
}
