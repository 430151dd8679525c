package alert

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/pilotsync/pilotsync/shared/forward"
	"github.com/pilotsync/pilotsync/shared/inbound"
	"github.com/pilotsync/pilotsync/shared/notify"
	"github.com/pilotsync/pilotsync/shared/store"
)

const (
	// DefaultOutageAfter is how long a retryable failure must last, across
	// runs, before it is a problem: three 5-minute polls, long enough that a
	// HubSpot or Userpilot blip the next run absorbs never mails anyone.
	DefaultOutageAfter = 15 * time.Minute
	// DefaultLeaseStuckAfter: the inbound lease is stuck when it is held and
	// no inbound run has finished for this long. A run lasts at most the
	// Lambda maximum of 15 minutes (Lambda quotas), plus a 5-minute period.
	DefaultLeaseStuckAfter = 30 * time.Minute
	// QuietRuns is how many recent inbound runs must be free of a record
	// failure category before its problem is resolved. Permanent failures are
	// not retried, so a single clean run proves little; six 5-minute runs
	// (half an hour) keep a trickle of bad records from flapping between
	// problem and recovery mails.
	QuietRuns = 6
	// maxListed caps the record ids a problem lists ("a few"); Count has the total.
	maxListed = 5
)

// Keys of job-wide problems.
const (
	// KeyLeaseStuck: the inbound lease is held and no run finished for DefaultLeaseStuckAfter.
	KeyLeaseStuck = "inbound/lease_stuck"
	// KeyActivityInvalid: activity messages dead-lettered as invalid.
	KeyActivityInvalid = "activity/dead_lettered/invalid"
	// KeyActivityRejected: events HubSpot refused for good (dead-lettered).
	KeyActivityRejected = "activity/dead_lettered/rejected"
)

// InboundKey is the problem key of an inbound object type ("users",
// "companies") stopped by cause.
func InboundKey(object string, cause Cause) string { return "inbound/" + object + "/" + string(cause) }

// RecordKey is the problem key of an object type's permanent per-record
// failures of one category.
func RecordKey(object string, c RecordCategory) string {
	return "inbound/" + object + "/records/" + string(c)
}

// ActivityKey is the problem key of the activity forwarder stopped by cause.
func ActivityKey(cause Cause) string { return "activity/" + string(cause) }

// Outcome is what one run means for the admins: the problems it found, and
// the keys it proved clean (to resolve, which mails a recovery notice when
// the problem was open).
type Outcome struct {
	Problems []notify.Problem
	Clean    []string
}

// Thresholds tune when a lasting condition becomes a problem; zero fields
// take the defaults.
type Thresholds struct {
	OutageAfter     time.Duration
	LeaseStuckAfter time.Duration
}

func (t Thresholds) withDefaults() Thresholds {
	if t.OutageAfter <= 0 {
		t.OutageAfter = DefaultOutageAfter
	}
	if t.LeaseStuckAfter <= 0 {
		t.LeaseStuckAfter = DefaultLeaseStuckAfter
	}
	return t
}

// causeText says what an admin should do about a cause.
var causeText = map[Cause]struct{ title, detail string }{
	CauseHubSpotAuth: {"HubSpot refused pilotsync's credentials",
		"HubSpot answered 401/403: the private app token was revoked or rotated, or lacks a scope. Update the HubSpot secret (or HUBSPOT_TOKEN) with a valid token. The sync resumes from its checkpoint, nothing is lost."},
	CauseHubSpotDailyLimit: {"HubSpot's daily API limit is used up",
		"HubSpot refuses further calls until midnight in the account's time zone. Other integrations share this limit; consider the API limit increase add-on. The sync resumes from its checkpoint after the reset."},
	CauseEnterpriseRequired: {"HubSpot refuses custom events: Enterprise required",
		"Custom behavioral events need an Enterprise edition of a HubSpot hub. Upgrade, or set activity.sink to timeline or none in integration.yaml. Activity is retried and, past the queue's retention, dead-lettered."},
	CauseUserpilotAuth: {"Userpilot refused pilotsync's API key",
		"Userpilot answered 401/403: the API key is wrong or belongs to another environment (staging vs production). Update the Userpilot secret (or USERPILOT_API_KEY). The sync resumes from its checkpoint."},
	CauseStoreUnreachable: {storeTitle, storeDetail}, // store.go
	CauseOther: {"sync keeps failing",
		"Every run for a while has failed with a retryable error (an outage of HubSpot, Userpilot or AWS). pilotsync keeps retrying from its checkpoint; this mail says it has not recovered by itself."},
}

