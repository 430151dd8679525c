// Package sleep is pilotsync's one context-aware wait: backoff and pacing
// loops wait with it so a cancelled or expired context ends the wait at once.
// It is a leaf package (it imports nothing of pilotsync).
package sleep

import (
	"context"
	"time"
)

// For waits d or until ctx is done, whichever comes first. It returns ctx's
// error when ctx ended the wait (also when ctx is already done and d ≤ 0),
// nil otherwise.
func For(ctx context.Context, d time.Duration) error {
	return Until(ctx, d, nil)
}

// Until waits d, until wake is closed (or receives), or until ctx is done,
// whichever comes first: a pacer waiting for a slot sleeps until the window
// moves or another caller frees one. It returns ctx's error when ctx ended
// the wait (also when ctx is already done and d ≤ 0), nil otherwise. A nil
// wake never wakes.
func Until(ctx context.Context, d time.Duration, wake <-chan struct{}) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	case <-wake:
		return nil
	}
}
