package handler

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/pilotsync/pilotsync/shared/alert"
	"github.com/pilotsync/pilotsync/shared/config"
	"github.com/pilotsync/pilotsync/shared/deadline"
	"github.com/pilotsync/pilotsync/shared/inbound"
	"github.com/pilotsync/pilotsync/shared/metrics"
	"github.com/pilotsync/pilotsync/shared/outbound"
	"github.com/pilotsync/pilotsync/shared/preview"
	"github.com/pilotsync/pilotsync/shared/profileimport"
	"github.com/pilotsync/pilotsync/shared/store"
)

// Poll actions accepted by the poll function.
const (
	// PollActionPoll is the incremental inbound poll; scheduled events run it.
	PollActionPoll = "poll"
	// PollActionSync is the manual "sync now": a full inbound sync.
	PollActionSync = "sync"
	// PollActionPreview is the read-only preview (preview.go).
	PollActionPreview = "preview"
	// PollActionImport imports a Userpilot export file into the profiles.
	PollActionImport = "import"
	// PollActionSetup creates the HubSpot properties the config writes
	// (push.go).
	PollActionSetup = "setup"
)

// PollInput is the poll function's payload: an EventBridge scheduled event
// (source "aws.events", or EventBridge Scheduler's "aws.scheduler"), or a
// manual invocation:
//
//	{"action":"poll"}      the incremental inbound poll, then the outbound push (what the schedule runs)
//	{"action":"sync"}      sync now: a full inbound sync, then the outbound push
//	{"action":"setup","dry_run":true}
//	                       create the HubSpot properties the config writes (push.go)
//	{"action":"import","kind":"users","path":"/tmp/users.csv"}
//	                       import a Userpilot users/companies export (CSV or
//	                       NDJSON, optionally .gz) from a file the function can read
//	{"action":"preview","users":["a@b.com"],"companies":["c1"]}
type PollInput struct {
	Action    string   `json:"action,omitempty"`
	Users     []string `json:"users,omitempty"`
	Companies []string `json:"companies,omitempty"`
	// Kind ("users" or "companies") and Path name the import's file.
	Kind string `json:"kind,omitempty"`
	Path string `json:"path,omitempty"`
	// DryRun makes setup list what it would create, creating nothing.
	DryRun bool `json:"dry_run,omitempty"`
	// Source and DetailType are set by EventBridge on scheduled events.
	Source     string    `json:"source,omitempty"`
	DetailType string    `json:"detail-type,omitempty"`
	Time       time.Time `json:"time,omitzero"`
}

// PollResult is the poll function's JSON report.
type PollResult struct {
	// Status is the inbound run's status (complete, partial, failed,
	// lease_held), "ok" for an import, or "not_configured".
	Status  string           `json:"status"`
	Action  string           `json:"action"`
	Message string           `json:"message,omitempty"`
	Counts  map[string]int64 `json:"counts,omitempty"`
	// Inbound is the inbound run record (poll and sync).
	Inbound *inbound.Report `json:"inbound,omitempty"`
	// Import is the import's outcome.
	Import *profileimport.Result `json:"import,omitempty"`
	// Outbound is the outbound push's run record (poll and sync).
	Outbound *outbound.Report `json:"outbound,omitempty"`
	// Setup is the setup action's outcome.
	Setup *outbound.SetupReport `json:"setup,omitempty"`
	// Preview is the preview action's report (preview.go).
	Preview *preview.Report `json:"preview,omitempty"`
}

// InboundRunner runs the inbound poll (inbound.Inbound).
type InboundRunner interface {
	Run(ctx context.Context, mode inbound.Mode) (*inbound.Report, error)
}

// Poll handles the 5-minute schedule and the manual sync, import and preview
// invocations. Build it once per cold start.
type Poll struct {
	inbound InboundRunner
	imports profileimport.Store
	cfg     *config.Config
	alerts  *alert.Alerter
	log     *slog.Logger
	push    OutboundRunner   // push.go
	setup   PropertySetup    // push.go
	metrics *metrics.Emitter // metrics.go
	preview Previewer        // preview.go

	// progress is told how a poll or sync goes (progress.go).
	progress func(Progress)
}

// PollOption configures a Poll.
type PollOption func(*Poll)

// WithPollImports enables the import action, writing profiles to st with the
// mapping in cfg (environment, match properties, outbound properties).
func WithPollImports(st profileimport.Store, cfg *config.Config) PollOption {
	return func(p *Poll) { p.imports, p.cfg = st, cfg }
}

// WithPollAlerts reports the problems of each inbound run (and their
// recovery) through a; nil (the default) reports nothing.
func WithPollAlerts(a *alert.Alerter) PollOption { return func(p *Poll) { p.alerts = a } }

// WithPollLogger sets the logger.
func WithPollLogger(l *slog.Logger) PollOption { return func(p *Poll) { p.log = l } }

// NewPoll returns a poll handler running inbound. A nil inbound answers
// "not_configured".
func NewPoll(inbound InboundRunner, opts ...PollOption) *Poll {
	p := &Poll{inbound: inbound, log: slog.Default(), metrics: metrics.Default()}
	for _, o := range opts {
		o(p)
	}
	return p
}

