package hubspot_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/pilotsync/pilotsync/shared/hubspot"
	"github.com/pilotsync/pilotsync/shared/hubspot/hubspottest"
)

// TestSandboxBatchUpdateDuplicateIDs: HubSpot rejects a batch naming one id twice ("Duplicate
// IDs found in batch input"); the client merges them (later values win, as two writes would)
// and sends one request.
func TestSandboxBatchUpdateDuplicateIDs(t *testing.T) {
	sb := hubspottest.NewTestServer(t, fast(hubspottest.Options{}))
	sb.CreateProperty("contacts", hubspottest.Property{Name: "score", Label: "Score", Type: "number", FieldType: "number"})
	ids := sb.SeedContacts(10, nil)
	c := newClient(t, sb, hubspot.WithLimits(fastLimits))
	var in []hubspot.UpdateInput
	for i, id := range ids {
		in = append(in, hubspot.UpdateInput{ID: id, Properties: map[string]string{"score": fmt.Sprint(i)}})
	}
	in = append(in, hubspot.UpdateInput{ID: ids[2], Properties: map[string]string{"score": "99", "firstname": "Ann"}})
	res, err := c.BatchUpdate(context.Background(), "contacts", in)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Failed) != 0 || len(res.Updated) != 10 {
		t.Errorf("updated %d, failed %+v; want 10 and none", len(res.Updated), res.Failed)
	}
	if r, _ := sb.Record("contacts", ids[2]); r.Properties["score"] != "99" || r.Properties["firstname"] != "Ann" {
		t.Errorf("merged record = %v, want score 99 and firstname Ann", r.Properties)
	}
	if got := sb.Count(hubspottest.EndpointBatchUpdate); got != 1 || sb.StatusCount(400) != 0 {
		t.Errorf("%d batch update calls, %d 400s; want 1 and 0", got, sb.StatusCount(400))
	}
}
