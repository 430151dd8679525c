package main

import (
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/pilotsync/pilotsync/shared/handler"
	"github.com/pilotsync/pilotsync/shared/wire"
)

func init() {
	register(command{
		name:    "preview",
		summary: "show what a sync would do for chosen users and companies, writing nothing",
		run:     runPreview,
	})
}

// listFlag collects a repeatable flag; each value may also be a
// comma-separated list.
type listFlag []string

func (l *listFlag) String() string { return strings.Join(*l, ",") }

func (l *listFlag) Set(v string) error {
	for _, s := range strings.Split(v, ",") {
		if s = strings.TrimSpace(s); s != "" {
			*l = append(*l, s)
		}
	}
	return nil
}

// runPreview invokes the poll handler's preview action in-process, as the
// Lambda would be with {"action":"preview","users":[...],"companies":[...]}.
func runPreview(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("preview", args, stdout, stderr)
	path := configFlag(fs)
	var users, companies listFlag
	fs.Var(&users, "user", "a Userpilot user id or match value (email); repeat or separate with commas")
	fs.Var(&companies, "company", "a Userpilot company id or match value; repeat or separate with commas")
	asJSON := fs.Bool("json", false, "print the report as JSON (the poll function's answer)")
	setUsage(fs, "pilotsync preview --user ID|EMAIL [--user ...] [--company ID ...] [--json] [--config FILE]",
		"Shows, for each chosen user or company, how it is matched to HubSpot, the values a sync",
		"would write to Userpilot and send to HubSpot (converted as they would be sent), the",
		"problems per field, whether the activity sink is ready, and what a full sync would cost.",
		"It writes nothing: not to HubSpot, not to Userpilot, not to the table.",
		"Needs PILOTSYNC_TABLE and the credentials pilotsync run uses (see shared/wire).")
	if code, ok := parseFlags(fs, args); !ok {
		return code
	}
	if unexpectedArg(fs, stderr) {
		return exitUsage
	}
	if len(users) == 0 && len(companies) == 0 {
		fmt.Fprintln(stderr, "pilotsync preview: name at least one --user or --company")
		return exitUsage
	}
	opts := []wire.Option{wire.WithLogger(wire.Logger())}
	if *path != "" {
		opts = append(opts, wire.WithConfigPath(*path))
	}
	deps, err := wire.Build(ctx, opts...)
	if err != nil {
		fmt.Fprintf(stderr, "pilotsync preview: %v\n", err)
		return exitFailure
	}
	pv, err := wire.Preview(deps)
	if err != nil {
		fmt.Fprintf(stderr, "pilotsync preview: %v\n", err)
		return exitFailure
	}
	h := handler.NewPoll(nil, handler.WithPollPreview(pv))
	res, err := h.Handle(ctx, handler.PollInput{Action: handler.PollActionPreview, Users: users, Companies: companies})
	if err != nil {
		fmt.Fprintf(stderr, "pilotsync preview: %v\n", err)
		return exitFailure
	}
	if *asJSON {
		if err := printJSON(stdout, res); err != nil {
			fmt.Fprintf(stderr, "pilotsync preview: %v\n", err)
			return exitFailure
		}
		return exitOK
	}
	res.Preview.WriteText(stdout)
	return exitOK
}
