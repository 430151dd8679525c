package wire

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/pilotsync/pilotsync/shared/handler"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/pilotsync/pilotsync/shared/awstest"
	"github.com/pilotsync/pilotsync/shared/cause"
	"github.com/pilotsync/pilotsync/shared/config"
	"github.com/pilotsync/pilotsync/shared/hubspot"
	"github.com/pilotsync/pilotsync/shared/hubspot/hubspottest"
	"github.com/pilotsync/pilotsync/shared/inbound"
	"github.com/pilotsync/pilotsync/shared/store"
	"github.com/pilotsync/pilotsync/shared/userpilot"
	"github.com/pilotsync/pilotsync/shared/userpilot/userpilottest"
)

// pollWorld is the real poll handler's world: DynamoDB Local and the sandboxes.
type pollWorld struct {
	st  *store.Store
	cfg *config.Config
	hs  *hubspottest.Server
	up  *userpilot.Client
}

func newPollWorld(t *testing.T, db *dynamodb.Client) *pollWorld {
	t.Helper()
	_, table := awstest.Table(t, store.CreateTable)
	w := &pollWorld{st: store.New(db, table)}
	w.hs = hubspottest.NewTestServer(t, hubspottest.Options{})
	w.hs.SeedContacts(2, func(i int) hubspottest.SeedRecord {
		return hubspottest.SeedRecord{Properties: map[string]string{"email": []string{"ann@example.com", "bob@example.com"}[i], "firstname": "X"},
			ModifiedAt: time.Now().Add(-time.Hour)}
	})
	up := userpilottest.NewTestServer(t, userpilottest.Options{})
	var err error
	if w.cfg, err = config.Parse("integration.yaml", []byte("mapping:\n  users:\n    inbound:\n      - hubspot: firstname\n        userpilot: first_name\n  companies:\n    enabled: false\n")); err != nil {
		t.Fatal(err)
	}
	if w.up, err = userpilot.NewClient(userpilottest.DefaultAPIKey, userpilot.WithBaseURL(up.URL)); err != nil {
		t.Fatal(err)
	}
	return w
}

func (w *pollWorld) pollHandler(t *testing.T, token string, opts ...handler.PollOption) *handler.Poll {
	t.Helper()
	hsc, err := hubspot.NewClient(hubspot.WithBaseURL(w.hs.URL), hubspot.WithToken(token))
	if err != nil {
		t.Fatal(err)
	}
	h, err := NewPoll(&Deps{Config: w.cfg, Store: w.st, HubSpot: hsc, Userpilot: w.up, Log: slog.New(slog.DiscardHandler)}, opts...)
	if err != nil {
		t.Fatal(err)
	}
	return h
}

// TestPollFailedRunReturnsError: a poll whose object type fails (a revoked
// HubSpot token) answers Lambda with an error, so the function-errors alarm
// fires, after writing its run record; a lease held by another run and a
// clean run do not.
func TestPollFailedRunReturnsError(t *testing.T) {
	ctx := context.Background()
	w := newPollWorld(t, awstest.DynamoDB(t))

	res, err := w.pollHandler(t, "revoked-token").Handle(ctx, handler.PollInput{Action: handler.PollActionPoll})
	if !errors.Is(err, handler.ErrRunFailed) {
		t.Fatalf("failed poll: err = %v, want ErrRunFailed", err)
	}
	if res.Status != inbound.StatusFailed || res.Inbound == nil || !strings.Contains(err.Error(), res.Inbound.Error) {
		t.Fatalf("failed poll: result %+v, err %v: want the failed report beside an error naming its failure", res, err)
	}
	runs, lerr := w.st.ListRuns(ctx, w.cfg.Userpilot.Environment, inbound.JobInbound, 5)
	if lerr != nil || len(runs) != 1 || runs[0].ID != res.Inbound.RunID || runs[0].Error == "" {
		t.Fatalf("run records %+v (%v), want the failed run's record with its error", runs, lerr)
	}
	// The cause is recorded where the error value exists (issue 8), in the
	// report and the run record, so nothing downstream matches error text.
	if got := res.Inbound.Objects[0].Cause; got != string(cause.HubSpotAuth) {
		t.Errorf("report cause = %q, want %q", got, cause.HubSpotAuth)
	}
	if got := runs[0].Causes["users"]; got != string(cause.HubSpotAuth) {
		t.Errorf("run record causes = %v, want users: %s", runs[0].Causes, cause.HubSpotAuth)
	}

	// Another run holds the lease: nothing failed, no error.
	if err := w.st.AcquireLease(ctx, w.cfg.Userpilot.Environment, inbound.JobInbound, "someone-else", time.Minute); err != nil {
		t.Fatal(err)
	}
	res, err = w.pollHandler(t, hubspottest.DefaultToken).Handle(ctx, handler.PollInput{Action: handler.PollActionPoll})
	if err != nil || res.Status != inbound.StatusLeaseHeld {
		t.Fatalf("lease held: %s, %v; want lease_held without an error", res.Status, err)
	}
	if err := w.st.ReleaseLease(ctx, w.cfg.Userpilot.Environment, inbound.JobInbound, "someone-else"); err != nil {
		t.Fatal(err)
	}
	res, err = w.pollHandler(t, hubspottest.DefaultToken).Handle(ctx, handler.PollInput{Action: handler.PollActionPoll})
	if err != nil || res.Status != inbound.StatusComplete {
		t.Fatalf("clean poll: %s, %v; want complete without an error", res.Status, err)
	}
}
