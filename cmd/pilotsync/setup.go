package main

import (
	"context"
	"fmt"
	"io"

	"github.com/pilotsync/pilotsync/shared/activity"
	"github.com/pilotsync/pilotsync/shared/config"
	"github.com/pilotsync/pilotsync/shared/forward"
	"github.com/pilotsync/pilotsync/shared/wire"
)

func init() {
	register(command{
		name:    "setup",
		summary: "create the HubSpot properties the config writes and the custom event definitions the activity forwarder sends",
		run:     runSetup,
	})
}

// setupDefinition is one line of the setup report.
type setupDefinition struct {
	Name               string   `json:"name"`
	Label              string   `json:"label"`
	FullyQualifiedName string   `json:"fully_qualified_name,omitempty"`
	PrimaryObject      string   `json:"primary_object"`
	Properties         []string `json:"properties"`
}

// runSetup creates the custom event definitions for every category and status
// the config forwards (the activity function also creates a missing one on
// first sight, so this is the explicit, reviewable way to do it up front).
func runSetup(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("setup", args, stdout, stderr)
	path := configFlag(fs)
	dryRun := fs.Bool("dry-run", false, "print the properties and definitions that would be created, creating nothing")
	setUsage(fs, "pilotsync setup [--dry-run] [--config FILE]",
		"Creates, in a \"pilotsync\" property group, every HubSpot property the config maps",
		"outbound or measured that does not exist, with the type the mapping needs, and refuses",
		"(naming the property, its type and the type needed) mappings to existing properties",
		"whose type does not fit; then nothing is created. --dry-run lists what it would create.",
		"Then it creates the HubSpot custom event definitions (e.g. userpilot_flow_completed) for every",
		"activity category and status the config forwards, on the users' HubSpot object, and",
		"prints them with their fully qualified names as JSON. Existing definitions are kept.",
		"Custom events need an Enterprise hub. Only for activity.sink custom_events.",
		"Needs the credentials pilotsync run uses (see shared/wire).")
	if code, ok := parseFlags(fs, args); !ok {
		return code
	}
	if unexpectedArg(fs, stderr) {
		return exitUsage
	}
	// config.DefaultPath honours $PILOTSYNC_CONFIG before the default files.
	cfgPath := configFile(*path)
	cfg, err := config.Load(cfgPath)
	if err != nil {
		fmt.Fprintf(stderr, "pilotsync setup: %v\n", err)
		return exitFailure
	}
	props, code := setupProperties(ctx, cfg, *dryRun, stderr)
	if code != exitOK {
		if props != nil {
			_ = printJSON(stdout, setupOutput{Properties: props})
		}
		return code
	}
	if s := cfg.Activity.Sink; s != "" && s != config.SinkCustomEvents {
		fmt.Fprintf(stderr, "activity.sink is %s: no event definitions to set up (timeline and app event templates are configured in HubSpot and referenced by activity.timeline_templates or activity.app_event_types)\n", s)
		if err := printJSON(stdout, setupOutput{Properties: props, EventDefinitions: []setupDefinition{}}); err != nil {
			fmt.Fprintf(stderr, "pilotsync setup: %v\n", err)
			return exitFailure
		}
		return exitOK
	}
	cl, err := activity.NewClassifier(cfg.Activity)
	if err != nil {
		fmt.Fprintf(stderr, "pilotsync setup: %v\n", err)
		return exitFailure
	}
	object := forward.PrimaryObject(cfg.Mapping.Users.HubSpotObject)
	var fqns map[string]string
	if !*dryRun {
		log := wire.Logger()
		deps, err := wire.Build(ctx, wire.WithLogger(log), wire.WithConfigPath(cfgPath))
		if err != nil {
			fmt.Fprintf(stderr, "pilotsync setup: %v\n", err)
			return exitFailure
		}
		sink := forward.NewCustomEvents(deps.HubSpot, cfg.Mapping.Users.HubSpotObject, cfg.Activity.EventNamePrefix, deps.Log)
		fqns, err = forward.EnsureDefinitions(ctx, sink, cl)
		if err != nil {
			fmt.Fprintf(stderr, "pilotsync setup: %v\n", err)
			return exitFailure
		}
	}
	var out []setupDefinition
	for _, p := range cl.Pairs() {
		d := setupDefinition{Name: cl.EventName(p), Label: activity.Label(p.Category, p.Status), PrimaryObject: object}
		d.FullyQualifiedName = fqns[d.Name]
		for _, ps := range activity.DefinitionProperties(p.Category) {
			d.Properties = append(d.Properties, ps.Name+":"+ps.Type)
		}
		out = append(out, d)
	}
	if err := printJSON(stdout, setupOutput{Properties: props, EventDefinitions: out}); err != nil {
		fmt.Fprintf(stderr, "pilotsync setup: %v\n", err)
		return exitFailure
	}
	return exitOK
}
