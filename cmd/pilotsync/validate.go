package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"

	"github.com/pilotsync/pilotsync/shared/config"
	"github.com/pilotsync/pilotsync/shared/wire"
)

func init() {
	register(command{
		name:    "validate",
		summary: "check integration.yaml and print every problem with its line",
		run:     runValidate,
	})
}

// runValidate loads the config and prints every problem (exit 1), or a short
// summary of what the config does (exit 0).
func runValidate(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("validate", args, stdout, stderr)
	path := configFlag(fs)
	withHubSpot := fs.Bool("hubspot", false, "also check the mapped properties against the HubSpot account (needs "+wire.EnvHubSpotToken+" or "+wire.EnvHubSpotSecretARN+")")
	setUsage(fs, "pilotsync validate [--hubspot] [--config FILE]",
		"Loads the config, prints every problem with its file, line and field, and exits 1",
		"when there is one; prints a short summary and exits 0 otherwise. With --hubspot it",
		"also reads the account's properties and checks that every mapped property exists,",
		"that match properties hold unique values and that written properties are writable.")
	if code, ok := parseFlags(fs, args); !ok {
		return code
	}
	if unexpectedArg(fs, stderr) {
		fs.Usage()
		return exitUsage
	}
	file := configFile(*path)

	cfg, err := config.Load(file)
	var ce *config.Error
	switch {
	case errors.As(err, &ce):
		for _, p := range ce.Problems {
			fmt.Fprintln(stdout, p)
		}
		fmt.Fprintf(stderr, "pilotsync validate: %s has %d %s\n", file, len(ce.Problems), plural(len(ce.Problems), "problem"))
		return exitFailure
	case err != nil:
		fmt.Fprintf(stderr, "pilotsync validate: %v\n", err)
		return exitFailure
	}
	if *withHubSpot {
		hs, err := wire.HubSpotClient(ctx, cfg, wire.WithLogger(slog.New(slog.DiscardHandler)))
		if err != nil {
			fmt.Fprintf(stderr, "pilotsync validate: %v\n", err)
			return exitFailure
		}
		if problems := cfg.CheckHubSpot(ctx, wire.PropertyCatalog(hs)); len(problems) > 0 {
			for _, p := range problems {
				fmt.Fprintln(stdout, p)
			}
			fmt.Fprintf(stderr, "pilotsync validate: %s has %d %s against HubSpot\n", file, len(problems), plural(len(problems), "problem"))
			return exitFailure
		}
	}
	printSummary(stdout, file, cfg)
	if *withHubSpot {
		fmt.Fprintf(stdout, "  hubspot:   every mapped property exists and fits\n")
	}
	return exitOK
}

// printSummary describes in a few lines what a valid config will do.
func printSummary(w io.Writer, file string, cfg *config.Config) {
	fmt.Fprintf(w, "%s: OK\n", file)
	fmt.Fprintf(w, "  userpilot: %s environment, %s\n", cfg.Userpilot.Environment, cfg.Userpilot.BaseURL)
	fmt.Fprintf(w, "  hubspot:   api %s, auth %s, tier %s, %s\n", cfg.HubSpot.APIVersion, cfg.HubSpot.Auth, cfg.HubSpot.Tier, cfg.HubSpot.BaseURL)
	for _, k := range []struct {
		name string
		m    config.ObjectMapping
	}{{"users", cfg.Mapping.Users}, {"companies", cfg.Mapping.Companies}} {
		if !k.m.IsEnabled() {
			fmt.Fprintf(w, "  %-10s off\n", k.name+":")
			continue
		}
		fmt.Fprintf(w, "  %-10s -> %s by %s = %s; %d inbound, %d outbound, %d measured\n", k.name+":",
			k.m.HubSpotObject, k.m.Match.Userpilot, k.m.Match.HubSpot, len(k.m.Inbound), len(k.m.Outbound), len(k.m.Measured))
	}
	cats := "all categories"
	if n := len(cfg.Activity.Categories); n > 0 {
		names := make([]string, n)
		for i, c := range cfg.Activity.Categories {
			names[i] = c.Name
		}
		cats = strings.Join(names, ", ")
	}
	if cfg.Activity.Sink == config.SinkNone {
		fmt.Fprintf(w, "  activity:  not forwarded (sink none)\n")
	} else {
		fmt.Fprintf(w, "  activity:  %s (%s)\n", cfg.Activity.Sink, cats)
	}
	fmt.Fprintf(w, "  measured:  last %d days, daily at %s UTC\n", cfg.Measured.PeriodDays, cfg.Schedule.DailyAt)
	n := len(cfg.Notifications.Recipients)
	if n == 0 {
		fmt.Fprintf(w, "  notify:    nobody (no recipients)\n")
	} else {
		fmt.Fprintf(w, "  notify:    %d %s from %s\n", n, plural(n, "recipient"), cfg.Notifications.Sender)
	}
}

func plural(n int, word string) string {
	if n == 1 {
		return word
	}
	return word + "s"
}
