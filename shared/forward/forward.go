package forward

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/pilotsync/pilotsync/shared/activity"
	"github.com/pilotsync/pilotsync/shared/config"
)

const (
	// DefaultLedgerTTL is how long delivered event ids are kept: a year and a
	// day, as long as HubSpot keeps custom event uuids
	// (https://developers.hubspot.com/docs/api/analytics/events). The queue
	// keeps messages 4 days and the DLQ 14, but a redrive
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
	// DefaultCacheSize bounds the per-cold-start cache of users HubSpot did
	// not know (links themselves are never cached: see resolve.go).
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
	// Linker resolves users to HubSpot records (required unless the sink is
	// none).
	Linker Linker
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
	linker       Linker
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
	idMatch      bool
	matchCo      string
	outboundUser []string
	outboundCo   []string
	fixedEnabled time.Time
	misses       *missCache

	enabledMu sync.Mutex
	enabledAt time.Time
}

// New validates the options and builds a Forwarder. o.Config has its
// defaults applied (config.Load, config.Parse or config.Defaults): New does
// not apply them again.
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
		linker:      o.Linker,
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
		matchCo:     cfg.Mapping.Companies.Match.Userpilot,
		misses:      newMissCache(o.CacheSize),
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
	f.idMatch = f.matchUP == "user_id" || f.matchUP == "id"
	if cfg.Activity.Sink == config.SinkNone {
		f.sink = nil
	}
	if f.sink != nil && f.linker == nil {
		return nil, errors.New("forward: a sink needs a linker to resolve HubSpot ids")
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
