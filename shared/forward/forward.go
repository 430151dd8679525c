package forward

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/pilotsync/pilotsync/shared/activity"
	"github.com/pilotsync/pilotsync/shared/config"
	"github.com/pilotsync/pilotsync/shared/store"
)

const (
	// DefaultLedgerTTL is how long delivered event ids are kept: a year and a
	// day, as long as HubSpot keeps custom event uuids (HUBSPOT.md, "Custom
	// events"). The queue keeps messages 4 days and the DLQ 14, but a redrive
	// from the DLQ enqueues a message afresh (and our own dead-letters are new
	// messages), so a message can come back any number of times: no TTL tied
	// to the queues covers that. Instead the ledger outlives HubSpot's own
	// memory, and events older than the ledger can vouch for are not sent
	// (see maxEventAge). An id costs one small item: a year of ids at HubSpot's
	// 30 million occurrences a month is a few GB at most.
	DefaultLedgerTTL = 366 * 24 * time.Hour
	// ledgerSlack is how much younger than the ledger's TTL an event must be
	// to be sent: entries are written after the event happened, so an event
	// younger than TTL-slack always finds its entry, with a day to spare for
	// clock skew between Userpilot and Lambda.
	ledgerSlack = 24 * time.Hour
	// AggregateMaxAge is the oldest event added to the daily aggregates. The
	// store keeps the per-event marks that make aggregates exactly-once for
	// 35 days (shared/store activityMarkRetention): an older event might have
	// been counted already and its mark expired, so it is not counted again.
	// Measured properties look at recent periods: such stragglers barely matter.
	AggregateMaxAge = 30 * 24 * time.Hour
	// DefaultCacheSize bounds the per-cold-start user → HubSpot id cache.
	DefaultCacheSize = 50_000
	// defaultIdentifyWorkers bounds concurrent profile merges (each is a few
	// DynamoDB calls; more would only queue behind the table's throughput).
	defaultIdentifyWorkers = 8
	// maxReasonLen bounds the DLQ reason attribute (SQS attribute values may be
	// 256 KiB, but a reason is for people).
	maxReasonLen = 1000
	// DefaultDeadlineMargin leaves time to write the ledger and answer before
	// the Lambda timeout: a send cut off by the timeout costs the whole batch
	// a redelivery, a deferred one only its own messages.
	DefaultDeadlineMargin = 5 * time.Second
	// maxLedgerWriters bounds ledger writes running beside the sends (each
	// is itself up to 4 concurrent BatchWriteItem calls in the store).
	maxLedgerWriters = 2
	// maxLinkWriters bounds concurrent profile links after a batch read.
	maxLinkWriters = 8
	// ledgerPrefix namespaces the forwarder's ledger entries.
	ledgerPrefix = "fwd:"
)

// Step names passed to Options.StepHook, in order.
const (
	StepParsed     = "parsed"
	StepIdentified = "identified"
	StepAggregated = "aggregated"
	StepResolved   = "resolved"
	StepSend       = "send"     // before each send call
	StepRecord     = "record"   // after a send, before its ledger write
	StepRecorded   = "recorded" // after the ledger write
	StepDeadLetter = "dead_letter"
)

// ErrAborted is returned by Process when Options.StepHook stopped the batch.
var ErrAborted = errors.New("forward: batch aborted")

// Options configures a Forwarder.
type Options struct {
	Config *config.Config
	Store  Store
	// Finder resolves users not yet linked (required unless the sink is none).
	Finder Finder
	// Sink delivers activity; nil (or config sink "none") counts and drops it.
	Sink Sink
	// Runs, when set, gets a run record (job "activity") per batch.
	Runs RunRecorder
	// DLQ takes messages that can never succeed; nil reports them as failed so
	// the queue's redrive policy moves them.
	DLQ    DeadLetterQueue
	Logger *slog.Logger
	// Now defaults to time.Now.
	Now       func() time.Time
	CacheSize int
	LedgerTTL time.Duration
	// DeadlineMargin: no send starts when less than this is left before the
	// context's deadline (the Lambda timeout); the events left are retried.
	// Default DefaultDeadlineMargin; negative disables.
	DeadlineMargin time.Duration
	// StepHook, when set, runs after each step of Process; an error stops the
	// batch there, as a crash would (tests use it to "kill" the process).
	StepHook func(ctx context.Context, step string) error
}

