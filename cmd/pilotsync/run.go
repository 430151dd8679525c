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
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"net"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/pilotsync/pilotsync/shared/config"
	"github.com/pilotsync/pilotsync/shared/forward"
	"github.com/pilotsync/pilotsync/shared/handler"
	"github.com/pilotsync/pilotsync/shared/hubspot/hubspottest"
	"github.com/pilotsync/pilotsync/shared/inbound"
	"github.com/pilotsync/pilotsync/shared/store"
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
	return r.loop(ctx)
}

// localAWS points the AWS SDK at the local stack unless AWS_ENDPOINT_URL_* is
// already set, and uses static test credentials unless some are configured.
func (r *runner) localAWS() []func(*awsconfig.LoadOptions) error {
	for k, v := range map[string]string{
		"AWS_ENDPOINT_URL_DYNAMODB": localDynamoDB,
		"AWS_ENDPOINT_URL_SQS":      localSQS,
		"AWS_ENDPOINT_URL_SES":      localSES,
	} {
		if os.Getenv(k) == "" && os.Getenv("AWS_ENDPOINT_URL") == "" {
			// The SDK reads its endpoint variables from the process environment.
			_ = os.Setenv(k, v)
		}
	}
	r.say("AWS: DynamoDB %s, SQS %s, SES %s", os.Getenv("AWS_ENDPOINT_URL_DYNAMODB"), os.Getenv("AWS_ENDPOINT_URL_SQS"), os.Getenv("AWS_ENDPOINT_URL_SES"))
	var opts []func(*awsconfig.LoadOptions) error
	if os.Getenv("AWS_REGION") == "" && os.Getenv("AWS_DEFAULT_REGION") == "" {
		opts = append(opts, awsconfig.WithRegion(localRegion))
	}
	if os.Getenv("AWS_ACCESS_KEY_ID") == "" && os.Getenv("AWS_PROFILE") == "" {
		opts = append(opts, awsconfig.WithCredentialsProvider(credentials.NewStaticCredentialsProvider("test", "test", "")))
	}
	return opts
}

// configPath picks the config: --config, $PILOTSYNC_CONFIG, ./integration.yaml,
// else the example (a local demo needs no set-up).
func (r *runner) configPath() (string, error) {
	if p := r.opts.configPath; p != "" {
		return p, nil
	}
	if p := os.Getenv(config.EnvPath); p != "" {
		return p, nil
	}
	if _, err := os.Stat(config.LocalPath); err == nil {
		r.say("config: %s", config.LocalPath)
		return config.LocalPath, nil
	}
	const example = "integration.example.yaml"
	if _, err := os.Stat(example); err == nil {
		r.say("config: %s not found, using %s (copy it to %s to make your own)", config.LocalPath, example, config.LocalPath)
		return example, nil
	}
	return "", fmt.Errorf("no config: create %s (start from integration.example.yaml) or pass --config", config.LocalPath)
}

func (r *runner) getenv(k string) string {
	if v, ok := r.env[k]; ok {
		return v
	}
	return os.Getenv(k)
}

func (r *runner) ensureTable(ctx context.Context, awsCfg aws.Config) error {
	table := os.Getenv(wire.EnvTable)
	if table == "" {
		table = localTable
	}
	if err := store.CreateTable(ctx, dynamodb.NewFromConfig(awsCfg), table); err != nil {
		return fmt.Errorf("table %s: %w (is the local stack up? make stack-up)", table, err)
	}
	r.env[wire.EnvTable] = table
	r.say("table %s ready", table)
	return nil
}

