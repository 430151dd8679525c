package wire

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/pilotsync/pilotsync/shared/awstest"
	"github.com/pilotsync/pilotsync/shared/handler"
	"github.com/pilotsync/pilotsync/shared/hubspot/hubspottest"
	"github.com/pilotsync/pilotsync/shared/metrics"
)

// TestPollEmitsCursorLag: each poll's report carries how far each object
// type's checkpoint is behind, and its EMF line the worst of them as
// CursorLagSeconds (in seconds). A clean poll is behind by the search overlap
// only; a checkpoint an hour old that a failing run cannot move shows an
// hour.
func TestPollEmitsCursorLag(t *testing.T) {
	w := newPollWorld(t, awstest.DynamoDB(t))
	var out bytes.Buffer
	em := metrics.New(&out, "pilotsync-PollFunction")
	ctx := context.Background()
	overlap := w.cfg.Schedule.SearchOverlap.D().Seconds()

	res, err := w.pollHandler(t, hubspottest.DefaultToken, handler.WithPollMetrics(em)).Handle(ctx, handler.PollInput{Action: handler.PollActionPoll})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Inbound.Objects) != 1 {
		t.Fatalf("objects %+v, want users only", res.Inbound.Objects)
	}
	o := res.Inbound.Objects[0]
	if o.CursorAt.IsZero() || o.CursorLagSeconds < overlap || o.CursorLagSeconds > overlap+60 {
		t.Errorf("clean poll: cursor at %v, lag %vs, want the search overlap (%vs)", o.CursorAt, o.CursorLagSeconds, overlap)
	}

	// The checkpoint stands an hour back, and HubSpot refuses the token: the
	// run fails without moving it.
	hourAgo := time.Now().Add(-time.Hour).UnixMilli()
	if err := w.st.PutCursor(ctx, w.cfg.Userpilot.Environment, "inbound:users:contacts", fmt.Sprintf(`{"since_ms":%d}`, hourAgo)); err != nil {
		t.Fatal(err)
	}
	res, err = w.pollHandler(t, "revoked-token", handler.WithPollMetrics(em)).Handle(ctx, handler.PollInput{Action: handler.PollActionPoll})
	if !errors.Is(err, handler.ErrRunFailed) {
		t.Fatalf("revoked token: %v", err)
	}
	stuck := res.Inbound.Objects[0].CursorLagSeconds
	if stuck < 3600 || stuck > 3660 {
		t.Errorf("stuck checkpoint lag %vs, want about an hour", stuck)
	}

	lines := emfLines(t, out.String())
	if len(lines) != 2 {
		t.Fatalf("EMF lines = %d, want one per run: %s", len(lines), out.String())
	}
	for i, want := range []float64{o.CursorLagSeconds, stuck} {
		if got := lines[i][metrics.CursorLagSeconds]; got != want {
			t.Errorf("run %d: %s = %v, want %v", i, metrics.CursorLagSeconds, got, want)
		}
	}
	if !strings.Contains(out.String(), `{"Name":"CursorLagSeconds","Unit":"Seconds"}`) {
		t.Errorf("CursorLagSeconds not declared in seconds: %s", out.String())
	}
}