// Forwarder is the activity engine. It is built once per cold start and is
// safe for concurrent use.
type Forwarder struct {
	env          string
	classifier   *activity.Classifier
	st           Store
	finder       Finder
	sink         Sink
	dlq          DeadLetterQueue
	runs         RunRecorder
	log          *slog.Logger
	now          func() time.Time
	hook         func(ctx context.Context, step string) error
	ledgerTTL    time.Duration
	maxEventAge  time.Duration // older activity is not sent: see DefaultLedgerTTL
	margin       time.Duration
	grace        time.Duration
	usersObject  string
	matchUP      string
	matchHS      string
	matchCo      string
	outboundUser []string
	outboundCo   []string
	fixedEnabled time.Time
	cache        *idCache

	enabledMu sync.Mutex
	enabledAt time.Time
}

// New validates the options and builds a Forwarder.
func New(o Options) (*Forwarder, error) {
	if o.Config == nil || o.Store == nil {
		return nil, errors.New("forward: config and store are required")
	}
	cfg := o.Config
	cl, err := activity.NewClassifier(cfg.Activity)
	if err != nil {
		return nil, fmt.Errorf("forward: %w", err)
	}
	f := &Forwarder{
		env:         cfg.Userpilot.Environment,
		classifier:  cl,
		st:          o.Store,
		finder:      o.Finder,
		sink:        o.Sink,
		dlq:         o.DLQ,
		runs:        o.Runs,
		log:         o.Logger,
		now:         o.Now,
		hook:        o.StepHook,
		ledgerTTL:   o.LedgerTTL,
		margin:      o.DeadlineMargin,
		grace:       cfg.Activity.UnmatchedGrace.D(),
		usersObject: cfg.Mapping.Users.HubSpotObject,
		matchUP:     cfg.Mapping.Users.Match.Userpilot,
		matchHS:     cfg.Mapping.Users.Match.HubSpot,
		matchCo:     cfg.Mapping.Companies.Match.Userpilot,
		cache:       newIDCache(o.CacheSize),
	}
	if f.env == "" {
		f.env = config.EnvProduction
	}
	if f.log == nil {
		f.log = slog.Default()
	}
	if f.now == nil {
		f.now = time.Now
	}
	if f.margin == 0 {
		f.margin = DefaultDeadlineMargin
	}
	if f.ledgerTTL <= 0 {
		f.ledgerTTL = DefaultLedgerTTL
	}
	f.maxEventAge = f.ledgerTTL - ledgerSlack
	if f.maxEventAge <= 0 {
		f.maxEventAge = f.ledgerTTL
	}
	if f.usersObject == "" {
		f.usersObject = "contacts"
	}
	if f.matchUP == "" {
		f.matchUP = "email"
	}
	if f.matchHS == "" {
		f.matchHS = "email"
	}
	if cfg.Activity.Sink == config.SinkNone {
		f.sink = nil
	}
	if f.sink != nil && f.finder == nil {
		return nil, errors.New("forward: a sink needs a finder to resolve HubSpot ids")
	}
	if cfg.Activity.EnabledAt != nil {
		f.fixedEnabled = cfg.Activity.EnabledAt.UTC()
	}
	for _, m := range cfg.Mapping.Users.Outbound {
		f.outboundUser = append(f.outboundUser, m.Userpilot)
	}
	for _, m := range cfg.Mapping.Companies.Outbound {
		f.outboundCo = append(f.outboundCo, m.Userpilot)
	}
	return f, nil
}

// Classifier is the classifier built from the config (for the setup step).
func (f *Forwarder) Classifier() *activity.Classifier { return f.classifier }

// pending is one valid, de-duplicated event of the batch.
type pending struct {
	ev    activity.Event
	class activity.Class
}

// batch is the state of one Process call.
type batch struct {
	mu      sync.Mutex // guards msgs' retry and problems
	f       *Forwarder
	c       *counts
	msgs    []msgState
	events  []*pending
	holders map[string][]int // event id → indexes of the messages holding it
	// sinkErr is the error of the sink's last failing call (Prepare, or a
	// Send whose items are retried), for Report.SinkErr; guarded by mu.
	sinkErr error
}

