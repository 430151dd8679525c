// Command mutuncov runs the mutants gremlins reported NOT COVERED and writes
// what their tests said back into gremlins' JSON report.
//
// gremlins v0.6.0 runs a mutant only when Go's coverage profile counts its
// line as run. The profile has no counter for a switch case condition
// (github.com/go-gremlins/gremlins/issues/298) nor for a constant
// declaration, so every mutant there is reported NOT COVERED, although the
// tests may well run that code. mutuncov applies each such mutant the way
// gremlins would (the same token table, scripts/mutuncov/tokens.go) in a
// build overlay (go test -overlay: the source tree is never written), runs the
// package's tests with the flags in GOFLAGS, and records the result:
//
//	tests fail              KILLED
//	tests pass              LIVED (truly not covered, or not caught)
//	tests run past -timeout TIMED OUT
//	the mutant fails to build NOT VIABLE
//
// Each mutant it ran is marked "ran_by": "mutuncov" in the report.
//
//	go run ./scripts/mutuncov -report bin/mutate/shared_forward.json ./shared/forward
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"
)

func main() {
	report := flag.String("report", "", "gremlins JSON report to read and update")
	coefficient := flag.Int("timeout-coefficient", 10, "a mutant's tests may take this many times the unmutated run")
	flag.Parse()
	if *report == "" || flag.NArg() != 1 {
		fmt.Fprintln(os.Stderr, "usage: mutuncov -report report.json ./package[/...]")
		os.Exit(2)
	}
	if err := run(context.Background(), *report, flag.Arg(0), *coefficient); err != nil {
		fmt.Fprintln(os.Stderr, "mutuncov:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, reportPath, pattern string, coefficient int) error {
	raw, err := os.ReadFile(reportPath)
	if err != nil {
		return err
	}
	var rep map[string]any
	if err := json.Unmarshal(raw, &rep); err != nil {
		return fmt.Errorf("%s: %w", reportPath, err)
	}
	root := strings.TrimSuffix(pattern, "/...")
	todo := uncovered(rep)
	if len(todo) == 0 {
		fmt.Fprintf(os.Stderr, "mutuncov: %s: no NOT COVERED mutants\n", pattern)
		return nil
	}
	tmp, err := os.MkdirTemp("", "mutuncov-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	fmt.Fprintf(os.Stderr, "mutuncov: %s: %d NOT COVERED mutants\n", pattern, len(todo))

	// As gremlins does, a mutant runs the tests of its own package. The
	// unmutated tests of each must pass; their time sets its mutants' timeout.
	limits := map[string]time.Duration{}
	for i, m := range todo {
		pkg := "./" + filepath.ToSlash(filepath.Clean(filepath.Join(root, filepath.Dir(m.file))))
		limit, ok := limits[pkg]
		if !ok {
			t0 := time.Now()
			if res := goTest(ctx, pkg, "", 0); res.err != nil {
				return fmt.Errorf("the unmutated tests of %s fail: %v\n%s", pkg, res.err, res.out)
			}
			limit = max(time.Duration(coefficient)*time.Since(t0), 30*time.Second)
			limits[pkg] = limit
		}
		overlay, err := overlayFor(filepath.Join(root, m.file), tmp, m)
		if err != nil {
			// Left as gremlins reported it, and not marked as run.
			fmt.Fprintf(os.Stderr, "  %3d/%d %-11s %s:%d:%d %s (not run: %v)\n", i+1, len(todo), "NOT COVERED", m.file, m.line, m.col, m.typ, err)
			continue
		}
		t0 := time.Now()
		status := classify(goTest(ctx, pkg, overlay, limit))
		m.set(status)
		fmt.Fprintf(os.Stderr, "  %3d/%d %-11s %s:%d:%d %s (%s)\n", i+1, len(todo), status, m.file, m.line, m.col, m.typ, time.Since(t0).Round(100*time.Millisecond))
	}
	out, err := json.MarshalIndent(rep, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(reportPath, out, 0o644)
}

// mutant is one NOT COVERED mutation of the report, with a way to set its status.
type mutant struct {
	file      string // relative to the package directory, as gremlins writes it
	line, col int
	typ       string
	set       func(status string)
}

// uncovered lists the report's NOT COVERED mutants.
func uncovered(rep map[string]any) []mutant {
	var ms []mutant
	files, _ := rep["files"].([]any)
	for _, f := range files {
		fm, _ := f.(map[string]any)
		name, _ := fm["file_name"].(string)
		muts, _ := fm["mutations"].([]any)
		for _, x := range muts {
			mm, _ := x.(map[string]any)
			if mm["status"] != "NOT COVERED" {
				continue
			}
			line, _ := mm["line"].(float64)
			col, _ := mm["column"].(float64)
			typ, _ := mm["type"].(string)
			ms = append(ms, mutant{file: name, line: int(line), col: int(col), typ: typ, set: func(status string) {
				mm["status"] = status
				mm["ran_by"] = "mutuncov"
			}})
		}
	}
	return ms
}

// overlayFor writes m applied to file into tmp and returns the go build
// overlay that substitutes it. It fails when the source does not have the
// reported token there (a report older than the tree).
func overlayFor(file, tmp string, m mutant) (string, error) {
	path, err := filepath.Abs(file)
	if err != nil {
		return "", err
	}
	src, err := os.ReadFile(path)
	if err != nil {
		return "", err
	}
	mutated, err := mutate(src, m.line, m.col, m.typ)
	if err != nil {
		return "", err
	}
	mfile := filepath.Join(tmp, "mutant.go")
	if err := os.WriteFile(mfile, mutated, 0o644); err != nil {
		return "", err
	}
	ov, err := json.Marshal(map[string]map[string]string{"Replace": {path: mfile}})
	if err != nil {
		return "", err
	}
	overlay := filepath.Join(tmp, "overlay.json")
	return overlay, os.WriteFile(overlay, ov, 0o644)
}

type testResult struct {
	out      []byte
	err      error
	timedOut bool
}

// goTest runs go test on pattern (GOFLAGS from the environment apply), with
// the build overlay when one is given, killing it after limit when limit > 0.
func goTest(ctx context.Context, pattern, overlay string, limit time.Duration) testResult {
	if limit > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, limit)
		defer cancel()
	}
	args := []string{"test", "-count=1", "-failfast"}
	if overlay != "" {
		args = append(args, "-overlay="+overlay)
	}
	cmd := exec.CommandContext(ctx, "go", append(args, pattern)...)
	cmd.WaitDelay = 10 * time.Second
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	return testResult{out: out.Bytes(), err: err, timedOut: errors.Is(ctx.Err(), context.DeadlineExceeded)}
}

// classify reads a mutant's test run the way gremlins does.
func classify(r testResult) string {
	switch {
	case r.timedOut:
		return "TIMED OUT"
	case r.err == nil:
		return "LIVED"
	case bytes.Contains(r.out, []byte("[build failed]")) || bytes.Contains(r.out, []byte("[setup failed]")):
		return "NOT VIABLE"
	default:
		return "KILLED"
	}
}
