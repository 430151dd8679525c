// Package alert decides which outcomes of pilotsync's runs are problems for
// the admins, and reports them through the notifier (shared/notify), one per
// problem key however many records it hit, and resolves them when a later run
// of the same job is clean for the key.
//
// The mapping (InboundOutcome, ActivityOutcome) is pure: a run's report and
// its job's recent run records in, problems and clean keys out. An Alerter
// adds the I/O: it reads the run records it needs, sends, and logs what
// fails. Alerting never fails a sync: errors are logged and dropped.
//
// Problem keys ("inbound/users/hubspot_auth",
// "inbound/companies/records/invalid", "activity/outage", ...) are stable:
// the notifier keys its open/repeat state by them, so repeat suppression and
// reminders are its business, not this package's.
package alert

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/pilotsync/pilotsync/shared/deadline"
	"github.com/pilotsync/pilotsync/shared/forward"
	"github.com/pilotsync/pilotsync/shared/inbound"
	"github.com/pilotsync/pilotsync/shared/notify"
	"github.com/pilotsync/pilotsync/shared/store"
)

// Notifier sends problem and recovery notices; *notify.Notifier implements it.
type Notifier interface {
	Problem(ctx context.Context, env string, p notify.Problem) error
	Resolved(ctx context.Context, env, key string) error
}

// RunLister reads a job's recent run records, newest first; *store.Store
// implements it.
type RunLister interface {
	ListRuns(ctx context.Context, env, job string, limit int) ([]store.RunRecord, error)
}

var (
	_ Notifier  = (*notify.Notifier)(nil)
	_ RunLister = (*store.Store)(nil)
)

const (
	// inboundHistory is how many inbound run records each inbound run reads:
	// QuietRuns and an hour of 5-minute polls for an outage's start.
	inboundHistory = 12
	// activityHistory is how many activity run records a stalled batch reads
	// to date the outage (batches are frequent; 50 covers the outage window
	// unless the queue is busy, and then the oldest of them is the start).
	activityHistory = 50
	// DefaultActivityInterval spaces the activity checks that cost store
	// calls (resolving keys, reading history) within one process: batches
	// arrive many a second under load, and a check a minute is plenty.
	DefaultActivityInterval = time.Minute
	// sendTimeout bounds the notifications of one run; they run on a context
	// detached from the run's, so a run that used its whole time still
	// reports, but never past the invocation's cleanup deadline
	// (shared/deadline), so the handler still answers in time.
	sendTimeout = 10 * time.Second
)

// Alerter reports the problems of runs. Build it once per cold start; it is
// safe for concurrent use. A nil *Alerter does nothing.
type Alerter struct {
	n          Notifier
	runs       RunLister
	env        string
	log        *slog.Logger
	now        func() time.Time
	th         Thresholds
	actEvery   time.Duration
	mu         sync.Mutex
	lastClean  time.Time // last activity resolve
	lastOutage time.Time // last activity history read
}

// Option configures an Alerter.
type Option func(*Alerter)

// WithLogger sets the logger.
func WithLogger(l *slog.Logger) Option { return func(a *Alerter) { a.log = l } }

// WithClock sets the time source (tests).
func WithClock(now func() time.Time) Option { return func(a *Alerter) { a.now = now } }

// WithThresholds sets when lasting conditions become problems.
func WithThresholds(th Thresholds) Option { return func(a *Alerter) { a.th = th } }

// WithActivityInterval sets how often one process resolves activity keys
// and reads activity history (default DefaultActivityInterval; 0 = every batch).
func WithActivityInterval(d time.Duration) Option { return func(a *Alerter) { a.actEvery = max(d, 0) } }

// New returns an alerter for env (userpilot.environment as config.Load gives
// it: run records are kept per environment) reporting through n and reading
// run records from runs. It returns nil (alerting off) when n is nil or a notifier that
// sends nothing (no sender or recipients configured): tracking problems
// nobody is told about would only cost store writes.
func New(n Notifier, runs RunLister, env string, opts ...Option) *Alerter {
	if n == nil || runs == nil {
		return nil
	}
	if nn, ok := n.(*notify.Notifier); ok && (nn == nil || !nn.Enabled()) {
		return nil
	}
	a := &Alerter{n: n, runs: runs, env: env, log: slog.Default(), now: time.Now, actEvery: DefaultActivityInterval}
	for _, o := range opts {
		o(a)
	}
	return a
}

// Inbound reports the problems of an inbound run and resolves the keys it
// proved clean.
func (a *Alerter) Inbound(ctx context.Context, rep *inbound.Report) {
	if a == nil || rep == nil {
		return
	}
	ctx, cancel := deadline.Cleanup(ctx, sendTimeout)
	defer cancel()
	history, err := a.runs.ListRuns(ctx, a.env, inbound.JobInbound, inboundHistory)
	if err != nil {
		// Without history only immediate problems can be told; nothing that
		// needs a quiet period is resolved.
		a.log.WarnContext(ctx, "alert: read inbound run records", "err", err)
		history = nil
	}
	out := InboundOutcome(rep, history, a.now(), a.th)
	a.send(ctx, inbound.JobInbound, out)
}

// Activity reports the problems of an activity batch. Resolving keys and
// dating an outage read the store, so each happens at most once per
// activity interval in this process.
func (a *Alerter) Activity(ctx context.Context, run ActivityRun) {
	if a == nil || run.Report == nil {
		return
	}
	ctx, cancel := deadline.Cleanup(ctx, sendTimeout)
	defer cancel()
	var history []store.RunRecord
	c := run.Report.Counts
	if c[forward.CountFailedMessages] > 0 && c[forward.CountSent] == 0 && a.due(&a.lastOutage) {
		h, err := a.runs.ListRuns(ctx, a.env, forward.JobName, activityHistory)
		if err != nil {
			a.log.WarnContext(ctx, "alert: read activity run records", "err", err)
		} else {
			history = h
			if history == nil {
				history = []store.RunRecord{}
			}
		}
	}
	out := ActivityOutcome(run, history, a.now(), a.th)
	if len(out.Clean) > 0 && !a.due(&a.lastClean) {
		out.Clean = nil
	}
	a.send(ctx, forward.JobName, out)
}

// due reports whether the activity interval has passed since *last, and if
// so sets it to now.
func (a *Alerter) due(last *time.Time) bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	now := a.now()
	if !last.IsZero() && now.Sub(*last) < a.actEvery {
		return false
	}
	*last = now
	return true
}

// send reports out's problems and resolves its clean keys, logging failures.
func (a *Alerter) send(ctx context.Context, job string, out Outcome) {
	for _, p := range out.Problems {
		if err := a.n.Problem(ctx, a.env, p); err != nil {
			a.log.ErrorContext(ctx, "alert: report problem", "job", job, "problem", p.Key, "err", err)
		}
	}
	for _, key := range out.Clean {
		if err := a.n.Resolved(ctx, a.env, key); err != nil {
			a.log.WarnContext(ctx, "alert: resolve problem", "job", job, "problem", key, "err", err)
		}
	}
}
