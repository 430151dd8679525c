package main

// Stack setup of the local runner: the AWS endpoints and credentials, the
// config, the table and queues, the sandboxes and the handlers.

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"strconv"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/pilotsync/pilotsync/shared/config"
	"github.com/pilotsync/pilotsync/shared/handler"
	"github.com/pilotsync/pilotsync/shared/hubspot/hubspottest"
	"github.com/pilotsync/pilotsync/shared/store"
	"github.com/pilotsync/pilotsync/shared/userpilot/userpilottest"
	"github.com/pilotsync/pilotsync/shared/wire"
)

// localAWS points the AWS SDK at the local stack unless AWS_ENDPOINT_URL_* is
// already set, and uses static test credentials unless some are configured.
func (r *runner) localAWS() []func(*awsconfig.LoadOptions) error {
	opts := localStackAWS()
	r.say("AWS: DynamoDB %s, SQS %s, SES %s", os.Getenv("AWS_ENDPOINT_URL_DYNAMODB"), os.Getenv("AWS_ENDPOINT_URL_SQS"), os.Getenv("AWS_ENDPOINT_URL_SES"))
	return opts
}

// localStackAWS points the AWS SDK at the local stack (scripts/stack.sh's
// ports) unless AWS_ENDPOINT_URL_* is already set, and returns the options
// for the local region and static test credentials unless some are
// configured. The local runner and the admin commands' --local share it.
func localStackAWS() []func(*awsconfig.LoadOptions) error {
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
	if err := store.CreateTable(ctx, wire.DynamoDBClient(awsCfg), table); err != nil {
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
		sandboxStarted(r.hubspot) // run_sandbox.go
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

// buildHandlers builds the handlers with the functions' own constructors
// (shared/wire); a part that cannot be built is reported and skipped (poll
// and daily answer not_configured), the rest still runs.
func (r *runner) buildHandlers() {
	d := r.deps
	p, err := wire.NewPoll(d)
	if err != nil {
		r.say("poll: inbound engine not available (%v): poll answers not_configured", err)
		p = handler.NewPoll(nil, handler.WithPollLogger(d.Log))
	}
	r.poll = p
	if a, err := wire.NewActivity(d); err != nil {
		r.say("activity: forwarder not available (%v): the queue is not drained", err)
	} else {
		r.activity = a
	}
	if m, err := wire.NewDailyMeasured(d); err != nil {
		r.say("daily: measured engine not available (%v): the daily job answers not_configured", err)
		r.measured = handler.NewMeasured(d.Config, nil, d.Log)
	} else {
		r.measured = m
	}
}
