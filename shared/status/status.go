// Package status gathers what `pilotsync status` shows an admin: the last
// runs of every job, the cursors and how far behind they are, the lease
// holder, open problems, the activity queue and its dead-letter queue, and
// quarantined records by reason. It only reads (the dead-letter peek, when
// used, leaves every message visible).
//
// Jobs, cursors, leases and problems are found through the store's names
// index, so a new job's run records show with no change here; run records
// are shown generically (their counts and API-call maps as stored).
package status

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/pilotsync/pilotsync/shared/forward"
	"github.com/pilotsync/pilotsync/shared/inbound"
	"github.com/pilotsync/pilotsync/shared/store"
)

// KnownJobs are shown even when the names index does not list them yet (a
// table whose run records predate the index): the inbound poll, the activity
// forwarder, the outbound push and the daily measured job.
var KnownJobs = []string{inbound.JobInbound, forward.JobName, "outbound", "measured"}

// DefaultRuns is how many runs per job are shown.
const DefaultRuns = 3

// sqsMaxReceive is SQS's ReceiveMessage limit (MaxNumberOfMessages), which
// bounds the dead-letter sample
// (https://docs.aws.amazon.com/AWSSimpleQueueService/latest/APIReference/API_ReceiveMessage.html).
const sqsMaxReceive = 10

// Store is what Gather reads from the store.
type Store interface {
	Names(ctx context.Context, env, what string) ([]string, error)
	ListRuns(ctx context.Context, env, job string, limit int) ([]store.RunRecord, error)
	CursorInfo(ctx context.Context, env, name string) (store.CursorInfo, error)
	Lease(ctx context.Context, env, name string) (store.LeaseInfo, error)
	Problems(ctx context.Context, env string, keys []string) ([]store.ProblemInfo, error)
	QuarantineSummary(ctx context.Context, env string, maxItems int) (store.QuarantineSummary, error)
}

// Queues is the SQS calls Gather makes.
type Queues interface {
	GetQueueAttributes(ctx context.Context, in *sqs.GetQueueAttributesInput, opts ...func(*sqs.Options)) (*sqs.GetQueueAttributesOutput, error)
	ReceiveMessage(ctx context.Context, in *sqs.ReceiveMessageInput, opts ...func(*sqs.Options)) (*sqs.ReceiveMessageOutput, error)
	ChangeMessageVisibilityBatch(ctx context.Context, in *sqs.ChangeMessageVisibilityBatchInput, opts ...func(*sqs.Options)) (*sqs.ChangeMessageVisibilityBatchOutput, error)
}

// Ager gives the age of a queue's oldest message from a source that does not
// touch the queue (CloudWatch's ApproximateAgeOfOldestMessage in AWS). ok is
// false when the source has no data point.
type Ager interface {
	OldestAge(ctx context.Context, queueName string) (age time.Duration, ok bool, err error)
}

// Options says what Gather reads.
type Options struct {
	Env string
	// Runs per job (DefaultRuns when 0).
	Runs int
	// QueueURL and DLQURL are the activity queue and its dead-letter queue
	// ("" skips one).
	QueueURL, DLQURL string
	// Ager, when set, gives both queues' oldest-message age (deployed).
	Ager Ager
	// PeekDLQ samples up to 10 dead-letter messages, made visible again at
	// once, for their reasons and the oldest age in the sample (local: moto publishes no CloudWatch metrics).
	// Receiving raises a message's receive count, which matters only on a
	// queue with a redrive policy: never peek the activity queue.
	PeekDLQ bool
	// QuarantineScan bounds the items scanned for quarantined profiles
	// (store.DefaultQuarantineScan when 0; negative skips the scan).
	QuarantineScan int
	// Now is the clock (time.Now when nil).
	Now func() time.Time
}

