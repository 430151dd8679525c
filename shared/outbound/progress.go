package outbound

import "strings"

// Progress is how far a push is, reported after each batch.
type Progress struct {
	// Object is the kind pushed ("users" or "companies").
	Object string
	// Done is the dirty profiles considered so far, Sent the records HubSpot
	// updated (the number of dirty profiles is not known in advance).
	Done, Sent int64
	// Calls is the HubSpot calls the push made so far.
	Calls int64
}

// WithProgress calls f after each batch (from the push's goroutine; f must be
// quick).
func WithProgress(f func(Progress)) Option { return func(p *Push) { p.progress = f } }

// rateLimitedSuffix marks stats keys counting 429 answers, not calls
// (metrics.RateLimitSuffix).
const rateLimitedSuffix = ".429"

func (r *run) reportProgress(or *ObjectReport) {
	if r.progress == nil {
		return
	}
	var calls int64
	if r.stats != nil {
		for k, n := range r.stats() {
			if !strings.HasSuffix(k, rateLimitedSuffix) {
				calls += n - r.statsBefore[k]
			}
		}
	}
	r.progress(Progress{Object: or.Object, Done: or.Considered, Sent: or.Sent, Calls: calls})
}
