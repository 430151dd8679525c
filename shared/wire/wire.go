// Package wire builds pilotsync's dependencies from the environment, once per
// Lambda cold start (or once per local run): the validated config, the AWS
// config, the HubSpot and Userpilot clients with their credentials, the store,
// the SQS client and queue URLs, the notifier and the logger.
//
// Environment (README "Configuration" and "Deploy with SAM"):
//
//	PILOTSYNC_CONFIG       integration.yaml (default ./integration.yaml, then /var/task/integration.yaml)
//	PILOTSYNC_TABLE        DynamoDB table (required)
//	PILOTSYNC_QUEUE_URL    activity queue; PILOTSYNC_DLQ_URL its dead-letter queue
//	HUBSPOT_SECRET_ARN     deployed: Secrets Manager secret holding the HubSpot token,
//	                       or JSON {"client_id","client_secret","refresh_token"} for OAuth
//	USERPILOT_SECRET_ARN   deployed: Secrets Manager secret holding the Userpilot API key
//	HUBSPOT_TOKEN          local: the token (or the same OAuth JSON); used when no ARN is set
//	USERPILOT_API_KEY      local: the Userpilot key; used when no ARN is set
//	HUBSPOT_BASE_URL, USERPILOT_BASE_URL   override the config's API hosts (sandboxes)
//	AWS_ENDPOINT_URL[_<SERVICE>]           the AWS SDK's own endpoint overrides (emulators)
//
// Credentials are never logged and never appear in errors.
package wire

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"slices"
	"strings"

	"github.com/aws/aws-lambda-go/lambdacontext"
	"github.com/aws/aws-sdk-go-v2/aws"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/ses"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/pilotsync/pilotsync/shared/alert"
	"github.com/pilotsync/pilotsync/shared/config"
	"github.com/pilotsync/pilotsync/shared/hubspot"
	"github.com/pilotsync/pilotsync/shared/notify"
	"github.com/pilotsync/pilotsync/shared/store"
	"github.com/pilotsync/pilotsync/shared/userpilot"
)

// Environment variable names.
const (
	EnvTable              = "PILOTSYNC_TABLE"
	EnvQueueURL           = "PILOTSYNC_QUEUE_URL"
	EnvDLQURL             = "PILOTSYNC_DLQ_URL"
	EnvHubSpotSecretARN   = "HUBSPOT_SECRET_ARN"
	EnvUserpilotSecretARN = "USERPILOT_SECRET_ARN"
	EnvHubSpotToken       = "HUBSPOT_TOKEN"
	EnvUserpilotAPIKey    = "USERPILOT_API_KEY"
	EnvHubSpotBaseURL     = "HUBSPOT_BASE_URL"
	EnvUserpilotBaseURL   = "USERPILOT_BASE_URL"
	// envLambdaFunction is set by the Lambda runtime (and the runtime emulator).
	envLambdaFunction = "AWS_LAMBDA_FUNCTION_NAME"
)

// ErrMissingCredentials reports that a HubSpot or Userpilot credential is set
// neither as a secret ARN nor in the local environment variable.
var ErrMissingCredentials = errors.New("missing credentials")

// Deps is everything a handler needs, built once and shared read-only.
type Deps struct {
	Config    *config.Config
	AWS       aws.Config
	Store     *store.Store
	HubSpot   *hubspot.Client
	Userpilot *userpilot.Client
	Notifier  *notify.Notifier
	// Alerts turns run outcomes into problem and recovery emails; nil (off)
	// when notifications have no sender or recipients.
	Alerts *alert.Alerter
	SQS    *sqs.Client
	// Table, QueueURL and DLQURL come from the environment (template outputs).
	// QueueURL and DLQURL may be empty where a function does not use them.
	Table    string
	QueueURL string
	DLQURL   string
	// Env is the Userpilot environment every store key begins with.
	Env string
	Log *slog.Logger
	// HubSpotAuth is "token" or "oauth": how the HubSpot client authenticates.
	HubSpotAuth string
}

// Option adjusts Build.
type Option func(*options)

type options struct {
	log        *slog.Logger
	configPath string
	getenv     func(string) string
	awsOpts    []func(*awsconfig.LoadOptions) error
	// noUserpilot: the function never calls Userpilot (scope.go).
	noUserpilot bool
}

