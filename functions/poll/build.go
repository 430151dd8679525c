package main

// build is the poll function's minimal wiring until shared/wire (owned by the
// infra engineer) provides it for every function: config, store, HubSpot and
// Userpilot clients, built once per cold start from the environment.

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"github.com/pilotsync/pilotsync/shared/config"
	"github.com/pilotsync/pilotsync/shared/handler"
	"github.com/pilotsync/pilotsync/shared/hubspot"
	"github.com/pilotsync/pilotsync/shared/hubsync"
	"github.com/pilotsync/pilotsync/shared/store"
	"github.com/pilotsync/pilotsync/shared/userpilot"
)

func build(ctx context.Context, log *slog.Logger) (*handler.Poll, error) {
	cfg, err := config.Load(config.DefaultPath())
	if err != nil {
		return nil, err
	}
	table := os.Getenv("PILOTSYNC_TABLE")
	if table == "" {
		return nil, errors.New("PILOTSYNC_TABLE is not set")
	}
	awsCfg, err := awsconfig.LoadDefaultConfig(ctx)
	if err != nil {
		return nil, fmt.Errorf("aws config: %w", err)
	}
	st := store.New(dynamodb.NewFromConfig(awsCfg), table)
	hsToken, err := secret(ctx, awsCfg, "HUBSPOT_TOKEN", "HUBSPOT_SECRET_ARN")
	if err != nil {
		return nil, err
	}
	upKey, err := secret(ctx, awsCfg, "USERPILOT_API_KEY", "USERPILOT_SECRET_ARN")
	if err != nil {
		return nil, err
	}
	hs, err := hubspot.NewClient(
		hubspot.WithBaseURL(envOr("HUBSPOT_BASE_URL", cfg.HubSpot.BaseURL)),
		hubspot.WithToken(hsToken),
		hubspot.WithAPIVersion(cfg.HubSpot.APIVersion),
		hubspot.WithLimits(hubspot.LimitsForTier(cfg.HubSpot.Tier, cfg.HubSpot.APILimitIncreases, cfg.HubSpot.PublicApp)),
		hubspot.WithLogger(log),
	)
	if err != nil {
		return nil, err
	}
	up, err := userpilot.NewClient(upKey,
		userpilot.WithBaseURL(envOr("USERPILOT_BASE_URL", cfg.Userpilot.BaseURL)),
		userpilot.WithCompanyKey(cfg.Userpilot.IdentifyCompanyKey),
		userpilot.WithLogger(log),
	)
	if err != nil {
		return nil, err
	}
	in, err := handler.InboundFromConfig(cfg, st, hs, up, hubsync.WithLogger(log))
	if err != nil {
		return nil, err
	}
	return handler.NewPoll(in, handler.WithPollImports(st, cfg), handler.WithPollLogger(log)), nil
}

// secret reads a credential from the environment variable (local runs) or
// from the Secrets Manager secret named by arnVar (deployed). The secret is
// the bare value or a JSON object with one string field.
func secret(ctx context.Context, awsCfg aws.Config, envVar, arnVar string) (string, error) {
	if v := os.Getenv(envVar); v != "" {
		return v, nil
	}
	arn := os.Getenv(arnVar)
	if arn == "" {
		return "", fmt.Errorf("neither %s nor %s is set", envVar, arnVar)
	}
	out, err := secretsmanager.NewFromConfig(awsCfg).GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String(arn)})
	if err != nil {
		return "", fmt.Errorf("read secret %s: %w", arnVar, err)
	}
	v := strings.TrimSpace(aws.ToString(out.SecretString))
	var obj map[string]string
	if strings.HasPrefix(v, "{") && json.Unmarshal([]byte(v), &obj) == nil && len(obj) == 1 {
		for _, s := range obj {
			v = s
		}
	}
	if v == "" {
		return "", fmt.Errorf("secret %s is empty", arnVar)
	}
	return v, nil
}

func envOr(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}
