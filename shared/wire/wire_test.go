package wire

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"github.com/pilotsync/pilotsync/shared/awstest"
)

func TestParseHubSpotCredential(t *testing.T) {
	tests := []struct {
		name      string
		in        string
		wantToken string
		wantOAuth bool
		wantErr   string
	}{
		{name: "bare token", in: "pat-na1-abc", wantToken: "pat-na1-abc"},
		{name: "single field", in: `{"token":"pat-na1-abc"}`, wantToken: "pat-na1-abc"},
		{name: "oauth", in: `{"client_id":"id","client_secret":"cs","refresh_token":"rt"}`, wantOAuth: true},
		{name: "oauth incomplete", in: `{"client_id":"id","refresh_token":"rt"}`, wantErr: "oauth credential lacks client_secret"},
		{name: "oauth empty", in: `{"client_id":"","client_secret":"","refresh_token":""}`, wantErr: "oauth credential lacks client_id, client_secret, refresh_token"},
		{name: "bad json", in: `{"token": pat-na1-abc`, wantErr: "credential starts with { but is not a JSON object"},
		{name: "two unknown fields", in: `{"a":"x","b":"y"}`, wantErr: "credential JSON is neither"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseHubSpotCredential(tt.in)
			if tt.wantErr != "" {
				if err == nil || !strings.HasPrefix(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want prefix %q", err, tt.wantErr)
				}
				for _, secret := range []string{"pat-na1-abc", "cs", "rt"} {
					if strings.Contains(err.Error(), `"`+secret+`"`) || strings.Contains(err.Error(), secret+"\"") {
						t.Errorf("error %q quotes the secret", err)
					}
				}
				return
			}
			if err != nil {
				t.Fatalf("err = %v", err)
			}
			if got.token != tt.wantToken {
				t.Errorf("token = %q, want %q", got.token, tt.wantToken)
			}
			if (got.oauth != nil) != tt.wantOAuth {
				t.Errorf("oauth = %+v, want oauth %v", got.oauth, tt.wantOAuth)
			}
		})
	}
}

const minimalConfig = `userpilot:
  environment: staging
mapping:
  companies:
    enabled: false
notifications:
  sender: pilotsync@example.com
  recipients: [admin@example.com]
`