// InboundOutcome maps an inbound run to problems. history is the newest
// inbound run records, newest first (the run itself may be among them);
// it decides whether a failure has lasted, whether the lease is stuck, and
// whether record failures have stopped.
func InboundOutcome(rep *inbound.Report, history []store.RunRecord, now time.Time, th Thresholds) Outcome {
	th = th.withDefaults()
	var out Outcome
	if rep == nil {
		return out
	}
	past := make([]store.RunRecord, 0, len(history))
	for _, r := range history {
		if r.ID != rep.RunID {
			past = append(past, r)
		}
	}
	if rep.Status == inbound.StatusLeaseHeld {
		// Overlap is normal; a lease held while nothing finishes is not.
		if len(past) > 0 && now.Sub(past[0].Finished) >= th.LeaseStuckAfter {
			out.Problems = append(out.Problems, notify.Problem{Key: KeyLeaseStuck,
				Title: "inbound sync is stuck behind its lease",
				Detail: fmt.Sprintf("Every poll since %s found another run holding the inbound lease, and none has finished. A run may hang (check the poll function's logs and timeout); the lease expires by itself once its holder stops renewing it.",
					past[0].Finished.UTC().Format(time.RFC3339))})
		}
		return out
	}
	out.Clean = append(out.Clean, KeyLeaseStuck, UnstartedKey(inbound.JobInbound))

	for _, o := range rep.Objects {
		errText := o.Error
		if errText == "" && o.Err != nil {
			errText = o.Err.Error()
		}
		if errText != "" {
			cause := classifyObject(o)
			if cause == CauseOther {
				since, lasting := lastingSince(rep.Started, past, func(r store.RunRecord) bool { return objectFailed(r.Error, o.Object) }, now, th.OutageAfter)
				if !lasting {
					continue
				}
				t := causeText[cause]
				out.Problems = append(out.Problems, notify.Problem{Key: InboundKey(o.Object, cause),
					Title:  fmt.Sprintf("inbound %s %s", o.Object, t.title),
					Detail: fmt.Sprintf("%s\nFailing since %s. Last error: %s", t.detail, since.UTC().Format(time.RFC3339), errText)})
			} else {
				t := causeText[cause]
				out.Problems = append(out.Problems, notify.Problem{Key: InboundKey(o.Object, cause),
					Title:  fmt.Sprintf("%s (inbound %s)", t.title, o.Object),
					Detail: t.detail + "\nError: " + errText})
			}
		}
		// Record failures found before the object type stopped still count.
		byCat := map[RecordCategory][]inbound.Failure{}
		for _, f := range o.Failures {
			if f.Permanent {
				c := ClassifyRecordFailure(f.Reason)
				byCat[c] = append(byCat[c], f)
			}
		}
		for _, c := range recordCategories {
			fs := byCat[c]
			if len(fs) == 0 {
				continue
			}
			p := notify.Problem{Key: RecordKey(o.Object, c), Count: len(fs),
				Title: fmt.Sprintf("Userpilot refused %d %s updates (%s)", len(fs), singular(o.Object), c),
				Detail: fmt.Sprintf("Userpilot refused these writes for good; they are not retried until the HubSpot record changes again. Check the inbound mapping's property types. First reason: %s",
					fs[0].Reason)}
			for _, f := range fs[:min(len(fs), maxListed)] {
				p.Records = append(p.Records, f.Profile+" (HubSpot "+f.HubSpotID+")")
			}
			out.Problems = append(out.Problems, p)
		}
		if errText != "" || (!o.Complete && o.Pages == 0) {
			continue // it did not run, or not cleanly: it proves nothing
		}
		for _, cause := range []Cause{CauseHubSpotAuth, CauseHubSpotDailyLimit, CauseUserpilotAuth, CauseStoreUnreachable, CauseOther} {
			out.Clean = append(out.Clean, InboundKey(o.Object, cause))
		}
		recent := past[:min(len(past), QuietRuns-1)]
		if len(recent) < QuietRuns-1 {
			continue // too little history to call record failures over
		}
		for _, c := range recordCategories {
			if len(byCat[c]) == 0 && !slices.ContainsFunc(recent, func(r store.RunRecord) bool { return hasRecordFailure(r, o.Object, c) }) {
				out.Clean = append(out.Clean, RecordKey(o.Object, c))
			}
		}
	}
	return out.consistent()
}

// consistent drops clean keys that are also problems of the same run.
func (o Outcome) consistent() Outcome {
	o.Clean = slices.DeleteFunc(o.Clean, func(k string) bool {
		return slices.ContainsFunc(o.Problems, func(p notify.Problem) bool { return p.Key == k })
	})
	return o
}

// objectFailed reports whether a run record's error (inbound joins
// "<object>: <error>" with "; ") names object.
func objectFailed(runErr, object string) bool {
	return strings.HasPrefix(runErr, object+": ") || strings.Contains(runErr, "; "+object+": ")
}

// hasRecordFailure reports whether a run record holds a failure of object
// (records "<object>/<profile>") in category c.
func hasRecordFailure(r store.RunRecord, object string, c RecordCategory) bool {
	return slices.ContainsFunc(r.Failures, func(f store.Failure) bool {
		return strings.HasPrefix(f.Record, object+"/") && ClassifyRecordFailure(f.Reason) == c
	})
}

