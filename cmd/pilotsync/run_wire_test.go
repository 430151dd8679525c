package main

import (
	"bytes"
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/pilotsync/pilotsync/shared/awstest"
	"github.com/pilotsync/pilotsync/shared/config"
	"github.com/pilotsync/pilotsync/shared/handler"
	"github.com/pilotsync/pilotsync/shared/hubspot/hubspottest"
	"github.com/pilotsync/pilotsync/shared/inbound"
	"github.com/pilotsync/pilotsync/shared/metrics"
	"github.com/pilotsync/pilotsync/shared/store"
	"github.com/pilotsync/pilotsync/shared/userpilot/userpilottest"
	"github.com/pilotsync/pilotsync/shared/wire"
)

// TestRunBuildsThePollAsTheLambda: the poll `pilotsync run --once` makes and
// the poll the Lambda function's constructor (wire.Poll) builds count their
// API calls the same way in their run records: per service and endpoint,
// with each service's 429 answers (the local runner once built the poll
// without the clients' call counters, so its records differed).
func TestRunBuildsThePollAsTheLambda(t *testing.T) {
	table := setRunEnv(t)
	ctx := t.Context()
	hs := hubspottest.NewTestServer(t, hubspottest.Options{Logger: slog.New(slog.DiscardHandler)})
	hs.SeedContacts(3, func(i int) hubspottest.SeedRecord {
		return hubspottest.SeedRecord{Properties: map[string]string{"firstname": "Ann"}, ModifiedAt: time.Now().Add(-time.Hour)}
	})
	up := userpilottest.NewTestServer(t, userpilottest.Options{})
	t.Setenv(wire.EnvHubSpotToken, hs.Token())
	t.Setenv(wire.EnvHubSpotBaseURL, hs.URL)
	t.Setenv(wire.EnvUserpilotAPIKey, userpilottest.DefaultAPIKey)
	t.Setenv(wire.EnvUserpilotBaseURL, up.URL)
	cfgPath := filepath.Join(t.TempDir(), "integration.yaml")
	if err := os.WriteFile(cfgPath, []byte("mapping:\n  users:\n    inbound:\n      - hubspot: firstname\n        userpilot: first_name\n  companies:\n    enabled: false\n"), 0o600); err != nil {
		t.Fatal(err)
	}

	// The constructor's full sync sets the checkpoint; the runner's poll
	// and the constructor's next poll then search from it, each meeting one
	// 429 the client retries (SECONDLY: a second's wait) and counts.
	if err := store.CreateTable(ctx, awstest.DynamoDB(t), table); err != nil {
		t.Fatal(err)
	}
	h, err := wire.Poll(ctx, wire.WithConfigPath(cfgPath), wire.WithLogger(slog.New(slog.DiscardHandler)))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := h.Handle(ctx, handler.PollInput{Action: handler.PollActionSync}); err != nil {
		t.Fatal(err)
	}
	hs.FailNext(hubspottest.EndpointSearch, 429)
	runCtx, cancel := context.WithTimeout(ctx, 90*time.Second)
	defer cancel()
	var stdout, stderr bytes.Buffer
	if code := dispatch(runCtx, []string{"run", "--once", "--config", cfgPath}, &stdout, &stderr); code != exitOK {
		t.Fatalf("run --once: exit %d\nstdout:\n%s\nstderr:\n%s", code, stdout.String(), stderr.String())
	}
	hs.FailNext(hubspottest.EndpointSearch, 429)
	if _, err := h.Handle(ctx, handler.PollInput{Action: handler.PollActionPoll}); err != nil {
		t.Fatal(err)
	}

	runs, err := store.New(awstest.DynamoDB(t), table).ListRuns(ctx, config.DefaultEnvironment, inbound.JobInbound, 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(runs) != 3 {
		t.Fatalf("inbound run records = %d, want the constructor's sync, the runner's poll and the constructor's poll", len(runs))
	}
	searched := 0
	for _, r := range runs {
		var keys []string
		for k := range r.APICalls {
			keys = append(keys, k)
			if !strings.HasPrefix(k, "hubspot.") && !strings.HasPrefix(k, "userpilot.") {
				t.Errorf("run %s counts %q: want calls named <service>.<endpoint>", r.ID, k)
			}
		}
		slices.Sort(keys)
		if r.APICalls["hubspot.list"] < 1 && r.APICalls["hubspot.search"] < 1 {
			t.Errorf("run %s: no HubSpot read counted (calls %v)", r.ID, keys)
		}
		if r.APICalls["hubspot.search"] < 1 {
			continue
		}
		searched++
		if r.APICalls["hubspot"+metrics.RateLimitSuffix] != 1 {
			t.Errorf("run %s: hubspot 429s = %d, want 1 (calls %v)", r.ID, r.APICalls["hubspot"+metrics.RateLimitSuffix], keys)
		}
	}
	if searched != 2 {
		t.Errorf("%d incremental runs counted a search, want the runner's and the constructor's", searched)
	}
}
