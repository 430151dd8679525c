// Package metrics turns a run's report into one CloudWatch embedded metric
// format (EMF) line on stdout: Lambda's log agent turns it into metrics in
// the "pilotsync" namespace (dimensions Function and Job), which the
// template's dashboard shows next to the alarms. No API call, no extra
// permission: the line is a log line.
// https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/CloudWatch_Embedded_Metric_Format_Specification.html
package metrics

import (
	"context"
	"encoding/json"
	"io"
	"maps"
	"os"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-lambda-go/lambdacontext"

	"github.com/pilotsync/pilotsync/shared/forward"
	"github.com/pilotsync/pilotsync/shared/inbound"
)

// Namespace is the CloudWatch namespace of pilotsync's metrics.
const Namespace = "pilotsync"

// maxMetrics is the most metrics one EMF directive may declare (EMF
// specification: "MUST NOT contain more than 100 metrics").
const maxMetrics = 100

// Metric names (the dashboard in template.yaml uses them).
const (
	RecordsRead        = "RecordsRead"
	RecordsWritten     = "RecordsWritten"
	RecordsSent        = "RecordsSent"
	RecordsFailed      = "RecordsFailed"
	RecordsQuarantined = "RecordsQuarantined"
	EventsDelivered    = "EventsDelivered"
	// EventsDropped is the prefix of the per-reason drop counts
	// ("EventsDropped_unmatched", ...); EventsDropped itself is their sum.
	EventsDropped        = "EventsDropped"
	MessagesFailed       = "MessagesFailed"
	MessagesDeadLettered = "MessagesDeadLettered"
	ConcurrentDeliveries = "ConcurrentDeliveries"
	APICalls             = "APICalls"
	RateLimited          = "RateLimited"
	RunFailed            = "RunFailed"
	DurationMS           = "DurationMs"
	// CursorLagSeconds is how far the inbound checkpoint furthest behind
	// stands before the run's end (inbound.ObjectReport.CursorLagSeconds).
	CursorLagSeconds = "CursorLagSeconds"
)

// Emitter writes EMF lines. A nil *Emitter writes nothing. Safe for
// concurrent use.
type Emitter struct {
	mu       sync.Mutex
	w        io.Writer
	function string
	now      func() time.Time
}

// New returns an emitter writing to w, naming function in the Function
// dimension.
func New(w io.Writer, function string) *Emitter {
	return &Emitter{w: w, function: function, now: time.Now}
}

// Default returns an emitter on stdout inside Lambda (the function's log
// stream; AWS_LAMBDA_FUNCTION_NAME names it), nil (off) elsewhere, where the
// lines would only clutter a terminal.
func Default() *Emitter {
	fn := os.Getenv("AWS_LAMBDA_FUNCTION_NAME")
	if fn == "" {
		return nil
	}
	return New(os.Stdout, fn)
}

