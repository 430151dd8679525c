package main

import (
	"context"
	"fmt"
	"io"
	"maps"
	"slices"

	"github.com/pilotsync/pilotsync/shared/redrive"
	"github.com/pilotsync/pilotsync/shared/store"
)

func init() {
	register(command{
		name:    "redrive",
		summary: "after a fix: move dead-lettered messages back to the queue and retry quarantined outbound records",
		run:     runRedrive,
	})
}

// Parts a redrive covers (--only).
const (
	redriveDLQ        = "dlq"
	redriveQuarantine = "quarantine"
)

// redriveReport is redrive's --json output.
type redriveReport struct {
	Reason     string                           `json:"reason,omitempty"`
	DLQ        *redrive.Result                  `json:"dlq,omitempty"`
	Quarantine map[string]store.QuarantineRetry `json:"quarantine,omitempty"`
}

func runRedrive(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("redrive", args, stdout, stderr)
	var tf targetFlags
	tf.define(fs)
	dry := fs.Bool("dry-run", false, "count what would move and change nothing")
	reason := fs.String("reason", "", "only what failed for this reason (a prefix: \"rejected\", \"invalid_json\", \"max_receives\", \"type mismatch\"); default all")
	only := fs.String("only", "", "only one part: dlq or quarantine (default both)")
	asJSON := fs.Bool("json", false, "print the result as JSON")
	setUsage(fs, "pilotsync redrive [--dry-run] [--reason R] [--only dlq|quarantine] [--local | --stack NAME | --table T ...]",
		"After a fix, moves the dead-letter queue's messages (those dead-lettered for R) back",
		"to the activity queue: each is sent to the queue before it is deleted from the DLQ,",
		"so a crash midway loses none (the event ledger skips events already delivered).",
		"Then releases the outbound properties quarantined for R and marks their profiles",
		"dirty, so the next outbound push retries them (this reads the whole table).")
	if code, ok := parseFlags(fs, args); !ok {
		return code
	}
	if unexpectedArg(fs, stderr) {
		return exitUsage
	}
	if *only != "" && *only != redriveDLQ && *only != redriveQuarantine {
		fmt.Fprintf(stderr, "pilotsync redrive: --only %q: want dlq or quarantine\n", *only)
		return exitUsage
	}
	tg, err := tf.resolve(ctx)
	if err != nil {
		fmt.Fprintf(stderr, "pilotsync redrive: %v\n", err)
		return exitFailure
	}
	rep := redriveReport{Reason: *reason}
	verb := "moved"
	if *dry {
		verb = "would move"
	}
	code := exitOK
	if *only != redriveQuarantine {
		res, err := redrive.DLQ(ctx, tg.SQS, redrive.Options{QueueURL: tg.QueueURL, DLQURL: tg.DLQURL, Reason: *reason, DryRun: *dry})
		rep.DLQ = &res
		if !*asJSON {
			fmt.Fprintf(stdout, "dead-letter queue: %s %d of %d message(s) back to the queue%s\n", verb, res.Matched, res.Seen, byReason(res.ByReason))
		}
		if err != nil {
			fmt.Fprintf(stderr, "pilotsync redrive: %v (%d moved before it)\n", err, res.Moved)
			code = exitFailure
		}
	}
	if *only != redriveDLQ && code == exitOK {
		rep.Quarantine = map[string]store.QuarantineRetry{}
		for _, kind := range []store.Kind{store.KindUser, store.KindCompany} {
			res, err := tg.Store.RetryQuarantined(ctx, tg.Env, kind, *reason, *dry)
			rep.Quarantine[string(kind)] = res
			if err != nil {
				fmt.Fprintf(stderr, "pilotsync redrive: quarantined %s records: %v (%d released before it)\n", kind, err, res.Profiles)
				code = exitFailure
				break
			}
			if !*asJSON {
				release := "released"
				if *dry {
					release = "would release"
				}
				fmt.Fprintf(stdout, "quarantined %s records: %s %d propert(ies) of %d profile(s) for the next outbound push%s\n",
					kind, release, res.Properties, res.Profiles, byReason(res.ByReason))
			}
		}
	}
	if *asJSON {
		if err := printJSON(stdout, rep); err != nil {
			fmt.Fprintf(stderr, "pilotsync redrive: %v\n", err)
			return exitFailure
		}
	}
	return code
}

func byReason(m map[string]int) string {
	if len(m) == 0 {
		return ""
	}
	out := " ("
	for i, k := range slices.Sorted(maps.Keys(m)) {
		if i > 0 {
			out += ", "
		}
		out += fmt.Sprintf("%s %d", k, m[k])
	}
	return out + ")"
}