func (r *runner) ensureQueues(ctx context.Context, awsCfg aws.Config) error {
	r.sqs = sqs.NewFromConfig(awsCfg)
	if u := os.Getenv(wire.EnvQueueURL); u != "" {
		r.queueURL, r.dlqURL = u, os.Getenv(wire.EnvDLQURL)
	} else {
		dlq, err := r.sqs.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String(localDLQ)})
		if err != nil {
			return fmt.Errorf("create queue %s: %w (is the local stack up? make stack-up)", localDLQ, err)
		}
		r.dlqURL = aws.ToString(dlq.QueueUrl)
		dlqARN, err := r.queueAttr(ctx, r.dlqURL, sqstypes.QueueAttributeNameQueueArn)
		if err != nil {
			return err
		}
		redrive, _ := json.Marshal(map[string]string{"deadLetterTargetArn": dlqARN, "maxReceiveCount": strconv.Itoa(localMaxReceive)})
		q, err := r.sqs.CreateQueue(ctx, &sqs.CreateQueueInput{
			QueueName: aws.String(localQueue),
			Attributes: map[string]string{
				string(sqstypes.QueueAttributeNameRedrivePolicy):     string(redrive),
				string(sqstypes.QueueAttributeNameVisibilityTimeout): strconv.Itoa(localVisibility),
			},
		})
		if err != nil {
			return fmt.Errorf("create queue %s: %w", localQueue, err)
		}
		r.queueURL = aws.ToString(q.QueueUrl)
	}
	arn, err := r.queueAttr(ctx, r.queueURL, sqstypes.QueueAttributeNameQueueArn)
	if err != nil {
		return err
	}
	r.queueARN = arn
	r.env[wire.EnvQueueURL], r.env[wire.EnvDLQURL] = r.queueURL, r.dlqURL
	r.say("queue %s (dead-letter queue %s)", r.queueURL, r.dlqURL)
	return nil
}

func (r *runner) queueAttr(ctx context.Context, url string, name sqstypes.QueueAttributeName) (string, error) {
	out, err := r.sqs.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{QueueUrl: aws.String(url), AttributeNames: []sqstypes.QueueAttributeName{name}})
	if err != nil {
		return "", fmt.Errorf("queue %s: %w", url, err)
	}
	return out.Attributes[string(name)], nil
}

// startSandboxes serves the in-memory HubSpot and Userpilot on free loopback
// ports unless real credentials are set. They stop when ctx ends.
func (r *runner) startSandboxes(ctx context.Context, cfg *config.Config) error {
	if os.Getenv(wire.EnvHubSpotToken) != "" || os.Getenv(wire.EnvHubSpotSecretARN) != "" {
		r.say("HubSpot: the real API (%s)", firstSet(os.Getenv(wire.EnvHubSpotBaseURL), cfg.HubSpot.BaseURL))
	} else {
		r.hubspot = hubspottest.New(hubspottest.Options{})
		u, err := serve(ctx, func(ctx context.Context, ln net.Listener) error { return r.hubspot.ServeListener(ctx, ln) })
		if err != nil {
			return fmt.Errorf("hubspot sandbox: %w", err)
		}
		r.env[wire.EnvHubSpotBaseURL], r.env[wire.EnvHubSpotToken] = u, r.hubspot.Token()
		r.say("HubSpot: in-memory sandbox at %s (set HUBSPOT_TOKEN to use the real one)", u)
	}
	if os.Getenv(wire.EnvUserpilotAPIKey) != "" || os.Getenv(wire.EnvUserpilotSecretARN) != "" {
		r.say("Userpilot: the real API (%s)", firstSet(os.Getenv(wire.EnvUserpilotBaseURL), cfg.Userpilot.BaseURL))
	} else {
		key := userpilottest.DefaultAPIKey
		if cfg.Userpilot.Environment == config.EnvStaging {
			key = "STG-" + key // the sandbox is a staging environment for STG- keys
		}
		r.userpilot = userpilottest.New(userpilottest.Options{APIKey: key, JobDuration: -1})
		u, err := serve(ctx, func(ctx context.Context, ln net.Listener) error { return r.userpilot.ServeListener(ctx, ln) })
		if err != nil {
			return fmt.Errorf("userpilot sandbox: %w", err)
		}
		r.env[wire.EnvUserpilotBaseURL], r.env[wire.EnvUserpilotAPIKey] = u, key
		r.say("Userpilot: in-memory sandbox at %s (set USERPILOT_API_KEY to use the real one)", u)
	}
	return nil
}