// Report is the status of one environment.
type Report struct {
	Env         string           `json:"env"`
	At          time.Time        `json:"at"`
	Jobs        []Job            `json:"jobs"`
	Cursors     []Cursor         `json:"cursors"`
	Leases      []Lease          `json:"leases"`
	Problems    []Problem        `json:"problems"`
	Queues      []Queue          `json:"queues"`
	Quarantine  *Quarantine      `json:"quarantine,omitempty"`
	Unavailable []string         `json:"unavailable,omitempty"`
	errs        map[string]error // part -> why it could not be read
}

// Job is one job's latest runs, newest first.
type Job struct {
	Job  string `json:"job"`
	Runs []Run  `json:"runs"`
}

// Outcomes of a run.
const (
	OutcomeOK       = "ok"
	OutcomeFailures = "with_failures" // finished, some records failed
	OutcomeFailed   = "failed"        // the run stopped on an error
)

// Run is one run record.
type Run struct {
	ID         string           `json:"id"`
	Started    time.Time        `json:"started"`
	Finished   time.Time        `json:"finished"`
	DurationMS int64            `json:"duration_ms"`
	Outcome    string           `json:"outcome"`
	Error      string           `json:"error,omitempty"`
	Counts     map[string]int64 `json:"counts,omitempty"`
	APICalls   map[string]int64 `json:"api_calls,omitempty"`
	// APICallsTotal sums APICalls.
	APICallsTotal int64 `json:"api_calls_total"`
	// Failures is the number of failed records stored with the run.
	Failures int `json:"failures"`
}

// Cursor is a checkpoint and how far behind it is.
type Cursor struct {
	Name    string    `json:"name"`
	Written time.Time `json:"written"`
	// Position is the time the cursor resumes from, when its value says (the
	// inbound cursors' since_ms); zero otherwise.
	Position time.Time `json:"position,omitzero"`
	// LagSeconds is now minus Position, else now minus Written.
	LagSeconds float64 `json:"lag_seconds"`
	// LagFrom is "position" or "written": what LagSeconds measures from.
	LagFrom string `json:"lag_from"`
}

// Lease is a lease's last holder.
type Lease struct {
	Name  string    `json:"name"`
	Owner string    `json:"owner"`
	Until time.Time `json:"until"`
	// Held is true while the lease is live (Until after now).
	Held bool `json:"held"`
}

// Problem is an open problem.
type Problem struct {
	Key          string    `json:"key"`
	Summary      string    `json:"summary"`
	Opened       time.Time `json:"opened"`
	LastSeen     time.Time `json:"last_seen"`
	LastNotified time.Time `json:"last_notified"`
}

// Queue is a queue's depth and age.
type Queue struct {
	Name     string `json:"name"` // "activity" or "dead-letter"
	URL      string `json:"url"`
	Visible  int64  `json:"visible"`   // ApproximateNumberOfMessages
	InFlight int64  `json:"in_flight"` // ApproximateNumberOfMessagesNotVisible
	Delayed  int64  `json:"delayed"`   // ApproximateNumberOfMessagesDelayed
	// OldestAgeSeconds is the oldest message's age when known; AgeFrom says
	// how: "cloudwatch", "sample" (the oldest of the peeked messages, a lower
	// bound) or "" (unknown).
	OldestAgeSeconds *float64 `json:"oldest_age_seconds,omitempty"`
	AgeFrom          string   `json:"age_from,omitempty"`
	// Reasons counts the sampled dead-letter messages by reason code (the
	// forwarder's pilotsync_reason attribute up to its first ':';
	// "max_receives" for messages the redrive policy moved, which have none).
	Reasons map[string]int `json:"reasons,omitempty"`
	Sampled int            `json:"sampled,omitempty"`
}

// Quarantine counts quarantined records by kind and reason.
type Quarantine struct {
	ByReason map[string]map[string]int `json:"by_reason"`
	Profiles int                       `json:"profiles"`
	Scanned  int                       `json:"scanned"`
	Complete bool                      `json:"complete"`
}

