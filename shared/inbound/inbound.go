package inbound

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"sync"
	"time"

	"github.com/pilotsync/pilotsync/shared/deadline"
	"github.com/pilotsync/pilotsync/shared/lease"
	"github.com/pilotsync/pilotsync/shared/runreport"
	"github.com/pilotsync/pilotsync/shared/store"
)

// External limits and tuning of the inbound poll.
const (
	// BulkIdentifyThreshold is the number of profiles to write in one page
	// from which one bulk identify job is used instead of single identify
	// calls. Single calls share Userpilot's 600 requests/minute limit
	// (https://docs.userpilot.com/article/195-identify-users-and-track-api):
	// 20 of them take about 2 s; a bulk job costs one submission plus a few
	// status polls whatever its size.
	BulkIdentifyThreshold = 20
	// maxBulkRows is the most records one bulk identify request takes
	// ("Up to 10,000 records per request",
	// https://docs.userpilot.com/api-references/bulk-updates/users).
	maxBulkRows = 10000
	// listPageSize is the list endpoint's largest page (limit=100,
	// https://developers.hubspot.com/docs/guides/crm/using-object-apis).
	listPageSize = 100
	// DefaultDeadlineMargin is how long before the invocation's deadline the
	// poll stops starting new pages: enough for one page's lookups, Userpilot
	// write (a bulk job) and checkpoint.
	DefaultDeadlineMargin = 30 * time.Second
	// leaseTTL is how long the inbound lease lives without renewal; a
	// running poll renews it every third of that in the background, and a
	// crashed run's lease expires this long after its last renewal (shorter
	// than the 5-minute schedule).
	leaseTTL = 3 * time.Minute
	// maxReportedFailures caps the failures listed per object type in a
	// report and run record (the count is always exact).
	maxReportedFailures = 100
	// saveAttempts bounds re-applying a page's profile changes after
	// optimistic-lock conflicts (an identify event updated the profile).
	saveAttempts = 5
)

// InboundConfig is what the inbound poll needs from integration.yaml.
type InboundConfig struct {
	// Env is the Userpilot environment every stored key is namespaced by.
	Env string
	// Objects are the enabled object types, in the order they run.
	Objects []Object
	// Overlap is how far before the checkpoint a walk re-reads, since
	// HubSpot search lags writes (config schedule.search_overlap).
	Overlap time.Duration
}

// Inbound is the inbound poll (HubSpot → Userpilot). It is safe for
// concurrent use: all run state lives in Run.
type Inbound struct {
	store   InboundStore
	hs      HubSpotReader
	up      UserpilotWriter
	env     string
	objects []Object
	overlap time.Duration
	margin  time.Duration
	// leaseTTL is the lease's life without renewal (leaseTTL; tests shorten it).
	leaseTTL time.Duration
	now      func() time.Time
	log      *slog.Logger
	stats    func() map[string]int64
	progress func(Progress) // progress.go
}

// InboundOption configures an Inbound.
type InboundOption func(*Inbound)

// WithClock sets the clock used for checkpoints and timestamps (tests run it
// in step with the HubSpot sandbox's clock). The time budget always uses the
// real clock, like the invocation deadline.
func WithClock(now func() time.Time) InboundOption { return func(in *Inbound) { in.now = now } }

// WithLogger sets the logger.
func WithLogger(l *slog.Logger) InboundOption { return func(in *Inbound) { in.log = l } }

// WithDeadlineMargin sets how long before the context's deadline the poll
// stops starting pages (default DefaultDeadlineMargin, capped at a quarter
// of the time left when the run starts).
func WithDeadlineMargin(d time.Duration) InboundOption {
	return func(in *Inbound) { in.margin = d }
}

// WithAPIStats makes run reports count API calls from the clients' own
// counters (cumulative per endpoint; the report holds the difference over
// the run), which include retries and internal paging. Without it the
// engine counts the calls it makes itself.
func WithAPIStats(f func() map[string]int64) InboundOption {
	return func(in *Inbound) { in.stats = f }
}