// sinkFailed keeps err as the batch's latest sink error.
func (b *batch) sinkFailed(err error) {
	b.mu.Lock()
	b.sinkErr = err
	b.mu.Unlock()
}

type msgState struct {
	msg      Message
	problems []*activity.Error // permanent: the message goes to the DLQ
	retry    bool
	events   int
}

// retry marks every message holding p for redelivery.
func (b *batch) retry(p *pending) {
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, i := range b.holders[p.ev.InternalEventID] {
		b.msgs[i].retry = true
	}
}

// reject records a permanent problem with p on every message holding it.
func (b *batch) reject(p *pending, code, problem string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, i := range b.holders[p.ev.InternalEventID] {
		b.msgs[i].problems = append(b.msgs[i].problems, &activity.Error{
			MessageID: b.msgs[i].msg.ID, Record: p.ev.Index, Code: code, Problem: problem})
	}
}

func (f *Forwarder) step(ctx context.Context, name string) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("forward: %s: %w", name, err)
	}
	if f.hook != nil {
		if err := f.hook(ctx, name); err != nil {
			return fmt.Errorf("%w at %s: %w", ErrAborted, name, err)
		}
	}
	return nil
}

// Process handles one batch of messages. It returns an error only when the
// batch was cut short (context ended, StepHook): then nothing may be deleted
// and every message is redelivered. Otherwise the report's Failed messages
// are to be retried and all others deleted.
func (f *Forwarder) Process(ctx context.Context, msgs []Message) (*Report, error) {
	started := f.now()
	b := &batch{f: f, c: newCounts(), msgs: make([]msgState, len(msgs)), holders: map[string][]int{}}
	b.c.add(CountMessages, len(msgs))
	b.parse(msgs)
	if err := f.step(ctx, StepParsed); err != nil {
		return nil, err
	}
	if len(b.events) > 0 {
		if err := b.dropBeforeEnabled(ctx); err != nil {
			return nil, err
		}
	}
	var idents, others []*pending
	for _, p := range b.events {
		if p.ev.IsIdentify() {
			idents = append(idents, p)
		} else {
			others = append(others, p)
		}
	}
	b.identify(ctx, idents)
	if err := f.step(ctx, StepIdentified); err != nil {
		return nil, err
	}
	// Aggregates and forwarding are independent: run them side by side.
	aggDone := make(chan error, 1)
	go func() {
		b.aggregate(ctx, others)
		aggDone <- f.step(ctx, StepAggregated)
	}()
	fwdErr := b.forward(ctx, others)
	if err := cmp.Or(fwdErr, <-aggDone); err != nil {
		return nil, err
	}
	rep, err := b.finish(ctx)
	if err != nil {
		return nil, err
	}
	f.log.InfoContext(ctx, "activity batch", "messages", len(msgs), "failed", len(rep.Failed),
		"dead_lettered", len(rep.DeadLettered), "counts", rep.Counts, "unknown", rep.Unknown,
		"duration_ms", f.now().Sub(started).Milliseconds())
	f.recordRun(ctx, msgs, started, rep, b)
	return rep, nil
}

// parse parses every message, drops other-environment events and echoes,
// and de-duplicates events by id across the batch.
func (b *batch) parse(msgs []Message) {
	for i, m := range msgs {
		st := &b.msgs[i]
		st.msg = m
		evs, problems := activity.Parse(m.ID, m.Body)
		st.problems = problems
		if len(problems) > 0 {
			b.c.add(CountInvalidMessages, 1)
			bad := map[int]bool{}
			for _, p := range problems {
				if p.Record >= 0 {
					bad[p.Record] = true
				}
			}
			b.c.add(CountInvalidEvents, len(bad))
		}
		b.c.add(CountEvents, len(evs))
		for _, ev := range evs {
			switch {
			case ev.Environment() != b.f.env:
				b.c.add(CountOtherEnvironment, 1)
				continue
			case ev.Echo():
				b.c.add(CountEcho, 1)
				continue
			}
			st.events++
			if h, dup := b.holders[ev.InternalEventID]; dup {
				b.c.add(CountDuplicateInBatch, 1)
				if h[len(h)-1] != i {
					b.holders[ev.InternalEventID] = append(h, i)
				}
				continue
			}
			b.holders[ev.InternalEventID] = []int{i}
			b.events = append(b.events, &pending{ev: ev})
		}
	}
}

