package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/pilotsync/pilotsync/shared/config"
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
func runValidate(_ context.Context, args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("validate", args, stdout, stderr)
	path := configFlag(fs)
	setUsage(fs, "pilotsync validate [--config FILE]",
		"Loads the config, prints every problem with its file, line and field, and exits 1",
		"when there is one; prints a short summary and exits 0 otherwise.")
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
	printSummary(stdout, file, cfg)
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
