package main

import (
	"bytes"
	"context"
	"io"
	"strings"
	"testing"
)

func TestDispatch(t *testing.T) {
	tests := []struct {
		name       string
		args       []string
		wantCode   int
		wantStdout []string
		wantStderr []string
	}{
		{"no command", nil, exitUsage, nil, []string{"Usage: pilotsync <command>", "validate", "help"}},
		{"help lists commands", []string{"help"}, exitOK, []string{"Commands:", "validate  check integration.yaml"}, nil},
		{"--help", []string{"--help"}, exitOK, []string{"Commands:"}, nil},
		{"help for a command", []string{"help", "validate"}, exitOK, []string{"Usage: pilotsync validate [--hubspot] [--config FILE]", "-config"}, nil},
		{"help for an unknown command", []string{"help", "nope"}, exitUsage, nil, []string{`unknown command "nope"`}},
		{"unknown command suggests", []string{"valid"}, exitUsage, nil, []string{`unknown command "valid" (did you mean "validate"?)`, "Commands:"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			if got := dispatch(context.Background(), tt.args, &stdout, &stderr); got != tt.wantCode {
				t.Errorf("exit code: got %d, want %d\nstdout: %s\nstderr: %s", got, tt.wantCode, &stdout, &stderr)
			}
			for _, w := range tt.wantStdout {
				if !strings.Contains(stdout.String(), w) {
					t.Errorf("stdout: got %q, want it to contain %q", &stdout, w)
				}
			}
			for _, w := range tt.wantStderr {
				if !strings.Contains(stderr.String(), w) {
					t.Errorf("stderr: got %q, want it to contain %q", &stderr, w)
				}
			}
		})
	}
}

func TestRegister(t *testing.T) {
	saved := commands
	t.Cleanup(func() { commands = saved })
	commands = map[string]command{}

	noop := func(context.Context, []string, io.Writer, io.Writer) int { return 7 }
	register(command{name: "x", summary: "does x", run: noop})
	var stdout, stderr bytes.Buffer
	if got := dispatch(context.Background(), []string{"x", "arg"}, &stdout, &stderr); got != 7 {
		t.Errorf("dispatch to registered command: got %d, want 7", got)
	}
	for _, bad := range []command{{name: "x", run: noop}, {name: "", run: noop}, {name: "y"}} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("register(%q): got no panic, want one", bad.name)
				}
			}()
			register(bad)
		}()
	}
}
