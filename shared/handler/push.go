package handler

import (
	"context"
	"errors"
	"fmt"
	"log/slog"

	"github.com/pilotsync/pilotsync/shared/config"
	"github.com/pilotsync/pilotsync/shared/hubspot"
	"github.com/pilotsync/pilotsync/shared/identity/linker"
	"github.com/pilotsync/pilotsync/shared/outbound"
	"github.com/pilotsync/pilotsync/shared/store"
)

// OutboundRunner runs the outbound custom properties push (outbound.Push).
type OutboundRunner interface {
	Run(ctx context.Context) (*outbound.Report, error)
}

// PropertySetup creates the HubSpot properties the config writes
// (outbound.Setup bound to a config and client).
type PropertySetup func(ctx context.Context, dryRun bool) (*outbound.SetupReport, error)

// WithPollPush runs the outbound push after the inbound poll on every
// scheduled poll and sync; nil (the default) pushes nothing.
func WithPollPush(p OutboundRunner) PollOption { return func(h *Poll) { h.push = p } }

// WithPollSetup enables the setup action.
func WithPollSetup(s PropertySetup) PollOption { return func(h *Poll) { h.setup = s } }

// runPush runs the push after the inbound run and adds its outcome to res:
// its counts under "outbound.", and a failed or partial push status when
// inbound completed.
func (h *Poll) runPush(ctx context.Context, res *PollResult) {
	if h.push == nil {
		return
	}
	rep, err := h.push.Run(ctx)
	if err != nil {
		h.log.ErrorContext(ctx, "poll: outbound push did not start", "err", err)
		if res.Status == "complete" || res.Status == "" {
			res.Status = outbound.StatusFailed
		}
		res.Message = joinMessage(res.Message, "outbound: "+err.Error())
		return
	}
	h.alerts.Outbound(ctx, rep)
	res.Outbound = rep
	h.metrics.Counts(ctx, outbound.JobOutbound, map[string]int64{"sent": rep.Totals.Sent, "quarantined": rep.Totals.Quarantined,
		"considered": rep.Totals.Considered, "unmatched": rep.Totals.Unmatched}, rep.Status == outbound.StatusFailed)
	if res.Counts == nil {
		res.Counts = map[string]int64{}
	}
	t := rep.Totals
	for k, v := range map[string]int64{"considered": t.Considered, "changed": t.Changed, "sent": t.Sent, "unchanged": t.Unchanged,
		"quarantined": t.Quarantined, "unmatched": t.Unmatched} {
		res.Counts["outbound."+k] = v
	}
	if (rep.Status == outbound.StatusFailed || rep.Status == outbound.StatusPartial) && (res.Status == "complete" || res.Status == "") {
		res.Status = rep.Status
	}
	if rep.Error != "" {
		res.Message = joinMessage(res.Message, "outbound: "+rep.Error)
	}
}

func joinMessage(a, b string) string {
	if a == "" {
		return b
	}
	return a + "; " + b
}

// pushOnly runs the push when no inbound sync is configured.
func (h *Poll) pushOnly(ctx context.Context, action string) (PollResult, error) {
	res := PollResult{Action: action}
	h.runPush(ctx, &res)
	if res.Outbound != nil && res.Status == "" {
		res.Status = res.Outbound.Status
	}
	return res, nil
}

// runSetup runs the setup action.
func (h *Poll) runSetup(ctx context.Context, in PollInput) (PollResult, error) {
	if h.setup == nil {
		return PollResult{Status: "not_configured", Action: PollActionSetup, Message: "setup is not configured"}, nil
	}
	rep, err := h.setup(ctx, in.DryRun)
	if errors.Is(err, outbound.ErrSetupRefused) {
		return PollResult{Status: "refused", Action: PollActionSetup, Setup: rep, Message: err.Error()}, nil
	}
	if err != nil {
		return PollResult{}, fmt.Errorf("poll: setup: %w", err)
	}
	created := int64(0)
	for _, p := range rep.Properties {
		if p.Action == "created" || p.Action == "create" {
			created++
		}
	}
	return PollResult{Status: "ok", Action: PollActionSetup, Setup: rep, Counts: map[string]int64{"properties": int64(len(rep.Properties)), "created": created}}, nil
}

// PushFromConfig builds the outbound push from integration.yaml; nil when no
// kind has outbound mappings.
func PushFromConfig(cfg *config.Config, st outbound.Store, hs outbound.HubSpot, linker outbound.Linker, opts ...outbound.Option) (*outbound.Push, error) {
	oc, err := outbound.ConfigFrom(cfg)
	if err != nil || len(oc.Objects) == 0 {
		return nil, err
	}
	return outbound.New(st, hs, linker, oc, opts...)
}

// SetupFromConfig binds outbound.Setup to cfg and the HubSpot client.
func SetupFromConfig(cfg *config.Config, hs outbound.PropertyAdmin) PropertySetup {
	return func(ctx context.Context, dryRun bool) (*outbound.SetupReport, error) {
		return outbound.Setup(ctx, cfg, hs, dryRun)
	}
}

// hubspotCalls is the HubSpot client's call counters, prefixed for run records.
func hubspotCalls(hs *hubspot.Client) map[string]int64 {
	calls := map[string]int64{}
	for k, v := range hs.Stats().Calls {
		calls["hubspot."+k] = v
	}
	return calls
}

// pushOptions builds the outbound push (through the identity linker) and
// setup over the real clients (run records count their HubSpot calls).
func pushOptions(cfg *config.Config, st *store.Store, hs *hubspot.Client, log *slog.Logger, relay *progressRelay) ([]PollOption, error) {
	opts := []PollOption{WithPollSetup(SetupFromConfig(cfg, hs))}
	env := cfg.Userpilot.Environment
	if env == "" {
		env = config.DefaultEnvironment
	}
	lk, err := linker.New(linker.Options{Env: env, Store: st, HubSpot: hs, Objects: linker.ObjectsFromConfig(cfg), Logger: log})
	if err != nil {
		return nil, err
	}
	push, err := PushFromConfig(cfg, st, hs, lk, append(relay.outboundOptions(), outbound.WithLogger(log),
		outbound.WithAPIStats(func() map[string]int64 { return hubspotCalls(hs) }))...)
	if err != nil {
		return nil, err
	}
	if push != nil {
		opts = append(opts, WithPollPush(push))
	}
	return opts, nil
}
