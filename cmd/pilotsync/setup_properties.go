package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"

	"github.com/pilotsync/pilotsync/shared/config"
	"github.com/pilotsync/pilotsync/shared/outbound"
	"github.com/pilotsync/pilotsync/shared/wire"
)

// setupOutput is what pilotsync setup prints.
type setupOutput struct {
	// Properties are the HubSpot properties the config writes.
	Properties *outbound.SetupReport `json:"properties"`
	// EventDefinitions are the custom event definitions.
	EventDefinitions []setupDefinition `json:"event_definitions"`
}

// setupProperties runs outbound.Setup with the HubSpot credentials of the
// config (reads only with dryRun). A refusal prints each problem on stderr
// and fails, so nothing else is set up before the mapping is fixed.
func setupProperties(ctx context.Context, cfg *config.Config, dryRun bool, stderr io.Writer) (*outbound.SetupReport, int) {
	hs, err := wire.HubSpotClient(ctx, cfg, wire.WithLogger(slog.New(slog.DiscardHandler)))
	if err != nil {
		fmt.Fprintf(stderr, "pilotsync setup: %v\n", err)
		return nil, exitFailure
	}
	rep, err := outbound.Setup(ctx, cfg, hs, dryRun)
	if errors.Is(err, outbound.ErrSetupRefused) {
		for _, p := range rep.Problems {
			fmt.Fprintln(stderr, p)
		}
		fmt.Fprintf(stderr, "pilotsync setup: %d %s refused: nothing was created\n", len(rep.Problems), plural(len(rep.Problems), "mapping"))
		return rep, exitFailure
	}
	if err != nil {
		fmt.Fprintf(stderr, "pilotsync setup: %v\n", err)
		return rep, exitFailure
	}
	return rep, exitOK
}
