package handler

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/pilotsync/pilotsync/shared/inbound"
	"github.com/pilotsync/pilotsync/shared/outbound"
	"github.com/pilotsync/pilotsync/shared/runreport"
)

type fakePush struct {
	rep   *outbound.Report
	calls int
}

func (f *fakePush) Run(context.Context) (*outbound.Report, error) {
	f.calls++
	return f.rep, nil
}

// TestPollRunsPush: the scheduled poll and sync run the push after inbound
// and report its counts; a failed push fails a complete poll; with no
// inbound configured the push still runs (no not_configured).
func TestPollRunsPush(t *testing.T) {
	sched := PollInput{Source: "aws.events", DetailType: "Scheduled Event"}
	push := &fakePush{rep: &outbound.Report{Header: runreport.Header{Status: outbound.StatusComplete}, Totals: outbound.Counts{Considered: 3, Sent: 2, Unmatched: 1}}}
	in := &fakeInbound{rep: &inbound.Report{Header: runreport.Header{Status: inbound.StatusComplete}}}
	h := NewPoll(in, WithPollPush(push))
	for _, payload := range []PollInput{sched, {Action: PollActionSync}} {
		res, err := h.Handle(context.Background(), payload)
		if err != nil || res.Status != "complete" || res.Outbound != push.rep || res.Counts["outbound.sent"] != 2 || res.Counts["outbound.unmatched"] != 1 {
			t.Errorf("%+v: %+v, %v", payload, res, err)
		}
	}
	if push.calls != 2 || len(in.modes) != 2 {
		t.Errorf("push ran %d times, inbound %d, want 2 each", push.calls, len(in.modes))
	}
	push.rep = &outbound.Report{Header: runreport.Header{Status: outbound.StatusFailed, Error: "users: hubspot down"}}
	if res, _ := h.Handle(context.Background(), sched); res.Status != outbound.StatusFailed || res.Message != "outbound: users: hubspot down" {
		t.Errorf("failed push: %+v", res)
	}
	push.rep = &outbound.Report{Header: runreport.Header{Status: outbound.StatusComplete}}
	if res, err := NewPoll(nil, WithPollPush(push)).Handle(context.Background(), sched); err != nil || res.Status != outbound.StatusComplete || res.Outbound == nil {
		t.Errorf("push without inbound: %+v, %v", res, err)
	}
}

// TestPollSetupSample: events/poll-setup.json runs setup as a dry run; a
// refusal is a "refused" result, not an invocation error.
func TestPollSetupSample(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join("..", "..", "events", "poll-setup.json"))
	if err != nil {
		t.Fatal(err)
	}
	var payload PollInput
	if err := json.Unmarshal(raw, &payload); err != nil {
		t.Fatal(err)
	}
	var dry []bool
	h := NewPoll(nil, WithPollSetup(func(_ context.Context, dryRun bool) (*outbound.SetupReport, error) {
		dry = append(dry, dryRun)
		return &outbound.SetupReport{DryRun: dryRun, Properties: []outbound.SetupProperty{{Name: "p", Action: "create"}}}, nil
	}))
	res, err := h.Handle(context.Background(), payload)
	if err != nil || res.Status != "ok" || res.Counts["created"] != 1 || len(dry) != 1 || !dry[0] {
		t.Errorf("setup sample: %+v, %v (dry runs %v)", res, err, dry)
	}
	h = NewPoll(nil, WithPollSetup(func(context.Context, bool) (*outbound.SetupReport, error) {
		return &outbound.SetupReport{Problems: []string{"x"}}, outbound.ErrSetupRefused
	}))
	if res, err := h.Handle(context.Background(), PollInput{Action: PollActionSetup}); err != nil || res.Status != "refused" {
		t.Errorf("refused setup: %+v, %v", res, err)
	}
	if res, _ := NewPoll(nil).Handle(context.Background(), PollInput{Action: PollActionSetup}); res.Status != "not_configured" {
		t.Errorf("setup without a client: %+v", res)
	}
}
