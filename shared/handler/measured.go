package handler

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/pilotsync/pilotsync/shared/config"
	"github.com/pilotsync/pilotsync/shared/metrics"
)

// MeasuredActionMeasure is the manual action of the daily-measured function.
const MeasuredActionMeasure = "measure"

// Scheduled-event sources: EventBridge rules and EventBridge Scheduler.
const (
	sourceEvents    = "aws.events"
	sourceScheduler = "aws.scheduler"
)

// MeasuredInput is the daily-measured function's payload: an EventBridge
// scheduled event, or a manual invocation {"action":"measure"}.
type MeasuredInput struct {
	Action     string    `json:"action,omitempty"`
	Source     string    `json:"source,omitempty"`
	DetailType string    `json:"detail-type,omitempty"`
	Time       time.Time `json:"time,omitzero"`
}

// MeasuredResult is the daily-measured function's JSON report.
type MeasuredResult struct {
	// Status is the engine's run status, or "not_configured" while no engine
	// is wired.
	Status  string           `json:"status"`
	Message string           `json:"message,omitempty"`
	Counts  map[string]int64 `json:"counts,omitempty"`
}

// MeasuredRunner computes and sends the measured and auto properties for one
// scheduled run (the daily engine in shared/inbound, when it lands). It returns
// the run's status and counts.
type MeasuredRunner interface {
	RunMeasured(ctx context.Context, at time.Time) (status string, counts map[string]int64, err error)
}

// Measured handles the daily schedule that computes measured and auto
// properties. Build it once per cold start.
type Measured struct {
	cfg     *config.Config
	engine  MeasuredRunner
	log     *slog.Logger
	now     func() time.Time
	metrics *metrics.Emitter // metrics.go
}

// NewMeasured returns a daily-measured handler. engine may be nil while the
// measured engine is not wired: Handle then reports "not_configured".
func NewMeasured(cfg *config.Config, engine MeasuredRunner, log *slog.Logger) *Measured {
	if log == nil {
		log = slog.Default()
	}
	return &Measured{cfg: cfg, engine: engine, log: log, now: time.Now, metrics: metrics.Default()}
}

// Handle validates in and runs the daily job.
func (h *Measured) Handle(ctx context.Context, in MeasuredInput) (MeasuredResult, error) {
	switch {
	case in.Action == MeasuredActionMeasure:
	case in.Action == "" && (in.Source == sourceEvents || in.Source == sourceScheduler):
	default:
		return MeasuredResult{}, fmt.Errorf("measured: unknown input (action %q, source %q): want a scheduled event or {\"action\":%q}", in.Action, in.Source, MeasuredActionMeasure)
	}
	at := in.Time
	if at.IsZero() {
		at = h.now()
	}
	mappings := int64(0)
	if h.cfg != nil {
		for _, m := range []config.ObjectMapping{h.cfg.Mapping.Users, h.cfg.Mapping.Companies} {
			if m.IsEnabled() {
				mappings += int64(len(m.Measured))
			}
		}
	}
	if h.engine == nil {
		h.log.InfoContext(ctx, "measured: no engine wired yet; nothing sent", "measured_mappings", mappings)
		return MeasuredResult{
			Status:  "not_configured",
			Message: "the measured engine is not wired yet: nothing was computed or sent",
			Counts:  map[string]int64{"measured_mappings": mappings},
		}, nil
	}
	status, counts, err := h.engine.RunMeasured(ctx, at)
	if err != nil {
		return MeasuredResult{}, fmt.Errorf("measured: run at %s: %w", at.UTC().Format(time.RFC3339), err)
	}
	if counts == nil {
		counts = map[string]int64{}
	}
	counts["measured_mappings"] = mappings
	h.metrics.Counts(ctx, MeasuredJob, counts, status == StatusFailed)
	if status == StatusFailed {
		return MeasuredResult{Status: status, Counts: counts}, runFailed("measured: run at "+at.UTC().Format(time.RFC3339), "") // failed.go
	}
	return MeasuredResult{Status: status, Counts: counts}, nil
}