// Gather reads the status of o.Env. A part that cannot be read is listed in
// Unavailable (and Err) and the rest is still gathered; the error is non-nil
// only when nothing could be read from the store.
func Gather(ctx context.Context, st Store, q Queues, o Options) (*Report, error) {
	now := time.Now
	if o.Now != nil {
		now = o.Now
	}
	if o.Runs <= 0 {
		o.Runs = DefaultRuns
	}
	r := &Report{Env: o.Env, At: now().UTC(), errs: map[string]error{}}
	r.gatherRuns(ctx, st, o)
	r.gatherCursors(ctx, st, o.Env, r.At)
	r.gatherLeases(ctx, st, o.Env, r.At)
	r.gatherProblems(ctx, st, o.Env)
	if q != nil {
		for _, qu := range []struct{ name, url string }{{"activity", o.QueueURL}, {"dead-letter", o.DLQURL}} {
			if qu.url != "" {
				r.gatherQueue(ctx, q, o, qu.name, qu.url, r.At)
			}
		}
	}
	if o.QuarantineScan >= 0 {
		sum, err := st.QuarantineSummary(ctx, o.Env, o.QuarantineScan)
		if err != nil {
			r.fail("quarantine", err)
		} else {
			qr := &Quarantine{ByReason: map[string]map[string]int{}, Profiles: sum.Profiles, Scanned: sum.Scanned, Complete: sum.Complete}
			for k, m := range sum.ByReason {
				qr.ByReason[string(k)] = m
			}
			r.Quarantine = qr
		}
	}
	if r.errs["jobs"] != nil && r.errs["cursors"] != nil && r.errs["leases"] != nil && r.errs["problems"] != nil {
		return r, fmt.Errorf("status: the store cannot be read: %w", r.errs["jobs"])
	}
	return r, nil
}

// Err returns why each unavailable part could not be read.
func (r *Report) Err() error {
	var errs []error
	for _, part := range r.Unavailable {
		errs = append(errs, fmt.Errorf("%s: %w", part, r.errs[part]))
	}
	return errors.Join(errs...)
}

func (r *Report) fail(part string, err error) {
	if _, dup := r.errs[part]; !dup {
		r.Unavailable = append(r.Unavailable, part)
	}
	r.errs[part] = err
}

func (r *Report) gatherRuns(ctx context.Context, st Store, o Options) {
	names, err := st.Names(ctx, o.Env, store.NamesJob)
	if err != nil {
		r.fail("jobs", err)
	}
	jobs := slices.Clone(KnownJobs)
	for _, n := range names {
		if !slices.Contains(jobs, n) {
			jobs = append(jobs, n)
		}
	}
	for _, job := range jobs {
		runs, err := st.ListRuns(ctx, o.Env, job, o.Runs)
		if err != nil {
			r.fail("runs of "+job, err)
			continue
		}
		if len(runs) == 0 && !slices.Contains(names, job) {
			continue // a known job that never ran here
		}
		j := Job{Job: job, Runs: []Run{}}
		for _, rr := range runs {
			j.Runs = append(j.Runs, runOf(rr))
		}
		r.Jobs = append(r.Jobs, j)
	}
}

func runOf(rr store.RunRecord) Run {
	run := Run{
		ID: rr.ID, Started: rr.Started, Finished: rr.Finished, Error: rr.Error,
		Counts: rr.Counts, APICalls: rr.APICalls, Failures: len(rr.Failures), Outcome: OutcomeOK,
	}
	if !rr.Finished.IsZero() {
		run.DurationMS = rr.Finished.Sub(rr.Started).Milliseconds()
	}
	for _, n := range rr.APICalls {
		run.APICallsTotal += n
	}
	switch {
	case rr.Error != "":
		run.Outcome = OutcomeFailed
	case len(rr.Failures) > 0:
		run.Outcome = OutcomeFailures
	}
	return run
}

