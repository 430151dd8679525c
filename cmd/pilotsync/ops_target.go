package main

// Where the admin commands (status, redrive) look: the table, the queues and
// the Userpilot environment of a deployed stack or of the local one.

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/cloudformation"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/pilotsync/pilotsync/shared/config"
	"github.com/pilotsync/pilotsync/shared/store"
	"github.com/pilotsync/pilotsync/shared/wire"
)

// envStack names the deployed stack whose outputs give the table and queues.
const envStack = "PILOTSYNC_STACK"

// The template's output keys (template.yaml Outputs).
const (
	outputTable    = "TableName"
	outputQueueURL = "QueueUrl"
	outputDLQURL   = "DeadLetterQueueUrl"
)

// targetFlags are the flags status and redrive share.
type targetFlags struct {
	table, queueURL, dlqURL, stack, env, config string
	local                                       bool
}

func (t *targetFlags) define(fs *flag.FlagSet) {
	fs.StringVar(&t.table, "table", "", "DynamoDB table (default $"+wire.EnvTable+", else the stack's "+outputTable+" output)")
	fs.StringVar(&t.queueURL, "queue-url", "", "activity queue URL (default $"+wire.EnvQueueURL+", else the stack's "+outputQueueURL+")")
	fs.StringVar(&t.dlqURL, "dlq-url", "", "dead-letter queue URL (default $"+wire.EnvDLQURL+", else the stack's "+outputDLQURL+")")
	fs.StringVar(&t.stack, "stack", "", "deployed CloudFormation stack to read the names from (default $"+envStack+")")
	fs.StringVar(&t.env, "env", "", "Userpilot environment (default the config's userpilot.environment, else production)")
	fs.StringVar(&t.config, "config", "", "config file for the environment (default $"+config.EnvPath+", else ./"+config.LocalPath+")")
	fs.BoolVar(&t.local, "local", false, "the local stack of `make run`: its endpoints, table "+localTable+" and queues")
}

// target is a resolved table, queues and environment with the clients.
type target struct {
	Env, Table, QueueURL, DLQURL string
	// Local is true when the AWS endpoints are emulators (AWS_ENDPOINT_URL*).
	Local bool
	AWS   aws.Config
	Store *store.Store
	SQS   *sqs.Client
}

// resolve finds the names: flags, then the environment, then the stack
// outputs, then (with --local) the local runner's names.
func (t *targetFlags) resolve(ctx context.Context) (*target, error) {
	var opts []func(*awsconfig.LoadOptions) error
	if t.local {
		opts = localStackAWS()
	}
	awsCfg, err := awsconfig.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		return nil, fmt.Errorf("aws config: %w", err)
	}
	tg := &target{
		AWS:      awsCfg,
		Table:    firstSet(t.table, os.Getenv(wire.EnvTable)),
		QueueURL: firstSet(t.queueURL, os.Getenv(wire.EnvQueueURL)),
		DLQURL:   firstSet(t.dlqURL, os.Getenv(wire.EnvDLQURL)),
		Local:    os.Getenv("AWS_ENDPOINT_URL_SQS") != "" || os.Getenv("AWS_ENDPOINT_URL") != "",
	}
	tg.SQS = sqs.NewFromConfig(awsCfg)
	if stack := firstSet(t.stack, os.Getenv(envStack)); stack != "" && (tg.Table == "" || tg.QueueURL == "" || tg.DLQURL == "") {
		out, err := cloudformation.NewFromConfig(awsCfg).DescribeStacks(ctx, &cloudformation.DescribeStacksInput{StackName: aws.String(stack)})
		if err != nil {
			return nil, fmt.Errorf("stack %s outputs: %w", stack, err)
		}
		for _, s := range out.Stacks {
			for _, o := range s.Outputs {
				v := aws.ToString(o.OutputValue)
				switch aws.ToString(o.OutputKey) {
				case outputTable:
					tg.Table = firstSet(tg.Table, v)
				case outputQueueURL:
					tg.QueueURL = firstSet(tg.QueueURL, v)
				case outputDLQURL:
					tg.DLQURL = firstSet(tg.DLQURL, v)
				}
			}
		}
	}
	if t.local {
		tg.Table = firstSet(tg.Table, localTable)
		for _, q := range []struct {
			url  *string
			name string
		}{{&tg.QueueURL, localQueue}, {&tg.DLQURL, localDLQ}} {
			if *q.url != "" {
				continue
			}
			out, err := tg.SQS.GetQueueUrl(ctx, &sqs.GetQueueUrlInput{QueueName: aws.String(q.name)})
			if err != nil {
				return nil, fmt.Errorf("local queue %s: %w (has make run created it?)", q.name, err)
			}
			*q.url = aws.ToString(out.QueueUrl)
		}
	}
	if tg.Table == "" {
		return nil, errors.New("no table: pass --table, set " + wire.EnvTable + ", name the deployed stack with --stack, or use --local")
	}
	tg.Store = store.New(wire.DynamoDBClient(awsCfg), tg.Table)
	tg.Env, err = t.environment()
	if err != nil {
		return nil, err
	}
	return tg, nil
}

// environment is --env, else the config's environment when a config is
// found, else the default.
func (t *targetFlags) environment() (string, error) {
	if t.env != "" {
		return t.env, nil
	}
	path := configFile(t.config)
	if t.config == "" {
		if _, err := os.Stat(path); err != nil {
			return config.DefaultEnvironment, nil
		}
	}
	cfg, err := config.Load(path)
	if err != nil {
		return "", err
	}
	return cfg.Userpilot.Environment, nil
}
