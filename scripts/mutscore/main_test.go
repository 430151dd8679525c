package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestReadEquivalentsKeysBySourceText(t *testing.T) {
	dir := t.TempDir()
	src := filepath.Join(dir, "a.go")
	if err := os.WriteFile(src, []byte("package a\n\nfunc f(n int) bool {\n\treturn n > 0\n}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	list := filepath.Join(dir, "eq.txt")
	entry := src + "\tf\tCONDITIONALS_BOUNDARY\t10\treturn n > 0\tn is never 0 here\n"
	if err := os.WriteFile(list, []byte("# comment\n\n"+entry), 0o644); err != nil {
		t.Fatal(err)
	}
	eq, err := readEquivalents(list)
	if err != nil {
		t.Fatal(err)
	}
	// gremlins reports the > at line 4, column 11 (after one tab).
	line, indent := sourceLines(src)(4)
	s := site{file: src, fn: parseFile(src).funcAt(4, 11), mutator: "CONDITIONALS_BOUNDARY", col: 11 - indent, line: line}
	if eq[s] != "n is never 0 here" {
		t.Errorf("site %v not matched in %v", s, eq)
	}
	for _, bad := range []string{
		src + "\tCONDITIONALS_BOUNDARY\t10\treturn n > 0\t?\n",  // no reason
		src + "\tCONDITIONALS_BOUNDARY\tten\treturn n > 0\tr\n", // column not a number
		src + "\tCONDITIONALS_BOUNDARY\t10\treturn n > 0\n",     // a field missing
	} {
		if err := os.WriteFile(list, []byte(bad), 0o644); err != nil {
			t.Fatal(err)
		}
		if _, err := readEquivalents(list); err == nil {
			t.Errorf("entry %q accepted, want an error", strings.TrimSpace(bad))
		}
	}
}

func TestScores(t *testing.T) {
	c := counts{killed: 85, timedOut: 5, lived: 6, notCovered: 4, equiv: 3}
	if got := c.score(); got != 90 {
		t.Errorf("score %v, want 90", got)
	}
	if got := c.scoreWithoutEquivalent(); got < 92.7 || got > 92.8 {
		t.Errorf("score without equivalent %v, want 90/97", got)
	}
	if got := c.efficacy(); got < 93.7 || got > 93.8 {
		t.Errorf("efficacy %v, want 90/96", got)
	}
}
