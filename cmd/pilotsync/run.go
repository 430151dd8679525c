package main

// run is the local runner: the whole pipeline on this machine, with the same
// handler types the Lambda functions run, against the local AWS stack
// (scripts/stack.sh) and the in-memory HubSpot and Userpilot sandboxes (or the
// real services when HUBSPOT_TOKEN / USERPILOT_API_KEY are set).
//
// No emulator runs SQS event-source mappings or schedules, so the runner does
// their part: it invokes the poll handler with a scheduled event every poll
// interval, receives batches from the activity queue and invokes the activity
// handler with an events.SQSEvent (deleting every message except the reported
// failures, which SQS redelivers and, after maxReceiveCount, moves to the
// dead-letter queue by the redrive policy), and invokes the daily handler at
// its time of day.

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"sync/atomic"
	"time"

	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/pilotsync/pilotsync/shared/config"
	"github.com/pilotsync/pilotsync/shared/handler"
	"github.com/pilotsync/pilotsync/shared/hubspot/hubspottest"
	"github.com/pilotsync/pilotsync/shared/userpilot/userpilottest"
	"github.com/pilotsync/pilotsync/shared/wire"
)

func init() {
	register(command{
		name:    "run",
		summary: "run the jobs locally: local AWS stack, in-memory HubSpot/Userpilot unless credentials are set",
		run:     runRun,
	})
}

// Local defaults: the ports scripts/stack.sh uses, and local resource names.
const (
	localDynamoDB   = "http://127.0.0.1:8000"
	localSQS        = "http://127.0.0.1:5000"
	localSES        = "http://127.0.0.1:8005"
	localRegion     = "us-east-1"
	localTable      = "pilotsync-local"
	localQueue      = "pilotsync-local-activity"
	localDLQ        = "pilotsync-local-activity-dlq"
	localMaxReceive = 5 // template.yaml's ActivityMaxReceiveCount default
	// localVisibility is shorter than the deployed 360 s so a failed message
	// comes back within a local session.
	localVisibility = 30
	// sqsMaxReceive is SQS's ReceiveMessage limit (MaxNumberOfMessages).
	sqsMaxReceive = 10
	// sqsMaxDeleteBatch is SQS's DeleteMessageBatch limit.
	sqsMaxDeleteBatch = 10
	// activityBatch mirrors template.yaml's ActivityBatchSize default.
	activityBatch = 100
)

type runOptions struct {
	once       bool
	configPath string
	every      time.Duration
	queueEvery time.Duration
	demo       bool
	demoUsers  int
	logLevel   string
	dailyNow   bool
	eventsAddr string
}

func runRun(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("run", args, stdout, stderr)
	var o runOptions
	fs.BoolVar(&o.once, "once", false, "run one cycle (activity queue, poll, daily job) and exit")
	fs.StringVar(&o.configPath, "config", "", "config file (default $"+config.EnvPath+", else ./integration.yaml, else integration.example.yaml)")
	fs.DurationVar(&o.every, "every", 0, "poll interval (default schedule.poll_every from the config)")
	fs.DurationVar(&o.queueEvery, "queue-every", 5*time.Second, "how often to check the activity queue between polls")
	fs.BoolVar(&o.demo, "demo", true, "seed the in-memory sandboxes with demo contacts, companies and queue events")
	fs.IntVar(&o.demoUsers, "demo-users", 5, "number of demo users/contacts to seed")
	fs.StringVar(&o.logLevel, "log-level", "warn", "engine log level on stderr: debug, info, warn, error")
	fs.BoolVar(&o.dailyNow, "daily-now", false, "run the daily job in the first cycle instead of waiting for schedule.daily_at")
	fs.StringVar(&o.eventsAddr, "events-addr", defaultEventsAddr, "loopback address of the event endpoint (POST records to "+eventsPath+"); off to disable")
	setUsage(fs, "pilotsync run [--once] [--config FILE] [flags]",
		"Runs pilotsync's three jobs on this machine with the Lambda handlers, against the",
		"local AWS stack (make stack-up) and in-memory HubSpot and Userpilot sandboxes.",
		"HUBSPOT_TOKEN / USERPILOT_API_KEY select the real services instead. AWS endpoints",
		"default to the local stack; set AWS_ENDPOINT_URL_* to override.")
	if code, ok := parseFlags(fs, args); !ok {
		return code
	}
	if unexpectedArg(fs, stderr) {
		return exitUsage
	}
	var level slog.Level
	if err := level.UnmarshalText([]byte(o.logLevel)); err != nil {
		fmt.Fprintf(stderr, "pilotsync run: --log-level %q: %v\n", o.logLevel, err)
		return exitUsage
	}
	r := &runner{out: stdout, opts: o, log: slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level}))}
	if err := r.run(ctx); err != nil {
		fmt.Fprintf(stderr, "pilotsync run: %v\n", err)
		return exitFailure
	}
	return exitOK
}

// runner holds one local run's state.
type runner struct {
	out  io.Writer
	opts runOptions
	log  *slog.Logger

	env      map[string]string // pilotsync variables handed to wire.Build
	deps     *wire.Deps
	sqs      *sqs.Client
	queueURL string
	queueARN string
	dlqURL   string

	poll     *handler.Poll
	activity *handler.Activity // nil when the forwarder cannot be built
	measured *handler.Measured

	hubspot   *hubspottest.Server   // nil with real HubSpot
	userpilot *userpilottest.Server // nil with real Userpilot

	// posted counts the records the event endpoint queued (its goroutines
	// add, the loop takes them per cycle).
	posted atomic.Int64
	// cycle is what the current cycle did, for its summary line.
	cycle cycleStats
}

func (r *runner) say(format string, args ...any) {
	fmt.Fprintf(r.out, "run: "+format+"\n", args...)
}

func (r *runner) run(ctx context.Context) error {
	r.env = map[string]string{}
	awsOpts := r.localAWS()
	cfgPath, err := r.configPath()
	if err != nil {
		return err
	}
	r.env[config.EnvPath] = cfgPath
	cfg, err := config.Load(cfgPath)
	if err != nil {
		return err
	}
	awsCfg, err := awsconfig.LoadDefaultConfig(ctx, awsOpts...)
	if err != nil {
		return fmt.Errorf("aws config: %w", err)
	}
	if err := r.ensureTable(ctx, awsCfg); err != nil {
		return err
	}
	if err := r.ensureQueues(ctx, awsCfg); err != nil {
		return err
	}
	if err := r.startSandboxes(ctx, cfg); err != nil {
		return err
	}
	r.deps, err = wire.Build(ctx, wire.WithLogger(r.log), wire.WithGetenv(r.getenv), wire.WithAWSOptions(awsOpts...))
	if err != nil {
		return err
	}
	r.buildHandlers()
	if r.hubspot != nil && r.opts.demo {
		if err := r.seedDemo(ctx); err != nil {
			return fmt.Errorf("seed demo data: %w", err)
		}
	}
	if a := r.opts.eventsAddr; a != "" && a != "off" && !r.opts.once {
		u, err := r.startEvents(ctx, a)
		if err != nil {
			return err
		}
		r.say("events: POST a Userpilot event record or a JSON array of them to %s (e.g. curl -d @event.json %s)", u, u)
	}
	return r.loop(ctx)
}