func writeConfig(t *testing.T, body string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "integration.yaml")
	if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func env(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

// staticAWS keeps Build off the machine's AWS credentials and region.
func staticAWS() Option {
	return WithAWSOptions(
		awsconfig.WithRegion(awstest.Region),
		awsconfig.WithCredentialsProvider(credentials.NewStaticCredentialsProvider("test", "test", "")),
	)
}

func TestBuildFromLocalEnvironment(t *testing.T) {
	var logs bytes.Buffer
	d, err := Build(t.Context(),
		WithLogger(slog.New(slog.NewJSONHandler(&logs, nil))),
		WithGetenv(env(map[string]string{
			"PILOTSYNC_CONFIG":  writeConfig(t, minimalConfig),
			EnvTable:            "tbl",
			EnvQueueURL:         "http://127.0.0.1:5000/000000000000/q",
			EnvDLQURL:           "http://127.0.0.1:5000/000000000000/dlq",
			EnvHubSpotToken:     "pat-na1-local-secret",
			EnvUserpilotAPIKey:  "up-local-secret",
			EnvHubSpotBaseURL:   "http://127.0.0.1:1",
			EnvUserpilotBaseURL: "http://127.0.0.1:2",
		})),
		staticAWS(),
	)
	if err != nil {
		t.Fatalf("Build: %v", err)
	}
	if d.Env != "staging" || d.Table != "tbl" || d.Store.Table() != "tbl" {
		t.Errorf("env, table = %q, %q (store %q), want staging, tbl", d.Env, d.Table, d.Store.Table())
	}
	if d.QueueURL == "" || d.DLQURL == "" || d.SQS == nil {
		t.Errorf("queue urls = %q, %q; sqs %v: want both set", d.QueueURL, d.DLQURL, d.SQS)
	}
	if d.HubSpotAuth != "token" || d.HubSpot == nil || d.Userpilot == nil {
		t.Errorf("hubspot auth = %q, clients %v %v", d.HubSpotAuth, d.HubSpot, d.Userpilot)
	}
	if !d.Notifier.Enabled() {
		t.Error("notifier disabled, want enabled (sender and recipient configured)")
	}
	assertNoSecrets(t, logs.String(), "pat-na1-local-secret", "up-local-secret")
	if !strings.Contains(logs.String(), `"hubspot_credential":"HUBSPOT_TOKEN"`) {
		t.Errorf("log does not say where the credential came from: %s", logs.String())
	}
}

func assertNoSecrets(t *testing.T, text string, secrets ...string) {
	t.Helper()
	for _, s := range secrets {
		if strings.Contains(text, s) {
			t.Errorf("secret %q appears in %q", s, text)
		}
	}
}

// TestBuildFromSecretsManager reads both credentials from Secrets Manager
// (moto serves it on the same endpoint as SQS), the deployed path.
func TestBuildFromSecretsManager(t *testing.T) {
	ep := awstest.Endpoint(t, "SQS") // moto_server: SQS, Secrets Manager, ...
	ctx := t.Context()
	sm := secretsmanager.NewFromConfig(awstest.Config(), func(o *secretsmanager.Options) { o.BaseEndpoint = aws.String(ep) })
	put := func(value string) string {
		out, err := sm.CreateSecret(ctx, &secretsmanager.CreateSecretInput{
			Name: aws.String(awstest.UniqueName("pilotsync-wire")), SecretString: aws.String(value),
		})
		if err != nil {
			t.Fatalf("create secret: %v", err)
		}
		t.Cleanup(func() {
			_, _ = sm.DeleteSecret(context.WithoutCancel(ctx), &secretsmanager.DeleteSecretInput{SecretId: out.ARN, ForceDeleteWithoutRecovery: aws.Bool(true)})
		})
		return aws.ToString(out.ARN)
	}
	oauthJSON := `{"client_id":"cid","client_secret":"oauth-client-secret","refresh_token":"oauth-refresh-secret"}`
	hsARN := put(oauthJSON)
	upARN := put("up-deployed-secret")

	t.Setenv("AWS_ENDPOINT_URL_SECRETS_MANAGER", ep)
	var logs bytes.Buffer
	d, err := Build(ctx,
		WithLogger(slog.New(slog.NewJSONHandler(&logs, nil))),
		WithConfigPath(writeConfig(t, strings.Replace(minimalConfig, "staging", "production", 1)+"hubspot:\n  auth: oauth\n")),
		WithGetenv(env(map[string]string{
			EnvTable:              "tbl",
			EnvHubSpotSecretARN:   hsARN,
			EnvUserpilotSecretARN: upARN,
			// The ARN wins over a local variable left set by mistake.
			EnvHubSpotToken: "ignored-local-token",
		})),
		staticAWS(),
	)
	if err != nil {
		t.Fatalf("Build: %v", err)
	}
	if d.HubSpotAuth != "oauth" || d.Env != "production" {
		t.Errorf("hubspot auth, env = %q, %q, want oauth, production", d.HubSpotAuth, d.Env)
	}
	assertNoSecrets(t, logs.String(), "oauth-client-secret", "oauth-refresh-secret", "up-deployed-secret")
	if !strings.Contains(logs.String(), `"hubspot_credential":"HUBSPOT_SECRET_ARN"`) {
		t.Errorf("log does not say the credential came from the secret: %s", logs.String())
	}
}

func TestBuildErrors(t *testing.T) {
	good := writeConfig(t, minimalConfig)
	base := map[string]string{
		"PILOTSYNC_CONFIG": good, EnvTable: "tbl", EnvHubSpotToken: "pat-x", EnvUserpilotAPIKey: "up-x",
	}
	with := func(k, v string) map[string]string {
		m := map[string]string{}
		for kk, vv := range base {
			m[kk] = vv
		}
		m[k] = v
		return m
	}
	tests := []struct {
		name    string
		env     map[string]string
		want    string
		wantIs  error
		secrets []string
	}{
		{name: "no table", env: with(EnvTable, ""), want: "wire: PILOTSYNC_TABLE is not set"},
		{name: "no hubspot credential", env: with(EnvHubSpotToken, ""), want: "wire: hubspot: missing credentials: set HUBSPOT_SECRET_ARN (deployed) or HUBSPOT_TOKEN (local)", wantIs: ErrMissingCredentials},
		{name: "no userpilot credential", env: with(EnvUserpilotAPIKey, ""), want: "wire: userpilot: missing credentials", wantIs: ErrMissingCredentials},
		{name: "missing config", env: with("PILOTSYNC_CONFIG", filepath.Join(t.TempDir(), "nope.yaml")), want: "wire: config: read"},
		{name: "bad config", env: with("PILOTSYNC_CONFIG", writeConfig(t, "userpilot:\n  environmnet: x\n")), want: "wire: "},
		{name: "oauth config with a plain token", env: with("PILOTSYNC_CONFIG", writeConfig(t, minimalConfig+"hubspot:\n  auth: oauth\n")), want: "wire: hubspot.auth is oauth but the credential from HUBSPOT_TOKEN is a plain token", secrets: []string{"pat-x"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Build(t.Context(), WithGetenv(env(tt.env)), staticAWS(),
				WithLogger(slog.New(slog.NewTextHandler(&bytes.Buffer{}, nil))))
			if err == nil || !strings.HasPrefix(err.Error(), tt.want) {
				t.Fatalf("err = %v, want prefix %q", err, tt.want)
			}
			if tt.wantIs != nil && !errors.Is(err, tt.wantIs) {
				t.Errorf("errors.Is(err, %v) = false", tt.wantIs)
			}
			assertNoSecrets(t, err.Error(), tt.secrets...)
		})
	}
}
