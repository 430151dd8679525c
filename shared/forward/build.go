package forward

import (
	"fmt"
	"log/slog"

	"github.com/pilotsync/pilotsync/shared/config"
	"github.com/pilotsync/pilotsync/shared/hubspot"
	"github.com/pilotsync/pilotsync/shared/identity/linker"
	"github.com/pilotsync/pilotsync/shared/userpilot"
)

// Deps are the clients a Forwarder is built from; shared/wire (or a test)
// builds them once per cold start.
type Deps struct {
	Config  *config.Config
	Store   Store
	HubSpot *hubspot.Client
	// Userpilot, when set, gets the link changes the forwarder's linker
	// makes (new link ids and values, removals on unlink).
	Userpilot *userpilot.Client
	// SQS and DLQURL (PILOTSYNC_DLQ_URL) give the dead-letter queue; without
	// them invalid messages are reported failed and left to the redrive policy.
	SQS    SQSSender
	DLQURL string
	Logger *slog.Logger
}

// NewFromDeps builds the Forwarder config describes: the sink it names, the
// linker for the users' object and match property, and the SQS
// dead-letter queue.
func NewFromDeps(d Deps) (*Forwarder, error) {
	if d.Config == nil || d.HubSpot == nil {
		return nil, fmt.Errorf("forward: config and hubspot client are required")
	}
	cfg := d.Config
	sink, err := NewSink(cfg.Activity.Sink, cfg.Mapping.Users.HubSpotObject, cfg.Activity.EventNamePrefix,
		cfg.Activity.Targets(), d.HubSpot, d.Logger)
	if err != nil {
		return nil, err
	}
	ls, ok := d.Store.(linker.Store)
	if !ok {
		return nil, fmt.Errorf("forward: the store cannot hold links (%T)", d.Store)
	}
	lo := linker.Options{Env: cfg.Userpilot.Environment, Store: ls, HubSpot: d.HubSpot,
		Objects: linker.ObjectsFromConfig(cfg), Logger: d.Logger}
	if d.Userpilot != nil { // a nil *userpilot.Client must not become a non-nil interface
		lo.Userpilot = d.Userpilot
	}
	lk, err := linker.New(lo)
	if err != nil {
		return nil, fmt.Errorf("forward: %w", err)
	}
	o := Options{
		Config: cfg,
		Store:  d.Store,
		Linker: lk,
		Sink:   sink,
		Logger: d.Logger,
	}
	if r, ok := d.Store.(RunRecorder); ok {
		o.Runs = r
	}
	if d.SQS != nil && d.DLQURL != "" {
		o.DLQ = NewSQSDeadLetters(d.SQS, d.DLQURL)
	}
	return New(o)
}
