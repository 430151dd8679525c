package forward

import (
	"context"
	"errors"
	"fmt"

	"github.com/pilotsync/pilotsync/shared/hubspot"
)

// ItemFailure is one item of a Send that was not delivered.
type ItemFailure struct {
	// Index is the item's position in the items given to Send.
	Index int
	// Reason is the service's reason, free of personal data.
	Reason string
	// Permanent is true when the item can never be delivered as it is (it is
	// then re-checked and dead-lettered with Reason); false means retry later.
	Permanent bool
}

// PartialError is what Sink.Send returns when only some items were not
// delivered: every item it does not list was delivered.
type PartialError struct {
	Failures []ItemFailure
}

// Error says how many items failed and why the first did.
func (e *PartialError) Error() string {
	if len(e.Failures) == 0 {
		return "forward: send: no failed items"
	}
	return fmt.Sprintf("forward: send: %d items not delivered, first: %s", len(e.Failures), e.Failures[0].Reason)
}

// partialFromHubSpot turns the client's per-event failures into a
// *PartialError (other errors are returned as they are).
func partialFromHubSpot(err error) error {
	var ie *hubspot.ItemsError
	if !errors.As(err, &ie) {
		return err
	}
	pe := &PartialError{}
	for _, it := range ie.Items {
		pe.Failures = append(pe.Failures, ItemFailure{Index: it.Index, Permanent: !it.Retryable,
			Reason: truncateReason(it.Category+": "+it.Message, 300)})
	}
	return pe
}

// partial splits a chunk by a *PartialError: listed items are failed
// (retried) or rejected (re-checked, then dead-lettered with the reason), the
// others were delivered.
func (b *batch) partial(ctx context.Context, items []Item, pe *PartialError) (delivered, failed []Item, rejected []rejection) {
	bad := make(map[int]ItemFailure, len(pe.Failures))
	for _, f := range pe.Failures {
		bad[f.Index] = f // an index outside items is never looked up
	}
	for i, it := range items {
		f, ok := bad[i]
		switch {
		case !ok:
			delivered = append(delivered, it)
		case f.Permanent:
			rejected = append(rejected, rejection{it, f.Reason})
		default:
			failed = append(failed, it)
		}
	}
	if len(failed) > 0 {
		b.c.add(CountSendFailed, len(failed))
		b.f.log.WarnContext(ctx, "activity: send: items not delivered", "sink", b.f.sink.Name(), "events", len(failed), "err", pe)
		b.sinkFailed(pe)
	}
	return delivered, failed, rejected
}
