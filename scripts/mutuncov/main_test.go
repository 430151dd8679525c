package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestOverlayFor: the overlay replaces the source file by its mutant, and a
// report position the source does not have gives an error (the mutant is
// then left NOT COVERED, not marked as run).
func TestOverlayFor(t *testing.T) {
	dir := t.TempDir()
	src := filepath.Join(dir, "a.go")
	if err := os.WriteFile(src, []byte(sample), 0o644); err != nil {
		t.Fatal(err)
	}
	tmp := t.TempDir()
	ov, err := overlayFor(src, tmp, mutant{file: "a.go", line: 5, col: 9, typ: "CONDITIONALS_BOUNDARY"})
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(ov)
	if err != nil {
		t.Fatal(err)
	}
	var o struct{ Replace map[string]string }
	if err := json.Unmarshal(b, &o); err != nil || len(o.Replace) != 1 || o.Replace[src] == "" {
		t.Fatalf("overlay %s (%v), want %s replaced", b, err, src)
	}
	m, err := os.ReadFile(o.Replace[src])
	if err != nil || !strings.Contains(string(m), "case a <= b && ok:") {
		t.Errorf("mutant file %q (%v), want the mutated condition", m, err)
	}
	if _, err := overlayFor(src, tmp, mutant{file: "a.go", line: 5, col: 9, typ: "INVERT_LOGICAL"}); err == nil {
		t.Error("a position without the mutator's token: no error")
	}
}
