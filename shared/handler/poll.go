package handler

import (
	"context"
	"fmt"
	"time"
)

// Poll actions accepted by the poll function.
const (
	PollActionSync    = "sync"
	PollActionPreview = "preview"
)

// PollInput is the poll function's payload: an EventBridge scheduled event
// (source "aws.events") or a manual invocation such as {"action":"sync"} or
// {"action":"preview","users":["a@b.com"],"companies":["c1"]}.
type PollInput struct {
	// Action is "sync" or "preview" for manual invocations, empty for schedules.
	Action    string   `json:"action,omitempty"`
	Users     []string `json:"users,omitempty"`
	Companies []string `json:"companies,omitempty"`
	// Source and DetailType are set by EventBridge on scheduled events.
	Source     string    `json:"source,omitempty"`
	DetailType string    `json:"detail-type,omitempty"`
	Time       time.Time `json:"time,omitzero"`
}

// PollResult is the poll function's JSON report.
type PollResult struct {
	Status  string           `json:"status"`
	Action  string           `json:"action"`
	Message string           `json:"message,omitempty"`
	Counts  map[string]int64 `json:"counts,omitempty"`
}

// Poll handles the 5-minute schedule and manual sync/preview invocations.
type Poll struct{}

// NewPoll returns a poll handler.
func NewPoll() *Poll { return &Poll{} }

// Handle validates in and runs the poll. The engine is not wired yet, so it
// reports "not_configured".
func (h *Poll) Handle(ctx context.Context, in PollInput) (PollResult, error) {
	action := in.Action
	switch {
	case action == "" && in.Source == "aws.events":
		action = PollActionSync
	case action == PollActionSync:
	case action == PollActionPreview:
		if len(in.Users) == 0 && len(in.Companies) == 0 {
			return PollResult{}, fmt.Errorf("poll: preview needs users or companies")
		}
	default:
		return PollResult{}, fmt.Errorf("poll: unknown action %q (want sync, preview or a scheduled event)", in.Action)
	}
	return PollResult{Status: "not_configured", Action: action, Message: "the sync engine is not wired yet"}, nil
}
