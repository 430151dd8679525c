package status

import (
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"text/tabwriter"
	"time"
)

// WriteText writes the report for people: one section per part, aligned.
func (r *Report) WriteText(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	p := func(format string, args ...any) { fmt.Fprintf(tw, format+"\n", args...) }
	p("pilotsync status: environment %s at %s", r.Env, r.At.Format(time.RFC3339))

	p("\nRuns (newest first)")
	if len(r.Jobs) == 0 {
		p("  no run recorded yet")
	}
	for _, j := range r.Jobs {
		if len(j.Runs) == 0 {
			p("  %s\tno run kept (run records last 90 days)", j.Job)
		}
		for _, run := range j.Runs {
			line := fmt.Sprintf("  %s\t%s\t%s\t%s\tapi calls %d", j.Job, run.Started.Format("2006-01-02 15:04:05"),
				outcomeText(run), (time.Duration(run.DurationMS) * time.Millisecond).String(), run.APICallsTotal)
			if c := counts(run.Counts); c != "" {
				line += "\t" + c
			}
			p("%s", line)
			if run.Error != "" {
				p("  \t  error: %s", run.Error)
			}
		}
	}

	p("\nCursors")
	if len(r.Cursors) == 0 {
		p("  none")
	}
	for _, c := range r.Cursors {
		lag := age(c.LagSeconds)
		if c.LagFrom == "position" {
			p("  %s\tat %s\tlag %s\twritten %s ago", c.Name, c.Position.Format(time.RFC3339), lag, age(r.At.Sub(c.Written).Seconds()))
		} else {
			p("  %s\twritten %s ago", c.Name, lag)
		}
	}

	p("\nLeases")
	if len(r.Leases) == 0 {
		p("  none held")
	}
	for _, l := range r.Leases {
		if l.Held {
			p("  %s\theld by %s until %s", l.Name, l.Owner, l.Until.Format(time.RFC3339))
		} else {
			p("  %s\tfree (last holder %s, expired %s ago)", l.Name, l.Owner, age(r.At.Sub(l.Until).Seconds()))
		}
	}

	p("\nOpen problems")
	if len(r.Problems) == 0 {
		p("  none")
	}
	for _, pr := range r.Problems {
		p("  %s\tsince %s\t%s", pr.Key, pr.Opened.Format(time.RFC3339), pr.Summary)
	}

	p("\nQueues")
	if len(r.Queues) == 0 {
		p("  not checked (no queue URL)")
	}
	for _, q := range r.Queues {
		line := fmt.Sprintf("  %s\t%d waiting\t%d in flight\t%d delayed", q.Name, q.Visible, q.InFlight, q.Delayed)
		switch {
		case q.OldestAgeSeconds != nil && q.AgeFrom == "sample":
			line += fmt.Sprintf("\toldest at least %s (sample of %d)", age(*q.OldestAgeSeconds), q.Sampled)
		case q.OldestAgeSeconds != nil:
			line += "\toldest " + age(*q.OldestAgeSeconds)
		case q.Visible+q.InFlight+q.Delayed > 0:
			line += "\toldest unknown"
		}
		p("%s", line)
		if len(q.Reasons) > 0 {
			p("  \t  reasons in the sample: %s", reasons(q.Reasons))
		}
	}

	p("\nQuarantined records")
	switch q := r.Quarantine; {
	case q == nil:
		p("  not checked")
	case q.Profiles == 0 && q.Complete:
		p("  none")
	default:
		for _, kind := range slices.Sorted(maps.Keys(q.ByReason)) {
			for _, reason := range slices.Sorted(maps.Keys(q.ByReason[kind])) {
				p("  %s\t%d\t%s", kind, q.ByReason[kind][reason], reason)
			}
		}
		if !q.Complete {
			p("  (partial: stopped after %d items; pass a larger --quarantine-scan to read more)", q.Scanned)
		}
	}

	if len(r.Unavailable) > 0 {
		p("\nNot available: %s", strings.Join(r.Unavailable, ", "))
	}
	return tw.Flush()
}

func outcomeText(r Run) string {
	switch r.Outcome {
	case OutcomeFailures:
		return fmt.Sprintf("ok, %d failed records", r.Failures)
	case OutcomeFailed:
		return "FAILED"
	}
	return "ok"
}

// counts lists the non-zero counts (--json has them all).
func counts(m map[string]int64) string {
	parts := make([]string, 0, len(m))
	for _, k := range slices.Sorted(maps.Keys(m)) {
		if m[k] == 0 {
			continue
		}
		parts = append(parts, fmt.Sprintf("%s=%d", k, m[k]))
	}
	return strings.Join(parts, " ")
}

func reasons(m map[string]int) string {
	parts := make([]string, 0, len(m))
	for _, k := range slices.Sorted(maps.Keys(m)) {
		parts = append(parts, fmt.Sprintf("%s %d", k, m[k]))
	}
	return strings.Join(parts, ", ")
}

// age prints seconds as a rounded duration.
func age(sec float64) string {
	d := time.Duration(sec * float64(time.Second))
	switch {
	case d < time.Minute:
		return d.Round(time.Second).String()
	case d < time.Hour:
		return d.Round(time.Second).String()
	default:
		return d.Round(time.Minute).String()
	}
}
