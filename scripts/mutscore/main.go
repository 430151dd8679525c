// Command mutscore prints the mutation score of each package from gremlins'
// JSON reports (gremlins unleash -o), given as package=report.json.
//
// The score is caught / (caught + lived + not covered), where caught is
// KILLED plus TIMED OUT (the tests did not pass with the mutant in place).
// A mutant no test runs (NOT COVERED) is a bug no test would notice, so it
// counts against the score; gremlins' own "efficacy" leaves it out, and is
// printed next to it. NOT VIABLE mutants (they do not compile) and SKIPPED
// ones are counted as neither caught nor missed.
//
// Equivalent mutants (no behaviour differs, so no test can catch them) are
// listed with the reason in the file named by -equivalent (one per line:
// file, enclosing function ("Type.Method", "-" outside any), mutator,
// column in the trimmed source line, that line, and the reason, separated
// by tabs; # starts a comment). A surviving mutant that
// matches an entry counts in "equiv" and is left out of the score's
// denominator; an entry that matches no survivor of the reports given is
// printed as stale (the code moved, or a test catches it now).
//
// gremlins v0.6.0 reports every mutant in a switch case condition or a
// constant declaration as NOT COVERED and never runs it, because Go's
// coverage profile has no counter there (github.com/go-gremlins/gremlins/issues/298).
// scripts/mutuncov runs those mutants afterwards and writes their results
// into the report, marked "ran_by": "mutuncov"; the "rerun" column counts
// them (they are also in killed, lived, ...). A NOT COVERED mutant left in a
// case condition is counted in "case": a report mutuncov has not seen.
//
// -list prints the survivors in the equivalents file's format (reason "?"),
// to start an entry from.
package main

import (
	"bufio"
	"encoding/json"
	"flag"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
)

// parsed holds what mutscore reads from a Go file: the spans of its switch
// case conditions and of its functions.
type parsed struct {
	cases []span
	funcs []namedSpan
}

type span struct{ from, to token.Position }

type namedSpan struct {
	span
	name string
}

func before(l1, c1, l2, c2 int) bool { return l1 < l2 || l1 == l2 && c1 <= c2 }

func (s span) holds(line, col int) bool {
	return before(s.from.Line, s.from.Column, line, col) && before(line, col, s.to.Line, s.to.Column)
}

// parseFile reads the Go file at path (nothing when it cannot be parsed).
func parseFile(path string) parsed {
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, path, nil, 0)
	if err != nil {
		return parsed{}
	}
	var p parsed
	ast.Inspect(f, func(n ast.Node) bool {
		switch n := n.(type) {
		case *ast.CaseClause:
			for _, e := range n.List {
				p.cases = append(p.cases, span{fset.Position(e.Pos()), fset.Position(e.End())})
			}
		case *ast.FuncDecl:
			name := n.Name.Name
			if n.Recv != nil && len(n.Recv.List) > 0 {
				t := n.Recv.List[0].Type
				if st, ok := t.(*ast.StarExpr); ok {
					t = st.X
				}
				if id, ok := t.(*ast.Ident); ok {
					name = id.Name + "." + name
				}
			}
			p.funcs = append(p.funcs, namedSpan{span{fset.Position(n.Pos()), fset.Position(n.End())}, name})
		}
		return true
	})
	return p
}

// inCase reports whether line:col is inside a switch case condition.
func (p parsed) inCase(line, col int) bool {
	for _, s := range p.cases {
		if s.holds(line, col) {
			return true
		}
	}
	return false
}

// funcAt names the function declared around line:col ("-" outside any).
func (p parsed) funcAt(line, col int) string {
	for _, f := range p.funcs {
		if f.holds(line, col) {
			return f.name
		}
	}
	return "-"
}

type report struct {
	Files []struct {
		FileName  string `json:"file_name"`
		Mutations []struct {
			Type   string `json:"type"`
			Status string `json:"status"`
			RanBy  string `json:"ran_by"`
			Line   int    `json:"line"`
			Column int    `json:"column"`
		} `json:"mutations"`
	} `json:"files"`
}

