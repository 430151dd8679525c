package handler

import (
	"context"
	"fmt"

	"github.com/pilotsync/pilotsync/shared/preview"
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