// dropBeforeEnabled drops events that happened before the integration was
// enabled (no past events). When the enable time cannot be read, every
// message holding events is retried.
func (b *batch) dropBeforeEnabled(ctx context.Context) error {
	at, err := b.f.enabledTime(ctx)
	if err != nil {
		if ctx.Err() != nil {
			return fmt.Errorf("forward: enabled time: %w", ctx.Err())
		}
		b.f.log.ErrorContext(ctx, "activity: read enabled time", "err", err)
		for _, p := range b.events {
			b.retry(p)
		}
		b.events = nil
		return nil
	}
	kept := b.events[:0]
	for _, p := range b.events {
		if p.ev.InsertedAt.Before(at) {
			b.c.add(CountBeforeEnabled, 1)
			continue
		}
		kept = append(kept, p)
	}
	b.events = kept
	return nil
}

// enabledTime is config's enabled_at, else the store's (first caller wins),
// cached for the life of the process.
func (f *Forwarder) enabledTime(ctx context.Context) (time.Time, error) {
	if !f.fixedEnabled.IsZero() {
		return f.fixedEnabled, nil
	}
	f.enabledMu.Lock()
	defer f.enabledMu.Unlock()
	if !f.enabledAt.IsZero() {
		return f.enabledAt, nil
	}
	at, err := f.st.EnabledAt(ctx, f.env, f.now())
	if err != nil {
		return time.Time{}, fmt.Errorf("forward: enabled time: %w", err)
	}
	f.enabledAt = at
	return at, nil
}

// identify merges identify events into profiles: one profile's events in
// order, different profiles concurrently.
func (b *batch) identify(ctx context.Context, idents []*pending) {
	if len(idents) == 0 {
		return
	}
	type profKey struct {
		kind store.Kind
		id   string
	}
	groups := map[profKey][]*pending{}
	var order []profKey
	for _, p := range idents {
		k := profKey{store.KindUser, p.ev.UserID}
		if p.ev.Type == activity.TypeIdentifyCompany {
			k = profKey{store.KindCompany, p.ev.CompanyID}
		}
		if _, ok := groups[k]; !ok {
			order = append(order, k)
		}
		groups[k] = append(groups[k], p)
	}
	b.c.add(CountIdentify, len(idents))
	work := make(chan profKey)
	var wg sync.WaitGroup
	for range min(defaultIdentifyWorkers, len(order)) {
		wg.Go(func() {
			for k := range work {
				for _, p := range groups[k] {
					in := store.IdentifyInput{Properties: p.ev.Properties, At: p.ev.InsertedAt}
					if k.kind == store.KindUser {
						in.CompanyID, in.MatchProperty, in.Outbound = p.ev.CompanyID, b.f.matchUP, b.f.outboundUser
					} else {
						in.MatchProperty = b.f.matchCo
						in.Outbound = b.f.outboundCo
					}
					res, err := b.f.st.MergeIdentify(ctx, b.f.env, k.kind, k.id, in)
					if err != nil {
						b.c.add(CountIdentifyFailed, 1)
						b.f.log.WarnContext(ctx, "activity: merge identify", "message", p.ev.MessageID, "record", p.ev.Index, "kind", k.kind, "err", err)
						b.retry(p)
						continue
					}
					if len(res.Changed) > 0 || res.Created {
						b.c.add(CountProfilesChanged, 1)
					}
					if res.MatchChanged && k.kind == store.KindUser {
						// The user's match value moved: its cached link may be stale.
						b.f.cache.forget(b.f.env, k.id)
					}
				}
			}
		})
	}
	for _, k := range order {
		work <- k
	}
	close(work)
	wg.Wait()
}

