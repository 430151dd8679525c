package measured

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"time"

	"github.com/pilotsync/pilotsync/shared/config"
	"github.com/pilotsync/pilotsync/shared/notify"
	"github.com/pilotsync/pilotsync/shared/store"
)

// JobName names the daily job's run records, cursor and lease.
const JobName = "measured"

// Defaults of Options.
const (
	// DefaultBudget is how long one invocation works before it checkpoints and
	// leaves the rest to the next (the function's timeout is 15 minutes, the
	// Lambda maximum: https://docs.aws.amazon.com/lambda/latest/dg/configuration-timeout.html).
	DefaultBudget = 10 * time.Minute
	// DefaultPageSize is the summaries read per page: one HubSpot batch update
	// (100 inputs, hubspot.MaxBatchInputs) per page.
	DefaultPageSize = 100
	// deadlineMargin is kept free before the invocation's own deadline.
	deadlineMargin = 30 * time.Second
)

// Mode says how a run starts.
type Mode string

// Modes.
const (
	// ModeStart continues an unfinished pass, or starts a new one (the daily
	// schedule and {"action":"measure"}).
	ModeStart Mode = "start"
	// ModeContinue only continues an unfinished pass; with none it does nothing
	// (the follow-up schedule).
	ModeContinue Mode = "continue"
)

// Run statuses.
const (
	StatusComplete   = "complete"
	StatusIncomplete = "incomplete"
	StatusIdle       = "idle"
	StatusLeaseHeld  = "lease_held"
)

// Counts in reports and run records.
const (
	CountConsidered   = "considered"    // summaries read
	CountChanged      = "changed"       // linked profiles with a changed value
	CountSent         = "sent"          // records HubSpot updated
	CountValuesSent   = "values_sent"   // property values HubSpot accepted
	CountUnchanged    = "unchanged"     // linked profiles with nothing to send
	CountQuarantined  = "quarantined"   // values HubSpot refused for good (not re-sent until they change)
	CountRetryLater   = "retry_later"   // records that failed for now (sent again next run)
	CountUnmatched    = "unmatched"     // profiles HubSpot does not know, or with no match value
	CountNoProfile    = "no_profile"    // activity of a user or company never identified
	CountInvalid      = "invalid_value" // values the codec could not encode for the property's type
	CountPages        = "pages"
	CountStoreReads   = "store_reads"  // items read (summaries and profiles) plus other reads
	CountStoreWrites  = "store_writes" // items written (sent values, checkpoints)
	CountHubSpotCalls = "hubspot_calls"
)

// Target is one kind's measured mappings and its HubSpot object.
type Target struct {
	Kind     store.Kind
	Object   string
	Mappings []config.MeasuredMapping
}

// TargetsFrom returns the enabled kinds of cfg that map measured metrics.
func TargetsFrom(cfg *config.Config) []Target {
	var out []Target
	for _, t := range []struct {
		kind store.Kind
		m    config.ObjectMapping
	}{{store.KindUser, cfg.Mapping.Users}, {store.KindCompany, cfg.Mapping.Companies}} {
		if t.m.IsEnabled() && len(t.m.Measured) > 0 {
			out = append(out, Target{Kind: t.kind, Object: t.m.HubSpotObject, Mappings: t.m.Measured})
		}
	}
	return out
}

// Options configure the engine.
type Options struct {
	// Env is the Userpilot environment.
	Env string
	// PeriodDays is measured.period_days (required: config.Load applies its
	// default).
	PeriodDays int
	Targets    []Target
	// Budget bounds one invocation (default DefaultBudget); the invocation's
	// context deadline, less a margin, bounds it too.
	Budget time.Duration
	// PageSize is the summaries read per page (default DefaultPageSize).
	PageSize int
	Now      func() time.Time
	Log      *slog.Logger
	// APIStats returns the HubSpot client's cumulative requests per endpoint
	// (hubspot.Client.Stats().Calls): a run reports the difference, the
	// linker's batch reads and the client's retries included. Without it a
	// run reports the calls it made itself.
	APIStats func() map[string]int64
}

// Engine runs the daily measured job. Build it once per cold start.
type Engine struct {
	st    Store
	hs    HubSpot
	lk    Linker
	audit AuditFunc
	o     Options
}