type counts struct {
	killed, timedOut, lived, notCovered, inCase, notViable, rerun, equiv, other int
}

func (c counts) caught() int { return c.killed + c.timedOut }

// score counts every survivor against the package.
func (c counts) score() float64 {
	return percent(c.caught(), c.caught()+c.lived+c.notCovered)
}

// scoreWithoutEquivalent leaves the listed equivalent mutants out.
func (c counts) scoreWithoutEquivalent() float64 {
	return percent(c.caught(), c.caught()+c.lived+c.notCovered-c.equiv)
}

func (c counts) efficacy() float64 { return percent(c.caught(), c.caught()+c.lived) }

func percent(n, d int) float64 {
	if d == 0 {
		return 100
	}
	return 100 * float64(n) / float64(d)
}

// site names a mutant by its source text rather than its line number, so an
// equivalents entry survives edits elsewhere in the file.
type site struct {
	file, fn, mutator string
	col               int    // 1-based byte column in the trimmed line
	line              string // the source line, trimmed of surrounding space
}

func (s site) String() string {
	return fmt.Sprintf("%s\t%s\t%s\t%d\t%s", s.file, s.fn, s.mutator, s.col, s.line)
}

// sourceLines returns a function giving the trimmed text of a line of path
// and how much leading space it had.
func sourceLines(path string) func(n int) (string, int) {
	b, err := os.ReadFile(path)
	if err != nil {
		return func(int) (string, int) { return "", 0 }
	}
	lines := strings.Split(string(b), "\n")
	return func(n int) (string, int) {
		if n < 1 || n > len(lines) {
			return "", 0
		}
		l := strings.TrimRight(lines[n-1], " \t\r")
		t := strings.TrimLeft(l, " \t")
		return t, len(l) - len(t)
	}
}

// readEquivalents reads the equivalents file: site -> reason.
func readEquivalents(path string) (map[site]string, error) {
	eq := map[site]string{}
	if path == "" {
		return eq, nil
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		l := sc.Text()
		if strings.TrimSpace(l) == "" || strings.HasPrefix(l, "#") {
			continue
		}
		parts := strings.Split(l, "\t")
		if len(parts) != 6 {
			return nil, fmt.Errorf("%s:%d: want 6 tab-separated fields (file, function, mutator, column, line, reason), got %d", path, n, len(parts))
		}
		col, err := strconv.Atoi(parts[3])
		if err != nil {
			return nil, fmt.Errorf("%s:%d: column %q: %w", path, n, parts[3], err)
		}
		if strings.TrimSpace(parts[5]) == "" || parts[5] == "?" {
			return nil, fmt.Errorf("%s:%d: an equivalent mutant needs its reason", path, n)
		}
		eq[site{file: parts[0], fn: parts[1], mutator: parts[2], col: col, line: parts[4]}] = parts[5]
	}
	return eq, sc.Err()
}