// aggregate adds every non-identify event to the daily aggregates of its user
// and company, exactly once per event (the store marks event ids).
func (b *batch) aggregate(ctx context.Context, others []*pending) {
	if len(others) == 0 {
		return
	}
	deltas := make([]store.ActivityDelta, 0, 2*len(others))
	now := b.f.now()
	var added []*pending
	for _, p := range others {
		if now.Sub(p.ev.InsertedAt) > AggregateMaxAge {
			b.c.add(CountAggregateTooOld, 1)
			continue
		}
		added = append(added, p)
		d := store.ActivityDelta{Day: p.ev.Day(), FirstSeen: p.ev.InsertedAt, LastSeen: p.ev.InsertedAt}
		if p.ev.Type == activity.TypeSessionStart {
			d.Sessions = 1
		} else {
			d.Events = 1
		}
		u := d
		u.Kind, u.ID, u.EventIDs = store.KindUser, p.ev.UserID, []string{"user:" + p.ev.InternalEventID}
		// The user's delta also feeds the rolling summaries of the user and its
		// company that the daily measured run reads.
		u.CompanyID = p.ev.CompanyID
		u.Context = store.ActivityContext{
			Hostname: p.ev.Hostname, Pathname: p.ev.Pathname, CountryCode: p.ev.CountryCode,
			Browser: p.ev.Browser, OperatingSystem: p.ev.OperatingSystem, DeviceType: p.ev.DeviceType,
		}
		deltas = append(deltas, u)
		if p.ev.CompanyID != "" {
			co := d
			co.Kind, co.ID, co.EventIDs = store.KindCompany, p.ev.CompanyID, []string{"company:" + p.ev.InternalEventID}
			deltas = append(deltas, co)
		}
	}
	// Grouped by profile and day, a transaction holds one counter update and
	// ~99 event marks instead of one update per event: half the transactions.
	slices.SortStableFunc(deltas, func(a, b store.ActivityDelta) int {
		return cmp.Or(cmp.Compare(a.Kind, b.Kind), cmp.Compare(a.ID, b.ID), cmp.Compare(a.Day, b.Day))
	})
	if len(deltas) == 0 {
		return
	}
	if err := b.f.st.AddActivity(ctx, b.f.env, deltas); err != nil {
		b.c.add(CountAggregateFailed, len(added))
		b.f.log.WarnContext(ctx, "activity: add to daily aggregates", "events", len(added), "err", err)
		for _, p := range added {
			b.retry(p)
		}
		return
	}
	b.c.add(CountAggregated, len(added))
}

