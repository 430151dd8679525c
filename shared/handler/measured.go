package handler

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/pilotsync/pilotsync/shared/config"
	"github.com/pilotsync/pilotsync/shared/measured"
	"github.com/pilotsync/pilotsync/shared/metrics"
	"github.com/pilotsync/pilotsync/shared/notify"
)

// Manual actions of the daily-measured function.
const (
	// MeasuredActionMeasure runs the daily job now: it continues an
	// unfinished pass or starts a new one.
	MeasuredActionMeasure = "measure"
	// MeasuredActionContinue only continues an unfinished pass (the follow-up
	// schedule sends it); with none it returns "idle" at once.
	MeasuredActionContinue = "continue"
)

// Scheduled-event sources: EventBridge rules and EventBridge Scheduler.
const (
	sourceEvents    = "aws.events"
	sourceScheduler = "aws.scheduler"
)

// measuredRunProblem is the problem key of a daily run that failed.
const measuredRunProblem = "measured/run"

// MeasuredInput is the daily-measured function's payload: an EventBridge
// scheduled event, or a manual invocation {"action":"measure"} or
// {"action":"continue"}.
type MeasuredInput struct {
	Action     string    `json:"action,omitempty"`
	Source     string    `json:"source,omitempty"`
	DetailType string    `json:"detail-type,omitempty"`
	Time       time.Time `json:"time,omitzero"`
}

// MeasuredResult is the daily-measured function's JSON report.
type MeasuredResult struct {
	// Status is complete, incomplete (the pass continues in the next
	// invocation), idle, lease_held, or not_configured while no engine is
	// wired.
	Status  string           `json:"status"`
	Message string           `json:"message,omitempty"`
	Pass    string           `json:"pass,omitempty"`
	Period  *measured.Period `json:"period,omitempty"`
	Counts  map[string]int64 `json:"counts,omitempty"`
	// PassCounts are the whole pass's counts so far.
	PassCounts map[string]int64 `json:"pass_counts,omitempty"`
}

// MeasuredRunner runs the daily job (shared/measured's Engine).
type MeasuredRunner interface {
	Run(ctx context.Context, at time.Time, mode measured.Mode) (*measured.Report, error)
}

var _ MeasuredRunner = (*measured.Engine)(nil)

// MeasuredNotifier sends the failure emails (shared/notify's Notifier).
type MeasuredNotifier interface {
	Problem(ctx context.Context, env string, p notify.Problem) error
	Resolved(ctx context.Context, env, key string) error
}

// Measured handles the daily schedule that computes measured and auto
// properties. Build it once per cold start.
type Measured struct {
	cfg     *config.Config
	engine  MeasuredRunner
	notify  MeasuredNotifier
	log     *slog.Logger
	now     func() time.Time
	metrics *metrics.Emitter // metrics.go
}

// NewMeasured returns a daily-measured handler. engine may be nil when no
// measured mapping is configured: Handle then reports "not_configured".
// notifier may be nil (no failure emails).
func NewMeasured(cfg *config.Config, engine MeasuredRunner, log *slog.Logger) *Measured {
	if log == nil {
		log = slog.Default()
	}
	return &Measured{cfg: cfg, engine: engine, log: log, now: time.Now, metrics: metrics.Default()}
}

// WithNotifier returns h sending failure emails through n.
func (h *Measured) WithNotifier(n MeasuredNotifier) *Measured {
	c := *h
	c.notify = n
	return &c
}

// WithEngine returns h running the daily job with e (shared/wire builds it).
func (h *Measured) WithEngine(e MeasuredRunner) *Measured {
	c := *h
	c.engine = e
	return &c
}

// Handle validates in and runs the daily job.
func (h *Measured) Handle(ctx context.Context, in MeasuredInput) (MeasuredResult, error) {
	mode := measured.ModeStart
	switch {
	case in.Action == MeasuredActionMeasure:
	case in.Action == MeasuredActionContinue:
		mode = measured.ModeContinue
	case in.Action == "" && (in.Source == sourceEvents || in.Source == sourceScheduler):
	default:
		return MeasuredResult{}, fmt.Errorf("measured: unknown input (action %q, source %q): want a scheduled event, {\"action\":%q} or {\"action\":%q}", in.Action, in.Source, MeasuredActionMeasure, MeasuredActionContinue)
	}
	at := in.Time
	if at.IsZero() || in.Action != "" {
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
		h.log.InfoContext(ctx, "measured: no measured mapping configured; nothing sent", "measured_mappings", mappings)
		return MeasuredResult{
			Status:  "not_configured",
			Message: "no measured or auto property is mapped: nothing was computed or sent",
			Counts:  map[string]int64{"measured_mappings": mappings},
		}, nil
	}
	rep, err := h.engine.Run(ctx, at, mode)
	h.alert(ctx, rep, err)
	if err != nil {
		return MeasuredResult{}, fmt.Errorf("measured: run at %s: %w", at.UTC().Format(time.RFC3339), err)
	}
	counts := rep.Counts
	if counts == nil {
		counts = map[string]int64{}
	}
	counts["measured_mappings"] = mappings
	res := MeasuredResult{Status: rep.Status, Pass: rep.Pass, Counts: counts, PassCounts: rep.PassCounts}
	if rep.Pass != "" {
		res.Period = &rep.Period
	}
	h.log.InfoContext(ctx, "measured: run", "status", rep.Status, "pass", rep.Pass, "counts", counts)
	h.metrics.Counts(ctx, MeasuredJob, counts, rep.Status == StatusFailed)
	if rep.Status == StatusFailed {
		return res, runFailed("measured: run at "+at.UTC().Format(time.RFC3339), "") // failed.go
	}
	return res, nil
}

// alert reports the run's problems (one email per cause) and resolves the
// ones it proved fixed.
func (h *Measured) alert(ctx context.Context, rep *measured.Report, runErr error) {
	if h.notify == nil {
		return
	}
	env := config.DefaultEnvironment // a handler built without a config
	if h.cfg != nil {
		env = h.cfg.Userpilot.Environment
	}
	var problems []notify.Problem
	var clean []string
	if rep != nil {
		problems, clean = rep.Problems, rep.Clean
	}
	if runErr != nil {
		problems = append(problems, notify.Problem{Key: measuredRunProblem,
			Title:  "pilotsync: the daily measured job failed",
			Detail: "The run stopped at its last checkpoint and continues from there next time: " + runErr.Error()})
	} else if rep != nil && (rep.Status == measured.StatusComplete || rep.Status == measured.StatusIncomplete) {
		clean = append(clean, measuredRunProblem)
	}
	for _, p := range problems {
		if err := h.notify.Problem(ctx, env, p); err != nil {
			h.log.WarnContext(ctx, "measured: report problem", "problem", p.Key, "err", err)
		}
	}
	for _, k := range clean {
		if err := h.notify.Resolved(ctx, env, k); err != nil {
			h.log.WarnContext(ctx, "measured: resolve problem", "problem", k, "err", err)
		}
	}
}
