package handler

import (
	"context"
	"fmt"
	"time"
)

// MeasuredInput is the daily-measured function's payload: an EventBridge
// scheduled event, or a manual invocation {"action":"measure"}.
type MeasuredInput struct {
	Action     string    `json:"action,omitempty"`
	Source     string    `json:"source,omitempty"`
	DetailType string    `json:"detail-type,omitempty"`
	Time       time.Time `json:"time,omitzero"`
}

// MeasuredActionMeasure is the manual action of the daily-measured function.
const MeasuredActionMeasure = "measure"

// MeasuredResult is the daily-measured function's JSON report.
type MeasuredResult struct {
	Status  string           `json:"status"`
	Message string           `json:"message,omitempty"`
	Counts  map[string]int64 `json:"counts,omitempty"`
}

// Measured handles the daily schedule that computes measured and auto properties.
type Measured struct{}

// NewMeasured returns a daily-measured handler.
func NewMeasured() *Measured { return &Measured{} }

// Handle validates in and runs the daily job. The engine is not wired yet, so
// it reports "not_configured".
func (h *Measured) Handle(ctx context.Context, in MeasuredInput) (MeasuredResult, error) {
	if in.Action != MeasuredActionMeasure && in.Source != "aws.events" {
		return MeasuredResult{}, fmt.Errorf("measured: unknown input (action %q, source %q): want a scheduled event or {\"action\":\"measure\"}", in.Action, in.Source)
	}
	return MeasuredResult{Status: "not_configured", Message: "the measured engine is not wired yet"}, nil
}