// forward classifies, de-duplicates against the ledger, resolves and sends
// the activity events.
func (b *batch) forward(ctx context.Context, others []*pending) error {
	f := b.f
	now := f.now()
	var acts []*pending
	for _, p := range others {
		p.class = f.classifier.Classify(&p.ev)
		if p.class.Unknown != "" {
			if p.class.Unknown == activity.UnknownEntityType {
				b.c.add(CountUnknownEntityType, 1)
			} else {
				b.c.add(CountUnknownStatus, 1)
			}
			b.c.addUnknown(p.ev.Type + "/" + p.class.Key())
			continue
		}
		if p.class.Kind != activity.KindActivity {
			continue
		}
		b.c.add(CountActivity, 1)
		switch {
		case now.Sub(p.ev.InsertedAt) >= f.maxEventAge:
			// Neither the ledger nor HubSpot's uuid rule could recognise it
			// as delivered: sending it risks a duplicate.
			b.c.add(CountTooOld, 1)
		case !f.classifier.Enabled(p.class.Category, p.class.Status):
			b.c.add(CountCategoryFiltered, 1)
		case f.sink == nil:
			b.c.add(CountSinkNone, 1)
		default:
			acts = append(acts, p)
		}
	}
	if len(acts) == 0 {
		return f.step(ctx, StepResolved)
	}

	// Skip events already delivered.
	ids := make([]string, len(acts))
	for i, p := range acts {
		ids[i] = ledgerPrefix + p.ev.InternalEventID
	}
	seen, err := f.st.LedgerSeen(ctx, f.env, ids)
	if err != nil {
		f.log.WarnContext(ctx, "activity: ledger check", "events", len(acts), "err", err)
		for _, p := range acts {
			b.retry(p)
		}
		return f.step(ctx, StepResolved)
	}
	fresh := acts[:0]
	for _, p := range acts {
		if seen[ledgerPrefix+p.ev.InternalEventID] {
			b.c.add(CountDuplicateLedger, 1)
			continue
		}
		fresh = append(fresh, p)
	}
	acts = fresh

	// Resolve HubSpot ids.
	users := make([]string, 0, len(acts))
	dupUser := map[string]bool{}
	for _, p := range acts {
		if !dupUser[p.ev.UserID] {
			dupUser[p.ev.UserID] = true
			users = append(users, p.ev.UserID)
		}
	}
	objectIDs, resolveErr := f.resolve(ctx, b.c, users)
	if resolveErr != nil {
		f.log.WarnContext(ctx, "activity: resolve HubSpot ids", "users", len(users), "err", resolveErr)
		// A revoked token or the daily limit often shows first on the batch
		// read that resolves users: keep it so alerts name the cause.
		b.sinkFailed(resolveErr)
	}
	now = f.now()
	var ready []*pending
	for _, p := range acts {
		if _, ok := objectIDs[p.ev.UserID]; ok {
			ready = append(ready, p)
			continue
		}
		switch {
		case resolveErr != nil:
			b.c.add(CountResolveFailed, 1)
			b.retry(p)
		case f.grace > 0 && inGrace(now.Sub(p.ev.InsertedAt), f.grace):
			b.c.add(CountUnmatchedWaiting, 1)
			b.retry(p)
		default:
			b.c.add(CountUnmatched, 1)
		}
	}
	if err := f.step(ctx, StepResolved); err != nil {
		return err
	}
	if len(ready) == 0 {
		return nil
	}

	// Targets (definitions, templates), then send in as few calls as allowed.
	names := map[string]activity.Pair{}
	items := make([]Item, 0, len(ready))
	for _, p := range ready {
		occ := f.classifier.Encode(&p.ev, p.class)
		items = append(items, Item{Occurrence: occ, ObjectID: objectIDs[p.ev.UserID]})
		names[occ.Name] = activity.Pair{Category: occ.Category, Status: occ.Status}
	}
	targets, err := f.sink.Prepare(ctx, names)
	if err != nil {
		f.log.WarnContext(ctx, "activity: prepare sink", "sink", f.sink.Name(), "err", err)
		b.sinkFailed(err)
		for _, p := range ready {
			b.retry(p)
		}
		return nil
	}
	byID := make(map[string]*pending, len(ready))
	sendable := items[:0]
	for i, it := range items {
		t, ok := targets[it.Name]
		if !ok {
			b.c.add(CountNoTarget, 1)
			continue
		}
		it.Target = t
		byID[it.EventID] = ready[i]
		sendable = append(sendable, it)
	}
	per := max(f.sink.MaxBatch(), 1)
	rec := &recorder{b: b, sema: make(chan struct{}, maxLedgerWriters)}
	var refused []rejection
	defer func() { b.recheck(ctx, refused, byID) }()
	for start := 0; start < len(sendable); start += per {
		if dl, ok := ctx.Deadline(); ok && f.margin > 0 && time.Until(dl) < f.margin {
			left := sendable[start:]
			b.c.add(CountDeferred, len(left))
			f.log.WarnContext(ctx, "activity: too close to the deadline to send: the rest is retried", "events", len(left))
			for _, it := range left {
				b.retry(byID[it.EventID])
			}
			break
		}
		chunk := sendable[start:min(start+per, len(sendable))]
		if err := f.step(ctx, StepSend); err != nil {
			return cmp.Or(rec.wait(), err)
		}
		delivered, failed, rejected := b.send(ctx, chunk)
		for _, it := range failed {
			b.retry(byID[it.EventID])
		}
		refused = append(refused, rejected...)
		if len(delivered) == 0 {
			continue
		}
		b.c.add(CountSent, len(delivered))
		if err := f.step(ctx, StepRecord); err != nil {
			return cmp.Or(rec.wait(), err)
		}
		// Record in the ledger while the next chunk is being sent.
		rec.start(ctx, delivered)
	}
	return rec.wait()
}

// inGrace reports whether an unmatched event of this age is still waited
// for: younger than the grace period, and stamped less than the grace period
// ahead. An event stamped further in the future (a bad client clock) would
// otherwise stay "younger than the grace period" for as long as the queue kept
// retrying it; this way no event is waited for longer than twice the period.
func inGrace(age, grace time.Duration) bool { return age > -grace && age < grace }

