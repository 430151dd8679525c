package forward

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/pilotsync/pilotsync/shared/activity"
	"github.com/pilotsync/pilotsync/shared/store"
)

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
			if b.deadLetter(ctx, st) {
				rep.DeadLettered = append(rep.DeadLettered, st.msg.ID)
			} else {
				rep.Failed = append(rep.Failed, st.msg.ID)
			}
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

// deadLetter sends an invalid message to the dead-letter queue with the
// reason its problems give, and reports whether it is there; a message it
// could not send (no queue, or the queue refused it) is left to the redrive
// policy.
func (b *batch) deadLetter(ctx context.Context, st *msgState) bool {
	reason := summarize(st.problems)
	if b.f.dlq == nil {
		b.f.log.ErrorContext(ctx, "activity: invalid message and no dead-letter queue: left for the redrive policy", "message", st.msg.ID, "reason", reason)
		return false
	}
	if err := b.f.dlq.DeadLetter(ctx, st.msg, reason); err != nil {
		b.f.log.ErrorContext(ctx, "activity: dead-letter", "message", st.msg.ID, "err", err)
		return false
	}
	b.f.log.WarnContext(ctx, "activity: message dead-lettered", "message", st.msg.ID, "reason", reason)
	return true
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
	r.Causes = sinkCause(rep.SinkErr) // concurrent.go
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
			Reason: fmt.Sprintf("unclassified: unknown event type, entity type or status (%d events): add an activity.rules entry to forward it", rep.Unknown[k])})
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