func (r *Report) gatherCursors(ctx context.Context, st Store, env string, now time.Time) {
	names, err := st.Names(ctx, env, store.NamesCursor)
	if err != nil {
		r.fail("cursors", err)
		return
	}
	for _, n := range names {
		c, err := st.CursorInfo(ctx, env, n)
		if errors.Is(err, store.ErrNotFound) {
			continue
		}
		if err != nil {
			r.fail("cursors", err)
			continue
		}
		r.Cursors = append(r.Cursors, cursorOf(c, now))
	}
}

// cursorOf reads a cursor's position from its value when the value is a JSON
// object with since_ms (the inbound cursors'); other values are opaque, and
// the lag is then the time since the cursor was written.
func cursorOf(c store.CursorInfo, now time.Time) Cursor {
	out := Cursor{Name: c.Name, Written: c.At, LagFrom: "written"}
	var v struct {
		SinceMS *int64 `json:"since_ms"`
	}
	if json.Unmarshal([]byte(c.Value), &v) == nil && v.SinceMS != nil && *v.SinceMS > 0 {
		out.Position = time.UnixMilli(*v.SinceMS).UTC()
		out.LagFrom = "position"
		out.LagSeconds = now.Sub(out.Position).Seconds()
		return out
	}
	if !c.At.IsZero() {
		out.LagSeconds = now.Sub(c.At).Seconds()
	}
	return out
}

func (r *Report) gatherLeases(ctx context.Context, st Store, env string, now time.Time) {
	names, err := st.Names(ctx, env, store.NamesLease)
	if err != nil {
		r.fail("leases", err)
		return
	}
	for _, n := range names {
		l, err := st.Lease(ctx, env, n)
		if errors.Is(err, store.ErrNotFound) {
			continue // released
		}
		if err != nil {
			r.fail("leases", err)
			continue
		}
		r.Leases = append(r.Leases, Lease{Name: n, Owner: l.Owner, Until: l.Until, Held: l.Until.After(now)})
	}
}

func (r *Report) gatherProblems(ctx context.Context, st Store, env string) {
	keys, err := st.Names(ctx, env, store.NamesProblem)
	if err != nil {
		r.fail("problems", err)
		return
	}
	if len(keys) == 0 {
		return
	}
	ps, err := st.Problems(ctx, env, keys)
	if err != nil {
		r.fail("problems", err)
		return
	}
	for _, p := range ps {
		r.Problems = append(r.Problems, Problem{Key: p.Key, Summary: p.Summary, Opened: p.Opened, LastSeen: p.Seen, LastNotified: p.Notified})
	}
}

func (r *Report) gatherQueue(ctx context.Context, q Queues, o Options, name, url string, now time.Time) {
	part := name + " queue"
	out, err := q.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{
		QueueUrl: aws.String(url),
		AttributeNames: []sqstypes.QueueAttributeName{
			sqstypes.QueueAttributeNameApproximateNumberOfMessages,
			sqstypes.QueueAttributeNameApproximateNumberOfMessagesNotVisible,
			sqstypes.QueueAttributeNameApproximateNumberOfMessagesDelayed,
		},
	})
	if err != nil {
		r.fail(part, fmt.Errorf("queue attributes: %w", err))
		return
	}
	attr := func(n sqstypes.QueueAttributeName) int64 {
		v, _ := strconv.ParseInt(out.Attributes[string(n)], 10, 64)
		return v
	}
	qu := Queue{
		Name: name, URL: url,
		Visible:  attr(sqstypes.QueueAttributeNameApproximateNumberOfMessages),
		InFlight: attr(sqstypes.QueueAttributeNameApproximateNumberOfMessagesNotVisible),
		Delayed:  attr(sqstypes.QueueAttributeNameApproximateNumberOfMessagesDelayed),
	}
	if o.Ager != nil {
		age, ok, err := o.Ager.OldestAge(ctx, queueName(url))
		if err != nil {
			r.fail(part+" age", err)
		} else if ok {
			s := age.Seconds()
			qu.OldestAgeSeconds, qu.AgeFrom = &s, "cloudwatch"
		}
	}
	if name == "dead-letter" && o.PeekDLQ && qu.Visible > 0 {
		if err := peek(ctx, q, url, now, &qu); err != nil {
			r.fail(part+" sample", err)
		}
	}
	r.Queues = append(r.Queues, qu)
}

