package preview

import (
	"context"
	"testing"
	"time"

	"github.com/pilotsync/pilotsync/shared/config"
	"github.com/pilotsync/pilotsync/shared/hubspot"
	"github.com/pilotsync/pilotsync/shared/hubspot/hubspottest"
	"github.com/pilotsync/pilotsync/shared/store"
)

// emptyStore knows no profile and no activity.
type emptyStore struct{}

func (emptyStore) GetProfiles(context.Context, string, store.Kind, []string) (map[string]*store.Profile, error) {
	return map[string]*store.Profile{}, nil
}

func (emptyStore) LookupByMatch(context.Context, string, store.Kind, []string) (map[string][]string, error) {
	return map[string][]string{}, nil
}

func (emptyStore) GetActivitySummary(context.Context, string, store.Kind, string) (*store.ActivitySummary, error) {
	return nil, store.ErrNotFound
}

// noFinder finds nothing.
type noFinder struct{}

func (noFinder) Find(context.Context, store.Kind, []string) (map[string]hubspot.Record, error) {
	return map[string]hubspot.Record{}, nil
}

const estimateConfig = `
mapping:
  users:
    outbound:
      - userpilot: plan
        hubspot: userpilot_plan
  companies:
    enabled: false
`

// TestEstimateAndSink: the estimate prices a full sync at the client's
// limits from HubSpot's record count (250 contacts: 3 list pages plus the
// empty last check, 3 batch updates for the push, the property list = 8
// calls, 800ms at 100 per 10s), and a sink whose definitions HubSpot refuses
// to list (403) is not ready, with the reason.
func TestEstimateAndSink(t *testing.T) {
	cfg, err := config.Parse("integration.yaml", []byte(estimateConfig))
	if err != nil {
		t.Fatal(err)
	}
	hs := hubspottest.NewTestServer(t, hubspottest.Options{PerTenSeconds: -1, SearchPerSecond: -1, Daily: -1})
	hs.SeedContacts(250, func(i int) hubspottest.SeedRecord { return hubspottest.SeedRecord{} })
	limits := hubspot.Limits{PerWindow: 100, Window: 10 * time.Second, SearchPerSecond: 1000}
	hsc, err := hubspot.NewClient(hubspot.WithBaseURL(hs.URL), hubspot.WithToken(hubspottest.DefaultToken), hubspot.WithLimits(limits))
	if err != nil {
		t.Fatal(err)
	}
	p, err := New(cfg, emptyStore{}, hsc, noFinder{}, Options{Limits: hsc.Limits()})
	if err != nil {
		t.Fatal(err)
	}
	hs.FailNext(hubspottest.EndpointEventDefinitions, 403)
	rep, err := p.Run(t.Context(), []string{"nobody@example.com"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	e := rep.Estimate
	if len(e.Objects) != 1 || e.Objects[0].Records != 250 || e.Objects[0].ReadCalls != 4 || e.Objects[0].WriteCalls != 3 ||
		e.HubSpotCalls != 8 || e.DurationMS != 800 {
		t.Errorf("estimate %+v, want 250 records, 4 reads, 3 writes, 8 calls, 800ms", e)
	}
	if a := rep.Activity; a.Ready || a.Problem == "" {
		t.Errorf("activity %+v, want not ready with a reason after a 403", a)
	}
	if r := rep.Records[0]; r.Known || r.Match.State != MatchNotFound || len(r.Inbound) != 0 {
		t.Errorf("unknown address %+v, want not found and nothing to write", r)
	}
}