// serve runs fn on a free loopback listener in the background and returns its URL.
func serve(ctx context.Context, fn func(context.Context, net.Listener) error) (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	go func() { _ = fn(ctx, ln) }()
	return "http://" + ln.Addr().String(), nil
}

func firstSet(vs ...string) string {
	for _, v := range vs {
		if v != "" {
			return v
		}
	}
	return ""
}

// buildHandlers builds the handlers exactly as the functions do; a part whose
// engine cannot be built is reported and skipped, the rest still runs.
func (r *runner) buildHandlers() {
	d := r.deps
	in, err := handler.InboundFromConfig(d.Config, d.Store, d.HubSpot, d.Userpilot, inbound.WithLogger(d.Log))
	if err != nil {
		r.say("poll: inbound engine not available (%v): poll answers not_configured", err)
		r.poll = handler.NewPoll(nil, handler.WithPollLogger(d.Log))
	} else {
		r.poll = handler.NewPoll(in, handler.WithPollImports(d.Store, d.Config), handler.WithPollLogger(d.Log),
			handler.WithPollAlerts(d.Alerts))
	}
	fwd, err := forward.NewFromDeps(forward.Deps{Config: d.Config, Store: d.Store, HubSpot: d.HubSpot, SQS: d.SQS, DLQURL: d.DLQURL, Logger: d.Log})
	if err != nil {
		r.say("activity: forwarder not available (%v): the queue is not drained", err)
	} else {
		r.activity = handler.NewActivity(fwd, d.Log, handler.WithActivityAlerts(d.Alerts))
	}
	if m, err := handler.NewMeasuredFromDeps(d.Config, d.Store, d.HubSpot, d.Notifier, d.Log); err != nil {
		r.say("daily: measured engine not available (%v): the daily job answers not_configured", err)
		r.measured = handler.NewMeasured(d.Config, nil, d.Log)
	} else {
		r.measured = m
	}
}

// loop runs cycles until ctx ends (Ctrl-C), or once.
func (r *runner) loop(ctx context.Context) error {
	every := r.opts.every
	if every <= 0 {
		every = r.deps.Config.Schedule.PollEvery.D()
	}
	if every <= 0 {
		every = config.DefaultPollEvery
	}
	dailyAt := r.deps.Config.Schedule.DailyAt
	if dailyAt == "" {
		dailyAt = config.DefaultDailyAt
	}
	nextDaily, err := nextDailyRun(time.Now(), dailyAt)
	if err != nil {
		return err
	}
	if r.opts.once || r.opts.dailyNow {
		nextDaily = time.Now()
	}
	if !r.opts.once {
		r.say("looping: poll every %s, queue every %s, daily job at %s UTC (next %s); Ctrl-C to stop",
			every, r.opts.queueEvery, dailyAt, nextDaily.UTC().Format(time.RFC3339))
	}
	nextPoll := time.Now()
	for {
		if err := r.drainQueue(ctx); err != nil && ctx.Err() == nil {
			r.say("activity: %v", err)
		}
		if now := time.Now(); !now.Before(nextPoll) {
			r.runPoll(ctx, now)
			nextPoll = now.Add(every)
		}
		if now := time.Now(); !now.Before(nextDaily) {
			r.runDaily(ctx, now)
			nextDaily = nextDaily.Add(24 * time.Hour)
			if nextDaily.Before(now) {
				nextDaily, _ = nextDailyRun(now, dailyAt)
			}
		}
		if r.opts.once {
			// Events the poll may have queued are picked up too.
			if err := r.drainQueue(ctx); err != nil && ctx.Err() == nil {
				r.say("activity: %v", err)
			}
			r.summary(ctx)
			return nil
		}
		select {
		case <-ctx.Done():
			r.say("stopped")
			r.summary(context.WithoutCancel(ctx))
			return nil
		case <-time.After(r.opts.queueEvery):
		}
	}
}