func main() {
	eqPath := flag.String("equivalent", "", "file listing the equivalent mutants (see the package doc)")
	list := flag.Bool("list", false, "print the survivors as equivalents-file lines")
	flag.Parse()
	if flag.NArg() == 0 {
		fmt.Fprintln(os.Stderr, "usage: mutscore [-equivalent file] [-list] package=report.json ...")
		os.Exit(2)
	}
	eq, err := readEquivalents(*eqPath)
	if err != nil {
		fmt.Fprintln(os.Stderr, "mutscore:", err)
		os.Exit(1)
	}
	used := map[site]bool{}
	var survivors, listed []string
	fmt.Printf("%-18s %7s %7s %7s %7s %6s %9s %6s %6s %8s %8s %8s\n", "package", "killed", "timeout", "lived", "uncov", "case", "notviable", "rerun", "equiv", "score%", "-equiv%", "effic%")
	for _, arg := range flag.Args() {
		pkg, path, ok := strings.Cut(arg, "=")
		if !ok {
			fmt.Fprintf(os.Stderr, "mutscore: %q is not package=report.json\n", arg)
			os.Exit(2)
		}
		b, err := os.ReadFile(path)
		if err != nil {
			fmt.Fprintf(os.Stderr, "mutscore: %v\n", err)
			os.Exit(1)
		}
		var r report
		if err := json.Unmarshal(b, &r); err != nil {
			fmt.Fprintf(os.Stderr, "mutscore: %s: %v\n", path, err)
			os.Exit(1)
		}
		var c counts
		for _, f := range r.Files {
			file := filepath.ToSlash(filepath.Join(pkg, f.FileName))
			src := parseFile(file)
			text := sourceLines(file)
			for _, m := range f.Mutations {
				if m.RanBy != "" {
					c.rerun++
				}
				status := m.Status
				switch m.Status {
				case "KILLED":
					c.killed++
				case "TIMED OUT":
					c.timedOut++
				case "LIVED":
					c.lived++
				case "NOT COVERED":
					c.notCovered++
					if src.inCase(m.Line, m.Column) {
						c.inCase++
						status = "NOT COVERED (case)"
					}
				case "NOT VIABLE":
					c.notViable++
				default:
					c.other++
				}
				if m.Status != "LIVED" && m.Status != "NOT COVERED" {
					continue
				}
				line, indent := text(m.Line)
				s := site{file: file, fn: src.funcAt(m.Line, m.Column), mutator: m.Type, col: m.Column - indent, line: line}
				if reason, ok := eq[s]; ok {
					c.equiv++
					used[s] = true
					status = "EQUIVALENT"
					survivors = append(survivors, fmt.Sprintf("%-18s %s:%d:%d %s: %s", status, file, m.Line, m.Column, m.Type, reason))
					continue
				}
				by := ""
				if m.RanBy != "" {
					by = " (run by " + m.RanBy + ")"
				}
				survivors = append(survivors, fmt.Sprintf("%-18s %s:%d:%d %s%s", status, file, m.Line, m.Column, m.Type, by))
				listed = append(listed, s.String()+"\t?")
			}
		}
		fmt.Printf("%-18s %7d %7d %7d %7d %6d %9d %6d %6d %7.1f%% %7.1f%% %7.1f%%\n", pkg, c.killed, c.timedOut, c.lived, c.notCovered, c.inCase, c.notViable, c.rerun, c.equiv, c.score(), c.scoreWithoutEquivalent(), c.efficacy())
	}
	fmt.Println("\nscore = (killed + timed out) / (killed + timed out + lived + not covered); not viable excluded")
	fmt.Println("-equiv = the score without the equivalent mutants listed in " + orNone(*eqPath) + " (equiv: how many matched)")
	fmt.Println("rerun = mutants gremlins reported NOT COVERED and scripts/mutuncov ran (counted in the other columns)")
	fmt.Println("case = NOT COVERED mutants in switch case conditions: mutuncov has not run them (go-gremlins/gremlins#298)")
	fmt.Println("effic = gremlins' efficacy: the same without any not covered mutant")
	if len(survivors) > 0 {
		sort.Strings(survivors)
		fmt.Println("\nsurvivors:")
		for _, s := range survivors {
			fmt.Println("  " + s)
		}
	}
	var stale []string
	for s := range eq {
		if !used[s] && reported(s.file, flag.Args()) {
			stale = append(stale, s.String())
		}
	}
	if len(stale) > 0 {
		sort.Strings(stale)
		fmt.Println("\nstale equivalents (no survivor of these reports matches: the code moved, or a test catches it now):")
		for _, s := range stale {
			fmt.Println("  " + s)
		}
	}
	if *list && len(listed) > 0 {
		sort.Strings(listed)
		fmt.Println("\nsurvivors as equivalents-file lines (fill in the reason):")
		for _, l := range listed {
			fmt.Println(l)
		}
	}
}

// reported reports whether file belongs to one of the packages given as
// package=report arguments (entries of other packages are not stale here).
func reported(file string, args []string) bool {
	for _, a := range args {
		pkg, _, _ := strings.Cut(a, "=")
		if strings.HasPrefix(file, strings.TrimSuffix(pkg, "/")+"/") {
			return true
		}
	}
	return false
}

func orNone(p string) string {
	if p == "" {
		return "(no -equivalent file)"
	}
	return p
}
