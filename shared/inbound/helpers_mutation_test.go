package inbound

import (
	"context"
	"log/slog"
	"maps"
	"sync"
	"testing"
	"time"

	"github.com/pilotsync/pilotsync/shared/config"
	"github.com/pilotsync/pilotsync/shared/hubspot"
	"github.com/pilotsync/pilotsync/shared/internal/logtest"
	"github.com/pilotsync/pilotsync/shared/store"
)

// logTo makes e's poll log to a new recorder, which keeps every level.
func (e *env) logTo() *logtest.Recorder {
	h := &logtest.Recorder{Min: slog.LevelDebug}
	e.in.log = slog.New(h)
	return h
}

// companiesObject maps Userpilot companies to HubSpot companies by domain.
func companiesObject() Object {
	return Object{Kind: store.KindCompany, HubSpotObject: "companies", MatchHubSpot: "domain", MatchUserpilot: "domain",
		Inbound: []config.PropertyMapping{{HubSpot: "name", Userpilot: "company_name"}}}
}

// company adds a HubSpot company and a stored company profile matched to it
// by domain.
func (e *env) company(id string, at time.Time) {
	domain := "d" + id + ".example.com"
	e.hs.put("companies", id, at, map[string]string{"domain": domain, "name": "Co" + id})
	if e.st.get(store.KindCompany, "co"+id) == nil {
		e.st.add(&store.Profile{Kind: store.KindCompany, ID: "co" + id, MatchValue: domain})
	}
}

// apiStats are cumulative per-endpoint call counters, as the real clients
// keep them (WithAPIStats reads them).
type apiStats struct {
	mu sync.Mutex
	n  map[string]int64
}

func (s *apiStats) add(k string, d int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.n == nil {
		s.n = map[string]int64{}
	}
	s.n[k] += d
}

func (s *apiStats) snapshot() map[string]int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return maps.Clone(s.n)
}

// richHubSpot is the fake HubSpot with the optional abilities of the real
// client: counting records (RecordCounter) and telling property types
// (PropertyTypeReader). It counts its calls in stats, when set, as the real
// client's counters do (a 429 answer retried counts as a call and a 429).
type richHubSpot struct {
	*fakeHubSpot
	stats *apiStats
	// total is what a count search answers; searchErr fails it.
	total     int
	searchErr error
	// types are the property types; typesErr fails reading them.
	types    map[string]string
	typesErr error

	cmu        sync.Mutex
	searchCall int
	typeCalls  int
	list429    bool // the first list call is answered 429 once, then retried
}

func (h *richHubSpot) List(ctx context.Context, object string, properties []string, after string, limit int) (*hubspot.ListPage, error) {
	if h.stats != nil {
		h.cmu.Lock()
		if h.list429 {
			h.list429 = false
			h.stats.add("hubspot.list", 1)
			h.stats.add("hubspot.list.429", 1)
		}
		h.cmu.Unlock()
		h.stats.add("hubspot.list", 1)
	}
	return h.fakeHubSpot.List(ctx, object, properties, after, limit)
}

func (h *richHubSpot) Search(_ context.Context, _ string, req hubspot.SearchRequest) (*hubspot.SearchPage, error) {
	h.cmu.Lock()
	h.searchCall++
	h.cmu.Unlock()
	if h.stats != nil {
		h.stats.add("hubspot.search", 1)
	}
	if h.searchErr != nil {
		return nil, h.searchErr
	}
	if req.Limit != 1 {
		return nil, &hubspot.APIError{Endpoint: "search", Status: 400}
	}
	return &hubspot.SearchPage{Total: h.total}, nil
}

func (h *richHubSpot) ListProperties(_ context.Context, _ string) ([]hubspot.Property, error) {
	h.cmu.Lock()
	h.typeCalls++
	h.cmu.Unlock()
	if h.typesErr != nil {
		return nil, h.typesErr
	}
	var out []hubspot.Property
	for n, t := range h.types {
		out = append(out, hubspot.Property{Name: n, Type: t})
	}
	return out, nil
}

// newRichEnv is newEnv with the HubSpot reader replaced by a richHubSpot
// over the same fake records.
func newRichEnv(t *testing.T, objs ...Object) (*env, *richHubSpot) {
	t.Helper()
	e := newEnv(t, objs...)
	h := &richHubSpot{fakeHubSpot: e.hs}
	e.in.hs = h
	return e, h
}
