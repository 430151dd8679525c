package forward

import (
	"context"

	"github.com/pilotsync/pilotsync/shared/cause"
)

// CountConcurrentDelivery counts events another invocation recorded in the
// ledger between this batch's ledger check and its own record: SQS handed
// the same message to two invocations at once (a visibility timeout passed
// while the first still ran, or a producer sent it twice), both sent the
// event, and only HubSpot's memory of the event id (occurrences are
// deduplicated by uuid) kept HubSpot clean. The run record carries the count
// (README "Concurrent redelivery") so an operator can see how often the
// integration leaned on that.
const CountConcurrentDelivery = "concurrent_deliveries"

// countConcurrent re-reads the ledger for the event ids a chunk just
// delivered, before recording them, and counts those another invocation
// already recorded. A failed read only loses the count.
func (r *recorder) countConcurrent(ctx context.Context, ids []string) {
	f := r.b.f
	seen, err := f.st.LedgerSeen(ctx, f.env, ids)
	if err != nil {
		f.log.DebugContext(ctx, "activity: concurrent delivery check", "events", len(ids), "err", err)
		return
	}
	n := 0
	for _, id := range ids {
		if seen[id] {
			n++
		}
	}
	if n > 0 {
		r.b.c.add(CountConcurrentDelivery, n)
		f.log.WarnContext(ctx, "activity: events delivered by two invocations at once; HubSpot's event id dedupe kept one", "events", n)
	}
}

// sinkCause names, for the batch's run record, why its last failing
// HubSpot-facing call failed (shared/cause), from the error value while it
// exists: {"sink": "hubspot_auth"}; nil when every call succeeded.
func sinkCause(err error) map[string]string {
	if c := cause.Of(err); c != "" {
		return map[string]string{"sink": string(c)}
	}
	return nil
}