// WithLogger uses l instead of the default logger (Lambda's JSON logger in
// Lambda, JSON on stderr elsewhere).
func WithLogger(l *slog.Logger) Option { return func(o *options) { o.log = l } }

// WithConfigPath loads the config from path instead of config.DefaultPath().
func WithConfigPath(path string) Option { return func(o *options) { o.configPath = path } }

// WithGetenv reads the environment through getenv (tests).
func WithGetenv(getenv func(string) string) Option { return func(o *options) { o.getenv = getenv } }

// WithAWSOptions adds options to config.LoadDefaultConfig (e.g. static
// credentials for the local emulators).
func WithAWSOptions(fns ...func(*awsconfig.LoadOptions) error) Option {
	return func(o *options) { o.awsOpts = append(o.awsOpts, fns...) }
}

// Logger returns the default logger: Lambda's structured logger (request id,
// AWS_LAMBDA_LOG_FORMAT/LEVEL) inside Lambda, JSON on stderr elsewhere.
func Logger() *slog.Logger {
	if os.Getenv(envLambdaFunction) != "" {
		return lambdacontext.NewLogger()
	}
	return slog.New(slog.NewJSONHandler(os.Stderr, nil))
}

// Build reads the environment and builds the dependencies. Call it once per
// cold start; the result is safe for concurrent handlers.
func Build(ctx context.Context, opts ...Option) (*Deps, error) {
	o := options{getenv: os.Getenv}
	for _, fn := range opts {
		fn(&o)
	}
	if o.log == nil {
		o.log = Logger()
	}
	path := o.configPath
	if path == "" {
		if p := o.getenv(config.EnvPath); p != "" {
			path = p
		} else {
			path = config.DefaultPath()
		}
	}
	cfg, err := config.Load(path)
	if err != nil {
		return nil, fmt.Errorf("wire: %w", err)
	}
	table := o.getenv(EnvTable)
	if table == "" {
		return nil, fmt.Errorf("wire: %s is not set", EnvTable)
	}
	awsCfg, err := awsconfig.LoadDefaultConfig(ctx, o.awsOpts...)
	if err != nil {
		return nil, fmt.Errorf("wire: aws config: %w", err)
	}
	secrets := secretsmanager.NewFromConfig(awsCfg)

	hs, authMode, hsSource, err := buildHubSpot(ctx, cfg, o, secrets)
	if err != nil {
		return nil, err
	}
	up, upSource, err := buildUserpilot(ctx, cfg, o, secrets)
	if err != nil {
		return nil, err
	}

	// Activity summaries split sessions by the configured timeout and keep the
	// period plus a week (shared/measured reads them daily).
	st := store.New(DynamoDBClient(awsCfg), table).
		WithActivitySummary(cfg.Measured.SessionTimeout.D(), cfg.Measured.PeriodDays+7)
	n := notify.New(ses.NewFromConfig(awsCfg), st, cfg.Notifications.Sender, cfg.Notifications.Recipients,
		notify.WithRepeatAfter(cfg.Notifications.RepeatAfter.D()), notify.WithLogger(o.log))

	d := &Deps{
		Config:      cfg,
		AWS:         awsCfg,
		Store:       st,
		HubSpot:     hs,
		Userpilot:   up,
		Notifier:    n,
		Alerts:      alert.New(n, st, cfg.Userpilot.Environment, alert.WithLogger(o.log)),
		SQS:         sqs.NewFromConfig(awsCfg),
		Table:       table,
		QueueURL:    o.getenv(EnvQueueURL),
		DLQURL:      o.getenv(EnvDLQURL),
		Env:         cfg.Userpilot.Environment,
		Log:         o.log,
		HubSpotAuth: authMode,
	}
	o.log.InfoContext(ctx, "wire: dependencies built",
		"config", path, "env", d.Env, "table", table,
		"hubspot_auth", authMode, "hubspot_credential", hsSource, "userpilot_credential", upSource,
		"notifications", n.Enabled())
	return d, nil
}

// Compile-time checks: the store provides the notifier's state.
var _ notify.State = (*store.Store)(nil)

