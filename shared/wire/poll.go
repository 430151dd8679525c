package wire

import (
	"context"
	"fmt"

	"github.com/pilotsync/pilotsync/shared/config"
	"github.com/pilotsync/pilotsync/shared/handler"
	"github.com/pilotsync/pilotsync/shared/hubspot"
	"github.com/pilotsync/pilotsync/shared/identity/linker"
	"github.com/pilotsync/pilotsync/shared/inbound"
	"github.com/pilotsync/pilotsync/shared/metrics"
	"github.com/pilotsync/pilotsync/shared/outbound"
	"github.com/pilotsync/pilotsync/shared/preview"
	"github.com/pilotsync/pilotsync/shared/store"
	"github.com/pilotsync/pilotsync/shared/userpilot"
)

// NewPoll builds the poll handler from d: the inbound poll over the real
// clients (its run records count their API calls and 429s), imports into the
// store, the alerts, the setup action and, when a kind has outbound mappings,
// the outbound push through the identity linker (whose run records count the
// HubSpot calls). opts are applied after these and override them; a new poll
// action is one more option in the list below.
func NewPoll(d *Deps, opts ...handler.PollOption) (*handler.Poll, error) {
	d = d.withLogger()
	relay := handler.ProgressFrom(opts) // reported by the engines, when opts ask for it
	in, err := Inbound(d.Config, d.Store, d.HubSpot, d.Userpilot, append(relay.InboundOptions(), inbound.WithLogger(d.Log),
		inbound.WithAPIStats(func() map[string]int64 { return apiCalls(d.HubSpot, d.Userpilot) }))...)
	if err != nil {
		return nil, fmt.Errorf("wire: poll: %w", err)
	}
	pv, err := Preview(d)
	if err != nil {
		return nil, fmt.Errorf("wire: poll: %w", err)
	}
	base := []handler.PollOption{
		handler.WithPollImports(d.Store, d.Config),
		handler.WithPollLogger(d.Log),
		handler.WithPollAlerts(d.Alerts),
		handler.WithPollSetup(Setup(d.Config, d.HubSpot)),
		handler.WithPollPreview(pv),
	}
	push, err := pushFromDeps(d, relay.OutboundOptions()...)
	if err != nil {
		return nil, fmt.Errorf("wire: poll: %w", err)
	}
	if push != nil {
		base = append(base, handler.WithPollPush(push))
	}
	return handler.NewPoll(in, append(base, opts...)...), nil
}

// Inbound builds the inbound poll from integration.yaml (defaults applied by
// config.Load) and the clients.
func Inbound(cfg *config.Config, st inbound.InboundStore, hs inbound.HubSpotReader, up inbound.UserpilotWriter, opts ...inbound.InboundOption) (*inbound.Inbound, error) {
	objs, err := inbound.ObjectsFromConfig(cfg)
	if err != nil {
		return nil, err
	}
	return inbound.NewInbound(st, hs, up, inbound.InboundConfig{Env: cfg.Userpilot.Environment, Objects: objs,
		Overlap: cfg.Schedule.SearchOverlap.D()}, opts...)
}

// Push builds the outbound push from integration.yaml; nil when no kind has
// outbound mappings.
func Push(cfg *config.Config, st outbound.Store, hs outbound.HubSpot, lk outbound.Linker, opts ...outbound.Option) (*outbound.Push, error) {
	oc, err := outbound.ConfigFrom(cfg)
	if err != nil || len(oc.Objects) == 0 {
		return nil, err
	}
	return outbound.New(st, hs, lk, oc, opts...)
}

// Setup binds outbound.Setup to cfg and the HubSpot client.
func Setup(cfg *config.Config, hs outbound.PropertyAdmin) handler.PropertySetup {
	return func(ctx context.Context, dryRun bool) (*outbound.SetupReport, error) {
		return outbound.Setup(ctx, cfg, hs, dryRun)
	}
}

// pushFromDeps builds the outbound push over the identity linker and the
// real HubSpot client (run records count its calls); nil when nothing is
// pushed.
func pushFromDeps(d *Deps, opts ...outbound.Option) (*outbound.Push, error) {
	lk, err := linker.New(linker.Options{Env: d.Config.Userpilot.Environment, Store: d.Store, HubSpot: d.HubSpot,
		Objects: linker.ObjectsFromConfig(d.Config), Logger: d.Log})
	if err != nil {
		return nil, err
	}
	return Push(d.Config, d.Store, d.HubSpot, lk, append(opts, outbound.WithLogger(d.Log),
		outbound.WithAPIStats(func() map[string]int64 { return hubspotCalls(d.HubSpot) }))...)
}

// Preview builds the read-only preview over the real store and HubSpot
// client: the linker is used only for its read-only Find (it is given no
// Userpilot client, and Find stores nothing).
func Preview(d *Deps) (*preview.Preview, error) {
	lk, err := linker.New(linker.Options{Env: d.Config.Userpilot.Environment, Store: d.Store, HubSpot: d.HubSpot,
		Objects: linker.ObjectsFromConfig(d.Config), Logger: d.Log})
	if err != nil {
		return nil, fmt.Errorf("preview: %w", err)
	}
	return preview.New(d.Config, d.Store, d.HubSpot, lk, preview.Options{Limits: d.HubSpot.Limits()})
}

// apiCalls is the clients' call counters for run records: "hubspot.<endpoint>"
// and "userpilot.<endpoint>", plus their 429 answers under
// "<service>"+metrics.RateLimitSuffix (the RateLimited metric; not API calls).
func apiCalls(hs *hubspot.Client, up *userpilot.Client) map[string]int64 {
	calls := map[string]int64{}
	hss, ups := hs.Stats(), up.Stats()
	for k, v := range hss.Calls {
		calls["hubspot."+k] = v
	}
	for k, v := range ups.Calls {
		calls["userpilot."+k] = v
	}
	calls["hubspot"+metrics.RateLimitSuffix], calls["userpilot"+metrics.RateLimitSuffix] = hss.RateLimited, ups.RateLimited
	return calls
}

// hubspotCalls is the HubSpot client's call counters, prefixed for run records.
func hubspotCalls(hs *hubspot.Client) map[string]int64 {
	calls := map[string]int64{}
	for k, v := range hs.Stats().Calls {
		calls["hubspot."+k] = v
	}
	return calls
}

// The store is what every engine of the poll needs of it.
var (
	_ inbound.InboundStore = (*store.Store)(nil)
	_ outbound.Store       = (*store.Store)(nil)
)
