package inbound

import (
	"context"
	"strings"

	"github.com/pilotsync/pilotsync/shared/hubspot"
	"github.com/pilotsync/pilotsync/shared/runreport"
)

// Progress is how far a run is, reported after each checkpointed page.
type Progress struct {
	// Object is the object type ("users" or "companies").
	Object string
	// Done is the number of records read so far for Object.
	Done int64
	// Total is HubSpot's count of Object's records (0 when unknown: the
	// reader cannot count). An incremental run reads fewer.
	Total int64
	// Calls is the API calls the run made so far (both services).
	Calls int64
}

// WithProgress calls f after each page is written and checkpointed (from
// the run's goroutine; f must be quick). The first call per object type
// counts its records with a search of limit 1, when the reader can search.
func WithProgress(f func(Progress)) InboundOption { return func(in *Inbound) { in.progress = f } }

// RecordCounter is the part of the HubSpot client that counts records.
type RecordCounter interface {
	Search(ctx context.Context, objectType string, req hubspot.SearchRequest) (*hubspot.SearchPage, error)
}

var _ RecordCounter = (*hubspot.Client)(nil)

// reportProgress reports or's progress to the progress callback.
func (r *run) reportProgress(ctx context.Context, obj Object, or *ObjectReport) {
	if r.progress == nil {
		return
	}
	if r.totals == nil {
		r.totals = map[string]int64{}
	}
	total, ok := r.totals[obj.name()]
	if !ok {
		if c, can := r.hs.(RecordCounter); can {
			if page, err := c.Search(ctx, obj.HubSpotObject, hubspot.SearchRequest{Limit: 1, Properties: []string{}}); err == nil {
				total = int64(page.Total)
				r.count("hubspot.search", 1)
			}
		}
		r.totals[obj.name()] = total
	}
	var calls int64
	r.mu.Lock()
	for _, n := range r.calls {
		calls += n
	}
	r.mu.Unlock()
	if r.stats != nil {
		calls = 0
		for k, n := range runreport.Calls(r.statsBefore, r.stats()) {
			if !strings.HasSuffix(k, rateLimitedSuffix) {
				calls += n
			}
		}
	}
	r.progress(Progress{Object: obj.name(), Done: or.Counts.Read, Total: total, Calls: calls})
}

// rateLimitedSuffix marks the stats keys that count 429 answers, not calls
// (metrics.RateLimitSuffix; metrics imports inbound).
const rateLimitedSuffix = ".429"
