package inbound

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"iter"
	"log/slog"
	"maps"
	"slices"
	"sync"
	"time"

	"github.com/pilotsync/pilotsync/shared/deadline"
	"github.com/pilotsync/pilotsync/shared/hubspot"
	"github.com/pilotsync/pilotsync/shared/store"
	"github.com/pilotsync/pilotsync/shared/userpilot"
)

// External limits and tuning of the inbound poll.
const (
	// BulkIdentifyThreshold is the number of profiles to write in one page
	// from which one bulk identify job is used instead of single identify
	// calls. Single calls share Userpilot's 600 requests/minute limit
	// (USERPILOT.md "Limits"): 20 of them take about 2 s; a bulk job costs
	// one submission plus a few status polls whatever its size.
	BulkIdentifyThreshold = 20
	// maxBulkRows is the most records one bulk identify request takes
	// (USERPILOT.md: "Up to 10,000 records per request").
	maxBulkRows = 10000
	// listPageSize is the list endpoint's largest page (HUBSPOT.md: limit=100).
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
	mu       sync.Mutex
	calls    map[string]int64
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
	r := &run{Inbound: in, id: newRunID(started), calls: map[string]int64{}}
	if d, ok := ctx.Deadline(); ok {
		// A short invocation keeps at most a quarter of its time in reserve.
		r.budget = d.Add(-min(in.margin, time.Until(d)/4))
		r.deadline = d
	}
	rep := &Report{RunID: r.id, Job: JobInbound, Mode: mode, Started: started}
	var before map[string]int64
	if in.stats != nil {
		before = in.stats()
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
		r.heartbeat(runCtx, taken, stopBeat, lost)
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

	rep.Finished = in.now()
	rep.DurationMS = rep.Finished.Sub(started).Milliseconds()
	rep.Complete = true
	var errs []string
	for _, o := range rep.Objects {
		rep.Totals.Add(o.Counts)
		if !o.Complete {
			rep.Complete = false
		}
		if o.Error != "" {
			errs = append(errs, o.Object+": "+o.Error)
		}
	}
	switch {
	case len(errs) > 0:
		rep.Status = StatusFailed
		rep.Error = joinCapped(errs)
	case !rep.Complete:
		rep.Status = StatusPartial
		rep.Message = "stopped at a checkpoint before the invocation deadline: the next run continues"
	default:
		rep.Status = StatusComplete
	}
	if in.stats != nil {
		rep.APICalls = diffCalls(before, in.stats())
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

// object runs one object type from its checkpoint.
func (r *run) object(ctx context.Context, obj Object, mode Mode) (ObjectReport, error) {
	or := ObjectReport{Object: obj.name(), HubSpotObject: obj.HubSpotObject, Mode: ModeIncremental}
	if r.outOfTime() {
		or.Message = "not started: " + budgetSpent
		return or, errOutOfTime
	}
	r.mark = time.Now()
	name := cursorName(obj)
	raw, err := r.store.GetCursor(ctx, r.env, name)
	if err != nil {
		return or, fmt.Errorf("read cursor: %w", err)
	}
	cur, err := decodeCursor(raw)
	if err != nil {
		r.log.WarnContext(ctx, "inbound: unreadable cursor, running a full sync", "object", obj.name(), "err", err)
		raw = ""
	}
	if raw == "" || (mode == ModeFull && cur.Full == nil) {
		cur = cursorState{Full: &fullState{ResumeMS: r.now().Add(-r.overlap).UnixMilli()}}
	}
	if cur.Full != nil {
		or.Mode = ModeFull
		err = r.full(ctx, obj, &cur, &or)
	} else {
		err = r.incremental(ctx, obj, &cur, &or)
	}
	or.Complete = err == nil
	return or, err
}

// incremental walks the records modified since the checkpoint.
func (r *run) incremental(ctx context.Context, obj Object, cur *cursorState, or *ObjectReport) error {
	// Search lags writes: a record modified at t may only show up at
	// t+overlap. Everything the walk yields at or before safe was visible
	// when it started, so the checkpoint never moves past safe; whatever
	// lies beyond it is read again next time (re-reads write nothing, the
	// hashes say so).
	safe := r.now().Add(-r.overlap).UnixMilli()
	// The walk is made once, so it cannot take each fetch's context: a fetch
	// that pages cancels cancels the walk through this one.
	wctx, cancelWalk := context.WithCancel(ctx)
	defer cancelWalk()
	next, stop := iter.Pull2(r.hs.WalkModified(wctx, obj.HubSpotObject, cur.walkCursor(), obj.properties()))
	defer stop()
	pos := *cur
	src := func(fctx context.Context) ([]hubspot.Record, cursorState, bool, error) {
		defer context.AfterFunc(fctx, cancelWalk)()
		page, err, ok := next()
		if !ok {
			return nil, cursorState{}, false, nil
		}
		if err != nil {
			return nil, cursorState{}, false, fmt.Errorf("walk %s: %w", obj.HubSpotObject, err)
		}
		r.count("hubspot.search", 1)
		n := cursorState{SinceMS: page.Next.Since.UnixMilli(), AfterID: page.Next.AfterID}
		if n.SinceMS > safe {
			n = cursorState{SinceMS: max(safe, pos.SinceMS)}
			if n.SinceMS == pos.SinceMS {
				n.AfterID = pos.AfterID
			}
		}
		pos = n
		return page.Records, n, true, nil
	}
	err := r.pages(ctx, obj, src, or, func(n cursorState) error {
		*cur = n
		return r.checkpoint(ctx, obj, n, or)
	})
	if err != nil {
		return err
	}
	// The walk is finished: every record up to the cursor's millisecond was
	// read, and that millisecond is settled (at or before safe), so the next
	// walk may start after it. That makes an idle poll one search call,
	// where resuming inside the millisecond by id would cost two.
	if cur.AfterID != "" && cur.SinceMS <= safe {
		*cur = cursorState{SinceMS: cur.SinceMS + 1}
		if err := r.store.PutCursorLeased(ctx, r.env, cursorName(obj), cur.encode(), leaseName, r.id); err != nil {
			return fmt.Errorf("checkpoint: %w", err)
		}
	}
	return nil
}

// full lists every record, continuing a full sync in progress.
func (r *run) full(ctx context.Context, obj Object, cur *cursorState, or *ObjectReport) error {
	props := obj.properties()
	after, resume, done := cur.Full.After, cur.Full.ResumeMS, false
	src := func(fctx context.Context) ([]hubspot.Record, cursorState, bool, error) {
		if done {
			return nil, cursorState{}, false, nil
		}
		page, err := r.hs.List(fctx, obj.HubSpotObject, props, after, listPageSize)
		if err != nil {
			return nil, cursorState{}, false, fmt.Errorf("list %s: %w", obj.HubSpotObject, err)
		}
		r.count("hubspot.list", 1)
		after = page.After
		if after == "" {
			done = true
			return page.Results, cursorState{SinceMS: resume}, true, nil
		}
		return page.Results, cursorState{Full: &fullState{After: after, ResumeMS: resume}}, true, nil
	}
	return r.pages(ctx, obj, src, or, func(n cursorState) error {
		*cur = n
		err := r.checkpoint(ctx, obj, n, or)
		if n.Full == nil && errors.Is(err, errOutOfTime) {
			return nil // done: the budget only matters for what comes next
		}
		return err
	})
}

// pageSource returns the next page of records and the checkpoint after it;
// ok is false when there are no more. It only reads.
type pageSource func(ctx context.Context) (recs []hubspot.Record, next cursorState, ok bool, err error)

// pages runs the pages of src through prepare and commit, one at a time,
// calling checkpoint after each. While a page is written to Userpilot and
// saved, the next one is fetched and its profiles looked up: the lookups are
// reads, and the profiles the written page changed are carried over onto
// the next page (they are newer than what the lookup read), so the result
// is the same as one page after the other, in about half the time. When the
// run stops early the fetch in flight is cancelled, not waited out: it only
// reads, and its time belongs to the invocation's reserve.
func (r *run) pages(ctx context.Context, obj Object, src pageSource, or *ObjectReport, checkpoint func(cursorState) error) error {
	type fetched struct {
		in  *pageInput
		ok  bool
		err error
	}
	fctx, cancelFetch := context.WithCancel(ctx)
	defer cancelFetch()
	fetch := func() fetched {
		recs, next, ok, err := src(fctx)
		if err != nil || !ok {
			return fetched{ok: ok, err: err}
		}
		in, err := r.prepare(fctx, obj, recs)
		if err != nil {
			return fetched{err: err}
		}
		in.next = next
		return fetched{in: in, ok: true}
	}
	ch := make(chan fetched, 1)
	go func() { ch <- fetch() }()
	inFlight := true
	defer func() {
		if inFlight {
			cancelFetch()
			<-ch // src is not safe to use concurrently with the caller's cleanup
		}
	}()
	var carried map[string]*store.Profile
	for {
		f := <-ch
		inFlight = false
		if f.err != nil || !f.ok {
			return f.err
		}
		go func() { ch <- fetch() }()
		inFlight = true
		touched, err := r.commit(ctx, obj, f.in, carried, or)
		if err != nil {
			return err
		}
		carried = touched
		if err := checkpoint(f.in.next); err != nil {
			return err
		}
	}
}

// heartbeat renews the lease every third of its life until stop is closed.
// It calls lost when the lease is gone (another run holds it) or when
// renewals keep failing and the lease is about to end, so the run stops
// while the lease is still its own. taken is when the lease was last known
// to be extended (real clock, before the call that extended it).
func (r *run) heartbeat(ctx context.Context, taken time.Time, stop <-chan struct{}, lost context.CancelCauseFunc) {
	ttl := r.leaseTTL
	// Stop this long before the lease's end at the latest: room for the
	// writes in flight to be cancelled and for clock skew.
	reserve := ttl / 6
	valid := taken.Add(ttl)
	tick := time.NewTicker(ttl / 3)
	defer tick.Stop()
	for {
		select {
		case <-stop:
			return
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		start := time.Now()
		rctx, cancel := context.WithDeadline(ctx, valid.Add(-reserve))
		err := r.store.RenewLease(rctx, r.env, leaseName, r.id, ttl)
		cancel()
		switch {
		case err == nil:
			valid = start.Add(ttl)
		case errors.Is(err, store.ErrLeaseLost):
			lost(fmt.Errorf("renew lease: %w", err))
			return
		case ctx.Err() != nil:
			return
		default:
			r.log.WarnContext(ctx, "inbound: renew lease", "run", r.id, "err", err)
			if !time.Now().Before(valid.Add(-reserve - ttl/3)) {
				// The next attempt would come too late: stop now.
				lost(fmt.Errorf("renew lease: %w (%w)", store.ErrLeaseLost, err))
				return
			}
		}
	}
}

// checkpoint stores the cursor after a fully written page, provided the run
// still holds the lease, and reports errOutOfTime when no further page
// should start.
func (r *run) checkpoint(ctx context.Context, obj Object, cur cursorState, or *ObjectReport) error {
	if err := r.store.PutCursorLeased(ctx, r.env, cursorName(obj), cur.encode(), leaseName, r.id); err != nil {
		return fmt.Errorf("checkpoint: %w", err)
	}
	or.Pages++
	r.pageDone()
	if r.outOfTime() {
		return errOutOfTime
	}
	return nil
}

// pageInput is one page of HubSpot records with what the store knows about
// them.
type pageInput struct {
	views              []record
	profiles           map[string]*store.Profile
	byHubSpot, byMatch map[string][]string
	// next is the checkpoint once the page is written.
	next cursorState
}

// prepare looks up the profiles a page may link: those linked to its record
// ids (and ids merged into them) and those matching its match values.
func (r *run) prepare(ctx context.Context, obj Object, recs []hubspot.Record) (*pageInput, error) {
	in := &pageInput{views: make([]record, 0, len(recs)), profiles: map[string]*store.Profile{}}
	var hsIDs, values, direct []string
	for _, rec := range recs {
		if rec.Archived {
			continue
		}
		v := obj.view(rec)
		in.views = append(in.views, v)
		hsIDs = append(hsIDs, v.id)
		hsIDs = append(hsIDs, v.merged...)
		if obj.idMatch() {
			if v.primary != "" {
				direct = append(direct, v.primary)
			}
			continue
		}
		if v.primary != "" {
			values = append(values, v.primary)
		}
		values = append(values, v.additional...)
	}
	var err error
	in.byHubSpot, in.byMatch, err = r.lookups(ctx, obj, uniq(hsIDs), uniq(values))
	if err != nil {
		return nil, err
	}
	ids := slices.Clone(direct)
	for _, m := range []map[string][]string{in.byHubSpot, in.byMatch} {
		for _, ps := range m {
			ids = append(ids, ps...)
		}
	}
	if ids = uniq(ids); len(ids) > 0 {
		ps, err := r.store.GetProfiles(ctx, r.env, obj.Kind, ids)
		if err != nil {
			return nil, fmt.Errorf("read %d profiles: %w", len(ids), err)
		}
		maps.Copy(in.profiles, ps)
	}
	return in, nil
}

// commit links a prepared page, writes the changes to Userpilot and saves
// the profiles; carried are the profiles the previous page saved, newer than
// what prepare read. It returns the profiles it saved. A nil error means the
// page is fully written (permanent per-record failures included: they are
// reported, and retried only when the record changes again); an error means
// the checkpoint must not move.
func (r *run) commit(ctx context.Context, obj Object, in *pageInput, carried map[string]*store.Profile, or *ObjectReport) (map[string]*store.Profile, error) {
	maps.Copy(in.profiles, carried)
	// The lookups ran before the previous page was saved: add the links it
	// made, so that this page follows them (a merge, an unlink). Links it
	// removed need nothing: a profile whose HubSpotID moved on is skipped.
	for _, id := range slices.Sorted(maps.Keys(carried)) {
		p := carried[id]
		if p.HubSpotID == "" || slices.Contains(in.byHubSpot[p.HubSpotID], id) {
			continue
		}
		if in.byHubSpot == nil {
			in.byHubSpot = map[string][]string{}
		}
		in.byHubSpot[p.HubSpotID] = append(in.byHubSpot[p.HubSpotID], id)
	}
	pl := newPlanner(obj, r.env, r.now(), in.profiles, in.byHubSpot, in.byMatch)
	for _, v := range in.views {
		pl.apply(v)
	}
	changes := pl.result()
	results := r.write(ctx, obj, changes)
	var retry error
	for i, c := range changes {
		err := results[i]
		if err == nil {
			c.applyWritten()
			pl.touched[c.p.ID] = true
			pl.counts.Written++
			continue
		}
		pl.counts.Failed++
		permanent := isPermanent(err)
		if len(or.Failures) < maxReportedFailures {
			or.Failures = append(or.Failures, Failure{Profile: c.p.ID, HubSpotID: c.p.HubSpotID, Reason: err.Error(), Permanent: permanent})
		}
		if !permanent && retry == nil {
			retry = err
		}
	}
	or.Counts.Add(pl.counts)
	if err := r.save(ctx, obj, pl, changes, results); err != nil {
		return nil, err
	}
	if retry != nil {
		return nil, fmt.Errorf("userpilot write (retried next run): %w", retry)
	}
	saved := make(map[string]*store.Profile, len(pl.touched))
	for id := range pl.touched {
		saved[id] = pl.profiles[id]
	}
	return saved, nil
}

// lookups finds the profiles linked to the page's HubSpot ids and those
// matching its match values, concurrently.
func (r *run) lookups(ctx context.Context, obj Object, hsIDs, values []string) (byHubSpot, byMatch map[string][]string, err error) {
	var wg sync.WaitGroup
	var errHS, errMatch error
	if len(hsIDs) > 0 {
		wg.Go(func() { byHubSpot, errHS = r.store.LookupByHubSpotID(ctx, r.env, obj.Kind, hsIDs) })
	}
	if len(values) > 0 {
		wg.Go(func() { byMatch, errMatch = r.store.LookupByMatch(ctx, r.env, obj.Kind, values) })
	}
	wg.Wait()
	if errHS != nil {
		return nil, nil, fmt.Errorf("look up %d hubspot ids: %w", len(hsIDs), errHS)
	}
	if errMatch != nil {
		return nil, nil, fmt.Errorf("look up %d match values: %w", len(values), errMatch)
	}
	return byHubSpot, byMatch, nil
}

// isPermanent reports whether a Userpilot write can never succeed as it is.
// A bad API key is permanent for every record alike: it stops the run
// instead, so the checkpoint waits for the key to be fixed.
func isPermanent(err error) bool {
	return userpilot.IsPermanent(err) && !errors.Is(err, userpilot.ErrUnauthorized)
}

// write sends the page's changes to Userpilot and returns one result per
// change. Many changes go in one bulk job; when the job is refused for good
// (or fails), the records are sent one by one to find the bad ones.
func (r *run) write(ctx context.Context, obj Object, changes []*change) []error {
	results := make([]error, len(changes))
	if len(changes) == 0 {
		return results
	}
	if len(changes) >= BulkIdentifyThreshold {
		err := r.bulk(ctx, obj, changes)
		if err == nil {
			return results
		}
		if !isPermanent(err) && !isJobFailed(err) {
			for i := range results {
				results[i] = err
			}
			return results
		}
		r.log.WarnContext(ctx, "inbound: bulk identify refused, writing one by one", "object", obj.name(), "records", len(changes), "err", err)
	}
	for i, c := range changes {
		results[i] = r.identify(ctx, obj, c)
		if results[i] != nil && !isPermanent(results[i]) {
			// Rate limited past the client's retries, a bad key, or the
			// context ended: the rest would fail alike.
			for j := i + 1; j < len(changes); j++ {
				results[j] = results[i]
			}
			break
		}
	}
	return results
}

func isJobFailed(err error) bool {
	var je *userpilot.JobError
	return errors.As(err, &je)
}

func (r *run) bulk(ctx context.Context, obj Object, changes []*change) error {
	for chunk := range slices.Chunk(changes, maxBulkRows) {
		r.count("userpilot.bulk_identify", 1)
		var err error
		if obj.Kind == store.KindCompany {
			cos := make([]userpilot.Company, len(chunk))
			for i, c := range chunk {
				cos[i] = userpilot.Company{CompanyID: c.p.ID, Metadata: c.meta}
			}
			_, err = r.up.BulkIdentifyCompanies(ctx, cos)
		} else {
			users := make([]userpilot.User, len(chunk))
			for i, c := range chunk {
				users[i] = userpilot.User{UserID: c.p.ID, Metadata: c.meta}
			}
			_, err = r.up.BulkIdentifyUsers(ctx, users)
		}
		if err != nil {
			return fmt.Errorf("bulk identify %d %s: %w", len(chunk), obj.name(), err)
		}
	}
	return nil
}

func (r *run) identify(ctx context.Context, obj Object, c *change) error {
	r.count("userpilot.identify", 1)
	if obj.Kind == store.KindCompany {
		return r.up.IdentifyCompany(ctx, userpilot.Company{CompanyID: c.p.ID, Metadata: c.meta})
	}
	return r.up.IdentifyUser(ctx, userpilot.User{UserID: c.p.ID, Metadata: c.meta})
}

// save stores every profile the page touched. A profile changed meanwhile
// by someone else (an identify event) is re-read and the page's changes
// re-applied to it.
func (r *run) save(ctx context.Context, obj Object, pl *planner, changes []*change, results []error) error {
	var ps []*store.Profile
	for _, id := range slices.Sorted(maps.Keys(pl.touched)) {
		ps = append(ps, pl.profiles[id])
	}
	written := map[string]*change{}
	for i, c := range changes {
		if results[i] == nil {
			written[c.p.ID] = c
		}
	}
	for attempt := 1; len(ps) > 0; attempt++ {
		err := r.store.PutProfiles(ctx, ps)
		if err == nil {
			return nil
		}
		var be *store.BatchError
		if !errors.As(err, &be) || attempt >= saveAttempts {
			return fmt.Errorf("save %d profiles: %w", len(ps), err)
		}
		var conflicted []string
		for _, f := range be.Failed {
			if !errors.Is(f.Err, store.ErrConflict) {
				return fmt.Errorf("save profile: %w", err)
			}
			conflicted = append(conflicted, f.ID)
		}
		fresh, err := r.store.GetProfiles(ctx, r.env, obj.Kind, conflicted)
		if err != nil {
			return fmt.Errorf("re-read %d conflicting profiles: %w", len(conflicted), err)
		}
		ps = ps[:0]
		for _, id := range conflicted {
			mine := pl.profiles[id]
			f := fresh[id]
			if f == nil {
				// Gone or never created: store ours as new.
				mine.Version = 0
				ps = append(ps, mine)
				continue
			}
			f.HubSpotID, f.HubSpotObject = mine.HubSpotID, mine.HubSpotObject
			if f.InboundHashes == nil {
				f.InboundHashes = map[string]string{}
			}
			maps.Copy(f.InboundHashes, mine.InboundHashes)
			if c := written[id]; c != nil {
				c.p = f
				c.applyWritten()
			}
			pl.profiles[id] = f
			ps = append(ps, f)
		}
	}
	return nil
}

// runRecord converts a report to the store's run record.
func runRecord(env string, rep *Report) store.RunRecord {
	rec := store.RunRecord{
		Env: env, Job: JobInbound, ID: rep.RunID, Started: rep.Started, Finished: rep.Finished,
		Counts: map[string]int64{}, APICalls: rep.APICalls, Error: rep.Error,
	}
	for _, o := range rep.Objects {
		for k, v := range o.Counts.fields() {
			rec.Counts[o.Object+"."+k] = v
		}
		for _, f := range o.Failures {
			rec.Failures = append(rec.Failures, store.Failure{Record: o.Object + "/" + f.Profile, Field: f.HubSpotID, Reason: f.Reason})
		}
		if o.Cause != "" {
			rec.Causes = appendCause(rec.Causes, o.Object, o.Cause) // cause.go
		}
	}
	for k, v := range rep.Totals.fields() {
		rec.Counts[k] = v
	}
	if rep.Complete {
		rec.Counts["complete"] = 1
	} else {
		rec.Counts["complete"] = 0
	}
	return rec
}

// fields lists the counters by name.
func (c Counts) fields() map[string]int64 {
	return map[string]int64{
		"read": c.Read, "linked": c.Linked, "relinked": c.Relinked, "unlinked": c.Unlinked,
		"unmatched": c.Unmatched, "written": c.Written, "skipped": c.Skipped, "echoes": c.Echoes,
		"failed": c.Failed, "pages": c.Pages,
	}
}

func diffCalls(before, after map[string]int64) map[string]int64 {
	out := map[string]int64{}
	for k, v := range after {
		if d := v - before[k]; d != 0 {
			out[k] = d
		}
	}
	return out
}

func joinCapped(errs []string) string {
	const maxLen = 2000
	s := ""
	for i, e := range errs {
		if i > 0 {
			s += "; "
		}
		s += e
	}
	if len(s) > maxLen {
		s = s[:maxLen] + "…"
	}
	return s
}

func uniq(s []string) []string {
	slices.Sort(s)
	return slices.Compact(s)
}

func newRunID(t time.Time) string {
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	return t.UTC().Format("20060102T150405.000Z") + "-" + hex.EncodeToString(b)
}