// Emit writes one EMF line for a run of job with values (metric name →
// count; "Ms"-suffixed names are milliseconds, "Seconds"-suffixed seconds) and the Lambda request id
// when ctx carries one.
func (e *Emitter) Emit(ctx context.Context, job string, values map[string]float64) {
	if e == nil || len(values) == 0 {
		return
	}
	names := slices.Sorted(maps.Keys(values))
	if len(names) > maxMetrics {
		names = names[:maxMetrics]
	}
	defs := make([]map[string]string, len(names))
	line := map[string]any{"Function": e.function, "Job": job}
	for i, n := range names {
		unit := "Count"
		switch {
		case strings.HasSuffix(n, "Ms"):
			unit = "Milliseconds"
		case strings.HasSuffix(n, "Seconds"):
			unit = "Seconds"
		}
		defs[i] = map[string]string{"Name": n, "Unit": unit}
		line[n] = values[n]
	}
	line["_aws"] = map[string]any{
		"Timestamp": e.now().UnixMilli(),
		"CloudWatchMetrics": []any{map[string]any{
			"Namespace":  Namespace,
			"Dimensions": [][]string{{"Function", "Job"}},
			"Metrics":    defs,
		}},
	}
	if lc, ok := lambdacontext.FromContext(ctx); ok {
		line["requestId"] = lc.AwsRequestID
	}
	b, err := json.Marshal(line)
	if err != nil {
		return
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	_, _ = e.w.Write(append(b, '\n'))
}

// Inbound writes the metrics of an inbound run (job "inbound"). API calls
// count every HubSpot and Userpilot request; keys ending in ".429" (the
// handler's rate-limit counters) count 429 answers instead.
func (e *Emitter) Inbound(ctx context.Context, rep *inbound.Report) {
	if e == nil || rep == nil || rep.Status == inbound.StatusLeaseHeld {
		return
	}
	v := map[string]float64{
		RecordsRead:    float64(rep.Totals.Read),
		RecordsWritten: float64(rep.Totals.Written),
		RecordsFailed:  float64(rep.Totals.Failed),
		DurationMS:     float64(rep.DurationMS),
		RunFailed:      0,
	}
	if rep.Status == inbound.StatusFailed {
		v[RunFailed] = 1
	}
	var calls, limited float64
	for k, n := range rep.APICalls {
		if strings.HasSuffix(k, RateLimitSuffix) {
			limited += float64(n)
		} else {
			calls += float64(n)
		}
	}
	v[APICalls], v[RateLimited] = calls, limited
	for _, o := range rep.Objects {
		if !o.CursorAt.IsZero() {
			v[CursorLagSeconds] = max(v[CursorLagSeconds], o.CursorLagSeconds)
		}
	}
	e.Emit(ctx, inbound.JobInbound, v)
}

// RateLimitSuffix ends the API-call keys that count 429 answers.
const RateLimitSuffix = ".429"

// droppedReasons are the forwarder's counts of events not delivered, each
// its own EventsDropped_<reason> metric.
var droppedReasons = []string{
	forward.CountOtherEnvironment, forward.CountBeforeEnabled, forward.CountEcho, forward.CountTooOld,
	forward.CountCategoryFiltered, forward.CountSinkNone, forward.CountNoTarget, forward.CountRejected,
	forward.CountUnmatched, forward.CountInvalidEvents,
}

// DroppedMetric is the metric of events dropped for reason (a forward count).
func DroppedMetric(reason string) string {
	return EventsDropped + "_" + strings.TrimPrefix(reason, "dropped_")
}

// Activity writes the metrics of an activity batch (job "activity").
func (e *Emitter) Activity(ctx context.Context, rep *forward.Report, took time.Duration) {
	if e == nil || rep == nil {
		return
	}
	c := rep.Counts
	v := map[string]float64{
		EventsDelivered:      float64(c[forward.CountSent]),
		MessagesFailed:       float64(c[forward.CountFailedMessages]),
		MessagesDeadLettered: float64(c[forward.CountDeadLettered]),
		APICalls:             float64(c[forward.CountSendCalls]),
		ConcurrentDeliveries: float64(c[forward.CountConcurrentDelivery]),
		DurationMS:           float64(took.Milliseconds()),
	}
	var dropped float64
	for _, r := range droppedReasons {
		v[DroppedMetric(r)] = float64(c[r])
		dropped += float64(c[r])
	}
	v[EventsDropped] = dropped
	e.Emit(ctx, forward.JobName, v)
}

// Counts writes a job's named counts as metrics: the known names (read,
// written, sent, failed, quarantined) under their metric names, the rest
// as they are.
func (e *Emitter) Counts(ctx context.Context, job string, counts map[string]int64, failed bool) {
	if e == nil {
		return
	}
	known := map[string]string{"read": RecordsRead, "written": RecordsWritten, "sent": RecordsSent,
		"failed": RecordsFailed, "quarantined": RecordsQuarantined}
	v := map[string]float64{RunFailed: 0}
	if failed {
		v[RunFailed] = 1
	}
	for k, n := range counts {
		if m, ok := known[k]; ok {
			k = m
		}
		v[k] = float64(n)
	}
	e.Emit(ctx, job, v)
}