// peek samples up to 10 dead-letter messages and makes them visible again
// (a VisibilityTimeout of 0 on the receive is the SDK's zero value, which it
// does not send: the queue's default would hide them).
func peek(ctx context.Context, q Queues, url string, now time.Time, qu *Queue) error {
	out, err := q.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{
		QueueUrl:                    aws.String(url),
		MaxNumberOfMessages:         sqsMaxReceive,
		MessageAttributeNames:       []string{forward.AttrReason},
		MessageSystemAttributeNames: []sqstypes.MessageSystemAttributeName{sqstypes.MessageSystemAttributeNameSentTimestamp},
	})
	if err != nil {
		return fmt.Errorf("sample dead-letter messages: %w", err)
	}
	if len(out.Messages) > 0 {
		entries := make([]sqstypes.ChangeMessageVisibilityBatchRequestEntry, 0, len(out.Messages))
		for i, m := range out.Messages {
			entries = append(entries, sqstypes.ChangeMessageVisibilityBatchRequestEntry{Id: aws.String(strconv.Itoa(i)), ReceiptHandle: m.ReceiptHandle})
		}
		res, err := q.ChangeMessageVisibilityBatch(context.WithoutCancel(ctx), &sqs.ChangeMessageVisibilityBatchInput{QueueUrl: aws.String(url), Entries: entries})
		if err != nil {
			return fmt.Errorf("make sampled dead-letter messages visible again: %w", err)
		}
		if len(res.Failed) > 0 {
			return fmt.Errorf("%d sampled dead-letter messages stay hidden until their visibility timeout: %s", len(res.Failed), aws.ToString(res.Failed[0].Message))
		}
	}
	qu.Reasons = map[string]int{}
	var oldest time.Time
	for _, m := range out.Messages {
		qu.Sampled++
		qu.Reasons[ReasonCode(MessageReason(m))]++
		if ms, err := strconv.ParseInt(m.Attributes[string(sqstypes.MessageSystemAttributeNameSentTimestamp)], 10, 64); err == nil {
			if t := time.UnixMilli(ms); oldest.IsZero() || t.Before(oldest) {
				oldest = t
			}
		}
	}
	if !oldest.IsZero() && qu.AgeFrom == "" {
		s := now.Sub(oldest).Seconds()
		qu.OldestAgeSeconds, qu.AgeFrom = &s, "sample"
	}
	return nil
}

// ReasonMaxReceives is the reason of a dead-letter message the queue's
// redrive policy moved after maxReceiveCount failed receives: it carries no
// reason attribute.
const ReasonMaxReceives = "max_receives"

// MessageReason is the reason the forwarder recorded on a dead-lettered
// message, ReasonMaxReceives when it has none.
func MessageReason(m sqstypes.Message) string {
	if v, ok := m.MessageAttributes[forward.AttrReason]; ok && aws.ToString(v.StringValue) != "" {
		return aws.ToString(v.StringValue)
	}
	return ReasonMaxReceives
}

// ReasonCode is a reason up to its first ':' (the forwarder writes
// "code: detail; code: detail"), for grouping.
func ReasonCode(reason string) string {
	code, _, _ := strings.Cut(reason, ":")
	return strings.TrimSpace(code)
}

// queueName is the last path element of a queue URL.
func queueName(url string) string {
	return url[strings.LastIndex(url, "/")+1:]
}