// nextDailyRun returns the first "HH:MM" UTC at or after now.
func nextDailyRun(now time.Time, hhmm string) (time.Time, error) {
	t, err := time.Parse("15:04", hhmm)
	if err != nil {
		return time.Time{}, fmt.Errorf("schedule.daily_at %q: want HH:MM", hhmm)
	}
	now = now.UTC()
	next := time.Date(now.Year(), now.Month(), now.Day(), t.Hour(), t.Minute(), 0, 0, time.UTC)
	if next.Before(now) {
		next = next.Add(24 * time.Hour)
	}
	return next, nil
}

func (r *runner) runPoll(ctx context.Context, now time.Time) {
	res, err := r.poll.Handle(ctx, handler.PollInput{Source: "aws.events", DetailType: "Scheduled Event", Time: now.UTC()})
	if err != nil {
		r.say("poll: failed: %v", err)
		return
	}
	line := fmt.Sprintf("poll: %s", res.Status)
	if res.Message != "" {
		line += " (" + res.Message + ")"
	}
	if res.Inbound != nil {
		totals, _ := json.Marshal(res.Inbound.Totals)
		line += fmt.Sprintf(" in %dms, totals %s", res.Inbound.DurationMS, totals)
		if res.Inbound.Error != "" {
			line += "; error: " + res.Inbound.Error
		}
	}
	if len(res.Counts) > 0 {
		line += " counts " + formatCounts(res.Counts)
	}
	r.say("%s", line)
}

func (r *runner) runDaily(ctx context.Context, now time.Time) {
	res, err := r.measured.Handle(ctx, handler.MeasuredInput{Source: "aws.events", DetailType: "Scheduled Event", Time: now.UTC()})
	if err != nil {
		r.say("daily: failed: %v", err)
		return
	}
	line := "daily: " + res.Status
	if res.Message != "" {
		line += " (" + res.Message + ")"
	}
	r.say("%s counts %s", line, formatCounts(res.Counts))
}

func formatCounts(m map[string]int64) string {
	parts := make([]string, 0, len(m))
	for _, k := range slices.Sorted(maps.Keys(m)) {
		parts = append(parts, fmt.Sprintf("%s=%d", k, m[k]))
	}
	return strings.Join(parts, " ")
}

// drainQueue delivers what is on the activity queue to the activity handler in
// batches, as the SQS event source mapping would, until the queue is empty.
func (r *runner) drainQueue(ctx context.Context) error {
	if r.activity == nil {
		return nil
	}
	var received, failed, deleted, batches int
	for ctx.Err() == nil {
		ev, err := r.receiveBatch(ctx)
		if err != nil {
			return err
		}
		if len(ev.Records) == 0 {
			break
		}
		batches++
		received += len(ev.Records)
		resp, err := r.activity.Handle(ctx, ev)
		if err != nil {
			// Like Lambda: a handler error fails the whole batch; nothing is deleted.
			r.say("activity: batch of %d failed: %v (redelivered after %ds)", len(ev.Records), err, localVisibility)
			failed += len(ev.Records)
			continue
		}
		keep := map[string]bool{}
		for _, f := range resp.BatchItemFailures {
			keep[f.ItemIdentifier] = true
		}
		failed += len(keep)
		var del []sqstypes.DeleteMessageBatchRequestEntry
		for _, rec := range ev.Records {
			if !keep[rec.MessageId] {
				del = append(del, sqstypes.DeleteMessageBatchRequestEntry{Id: aws.String(rec.MessageId), ReceiptHandle: aws.String(rec.ReceiptHandle)})
			}
		}
		n, err := r.deleteMessages(ctx, del)
		deleted += n
		if err != nil {
			return err
		}
		if len(keep) == len(ev.Records) {
			// Everything failed: stop here rather than spin on messages that
			// are invisible until their visibility timeout ends.
			break
		}
	}
	if received > 0 {
		dlq := "?"
		if r.dlqURL != "" {
			if v, err := r.queueAttr(ctx, r.dlqURL, sqstypes.QueueAttributeNameApproximateNumberOfMessages); err == nil {
				dlq = v
			}
		}
		r.say("activity: %d message(s) in %d batch(es): %d done and deleted, %d reported failed (retried after %ds; to the DLQ after %d receives); DLQ depth %s",
			received, batches, deleted, failed, localVisibility, localMaxReceive, dlq)
	}
	return nil
}