// recheck handles the events HubSpot refused for good. A refusal may be the
// link's fault rather than the event's: the record was merged away (a new
// id) or deleted since the user was linked. So the users are looked up again
// by match value: a different record re-links them and the message is
// retried (it then goes to the surviving record); no record drops the event
// as unmatched; the same record means the event itself is refused, and its
// message is dead-lettered with HubSpot's reason.
func (b *batch) recheck(ctx context.Context, refused []rejection, byID map[string]*pending) {
	if len(refused) == 0 {
		return
	}
	f := b.f
	var users []string
	sentTo := map[string]string{} // user → the record id the refused event went to
	for _, r := range refused {
		u := byID[r.item.EventID].ev.UserID
		if _, ok := sentTo[u]; !ok {
			users = append(users, u)
		}
		sentTo[u] = r.item.ObjectID
		f.cache.forget(f.env, u)
	}
	values := map[string]string{} // user → match value
	var profiles map[string]*store.Profile
	var found map[string]string
	var err error
	if profiles, err = f.st.GetProfiles(ctx, f.env, store.KindUser, users); err == nil {
		var vs []string
		for _, u := range users {
			if v := f.matchValue(profiles[u], u); v != "" {
				values[u] = v
				vs = append(vs, v)
			}
		}
		if len(vs) > 0 {
			found, err = f.finder.FindByMatch(ctx, f.usersObject, f.matchHS, vs)
		}
	}
	if err != nil {
		// Cannot tell whether the link is at fault: retry rather than
		// dead-letter events that may be fine.
		f.log.WarnContext(ctx, "activity: re-check refused events' records", "users", len(users), "err", err)
		b.sinkFailed(err)
		for _, r := range refused {
			b.retry(byID[r.item.EventID])
		}
		return
	}
	norm := make(map[string]string, len(found))
	for v, id := range found {
		norm[store.NormalizeMatch(v)] = id
	}
	relinked := map[string]bool{}
	for _, r := range refused {
		p := byID[r.item.EventID]
		u := p.ev.UserID
		v, hasValue := values[u]
		hsID, inHubSpot := norm[v]
		switch {
		case hasValue && !inHubSpot:
			b.c.add(CountUnmatched, 1)
		case hasValue && hsID != sentTo[u]:
			if !relinked[u] {
				relinked[u] = true
				b.c.add(CountRelinked, 1)
				f.link(ctx, b.c, profiles[u], u, v, hsID)
				f.cache.put(f.env, u, hsID, f.now())
			}
			b.retry(p)
		default:
			b.c.add(CountRejected, 1)
			b.reject(p, "rejected", "HubSpot rejected the event: "+r.reason)
		}
	}
}

// recorder writes delivered events to the ledger in the background, one
// write per sent chunk.
type recorder struct {
	b    *batch
	wg   sync.WaitGroup
	mu   sync.Mutex
	err  error
	sema chan struct{}
}

func (r *recorder) start(ctx context.Context, delivered []Item) {
	f := r.b.f
	ids := make([]string, len(delivered))
	for i, it := range delivered {
		ids[i] = ledgerPrefix + it.EventID
	}
	r.sema <- struct{}{}
	r.wg.Go(func() {
		defer func() { <-r.sema }()
		if err := f.st.LedgerRecord(ctx, f.env, ids, f.ledgerTTL); err != nil {
			// Delivered is delivered: a redelivery re-sends with the same id and
			// HubSpot drops the repeat, so the messages still count as done.
			r.b.c.add(CountLedgerErrors, len(ids))
			f.log.WarnContext(ctx, "activity: ledger record", "events", len(ids), "err", err)
		}
		if err := f.step(ctx, StepRecorded); err != nil {
			r.mu.Lock()
			r.err = cmp.Or(r.err, err)
			r.mu.Unlock()
		}
	})
}

// wait waits for the ledger writes and returns the first abort.
func (r *recorder) wait() error {
	r.wg.Wait()
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.err
}

type rejection struct {
	item   Item
	reason string
}

