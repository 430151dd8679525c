package handler

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/pilotsync/pilotsync/shared/config"
	"github.com/pilotsync/pilotsync/shared/hubspot"
	"github.com/pilotsync/pilotsync/shared/identity/linker"
	"github.com/pilotsync/pilotsync/shared/preview"
	"github.com/pilotsync/pilotsync/shared/store"
)

// Previewer builds the read-only preview of chosen users and companies
// (preview.Preview).
type Previewer interface {
	Run(ctx context.Context, users, companies []string) (*preview.Report, error)
}

var _ Previewer = (*preview.Preview)(nil)

// WithPollPreview enables the preview action; nil (the default) answers
// not_configured.
func WithPollPreview(p Previewer) PollOption { return func(h *Poll) { h.preview = p } }

// runPreview runs the preview action: it writes nothing anywhere.
func (h *Poll) runPreview(ctx context.Context, in PollInput) (PollResult, error) {
	if h.preview == nil {
		return PollResult{Status: "not_configured", Action: PollActionPreview, Message: "the preview is not configured"}, nil
	}
	rep, err := h.preview.Run(ctx, in.Users, in.Companies)
	if err != nil {
		return PollResult{}, fmt.Errorf("poll: preview: %w", err)
	}
	problems := int64(0)
	for _, r := range rep.Records {
		problems += int64(len(r.Problems))
	}
	return PollResult{Status: "ok", Action: PollActionPreview, Preview: rep, Counts: map[string]int64{
		"records": int64(len(rep.Records)), "problems": problems, "estimated_hubspot_calls": rep.Estimate.HubSpotCalls,
	}}, nil
}

// NewPreviewFromDeps builds the preview over the real store and HubSpot
// client: the linker is used only for its read-only Find (it is given no
// Userpilot client, and Find stores nothing).
func NewPreviewFromDeps(cfg *config.Config, st *store.Store, hs *hubspot.Client, log *slog.Logger) (*preview.Preview, error) {
	env := cfg.Userpilot.Environment
	if env == "" {
		env = config.DefaultEnvironment
	}
	lk, err := linker.New(linker.Options{Env: env, Store: st, HubSpot: hs, Objects: linker.ObjectsFromConfig(cfg), Logger: log})
	if err != nil {
		return nil, err
	}
	return preview.New(cfg, st, hs, lk, preview.Options{Limits: hs.Limits()})
}

// previewOption wires the preview into NewPollFromDeps.
func previewOption(cfg *config.Config, st *store.Store, hs *hubspot.Client, log *slog.Logger) (PollOption, error) {
	p, err := NewPreviewFromDeps(cfg, st, hs, log)
	if err != nil {
		return nil, fmt.Errorf("preview: %w", err)
	}
	return WithPollPreview(p), nil
}