// NewInbound returns the inbound poll over st, hs and up.
func NewInbound(st InboundStore, hs HubSpotReader, up UserpilotWriter, cfg InboundConfig, opts ...InboundOption) (*Inbound, error) {
	if cfg.Env == "" {
		return nil, errors.New("inbound: inbound: no userpilot environment")
	}
	if cfg.Overlap < 0 {
		return nil, fmt.Errorf("inbound: inbound: negative overlap %s", cfg.Overlap)
	}
	for _, o := range cfg.Objects {
		if o.HubSpotObject == "" || o.MatchHubSpot == "" || o.MatchUserpilot == "" {
			return nil, fmt.Errorf("inbound: inbound: %s: object and match properties are required", o.name())
		}
	}
	in := &Inbound{
		store: st, hs: hs, up: up, env: cfg.Env, objects: slices.Clone(cfg.Objects), overlap: cfg.Overlap,
		margin: DefaultDeadlineMargin, leaseTTL: leaseTTL, now: time.Now, log: slog.Default(),
	}
	for _, o := range opts {
		o(in)
	}
	return in, nil
}

// run is the state of one Run.
type run struct {
	*Inbound
	id     string
	budget time.Time // stop starting pages at this real time (zero: none)
	// deadline is the invocation's (zero: none). slowest is the longest a
	// page has taken from one checkpoint to the next in this run, and
	// mark when the current page started; both on the real clock and used
	// only by the run's own goroutine.
	deadline time.Time
	slowest  time.Duration
	mark     time.Time
	// pagesDone counts the pages checkpointed in this run (own goroutine only).
	pagesDone int
	mu        sync.Mutex
	calls     map[string]int64
	totals    map[string]int64 // records per object, for progress (progress.go)
	// statsBefore are the clients' counters at the start (progress.go).
	statsBefore map[string]int64
	// valueTypes caches the HubSpot property types for this run (values.go).
	valueTypes propertyTypes
}

func (r *run) count(endpoint string, n int64) {
	r.mu.Lock()
	r.calls[endpoint] += n
	r.mu.Unlock()
}

// outOfTime reports whether the run must stop before another page: at the
// budget, or earlier when a page as slow as the slowest so far would not end
// before the deadline (a fixed margin is too small when the store or the
// APIs slow down, and a page cut by the deadline fails the run).
func (r *run) outOfTime() bool {
	if r.budget.IsZero() {
		return false
	}
	now := time.Now()
	return !now.Before(r.budget) || !now.Add(r.slowest).Before(r.deadline)
}

// pageDone records how long the page that just ended took.
func (r *run) pageDone() {
	r.pagesDone++
	now := time.Now()
	if !r.mark.IsZero() {
		r.slowest = max(r.slowest, now.Sub(r.mark))
	}
	r.mark = now
}

// errOutOfTime stops an object type at a checkpoint when the budget is spent.
var errOutOfTime = errors.New(budgetSpent)

const budgetSpent = "time budget spent"

