package outbound

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/pilotsync/pilotsync/shared/deadline"
	"github.com/pilotsync/pilotsync/shared/lease"
	"github.com/pilotsync/pilotsync/shared/runreport"

	"github.com/pilotsync/pilotsync/shared/hubspot"
	"github.com/pilotsync/pilotsync/shared/store"
)

const (
	// DefaultDeadlineMargin is how long before the invocation's deadline the
	// push stops starting batches: room for one batch's resolve, update and
	// profile writes.
	DefaultDeadlineMargin = 30 * time.Second
	// leaseTTL is the outbound lease's life without renewal (renewed every
	// third of it while the run lasts), shorter than the 5-minute schedule.
	leaseTTL = 3 * time.Minute
	// batchSize is the dirty profiles handled per step: one batch update call
	// (https://developers.hubspot.com/docs/api-reference/crm-contacts-v3/batch/post-crm-v3-objects-contacts-batch-update:
	// at most 100 inputs).
	batchSize = hubspot.MaxBatchInputs
)

// leaseName is the store lease of the push.
const leaseName = JobOutbound

// Push is the outbound custom properties push. Build it once per cold start;
// Run may be called concurrently (the lease lets one run work).
type Push struct {
	store    Store
	hs       HubSpot
	linker   Linker
	cfg      Config
	log      *slog.Logger
	now      func() time.Time
	margin   time.Duration
	leaseTTL time.Duration
	stats    func() map[string]int64
	progress func(Progress) // progress.go
	// wall is the real clock the time budget is measured on (tests move it).
	wall func() time.Time
}

// Option configures a Push.
type Option func(*Push)

// WithLogger sets the logger.
func WithLogger(l *slog.Logger) Option { return func(p *Push) { p.log = l } }

// WithClock sets the clock of run records (tests).
func WithClock(now func() time.Time) Option { return func(p *Push) { p.now = now } }

// WithDeadlineMargin sets how long before the deadline no batch starts.
func WithDeadlineMargin(d time.Duration) Option { return func(p *Push) { p.margin = d } }

// WithAPIStats reports API call counters (endpoint -> calls so far); a run
// records their difference.
func WithAPIStats(f func() map[string]int64) Option { return func(p *Push) { p.stats = f } }

// withLeaseTTL shortens the lease (tests).
func withLeaseTTL(d time.Duration) Option { return func(p *Push) { p.leaseTTL = d } }

// New returns the push.
func New(st Store, hs HubSpot, linker Linker, cfg Config, opts ...Option) (*Push, error) {
	if st == nil || hs == nil || linker == nil {
		return nil, errors.New("outbound: store, hubspot and linker are required")
	}
	if cfg.Env == "" {
		return nil, errors.New("outbound: no environment")
	}
	p := &Push{store: st, hs: hs, linker: linker, cfg: cfg, log: slog.Default(), now: time.Now,
		margin: DefaultDeadlineMargin, leaseTTL: leaseTTL, wall: time.Now}
	for _, o := range opts {
		o(p)
	}
	return p, nil
}

// Configured reports whether any kind has outbound mappings.
func (p *Push) Configured() bool { return len(p.cfg.Objects) > 0 }

// run is one Run's state.
type run struct {
	*Push
	id     string
	budget time.Time // stop starting batches at this real time (zero: none)
	// statsBefore are the client's counters at the start (progress.go).
	statsBefore map[string]int64
}

func (r *run) outOfTime() bool { return !r.budget.IsZero() && !r.wall().Before(r.budget) }

// errOutOfTime stops a kind between batches when the budget is spent.
var errOutOfTime = errors.New("time budget spent")

