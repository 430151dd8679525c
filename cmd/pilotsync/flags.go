package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"

	"github.com/pilotsync/pilotsync/shared/config"
)

// The command-line plumbing every command shares: one place decides where
// usage goes, how a parse error maps to an exit code and how results print.

// newFlagSet returns the flag set of the command name. Its output (usage and
// parse errors) goes to stderr, or to stdout when args ask for help: then the
// usage is what was asked for, not a diagnostic.
func newFlagSet(name string, args []string, stdout, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	if wantsHelp(args) {
		fs.SetOutput(stdout)
	}
	return fs
}

// setUsage makes fs print "Usage: " synopsis, the description lines and the
// flags' defaults, separated by blank lines.
func setUsage(fs *flag.FlagSet, synopsis string, description ...string) {
	fs.Usage = func() {
		w := fs.Output()
		fmt.Fprintln(w, "Usage: "+synopsis)
		fmt.Fprintln(w)
		for _, line := range description {
			fmt.Fprintln(w, line)
		}
		fmt.Fprintln(w)
		fs.PrintDefaults()
	}
}

// configFlag defines the --config flag of the commands that read the config
// file the way config.DefaultPath finds it.
func configFlag(fs *flag.FlagSet) *string {
	return fs.String("config", "", "config file (default $"+config.EnvPath+", else ./"+config.LocalPath+")")
}

// configFile is the --config value, else the default config path.
func configFile(flagValue string) string {
	if flagValue != "" {
		return flagValue
	}
	return config.DefaultPath()
}

// parseFlags parses args into fs. When ok is false the command stops and
// returns code: exitOK when help was asked for (fs printed the usage),
// exitUsage on a bad flag (fs printed the error).
func parseFlags(fs *flag.FlagSet, args []string) (code int, ok bool) {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return exitOK, false
		}
		return exitUsage, false
	}
	return exitOK, true
}

// unexpectedArg reports whether fs was left with a positional argument, after
// saying so on stderr, for the commands that take none.
func unexpectedArg(fs *flag.FlagSet, stderr io.Writer) bool {
	if fs.NArg() == 0 {
		return false
	}
	fmt.Fprintf(stderr, "pilotsync %s: unexpected argument %q\n", fs.Name(), fs.Arg(0))
	return true
}

// printJSON writes v to w as indented JSON, the form of every command's result.
func printJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}
