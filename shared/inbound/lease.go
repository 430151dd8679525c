package inbound

import (
	"context"
	"fmt"
)

// checkpoint stores the cursor after a fully written page, provided the run
// still holds the lease, and reports errOutOfTime when no further page
// should start.
func (r *run) checkpoint(ctx context.Context, obj Object, cur cursorState, or *ObjectReport) error {
	if err := r.store.PutCursorLeased(ctx, r.env, cursorName(obj), cur.encode(), leaseName, r.id); err != nil {
		return fmt.Errorf("checkpoint: %w", err)
	}
	or.Pages++
	r.pageDone()
	if r.outOfTime() {
		return errOutOfTime
	}
	return nil
}