// secretReader is the Secrets Manager call Build uses.
type secretReader interface {
	GetSecretValue(ctx context.Context, in *secretsmanager.GetSecretValueInput, optFns ...func(*secretsmanager.Options)) (*secretsmanager.GetSecretValueOutput, error)
}

// credential returns the secret named by the ARN variable when it is set, else
// the local variable's value, and a description of where it came from (for
// logs: the variable name, never the value).
func credential(ctx context.Context, sm secretReader, getenv func(string) string, arnVar, localVar string) (value, source string, err error) {
	if arn := getenv(arnVar); arn != "" {
		out, err := sm.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String(arn)})
		if err != nil {
			return "", "", fmt.Errorf("read secret %s: %w", arnVar, err)
		}
		v := strings.TrimSpace(aws.ToString(out.SecretString))
		if v == "" {
			return "", "", fmt.Errorf("secret %s is empty (binary secrets are not supported)", arnVar)
		}
		return v, arnVar, nil
	}
	if v := strings.TrimSpace(getenv(localVar)); v != "" {
		return v, localVar, nil
	}
	return "", "", fmt.Errorf("%w: set %s (deployed) or %s (local)", ErrMissingCredentials, arnVar, localVar)
}

// hubspotAuth is a parsed HubSpot credential: a token, or OAuth credentials.
type hubspotAuth struct {
	token string
	oauth *hubspot.OAuthConfig
}

// parseHubSpotCredential accepts a bare token, JSON {"client_id",
// "client_secret","refresh_token"} for OAuth, or JSON with a single string
// field holding the token (the shape the Secrets Manager console produces for
// one key/value pair).
func parseHubSpotCredential(v string) (hubspotAuth, error) {
	if !strings.HasPrefix(v, "{") {
		return hubspotAuth{token: v}, nil
	}
	var m map[string]any
	if err := json.Unmarshal([]byte(v), &m); err != nil {
		// Do not wrap err: its text can quote the secret.
		return hubspotAuth{}, errors.New("credential starts with { but is not a JSON object")
	}
	str := func(k string) string { s, _ := m[k].(string); return strings.TrimSpace(s) }
	if _, isOAuth := m["refresh_token"]; isOAuth || m["client_id"] != nil || m["client_secret"] != nil {
		o := hubspot.OAuthConfig{ClientID: str("client_id"), ClientSecret: str("client_secret"), RefreshToken: str("refresh_token")}
		var missing []string
		for k, val := range map[string]string{"client_id": o.ClientID, "client_secret": o.ClientSecret, "refresh_token": o.RefreshToken} {
			if val == "" {
				missing = append(missing, k)
			}
		}
		if len(missing) > 0 {
			slices.Sort(missing)
			return hubspotAuth{}, fmt.Errorf("oauth credential lacks %s", strings.Join(missing, ", "))
		}
		return hubspotAuth{oauth: &o}, nil
	}
	if tok := singleValue(v); tok != v {
		return hubspotAuth{token: tok}, nil
	}
	return hubspotAuth{}, errors.New(`credential JSON is neither {"client_id","client_secret","refresh_token"} nor a single token field`)
}

// singleValue returns the value of a JSON object with exactly one non-empty
// string field, or v unchanged.
func singleValue(v string) string {
	if !strings.HasPrefix(v, "{") {
		return v
	}
	var m map[string]any
	if json.Unmarshal([]byte(v), &m) != nil || len(m) != 1 {
		return v
	}
	for _, x := range m {
		if s, ok := x.(string); ok && strings.TrimSpace(s) != "" {
			return strings.TrimSpace(s)
		}
	}
	return v
}

func firstNonEmpty(vs ...string) string {
	for _, v := range vs {
		if v != "" {
			return v
		}
	}
	return ""
}

