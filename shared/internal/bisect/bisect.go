// Package bisect is the one batch bisection of pilotsync: when an API refuses a
// whole batch because of items it does not name, the batch is halved and each
// half sent on its own, until the refused items stand alone. It is a leaf
// package (it imports nothing of pilotsync), used by the HubSpot client's
// batch update and timeline sends and by the activity forwarder's sends.
package bisect

// Halves splits items in two halves and calls send on each, first half first.
// send is usually the caller's own batch function, which bisects again on a
// refusal, so a batch of n items needs at most about 2·log2(n) extra calls per
// refused item. When send fails for the first half, the second half is not
// sent: Halves returns the error and the unsent items, so the caller can mark
// them failed with the same reason. A batch of fewer than two items is sent as
// it is.
func Halves[T any](items []T, send func(part []T) error) (unsent []T, err error) {
	if len(items) < 2 {
		if len(items) == 0 {
			return nil, nil
		}
		return nil, send(items)
	}
	mid := len(items) / 2
	if err := send(items[:mid]); err != nil {
		return items[mid:], err
	}
	return nil, send(items[mid:])
}
