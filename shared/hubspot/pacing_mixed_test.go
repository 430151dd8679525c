package hubspot_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/pilotsync/pilotsync/shared/hubspot"
	"github.com/pilotsync/pilotsync/shared/hubspot/hubspottest"
)

// TestSandboxMixedSearchAndGeneralPacing: searches and other calls from concurrent callers
// share the 10-second budget; with the general bucket busy, a search waits for a general slot
// after its search slot, and searches delayed by different amounts must still never bunch
// past 5 in a second. No 429 may reach the sandbox.
func TestSandboxMixedSearchAndGeneralPacing(t *testing.T) {
	sb := hubspottest.NewTestServer(t, hubspottest.Options{PerTenSeconds: 40, Window: 2 * time.Second, Daily: -1})
	sb.SeedContacts(50, nil)
	c := newClient(t, sb, hubspot.WithLimits(hubspot.Limits{PerWindow: 40, Window: 2 * time.Second}))
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for ctx.Err() == nil {
				var err error
				if g < 5 {
					_, err = c.Search(ctx, "contacts", hubspot.SearchRequest{Limit: 1})
				} else {
					_, err = c.List(ctx, "contacts", nil, "", 1)
				}
				if err != nil && ctx.Err() == nil {
					t.Errorf("caller %d: %v", g, err)
				}
			}
		})
	}
	wg.Wait()
	if n := sb.StatusCount(429); n > 0 {
		t.Errorf("%d 429s reached the sandbox (%v searches, %v lists)", n, sb.Count(hubspottest.EndpointSearch), sb.Count(hubspottest.EndpointList))
	}
}