// buildHubSpot builds the HubSpot client from the config and the credential
// (Secrets Manager when HUBSPOT_SECRET_ARN is set, else HUBSPOT_TOKEN). It
// returns the auth mode and where the credential came from (never its value).
func buildHubSpot(ctx context.Context, cfg *config.Config, o options, secrets secretReader) (*hubspot.Client, string, string, error) {
	hsCred, hsSource, err := credential(ctx, secrets, o.getenv, EnvHubSpotSecretARN, EnvHubSpotToken)
	if err != nil {
		return nil, "", "", fmt.Errorf("wire: hubspot: %w", err)
	}
	hsAuth, err := parseHubSpotCredential(hsCred)
	if err != nil {
		return nil, "", "", fmt.Errorf("wire: hubspot credential from %s: %w", hsSource, err)
	}
	if cfg.HubSpot.Auth == config.AuthOAuth && hsAuth.oauth == nil {
		return nil, "", "", fmt.Errorf("wire: hubspot.auth is oauth but the credential from %s is a plain token, want JSON {\"client_id\",\"client_secret\",\"refresh_token\"}", hsSource)
	}
	hsOpts := []hubspot.Option{
		hubspot.WithAPIVersion(cfg.HubSpot.APIVersion),
		hubspot.WithLimits(hubspot.LimitsForTier(cfg.HubSpot.Tier, cfg.HubSpot.APILimitIncreases, cfg.HubSpot.PublicApp)),
		hubspot.WithLogger(o.log),
		hubspot.WithOAuthTokenAPI(cfg.HubSpot.OAuthTokenAPI),
	}
	if u := firstNonEmpty(o.getenv(EnvHubSpotBaseURL), cfg.HubSpot.BaseURL); u != "" {
		hsOpts = append(hsOpts, hubspot.WithBaseURL(u))
	}
	authMode := config.AuthToken
	if hsAuth.oauth != nil {
		hsOpts = append(hsOpts, hubspot.WithOAuth(*hsAuth.oauth))
		authMode = config.AuthOAuth
	} else {
		hsOpts = append(hsOpts, hubspot.WithToken(hsAuth.token))
	}
	hs, err := hubspot.NewClient(hsOpts...)
	if err != nil {
		return nil, "", "", fmt.Errorf("wire: hubspot client: %w", err)
	}
	return hs, authMode, hsSource, nil

}

// HubSpotClient builds only the HubSpot client for cfg, from the same
// credentials Build uses: for admin commands (validate --hubspot) that need
// no table, queue or Userpilot key.
func HubSpotClient(ctx context.Context, cfg *config.Config, opts ...Option) (*hubspot.Client, error) {
	o := options{getenv: os.Getenv}
	for _, fn := range opts {
		fn(&o)
	}
	if o.log == nil {
		o.log = Logger()
	}
	awsCfg, err := awsconfig.LoadDefaultConfig(ctx, o.awsOpts...)
	if err != nil {
		return nil, fmt.Errorf("wire: aws config: %w", err)
	}
	hs, _, _, err := buildHubSpot(ctx, cfg, o, secretsmanager.NewFromConfig(awsCfg))
	return hs, err
}

// PropertyCatalog lets config.CheckHubSpot read the account's properties
// through the HubSpot client.
func PropertyCatalog(c *hubspot.Client) config.PropertyCatalog { return propertyCatalog{c} }

type propertyCatalog struct{ c *hubspot.Client }

func (p propertyCatalog) Properties(ctx context.Context, objectType string) ([]config.HubSpotProperty, error) {
	props, err := p.c.ListProperties(ctx, objectType)
	if err != nil {
		return nil, err
	}
	out := make([]config.HubSpotProperty, len(props))
	for i, hp := range props {
		out[i] = config.HubSpotProperty{Name: hp.Name, Type: hp.Type, HasUniqueValue: hp.HasUniqueValue,
			Calculated: hp.Calculated, ReadOnlyValue: hp.ReadOnlyValue}
	}
	return out, nil
}

// DynamoDBClient returns the DynamoDB client pilotsync uses. Against an
// endpoint override (AWS_ENDPOINT_URL_DYNAMODB or AWS_ENDPOINT_URL: DynamoDB
// Local) it does not validate response checksums: DynamoDB Local answers
// errors without an X-Amz-Crc32 header, and the SDK then logs a spurious
// "failed to close HTTP response body" warning for each, such as every
// version conflict (github.com/aws/aws-sdk-go-v2/issues/3545). Real
// DynamoDB's responses stay checked.
func DynamoDBClient(awsCfg aws.Config) *dynamodb.Client {
	return dynamodb.NewFromConfig(awsCfg, func(o *dynamodb.Options) {
		if o.BaseEndpoint != nil {
			o.DisableValidateResponseChecksum = true
		}
	})
}