// Run pushes every kind's dirty profiles once. A second overlapping run
// returns StatusLeaseHeld and does nothing. Failures of a kind are in the
// report (and its run record); the error is for a run that could not start.
func (p *Push) Run(ctx context.Context) (*Report, error) {
	started := p.now()
	r := &run{Push: p, id: lease.NewRunID(started)}
	if d, ok := ctx.Deadline(); ok {
		r.budget = d.Add(-min(p.margin, time.Until(d)/4))
	}
	rep := &Report{Header: runreport.Header{RunID: r.id, Started: started}}
	var before map[string]int64
	if p.stats != nil {
		before = p.stats()
		r.statsBefore = before
	}
	taken := time.Now()
	err := p.store.AcquireLease(ctx, p.cfg.Env, leaseName, r.id, p.leaseTTL)
	if errors.Is(err, store.ErrLeaseHeld) {
		rep.Status, rep.Message = StatusLeaseHeld, "another outbound run holds the lease: nothing done"
		rep.Finished = p.now()
		return rep, nil
	}
	if err != nil {
		return nil, fmt.Errorf("outbound: take lease: %w", err)
	}
	defer func() {
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
		defer cancel()
		if err := p.store.ReleaseLease(rctx, p.cfg.Env, leaseName, r.id); err != nil && !errors.Is(err, store.ErrLeaseLost) {
			p.log.WarnContext(ctx, "outbound: release lease", "run", r.id, "err", err)
		}
	}()
	runCtx, lost := context.WithCancelCause(ctx)
	stop, done := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(done)
		lease.Keep(runCtx, r.store, lease.Held{Env: r.cfg.Env, Name: leaseName, Owner: r.id, TTL: r.leaseTTL}, taken, stop, lost, r.log)
	}()

	stopped := ""
	for _, obj := range p.cfg.Objects {
		or := ObjectReport{Object: obj.name(), HubSpotObject: obj.HubSpotObject}
		if stopped != "" {
			or.Message = "not started: " + stopped
			rep.Objects = append(rep.Objects, or)
			continue
		}
		err := r.object(runCtx, obj, &or)
		if cause := context.Cause(runCtx); err != nil && errors.Is(cause, store.ErrLeaseLost) {
			err = cause
		}
		switch {
		case err == nil:
			or.Complete = true
		case errors.Is(err, errOutOfTime):
			stopped = errOutOfTime.Error()
			or.Message = "stopped between batches: " + stopped + "; the next poll continues"
		default:
			or.Error, or.Err = err.Error(), err
			if errors.Is(err, store.ErrLeaseLost) {
				stopped = "lease lost"
			}
			p.log.ErrorContext(ctx, "outbound: object type stopped", "run", r.id, "object", or.Object, "err", err)
		}
		or.finish()
		rep.Objects = append(rep.Objects, or)
	}
	close(stop)
	<-done
	lost(nil)

	parts := make([]runreport.Part, 0, len(rep.Objects))
	for _, o := range rep.Objects {
		rep.Totals.Add(o.Counts)
		parts = append(parts, runreport.Part{Object: o.Object, Complete: o.Complete, Error: o.Error})
	}
	rep.Finish(p.now(), parts, "stopped before the invocation deadline: the next poll continues")
	if p.stats != nil {
		rep.APICalls = runreport.Calls(before, p.stats())
	}
	p.log.InfoContext(ctx, "outbound: run finished", "run", r.id, "status", rep.Status, "considered", rep.Totals.Considered,
		"sent", rep.Totals.Sent, "quarantined", rep.Totals.Quarantined, "unmatched", rep.Totals.Unmatched, "duration_ms", rep.DurationMS)
	sctx, cancel := deadline.Cleanup(ctx, 10*time.Second)
	defer cancel()
	if err := p.store.PutRun(sctx, runRecord(p.cfg.Env, rep)); err != nil {
		p.log.ErrorContext(ctx, "outbound: save run record", "run", r.id, "err", err)
	}
	return rep, nil
}

// object pushes one kind's dirty profiles, a batch at a time.
func (r *run) object(ctx context.Context, obj Object, or *ObjectReport) error {
	if r.outOfTime() {
		return errOutOfTime
	}
	props, err := r.hs.ListProperties(ctx, obj.HubSpotObject)
	if err != nil {
		return fmt.Errorf("list %s properties: %w", obj.HubSpotObject, err)
	}
	if r.outOfTime() {
		return errOutOfTime
	}
	cat := make(catalog, len(props))
	for _, hp := range props {
		cat[hp.Name] = hp
	}
	var blockedErr []string
	for _, m := range obj.Mappings {
		hp, ok := cat[m.HubSpot]
		switch {
		case !ok:
			blockedErr = append(blockedErr, fmt.Sprintf("property %q does not exist in HubSpot %s (run pilotsync setup)", m.HubSpot, obj.HubSpotObject))
		case !hp.Writable():
			blockedErr = append(blockedErr, fmt.Sprintf("property %q is read-only in HubSpot", m.HubSpot))
		default:
			continue
		}
		or.Blocked = append(or.Blocked, m.HubSpot)
	}
	var buf []*store.Profile
	flush := func() error {
		if len(buf) == 0 {
			return nil
		}
		if r.outOfTime() {
			return errOutOfTime
		}
		err := r.batch(ctx, obj, cat, buf, or)
		buf = buf[:0]
		r.reportProgress(or) // progress.go
		return err
	}
	for p, err := range r.store.DirtyProfiles(ctx, r.cfg.Env, obj.Kind) {
		if err != nil {
			return fmt.Errorf("read dirty %s: %w", or.Object, err)
		}
		or.Considered++
		or.StoreReads++
		buf = append(buf, p)
		if len(buf) == batchSize {
			if err := flush(); err != nil {
				return err
			}
		}
	}
	if err := flush(); err != nil {
		return err
	}
	if len(blockedErr) > 0 {
		return errors.New(strings.Join(blockedErr, "; "))
	}
	return nil
}
