package wire

import (
	"context"
	"fmt"

	"github.com/pilotsync/pilotsync/shared/config"
	"github.com/pilotsync/pilotsync/shared/userpilot"
)

// WithoutUserpilot builds no Userpilot client (Deps.Userpilot stays nil) and
// never reads the Userpilot credential, for functions that do not call
// Userpilot (activity, daily measured): their roles may not read its secret
// (template.yaml, least privilege).
func WithoutUserpilot() Option { return func(o *options) { o.noUserpilot = true } }

// buildUserpilot builds the Userpilot client from the config and the
// credential (Secrets Manager when USERPILOT_SECRET_ARN is set, else
// USERPILOT_API_KEY), and says where the credential came from (never its
// value). With WithoutUserpilot it returns no client and source "none".
func buildUserpilot(ctx context.Context, cfg *config.Config, o options, secrets secretReader) (*userpilot.Client, string, error) {
	if o.noUserpilot {
		return nil, "none", nil
	}
	upKey, upSource, err := credential(ctx, secrets, o.getenv, EnvUserpilotSecretARN, EnvUserpilotAPIKey)
	if err != nil {
		return nil, "", fmt.Errorf("wire: userpilot: %w", err)
	}
	upKey = singleValue(upKey)
	upOpts := []userpilot.Option{userpilot.WithLogger(o.log)}
	if u := firstNonEmpty(o.getenv(EnvUserpilotBaseURL), cfg.Userpilot.BaseURL); u != "" {
		upOpts = append(upOpts, userpilot.WithBaseURL(u))
	}
	if k := cfg.Userpilot.IdentifyCompanyKey; k != "" {
		upOpts = append(upOpts, userpilot.WithCompanyKey(k))
	}
	upOpts = append(upOpts, userpilot.WithClearValue(cfg.Userpilot.ClearValue))
	up, err := userpilot.NewClient(upKey, upOpts...)
	if err != nil {
		return nil, "", fmt.Errorf("wire: userpilot client: %w", err)
	}
	return up, upSource, nil
}
