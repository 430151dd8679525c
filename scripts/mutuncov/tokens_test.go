package main

import "testing"

const sample = `package p

func f(a, b int, ok bool) int {
	switch {
	case a < b && ok:
		a += b
	case a == b:
		return -a
	}
	for {
		break
	}
	return a * b
}
`

func TestMutateReplacesTheTokenGremlinsNames(t *testing.T) {
	for _, tc := range []struct {
		line, col int
		typ       string
		want      string // the mutated line
	}{
		{5, 9, "CONDITIONALS_BOUNDARY", "\tcase a <= b && ok:"},
		{5, 9, "CONDITIONALS_NEGATION", "\tcase a >= b && ok:"},
		{5, 13, "INVERT_LOGICAL", "\tcase a < b || ok:"},
		{6, 5, "REMOVE_SELF_ASSIGNMENTS", "\t\ta = b"},
		{6, 5, "INVERT_ASSIGNMENTS", "\t\ta -= b"},
		{7, 9, "CONDITIONALS_NEGATION", "\tcase a != b:"},
		{8, 10, "INVERT_NEGATIVES", "\t\treturn +a"},
		{11, 3, "INVERT_LOOPCTRL", "\t\tcontinue"},
		{13, 11, "ARITHMETIC_BASE", "\treturn a / b"},
	} {
		out, err := mutate([]byte(sample), tc.line, tc.col, tc.typ)
		if err != nil {
			t.Errorf("%d:%d %s: %v", tc.line, tc.col, tc.typ, err)
			continue
		}
		if got := lineOf(string(out), tc.line); got != tc.want {
			t.Errorf("%d:%d %s: line %q, want %q", tc.line, tc.col, tc.typ, got, tc.want)
		}
		// Only that line changed.
		for n := 1; n <= 14; n++ {
			if n != tc.line && lineOf(string(out), n) != lineOf(sample, n) {
				t.Errorf("%d:%d %s: line %d changed to %q", tc.line, tc.col, tc.typ, n, lineOf(string(out), n))
			}
		}
	}
}

func TestMutateRefusesAPositionThatDoesNotMatch(t *testing.T) {
	for _, tc := range []struct {
		line, col int
		typ       string
	}{
		{5, 10, "CONDITIONALS_BOUNDARY"}, // inside no token start
		{5, 7, "CONDITIONALS_BOUNDARY"},  // an identifier
		{5, 9, "INVERT_LOGICAL"},         // < is not && or ||
		{40, 1, "ARITHMETIC_BASE"},       // past the end
		{5, 9, "NO_SUCH_MUTATOR"},
	} {
		if out, err := mutate([]byte(sample), tc.line, tc.col, tc.typ); err == nil {
			t.Errorf("%d:%d %s: mutated, want an error:\n%s", tc.line, tc.col, tc.typ, out)
		}
	}
}

func TestClassify(t *testing.T) {
	failed := errFake("exit status 1")
	for _, tc := range []struct {
		r    testResult
		want string
	}{
		{testResult{}, "LIVED"},
		{testResult{err: failed, out: []byte("--- FAIL: TestX\nFAIL\tp\t0.1s\n")}, "KILLED"},
		{testResult{err: failed, out: []byte("FAIL\tp [build failed]\n")}, "NOT VIABLE"},
		{testResult{err: failed, timedOut: true}, "TIMED OUT"},
	} {
		if got := classify(tc.r); got != tc.want {
			t.Errorf("classify(%+v) = %s, want %s", tc.r, got, tc.want)
		}
	}
}

type errFake string

func (e errFake) Error() string { return string(e) }

func lineOf(s string, n int) string {
	line := 1
	start := 0
	for i := 0; i < len(s); i++ {
		if s[i] == '\n' {
			if line == n {
				return s[start:i]
			}
			line++
			start = i + 1
		}
	}
	return ""
}
