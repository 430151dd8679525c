package main

import (
	"context"
	"fmt"
	"io"

	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"

	"github.com/pilotsync/pilotsync/shared/status"
)

func init() {
	register(command{
		name:    "status",
		summary: "show the last runs, cursors and lag, lease, open problems, queue and DLQ depth, quarantined records",
		run:     runStatus,
	})
}

// Sources of the queues' oldest-message age (--age).
const (
	ageAuto       = "auto"       // cloudwatch in AWS, sample on the emulators
	ageCloudWatch = "cloudwatch" // ApproximateAgeOfOldestMessage
	ageSample     = "sample"     // peek up to 10 dead-letter messages
	ageNone       = "none"
)

func runStatus(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("status", args, stdout, stderr)
	var tf targetFlags
	tf.define(fs)
	asJSON := fs.Bool("json", false, "print the report as JSON")
	runs := fs.Int("runs", status.DefaultRuns, "runs shown per job")
	age := fs.String("age", ageAuto, "oldest-message age from: auto, cloudwatch, sample (the dead-letter queue's first 10 messages), none")
	scan := fs.Int("quarantine-scan", 0, "items scanned for quarantined records (0 = the default bound, -1 = skip)")
	setUsage(fs, "pilotsync status [--json] [--local | --stack NAME | --table T --queue-url U --dlq-url D]",
		"Shows, for one Userpilot environment: the last runs of each job (outcome, counts,",
		"API calls, duration), the cursors and their lag, the lease holder, open problems,",
		"the activity queue's and dead-letter queue's depth and oldest message, and",
		"quarantined records by reason. Reads only. Exits 1 when a part could not be read.")
	if code, ok := parseFlags(fs, args); !ok {
		return code
	}
	if unexpectedArg(fs, stderr) {
		return exitUsage
	}
	tg, err := tf.resolve(ctx)
	if err != nil {
		fmt.Fprintf(stderr, "pilotsync status: %v\n", err)
		return exitFailure
	}
	o := status.Options{Env: tg.Env, Runs: *runs, QueueURL: tg.QueueURL, DLQURL: tg.DLQURL, QuarantineScan: *scan}
	switch *age {
	case ageAuto:
		if tg.Local {
			o.PeekDLQ = true
		} else {
			o.Ager = status.CloudWatchAger{CW: cloudwatch.NewFromConfig(tg.AWS)}
		}
	case ageCloudWatch:
		o.Ager = status.CloudWatchAger{CW: cloudwatch.NewFromConfig(tg.AWS)}
	case ageSample:
		o.PeekDLQ = true
	case ageNone:
	default:
		fmt.Fprintf(stderr, "pilotsync status: --age %q: want auto, cloudwatch, sample or none\n", *age)
		return exitUsage
	}
	rep, err := status.Gather(ctx, tg.Store, tg.SQS, o)
	if err != nil {
		fmt.Fprintf(stderr, "pilotsync status: %v\n", err)
		return exitFailure
	}
	if *asJSON {
		err = printJSON(stdout, rep)
	} else {
		fmt.Fprintf(stdout, "table %s\n", tg.Table)
		err = rep.WriteText(stdout)
	}
	if err != nil {
		fmt.Fprintf(stderr, "pilotsync status: %v\n", err)
		return exitFailure
	}
	if len(rep.Unavailable) > 0 {
		fmt.Fprintf(stderr, "pilotsync status: %v\n", rep.Err())
		return exitFailure
	}
	return exitOK
}