// Run runs the inbound poll once for every object type. Two overlapping runs
// never both work: the second returns a report with StatusLeaseHeld. The run
// stops starting pages DeadlineMargin before ctx's deadline, checkpointed, and
// reports Complete false; the next run continues. Failures of single object
// types are in the report (and its run record), not in the error, which is
// reserved for a run that could not start.
func (in *Inbound) Run(ctx context.Context, mode Mode) (*Report, error) {
	if mode == "" {
		mode = ModeIncremental
	}
	if mode != ModeIncremental && mode != ModeFull {
		return nil, fmt.Errorf("inbound: inbound: unknown mode %q", mode)
	}
	started := in.now()
	r := &run{Inbound: in, id: lease.NewRunID(started), calls: map[string]int64{}}
	if d, ok := ctx.Deadline(); ok {
		// A short invocation keeps at most a quarter of its time in reserve.
		r.budget = d.Add(-min(in.margin, time.Until(d)/4))
		r.deadline = d
	}
	rep := &Report{Header: runreport.Header{RunID: r.id, Started: started}, Job: JobInbound, Mode: mode}
	var before map[string]int64
	if in.stats != nil {
		before = in.stats()
		r.statsBefore = before
	}
	taken := time.Now() // the lease lasts at least leaseTTL from here
	err := in.store.AcquireLease(ctx, in.env, leaseName, r.id, in.leaseTTL)
	if errors.Is(err, store.ErrLeaseHeld) {
		rep.Status = StatusLeaseHeld
		rep.Message = "another inbound run holds the lease: nothing done"
		rep.Finished = in.now()
		rep.DurationMS = rep.Finished.Sub(started).Milliseconds()
		in.log.InfoContext(ctx, "inbound: lease held by another run", "run", r.id)
		return rep, nil
	}
	if err != nil {
		return nil, fmt.Errorf("inbound: inbound: take lease: %w", err)
	}
	defer func() {
		rctx, cancel := deadline.Cleanup(ctx, 10*time.Second) // ends before the invocation's deadline
		defer cancel()
		if err := in.store.ReleaseLease(rctx, in.env, leaseName, r.id); err != nil && !errors.Is(err, store.ErrLeaseLost) {
			in.log.WarnContext(ctx, "inbound: release lease", "run", r.id, "err", err)
		}
	}()
	// The lease is renewed in the background, however long a page takes;
	// when it is lost (or cannot be renewed before it ends) the run's
	// context is cancelled, so it stops writing before another run starts.
	runCtx, lost := context.WithCancelCause(ctx)
	stopBeat, beatDone := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(beatDone)
		lease.Keep(runCtx, r.store, lease.Held{Env: r.env, Name: leaseName, Owner: r.id, TTL: r.leaseTTL}, taken, stopBeat, lost, r.log)
	}()
	defer func() {
		close(stopBeat)
		<-beatDone
		lost(nil)
	}()
	outer := ctx
	ctx = runCtx

	stopped := "" // why the remaining object types were not started
	for _, obj := range in.objects {
		if stopped != "" {
			or := ObjectReport{Object: obj.name(), HubSpotObject: obj.HubSpotObject, Message: "not started: " + stopped}
			if stopped != budgetSpent {
				or.Error, or.Message = or.Message, ""
			}
			rep.Objects = append(rep.Objects, or)
			continue
		}
		or, err := r.object(ctx, obj, mode)
		if cause := context.Cause(ctx); err != nil && errors.Is(cause, store.ErrLeaseLost) {
			err = cause // whatever failed, it failed because the lease was lost
		}
		switch {
		case errors.Is(err, errOutOfTime):
			stopped = budgetSpent
			if or.Message == "" {
				or.Message = "stopped at a checkpoint: " + budgetSpent
			}
		case errors.Is(err, store.ErrLeaseLost):
			stopped = "lease lost"
			or.fail(err) // cause.go
		case err != nil:
			or.fail(err) // cause.go
			in.log.ErrorContext(ctx, "inbound: object type stopped", "run", r.id, "object", obj.name(), "err", err)
		}
		rep.Objects = append(rep.Objects, or)
	}

	parts := make([]runreport.Part, 0, len(rep.Objects))
	for _, o := range rep.Objects {
		rep.Totals.Add(o.Counts)
		parts = append(parts, runreport.Part{Object: o.Object, Complete: o.Complete, Error: o.Error})
	}
	rep.Finish(in.now(), parts, "stopped at a checkpoint before the invocation deadline: the next run continues")
	if in.stats != nil {
		rep.APICalls = runreport.Calls(before, in.stats())
	} else {
		rep.APICalls = maps.Clone(r.calls)
	}
	ctx = outer
	in.log.InfoContext(ctx, "inbound: run finished", "run", r.id, "mode", mode, "status", rep.Status,
		"read", rep.Totals.Read, "written", rep.Totals.Written, "failed", rep.Totals.Failed, "duration_ms", rep.DurationMS)
	sctx, cancel := deadline.Cleanup(ctx, 10*time.Second)
	defer cancel()
	if err := in.store.PutRun(sctx, runRecord(in.env, rep)); err != nil {
		in.log.ErrorContext(ctx, "inbound: save run record", "run", r.id, "err", err)
	}
	return rep, nil
}