// Handle runs the action in. A time-budget stop and a lease held by another
// run are in the result only (status partial or lease_held). A run that
// failed (an object type stopped on an error) returns its result and an error
// wrapping ErrRunFailed, after its run record is written, so Lambda counts it
// in the errors alarm; the next scheduled run resumes from the checkpoint
// (the schedule's async retries are 0). The error alone is for input that can
// never work and for a run that could not start.
func (h *Poll) Handle(ctx context.Context, in PollInput) (PollResult, error) {
	action := in.Action
	switch {
	case action == "" && (in.Source == "aws.events" || in.Source == "aws.scheduler" || in.DetailType == "Scheduled Event"):
		action = PollActionPoll
	case action == PollActionPoll, action == PollActionSync:
	case action == PollActionImport:
		return h.importFile(ctx, in)
	case action == PollActionSetup:
		return h.runSetup(ctx, in)
	case action == PollActionPreview:
		if len(in.Users) == 0 && len(in.Companies) == 0 {
			return PollResult{}, fmt.Errorf("poll: preview needs users or companies")
		}
		return h.runPreview(ctx, in) // preview.go
	default:
		return PollResult{}, fmt.Errorf("poll: unknown action %q (want poll, sync, import, preview, setup or a scheduled event)", in.Action)
	}
	if h.inbound == nil {
		if h.push != nil {
			return h.pushOnly(ctx, action)
		}
		return PollResult{Status: "not_configured", Action: action, Message: "the inbound sync is not configured"}, nil
	}
	mode := inbound.ModeIncremental
	if action == PollActionSync {
		mode = inbound.ModeFull
	}
	ctx, cancel := deadline.Work(ctx, PollReserve) // deadlines.go
	defer cancel()
	rep, err := h.inbound.Run(ctx, mode)
	if err != nil {
		h.alerts.Unstarted(ctx, inbound.JobInbound, err) // a DynamoDB outage is emailed at once
		return PollResult{}, fmt.Errorf("poll: %s: %w", action, err)
	}
	h.alerts.Inbound(ctx, rep)
	h.metrics.Inbound(ctx, rep)
	res := PollResult{Status: rep.Status, Action: action, Message: rep.Message, Inbound: rep, Counts: map[string]int64{
		"read": rep.Totals.Read, "written": rep.Totals.Written, "failed": rep.Totals.Failed,
		"linked": rep.Totals.Linked, "relinked": rep.Totals.Relinked, "unlinked": rep.Totals.Unlinked,
	}}
	if rep.Error != "" {
		res.Message = rep.Error
	}
	h.runPush(ctx, &res)
	if rep.Status == inbound.StatusFailed {
		return res, runFailed("poll: "+action+" run", rep.Error) // failed.go
	}
	if res.Outbound != nil && res.Outbound.Status == outbound.StatusFailed {
		return res, runFailed("poll: "+action+" outbound push", res.Outbound.Error)
	}
	return res, nil
}

// importFile runs the import action.
func (h *Poll) importFile(ctx context.Context, in PollInput) (PollResult, error) {
	if h.imports == nil || h.cfg == nil {
		return PollResult{Status: "not_configured", Action: PollActionImport, Message: "imports are not configured"}, nil
	}
	if in.Path == "" {
		return PollResult{}, errors.New("poll: import needs a path")
	}
	opts, err := ImportOptions(h.cfg, in.Kind)
	if err != nil {
		return PollResult{}, fmt.Errorf("poll: import: %w", err)
	}
	opts.Progress = func(r profileimport.Result) {
		h.log.InfoContext(ctx, "import progress", "kind", in.Kind, "rows", r.Rows, "created", r.Created, "updated", r.Updated, "bad", r.Bad)
	}
	res, err := profileimport.ImportFile(ctx, h.imports, in.Path, opts)
	if err != nil {
		return PollResult{}, fmt.Errorf("poll: import: %w", err)
	}
	return PollResult{Status: "ok", Action: PollActionImport, Import: res, Counts: map[string]int64{
		"rows": res.Rows, "created": res.Created, "updated": res.Updated, "unchanged": res.Unchanged, "bad": res.Bad,
	}}, nil
}

// ImportOptions returns the import options for kind ("users" or "companies",
// also "user" / "company") from the mapping in cfg (defaults applied by
// config.Load).
func ImportOptions(cfg *config.Config, kind string) (profileimport.Options, error) {
	var m config.ObjectMapping
	opts := profileimport.Options{Env: cfg.Userpilot.Environment}
	switch kind {
	case "users", "user":
		opts.Kind, m = store.KindUser, cfg.Mapping.Users
	case "companies", "company":
		opts.Kind, m = store.KindCompany, cfg.Mapping.Companies
	default:
		return opts, fmt.Errorf("unknown kind %q (want users or companies)", kind)
	}
	opts.MatchProperty = m.Match.Userpilot
	for _, o := range m.Outbound {
		name := o.Userpilot
		if name == "" {
			name = o.HubSpot
		}
		opts.Outbound = append(opts.Outbound, name)
	}
	return opts, nil
}
