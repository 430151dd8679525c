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
// NewPollFromDeps builds.
func WithPollProgress(f func(Progress)) PollOption { return func(h *Poll) { h.progress = f } }

// progressRelay forwards the engines' progress to the handler's callback,
// which the options set after the engines are built.
type progressRelay struct{ h *Poll }

func (r *progressRelay) report(p Progress) {
	if r.h != nil && r.h.progress != nil {
		r.h.progress(p)
	}
}

func (r *progressRelay) inbound(p inbound.Progress) {
	r.report(Progress{Direction: DirectionInbound, Object: p.Object, Done: p.Done, Total: p.Total, Calls: p.Calls})
}

func (r *progressRelay) outbound(p outbound.Progress) {
	r.report(Progress{Direction: DirectionOutbound, Object: p.Object, Done: p.Done, Sent: p.Sent, Calls: p.Calls})
}
