// Command pilotsync is the admin and local command line of pilotsync: it
// validates the config, runs the jobs locally, imports and syncs on demand.
//
// Each command lives in its own file and registers itself from an init
// function:
//
//	func init() { register(command{name: "import", summary: "...", run: runImport}) }
//
// main only dispatches; behaviour lives in shared/.
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"slices"
	"strings"
	"syscall"
)

// Exit codes shared by every command.
const (
	exitOK      = 0 // success
	exitFailure = 1 // the command ran and failed (e.g. the config has problems)
	exitUsage   = 2 // bad command line
)

// command is one subcommand of pilotsync.
type command struct {
	// name is what the user types: "validate", "run", ...
	name string
	// summary is a one-line description for the command list.
	summary string
	// run executes the command with the arguments after its name and returns
	// the exit code. It writes results to stdout and diagnostics to stderr.
	run func(ctx context.Context, args []string, stdout, stderr io.Writer) int
}

// commands holds every registered command. It is written only by register
// from init functions, before main runs, and read-only afterwards.
var commands = map[string]command{}

// register adds c to the command registry. Registering a name twice is a
// programming error and panics at start-up.
func register(c command) {
	if c.name == "" || c.run == nil {
		panic("pilotsync: register: a command needs a name and a run func")
	}
	if _, dup := commands[c.name]; dup {
		panic("pilotsync: register: command " + c.name + " registered twice")
	}
	commands[c.name] = c
}

func init() {
	register(command{name: "help", summary: "list the commands, or show help for one: help <command>", run: runHelp})
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := dispatch(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// dispatch runs the command named by args[0] and returns its exit code.
func dispatch(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		usage(stderr)
		return exitUsage
	}
	name := args[0]
	switch name {
	case "-h", "-help", "--help":
		name = "help"
	}
	c, ok := commands[name]
	if !ok {
		fmt.Fprintf(stderr, "pilotsync: unknown command %q%s\n\n", name, suggestCommand(name))
		usage(stderr)
		return exitUsage
	}
	return c.run(ctx, args[1:], stdout, stderr)
}

// runHelp prints the command list, or runs "<command> -h".
func runHelp(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		usage(stdout)
		return exitOK
	}
	if args[0] == "help" {
		usage(stdout)
		return exitOK
	}
	if _, ok := commands[args[0]]; !ok {
		fmt.Fprintf(stderr, "pilotsync: unknown command %q%s\n", args[0], suggestCommand(args[0]))
		return exitUsage
	}
	return dispatch(ctx, []string{args[0], "-h"}, stdout, stderr)
}

// usage writes the list of commands, sorted by name.
func usage(w io.Writer) {
	names := make([]string, 0, len(commands))
	width := 0
	for n := range commands {
		names = append(names, n)
		width = max(width, len(n))
	}
	slices.Sort(names)
	fmt.Fprintln(w, "Usage: pilotsync <command> [flags]")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Commands:")
	for _, n := range names {
		fmt.Fprintf(w, "  %-*s  %s\n", width, n, commands[n].summary)
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w, `Run "pilotsync help <command>" for a command's flags.`)
}

// suggestCommand returns ` (did you mean "x"?)` for a command name that
// starts like name, or "".
func suggestCommand(name string) string {
	var hits []string
	for n := range commands {
		if len(name) >= 2 && (strings.HasPrefix(n, name) || strings.HasPrefix(name, n)) {
			hits = append(hits, n)
		}
	}
	if len(hits) == 1 {
		return fmt.Sprintf(" (did you mean %q?)", hits[0])
	}
	return ""
}

// wantsHelp reports whether args ask for help (-h, -help or --help before any
// "--"), so a command can print its usage to stdout instead of stderr.
func wantsHelp(args []string) bool {
	for _, a := range args {
		switch a {
		case "--":
			return false
		case "-h", "-help", "--help":
			return true
		}
	}
	return false
}
