package handler

import (
	"github.com/pilotsync/pilotsync/shared/inbound"
	"github.com/pilotsync/pilotsync/shared/outbound"
)

// Directions of Progress.
const (
	// DirectionInbound is HubSpot -> Userpilot.
	DirectionInbound = "inbound"
	// DirectionOutbound is Userpilot -> HubSpot (the custom properties push).
	DirectionOutbound = "outbound"
)

// Progress is how far a poll or sync is: reported after each inbound page
// and each outbound batch.
type Progress struct {
	Direction string
	// Object is "users" or "companies".
	Object string
	// Done records of Total (0: unknown) so far in this direction and
	// object; Sent the records HubSpot updated (outbound).
	Done, Total, Sent int64
	// Calls is the API calls of this direction so far.
	Calls int64
}

// WithPollProgress calls f as a poll or sync goes (the CLI prints it); nil
// (the default) reports nothing. It takes effect for the engines
// wire.NewPoll builds, when passed to it.
func WithPollProgress(f func(Progress)) PollOption { return func(h *Poll) { h.progress = f } }

// ProgressRelay turns the engines' progress into the handler's.
type ProgressRelay struct{ f func(Progress) }

// ProgressFrom returns the relay for the progress callback opts set, nil
// when they set none (the engines then count nothing extra: the inbound
// engine's record count is a search call).
func ProgressFrom(opts []PollOption) *ProgressRelay {
	probe := &Poll{}
	for _, o := range opts {
		o(probe) // options only set fields
	}
	if probe.progress == nil {
		return nil
	}
	return &ProgressRelay{f: probe.progress}
}

// InboundOptions are the inbound engine's options for the relay (none for a
// nil relay).
func (r *ProgressRelay) InboundOptions() []inbound.InboundOption {
	if r == nil {
		return nil
	}
	return []inbound.InboundOption{inbound.WithProgress(func(p inbound.Progress) {
		r.f(Progress{Direction: DirectionInbound, Object: p.Object, Done: p.Done, Total: p.Total, Calls: p.Calls})
	})}
}

// OutboundOptions are the push's options for the relay (none for a nil
// relay).
func (r *ProgressRelay) OutboundOptions() []outbound.Option {
	if r == nil {
		return nil
	}
	return []outbound.Option{outbound.WithProgress(func(p outbound.Progress) {
		r.f(Progress{Direction: DirectionOutbound, Object: p.Object, Done: p.Done, Sent: p.Sent, Calls: p.Calls})
	})}
}