// New returns an engine. audit may be nil (no link audit).
func New(st Store, hs HubSpot, lk Linker, audit AuditFunc, o Options) *Engine {
	if o.Budget <= 0 {
		o.Budget = DefaultBudget
	}
	if o.PageSize <= 0 {
		o.PageSize = DefaultPageSize
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Log == nil {
		o.Log = slog.Default()
	}
	return &Engine{st: st, hs: hs, lk: lk, audit: audit, o: o}
}

// Report is what one invocation did.
type Report struct {
	Status string `json:"status"`
	// Pass identifies the pass (one pass may span invocations); Period is what
	// it measures.
	Pass   string `json:"pass,omitempty"`
	Period Period `json:"period"`
	// Counts are this invocation's; PassCounts the pass's so far.
	Counts     map[string]int64 `json:"counts"`
	PassCounts map[string]int64 `json:"pass_counts,omitempty"`
	Failures   []store.Failure  `json:"-"`
	// Problems are for the failure emails (one per cause, not per record);
	// Clean are problem keys this run proved fixed.
	Problems []notify.Problem `json:"-"`
	Clean    []string         `json:"-"`
}

// checkpoint is the stored position of a pass.
type checkpoint struct {
	Pass  string    `json:"pass"`
	At    time.Time `json:"at"`
	Stage int       `json:"stage"` // index into Targets; len(Targets) = audit
	Shard int       `json:"shard"`
	After string    `json:"after,omitempty"`
	Done  bool      `json:"done,omitempty"`
	// Totals are the pass's counts so far.
	Totals map[string]int64 `json:"totals,omitempty"`
}

func newID() string {
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// Run does one invocation's share of the daily pass: in ModeStart it
// continues an unfinished pass or starts one measuring at's period; in
// ModeContinue it only continues. It stops between pages when the budget is
// spent (StatusIncomplete) and always writes a run record.
func (e *Engine) Run(ctx context.Context, at time.Time, mode Mode) (*Report, error) {
	if e.o.PeriodDays < 1 {
		return nil, fmt.Errorf("measured: period of %d days: measured.period_days must be at least 1", e.o.PeriodDays)
	}
	started := e.o.Now()
	var statsBefore map[string]int64
	if e.o.APIStats != nil {
		statsBefore = e.o.APIStats()
	}
	owner := newID()
	rep := &Report{Counts: map[string]int64{}}
	leaseTTL := e.o.Budget + 2*deadlineMargin
	if err := e.st.AcquireLease(ctx, e.o.Env, JobName, owner, leaseTTL); err != nil {
		if errors.Is(err, store.ErrLeaseHeld) {
			rep.Status = StatusLeaseHeld
			return rep, nil
		}
		return nil, fmt.Errorf("measured: acquire lease: %w", err)
	}
	defer func() {
		if err := e.st.ReleaseLease(context.WithoutCancel(ctx), e.o.Env, JobName, owner); err != nil {
			e.o.Log.WarnContext(ctx, "measured: release lease", "err", err)
		}
	}()
	rep.Counts[CountStoreReads]++
	raw, err := e.st.GetCursor(ctx, e.o.Env, JobName)
	if err != nil {
		return nil, fmt.Errorf("measured: read checkpoint: %w", err)
	}
	var cp checkpoint
	if raw != "" {
		if err := json.Unmarshal([]byte(raw), &cp); err != nil {
			return nil, fmt.Errorf("measured: decode checkpoint: %w", err)
		}
	}
	switch {
	case raw != "" && !cp.Done:
		// continue the unfinished pass, measuring the period it started with
	case mode == ModeContinue:
		rep.Status = StatusIdle
		return rep, nil
	default:
		cp = checkpoint{Pass: newID(), At: at.UTC()}
	}
	if cp.Totals == nil {
		cp.Totals = map[string]int64{}
	}
	rep.Pass, rep.Period = cp.Pass, PeriodOf(cp.At, e.o.PeriodDays)

	runErr := e.pass(ctx, owner, &cp, rep, started)
	switch {
	case runErr != nil:
		rep.Status = StatusIncomplete
	case cp.Done:
		rep.Status = StatusComplete
	default:
		rep.Status = StatusIncomplete
	}
	apiCalls := map[string]int64{"hubspot": rep.Counts[CountHubSpotCalls]}
	if e.o.APIStats != nil {
		apiCalls = map[string]int64{}
		var total int64
		for k, v := range e.o.APIStats() {
			if d := v - statsBefore[k]; d > 0 {
				apiCalls["hubspot."+k] = d
				total += d
			}
		}
		cp.Totals[CountHubSpotCalls] += total - rep.Counts[CountHubSpotCalls]
		rep.Counts[CountHubSpotCalls] = total
	}
	rep.PassCounts = cp.Totals
	rec := store.RunRecord{
		Env: e.o.Env, Job: JobName, ID: cp.Pass + "-" + owner, Started: started, Finished: e.o.Now(),
		Counts: maps.Clone(rep.Counts), APICalls: apiCalls, Failures: rep.Failures,
	}
	for k, v := range cp.Totals {
		rec.Counts["pass_"+k] = v
	}
	if runErr != nil {
		rec.Error = runErr.Error()
	}
	if err := e.st.PutRun(context.WithoutCancel(ctx), rec); err != nil {
		e.o.Log.WarnContext(ctx, "measured: write run record", "err", err)
	}
	if runErr != nil {
		return rep, fmt.Errorf("measured: pass %s: %w", cp.Pass, runErr)
	}
	return rep, nil
}

// pass works through the pages from the checkpoint until done or out of budget.
func (e *Engine) pass(ctx context.Context, owner string, cp *checkpoint, rep *Report, started time.Time) error {
	deadline := started.Add(e.o.Budget)
	if d, ok := ctx.Deadline(); ok && d.Add(-deadlineMargin).Before(deadline) {
		deadline = d.Add(-deadlineMargin)
	}
	props := newPropertyCache(e.hs, rep)
	var slowest time.Duration
	period := PeriodOf(cp.At, e.o.PeriodDays)
	pages := 0
	for cp.Stage < len(e.o.Targets) {
		// Stop before a page that might not finish in time; always do one, so
		// every invocation makes progress.
		if pages > 0 && e.o.Now().Add(slowest).After(deadline) {
			return nil
		}
		t0 := e.o.Now()
		t := e.o.Targets[cp.Stage]
		sums, next, err := e.st.ActivitySummaries(ctx, e.o.Env, t.Kind, cp.Shard, cp.After, e.o.PageSize)
		if err != nil {
			return err
		}
		before := maps.Clone(rep.Counts)
		rep.Counts[CountStoreReads] += int64(max(len(sums), 1))
		rep.Counts[CountPages]++
		pageErr := e.page(ctx, t, period, props, sums, rep)
		if pageErr != nil {
			return pageErr
		}
		cp.After = next
		if next == "" {
			cp.Shard++
			if cp.Shard == store.SummaryShards {
				cp.Stage, cp.Shard = cp.Stage+1, 0
			}
		}
		for k, v := range rep.Counts {
			cp.Totals[k] += v - before[k]
		}
		if err := e.save(ctx, owner, cp, rep); err != nil {
			return err
		}
		pages++
		slowest = max(slowest, e.o.Now().Sub(t0))
	}
	if e.audit != nil {
		for _, t := range e.o.Targets {
			ac, err := e.audit(ctx, t.Kind)
			if err != nil {
				return fmt.Errorf("link audit of %ss: %w", t.Kind, err)
			}
			for _, k := range slices.Sorted(maps.Keys(ac)) {
				rep.Counts["audit_"+string(t.Kind)+"_"+k] += ac[k]
				cp.Totals["audit_"+string(t.Kind)+"_"+k] += ac[k]
			}
		}
	}
	cp.Done = true
	return e.save(ctx, owner, cp, rep)
}

// save writes the checkpoint under the lease, so a run that lost it cannot
// move the position the new holder relies on.
func (e *Engine) save(ctx context.Context, owner string, cp *checkpoint, rep *Report) error {
	b, err := json.Marshal(cp)
	if err != nil {
		return fmt.Errorf("encode checkpoint: %w", err)
	}
	rep.Counts[CountStoreWrites]++
	cp.Totals[CountStoreWrites]++
	if err := e.st.PutCursorLeased(ctx, e.o.Env, JobName, string(b), JobName, owner); err != nil {
		return fmt.Errorf("checkpoint: %w", err)
	}
	return nil
}
