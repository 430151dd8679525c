package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/pilotsync/pilotsync/shared/handler"
	"github.com/pilotsync/pilotsync/shared/inbound"
	"github.com/pilotsync/pilotsync/shared/wire"
)

func init() {
	register(command{
		name:    "sync",
		summary: "sync now: the full inbound sync (HubSpot -> Userpilot) and the outbound push, with progress",
		run:     runSync,
	})
}

// runSync invokes the poll handler in-process, as the Lambda would be with
// {"action":"sync"} (or a scheduled event with --incremental), and prints
// its JSON report.
func runSync(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("sync", args, stdout, stderr)
	path := configFlag(fs)
	incremental := fs.Bool("incremental", false, "run the scheduled incremental poll instead of a full sync")
	timeout := fs.Duration("timeout", 0, "stop at a checkpoint before this much time has passed, like the Lambda timeout (0 = no limit)")
	setUsage(fs, "pilotsync sync [--incremental] [--timeout 5m] [--config FILE]",
		"Runs the poll function's handler once on this machine: a full sync of every enabled",
		"object type (the manual \"sync now\"), or with --incremental the 5-minute poll from the",
		"last checkpoint; then the outbound push (Userpilot -> HubSpot). Progress goes to stderr",
		"(records done of total, rate, calls, time left), at most once a second; the final report",
		"is printed as JSON, the same a deployed {\"action\":\"sync\"} returns; exits 1 when the run failed.",
		"Needs PILOTSYNC_TABLE and the credentials pilotsync run uses (see shared/wire).")
	if code, ok := parseFlags(fs, args); !ok {
		return code
	}
	if unexpectedArg(fs, stderr) {
		return exitUsage
	}
	log := wire.Logger()
	opts := []wire.Option{wire.WithLogger(log)}
	if *path != "" {
		opts = append(opts, wire.WithConfigPath(*path))
	}
	deps, err := wire.Build(ctx, opts...)
	if err != nil {
		fmt.Fprintf(stderr, "pilotsync sync: %v\n", err)
		return exitFailure
	}
	progress := newProgressPrinter(stderr, nil) // sync_progress.go
	h, err := wire.NewPoll(deps, handler.WithPollProgress(progress.report))
	if err != nil {
		fmt.Fprintf(stderr, "pilotsync sync: %v\n", err)
		return exitFailure
	}
	in := handler.PollInput{Action: handler.PollActionSync}
	if *incremental {
		in.Action = handler.PollActionPoll
	}
	if *timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, *timeout)
		defer cancel()
	}
	return printPollResult(ctx, h, in, stdout, stderr, "sync", progress.flush)
}

// printPollResult runs the handler and prints its result as indented JSON;
// done runs when the handler returns (the last progress line).
func printPollResult(ctx context.Context, h *handler.Poll, in handler.PollInput, stdout, stderr io.Writer, name string, done func()) int {
	start := time.Now()
	res, err := h.Handle(ctx, in)
	done()
	if err != nil && !errors.Is(err, handler.ErrRunFailed) { // a failed run still prints its report
		fmt.Fprintf(stderr, "pilotsync %s: %v\n", name, err)
		return exitFailure
	}
	if err := printJSON(stdout, res); err != nil {
		fmt.Fprintf(stderr, "pilotsync %s: %v\n", name, err)
		return exitFailure
	}
	fmt.Fprintf(stderr, "pilotsync %s: %s in %s\n", name, res.Status, time.Since(start).Round(time.Millisecond))
	if res.Status == inbound.StatusFailed {
		return exitFailure
	}
	return exitOK
}