// receiveBatch receives up to activityBatch messages (10 per call, the SQS
// limit), waiting briefly for the first.
func (r *runner) receiveBatch(ctx context.Context) (events.SQSEvent, error) {
	var ev events.SQSEvent
	for len(ev.Records) < activityBatch {
		wait := int32(0)
		if len(ev.Records) == 0 {
			wait = 1
		}
		out, err := r.sqs.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{
			QueueUrl:                    aws.String(r.queueURL),
			MaxNumberOfMessages:         sqsMaxReceive,
			WaitTimeSeconds:             wait,
			MessageSystemAttributeNames: []sqstypes.MessageSystemAttributeName{sqstypes.MessageSystemAttributeNameAll},
			MessageAttributeNames:       []string{"All"},
		})
		if err != nil {
			return ev, fmt.Errorf("receive from %s: %w", r.queueURL, err)
		}
		if len(out.Messages) == 0 {
			break
		}
		for _, m := range out.Messages {
			ev.Records = append(ev.Records, events.SQSMessage{
				MessageId:      aws.ToString(m.MessageId),
				ReceiptHandle:  aws.ToString(m.ReceiptHandle),
				Body:           aws.ToString(m.Body),
				Md5OfBody:      aws.ToString(m.MD5OfBody),
				Attributes:     m.Attributes,
				EventSource:    "aws:sqs",
				EventSourceARN: r.queueARN,
				AWSRegion:      r.deps.AWS.Region,
			})
		}
	}
	return ev, nil
}

func (r *runner) deleteMessages(ctx context.Context, entries []sqstypes.DeleteMessageBatchRequestEntry) (int, error) {
	deleted := 0
	for chunk := range slices.Chunk(entries, sqsMaxDeleteBatch) {
		out, err := r.sqs.DeleteMessageBatch(ctx, &sqs.DeleteMessageBatchInput{QueueUrl: aws.String(r.queueURL), Entries: chunk})
		if err != nil {
			return deleted, fmt.Errorf("delete from %s: %w", r.queueURL, err)
		}
		deleted += len(out.Successful)
		for _, f := range out.Failed {
			r.say("activity: could not delete message %s: %s", aws.ToString(f.Id), aws.ToString(f.Message))
		}
	}
	return deleted, nil
}

// summary prints what the sandboxes hold after the run.
func (r *runner) summary(ctx context.Context) {
	if r.hubspot != nil {
		r.say("HubSpot sandbox: %d contacts, %d companies, %d custom events received, %d API calls",
			len(r.hubspot.Records("contacts")), len(r.hubspot.Records("companies")), len(r.hubspot.Events()), len(r.hubspot.Requests()))
	}
	if r.userpilot != nil {
		r.say("Userpilot sandbox: %d users and %d companies written", len(r.userpilot.Users()), len(r.userpilot.Companies()))
	}
	if v, err := r.queueAttr(ctx, r.queueURL, sqstypes.QueueAttributeNameApproximateNumberOfMessages); err == nil {
		r.say("queue: %s message(s) waiting", v)
	}
}
