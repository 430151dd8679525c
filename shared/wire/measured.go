package wire

import (
	"context"
	"fmt"

	"github.com/pilotsync/pilotsync/shared/handler"
	"github.com/pilotsync/pilotsync/shared/identity/linker"
	"github.com/pilotsync/pilotsync/shared/measured"
	"github.com/pilotsync/pilotsync/shared/store"
)

// NewDailyMeasured builds the daily handler from d: the identity linker, the
// measured engine over the config's measured mappings, and the notifier when
// it can send. With no measured mapping it answers "not_configured". Each run
// also audits the links (linker.Audit).
func NewDailyMeasured(d *Deps) (*handler.Measured, error) {
	d = d.withLogger()
	cfg := d.Config
	h := handler.NewMeasured(cfg, nil, d.Log)
	if d.Notifier != nil && d.Notifier.Enabled() {
		h = h.WithNotifier(d.Notifier)
	}
	targets := measured.TargetsFrom(cfg)
	if len(targets) == 0 {
		return h, nil
	}
	lk, err := linker.New(linker.Options{Env: cfg.Userpilot.Environment, Store: d.Store, HubSpot: d.HubSpot,
		Objects: linker.ObjectsFromConfig(cfg), Logger: d.Log})
	if err != nil {
		return nil, fmt.Errorf("wire: measured: %w", err)
	}
	// The daily link audit (identity): repairs links of records deleted or
	// merged in HubSpot without any event, its call cost in the run record.
	audit := func(ctx context.Context, kind store.Kind) (map[string]int64, error) {
		rep, err := lk.Audit(ctx, kind)
		return rep.Counts(), err
	}
	return h.WithEngine(measured.New(d.Store, d.HubSpot, lk, audit, measured.Options{
		Env: cfg.Userpilot.Environment, PeriodDays: cfg.Measured.PeriodDays, Targets: targets, Log: d.Log,
		APIStats: func() map[string]int64 { return d.HubSpot.Stats().Calls },
	})), nil
}
