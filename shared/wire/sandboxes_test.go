package wire

import (
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/pilotsync/pilotsync/shared/awstest"
	"github.com/pilotsync/pilotsync/shared/config"
	"github.com/pilotsync/pilotsync/shared/hubspot/hubspottest"
	"github.com/pilotsync/pilotsync/shared/store"
	"github.com/pilotsync/pilotsync/shared/userpilot/userpilottest"
)

// sandboxes is what a poll test runs against: the config read from a YAML
// text the way users write it, a store on a table of its own on DynamoDB
// Local, and HubSpot and Userpilot sandboxes without rate limits.
type sandboxes struct {
	cfg   *config.Config
	db    *dynamodb.Client
	table string
	st    *store.Store
	hs    *hubspottest.Server
	up    *userpilottest.Server
}

func newSandboxes(t *testing.T, yaml string) *sandboxes {
	t.Helper()
	cfg, err := config.Parse("integration.yaml", []byte(yaml))
	if err != nil {
		t.Fatal(err)
	}
	s := &sandboxes{cfg: cfg}
	s.db, s.table = awstest.Table(t, store.CreateTable)
	s.st = store.New(s.db, s.table)
	s.hs = hubspottest.NewTestServer(t, hubspottest.Options{PerTenSeconds: -1, SearchPerSecond: -1, Daily: -1})
	s.up = userpilottest.NewTestServer(t, userpilottest.Options{RateLimit: -1, JobDuration: -1})
	return s
}