// lastingSince reports when a failure that the current run (started at
// started) has began, and whether it has lasted at least after: the past runs
// (newest first) failing alike without a break.
func lastingSince(started time.Time, past []store.RunRecord, failing func(store.RunRecord) bool, now time.Time, after time.Duration) (time.Time, bool) {
	since := started
	for _, r := range past {
		if !failing(r) {
			break
		}
		since = r.Started
	}
	return since, !since.IsZero() && now.Sub(since) >= after
}

func singular(object string) string {
	if object == "companies" {
		return "company"
	}
	return strings.TrimSuffix(object, "s")
}

// ActivityRun is one activity batch's outcome.
type ActivityRun struct {
	Report *forward.Report
	// ID is the batch's run record id (its first message id, as forward
	// records it), so the batch is not counted twice with its history.
	ID string
	// Started is when the batch began.
	Started time.Time
	// SinkErr is the error of the batch's last failing sink call (the
	// handler passes Report.SinkErr); nil when none. When nil, the report's
	// own SinkErr is used. Its typed HubSpot errors name the cause (no
	// Enterprise, credentials, daily limit) at the first failing batch.
	SinkErr error
}

// ActivityOutcome maps an activity batch to problems. history is the newest
// activity run records, newest first (the batch itself may be among them);
// it is only consulted when the batch could deliver nothing, to tell an
// outage from a blip.
//
// Dead-lettered messages are problems but never resolved: they are not
// retried, each is in the dead-letter queue with its reason, and a clean
// batch seconds later says nothing about the producer that sent them. While
// they keep coming the notifier reminds at most once per repeat period.
// Unmatched users are not problems: activity of people not (yet) in HubSpot
// is expected.
func ActivityOutcome(run ActivityRun, history []store.RunRecord, now time.Time, th Thresholds) Outcome {
	th = th.withDefaults()
	var out Outcome
	rep := run.Report
	if rep == nil {
		return out
	}
	c := rep.Counts
	sinkErr := run.SinkErr
	if sinkErr == nil {
		sinkErr = rep.SinkErr
	}
	named := false // the sink's error names the cause: no outage mail besides
	if cause := ClassifyError(sinkErr); cause != "" && cause != CauseOther {
		named = true
		t := causeText[cause]
		out.Problems = append(out.Problems, notify.Problem{Key: ActivityKey(cause),
			Title: t.title + " (activity)", Detail: t.detail + "\nError: " + sinkErr.Error()})
	}
	if n := c[forward.CountInvalidMessages]; n > 0 {
		out.Problems = append(out.Problems, notify.Problem{Key: KeyActivityInvalid, Count: int(n),
			Title:   fmt.Sprintf("%d activity messages were invalid and dead-lettered", n),
			Detail:  "These SQS messages can never be processed (bad JSON, unknown schema, missing fields) and were moved to the dead-letter queue with their reason in the message attributes. Fix the producer; the messages are listed by SQS message id.",
			Records: firstN(rep.DeadLettered, maxListed)})
	}
	if n := c[forward.CountRejected]; n > 0 {
		out.Problems = append(out.Problems, notify.Problem{Key: KeyActivityRejected, Count: int(n),
			Title:   fmt.Sprintf("HubSpot refused %d activity events for good", n),
			Detail:  "HubSpot answered a validation error for these events; their messages were moved to the dead-letter queue with HubSpot's reason. Check the event definitions' properties.",
			Records: firstN(rep.DeadLettered, maxListed)})
	}
	stalled := func(counts map[string]int64) bool {
		return counts[forward.CountFailedMessages] > 0 && counts[forward.CountSent] == 0
	}
	switch {
	case stalled(c):
		if history == nil || named {
			break
		}
		past := slices.DeleteFunc(slices.Clone(history), func(r store.RunRecord) bool { return r.ID == run.ID })
		since, lasting := lastingSince(run.Started, past, func(r store.RunRecord) bool { return stalled(r.Counts) }, now, th.OutageAfter)
		if lasting {
			t := causeText[CauseOther]
			detail := fmt.Sprintf("%s\nEvery activity batch since %s has been retried without delivering anything.", t.detail, since.UTC().Format(time.RFC3339))
			if sinkErr != nil {
				detail += "\nLast error: " + sinkErr.Error()
			}
			out.Problems = append(out.Problems, notify.Problem{Key: ActivityKey(CauseOther), Title: "activity forwarding " + t.title, Detail: detail})
		}
	case c[forward.CountSent] > 0 && c[forward.CountSendFailed] == 0:
		// HubSpot took events: credentials, edition and limits are fine.
		for _, cause := range []Cause{CauseHubSpotAuth, CauseHubSpotDailyLimit, CauseEnterpriseRequired, CauseOther} {
			out.Clean = append(out.Clean, ActivityKey(cause))
		}
	}
	return out.consistent()
}

func firstN(s []string, n int) []string {
	if len(s) > n {
		s = s[:n]
	}
	return slices.Clone(s)
}
