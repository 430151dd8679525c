// Package deadline keeps a Lambda invocation inside its time: the work gets a
// context that ends a reserve before the invocation's deadline, and the
// cleanup after it (lease release, run record, alerts) gets contexts that
// outlive the work's cancellation but still end before the deadline, so the
// handler always answers before Lambda cuts it off (SQS then redelivers, the
// next schedule resumes: nothing is lost either way).
//
// A leaf package: it imports nothing of pilotsync.
package deadline

import (
	"context"
	"time"
)

const (
	// maxAnswerMargin is the most time kept between the end of the cleanup
	// and the invocation's deadline, for the handler to build and return its
	// answer; at most a tenth of the time left.
	maxAnswerMargin = time.Second
	// maxReserveShare caps a reserve at this share of the time left, so a
	// short invocation still does work.
	maxReserveShare = 3
)

type hardKey struct{}

// Work returns the context an invocation's work runs in: ctx with its
// deadline brought forward by reserve (at most a third of the time left),
// carrying the invocation's own deadline (less a small answer margin) for
// the Cleanup contexts derived from it. Without a deadline on ctx it returns
// ctx unchanged (with a no-op cancel).
func Work(ctx context.Context, reserve time.Duration) (context.Context, context.CancelFunc) {
	d, ok := ctx.Deadline()
	if !ok {
		return ctx, func() {}
	}
	left := time.Until(d)
	reserve = min(max(reserve, 0), left/maxReserveShare)
	hard := d.Add(-min(maxAnswerMargin, left/10))
	return context.WithDeadline(context.WithValue(ctx, hardKey{}, hard), d.Add(-reserve))
}

// Hard returns the time the cleanup of the invocation ctx belongs to must end
// by (set by Work), and whether there is one.
func Hard(ctx context.Context) (time.Time, bool) {
	t, ok := ctx.Value(hardKey{}).(time.Time)
	return t, ok
}

// Cleanup returns a context for work that must run even when ctx is done (a
// lease release, a run record, an alert): not cancelled with ctx, ending
// after at most max, and never after the invocation's cleanup deadline when
// ctx comes from Work.
func Cleanup(ctx context.Context, max time.Duration) (context.Context, context.CancelFunc) {
	end := time.Now().Add(max)
	if hard, ok := Hard(ctx); ok && hard.Before(end) {
		end = hard
	}
	return context.WithDeadline(context.WithoutCancel(ctx), end)
}