// send delivers one chunk. A permanent error on a chunk of several items is
// split in halves to find the items HubSpot refuses; the rest still go.
func (b *batch) send(ctx context.Context, items []Item) (delivered, failed []Item, rejected []rejection) {
	b.c.add(CountSendCalls, 1)
	err := b.f.sink.Send(ctx, items)
	switch {
	case err == nil:
		return items, nil, nil
	case ctx.Err() != nil || !b.f.sink.Permanent(err):
		b.c.add(CountSendFailed, len(items))
		b.f.log.WarnContext(ctx, "activity: send", "sink", b.f.sink.Name(), "events", len(items), "err", err)
		b.sinkFailed(err)
		return nil, items, nil
	case len(items) == 1:
		return nil, nil, []rejection{{items[0], truncateReason(err.Error(), 300)}}
	}
	mid := len(items) / 2
	d1, f1, r1 := b.send(ctx, items[:mid])
	d2, f2, r2 := b.send(ctx, items[mid:])
	return append(d1, d2...), append(f1, f2...), append(r1, r2...)
}

// finish dead-letters the messages that can never succeed and builds the
// report.
func (b *batch) finish(ctx context.Context) (*Report, error) {
	rep := &Report{}
	for i := range b.msgs {
		st := &b.msgs[i]
		switch {
		case st.retry:
			rep.Failed = append(rep.Failed, st.msg.ID)
		case len(st.problems) > 0:
			if err := b.f.step(ctx, StepDeadLetter); err != nil {
				return nil, err
			}
			reason := summarize(st.problems)
			if b.f.dlq == nil {
				b.f.log.ErrorContext(ctx, "activity: invalid message and no dead-letter queue: left for the redrive policy", "message", st.msg.ID, "reason", reason)
				rep.Failed = append(rep.Failed, st.msg.ID)
				continue
			}
			if err := b.f.dlq.DeadLetter(ctx, st.msg, reason); err != nil {
				b.f.log.ErrorContext(ctx, "activity: dead-letter", "message", st.msg.ID, "err", err)
				rep.Failed = append(rep.Failed, st.msg.ID)
				continue
			}
			b.f.log.WarnContext(ctx, "activity: message dead-lettered", "message", st.msg.ID, "reason", reason)
			rep.DeadLettered = append(rep.DeadLettered, st.msg.ID)
		}
	}
	b.c.add(CountDeadLettered, len(rep.DeadLettered))
	b.c.add(CountFailedMessages, len(rep.Failed))
	rep.Counts, rep.Unknown = b.c.snapshot()
	b.mu.Lock()
	rep.SinkErr = b.sinkErr
	b.mu.Unlock()
	return rep, nil
}

// JobName is the run record job of the activity forwarder.
const JobName = "activity"

// recordRun stores the batch's run record: counts, and as failures the
// dead-lettered messages and unclassified activity (ids and codes only).
func (f *Forwarder) recordRun(ctx context.Context, msgs []Message, started time.Time, rep *Report, b *batch) {
	if f.runs == nil || len(msgs) == 0 {
		return
	}
	r := store.RunRecord{Env: f.env, Job: JobName, ID: msgs[0].ID, Started: started, Finished: f.now(), Counts: rep.Counts}
	for _, st := range b.msgs {
		for _, p := range st.problems {
			field := p.Field
			if p.Record >= 0 {
				field = fmt.Sprintf("record %d %s", p.Record, p.Field)
			}
			r.Failures = append(r.Failures, store.Failure{Record: st.msg.ID, Field: strings.TrimSpace(field), Reason: p.Code + ": " + p.Problem})
		}
	}
	for _, k := range sortedKeys(rep.Unknown) {
		r.Failures = append(r.Failures, store.Failure{Record: k, Field: "classification",
			Reason: fmt.Sprintf("unknown entity type or status (%d events): add an activity.rules entry to forward it", rep.Unknown[k])})
	}
	if err := f.runs.PutRun(ctx, r); err != nil {
		f.log.WarnContext(ctx, "activity: store run record", "err", err)
	}
}

// summarize joins a message's problems into its DLQ reason. Problems never
// hold values, so the reason is free of personal data.
func summarize(ps []*activity.Error) string {
	var sb strings.Builder
	for i, p := range ps {
		if i > 0 {
			sb.WriteString("; ")
		}
		s := p.Code + ": " + strings.TrimPrefix(p.Error(), "activity: ")
		if sb.Len()+len(s) > maxReasonLen {
			fmt.Fprintf(&sb, "and %d more", len(ps)-i)
			break
		}
		sb.WriteString(s)
	}
	return sb.String()
}

func truncateReason(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "..."
}
