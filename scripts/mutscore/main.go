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
// gremlins v0.6.0 reports every mutant in a switch case condition or a
// constant declaration as NOT COVERED and never runs it, because Go's
// coverage profile has no counter there (github.com/go-gremlins/gremlins/issues/298).
// scripts/mutuncov runs those mutants afterwards and writes their results
// into the report, marked "ran_by": "mutuncov"; the "rerun" column counts
// them (they are also in killed, lived, ...). A NOT COVERED mutant left in a
// case condition is counted in "case": a report mutuncov has not seen.
package main

import (
	"encoding/json"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// caseConditions returns, per "line:column", the positions inside switch
// case conditions of the Go file at path (nil when it cannot be parsed).
func caseConditions(path string) func(line, col int) bool {
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, path, nil, 0)
	if err != nil {
		return func(int, int) bool { return false }
	}
	type span struct{ from, to token.Position }
	var spans []span
	ast.Inspect(f, func(n ast.Node) bool {
		if cc, ok := n.(*ast.CaseClause); ok {
			for _, e := range cc.List {
				spans = append(spans, span{fset.Position(e.Pos()), fset.Position(e.End())})
			}
		}
		return true
	})
	before := func(l1, c1, l2, c2 int) bool { return l1 < l2 || l1 == l2 && c1 <= c2 }
	return func(line, col int) bool {
		for _, s := range spans {
			if before(s.from.Line, s.from.Column, line, col) && before(line, col, s.to.Line, s.to.Column) {
				return true
			}
		}
		return false
	}
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

type counts struct{ killed, timedOut, lived, notCovered, inCase, notViable, rerun, other int }

func (c counts) caught() int { return c.killed + c.timedOut }

func (c counts) score() float64 {
	d := c.caught() + c.lived + c.notCovered
	if d == 0 {
		return 100
	}
	return 100 * float64(c.caught()) / float64(d)
}

func (c counts) efficacy() float64 {
	d := c.caught() + c.lived
	if d == 0 {
		return 100
	}
	return 100 * float64(c.caught()) / float64(d)
}

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: mutscore package=report.json ...")
		os.Exit(2)
	}
	var survivors []string
	fmt.Printf("%-18s %7s %7s %7s %7s %6s %9s %6s %8s %8s\n", "package", "killed", "timeout", "lived", "uncov", "case", "notviable", "rerun", "score%", "effic%")
	for _, arg := range os.Args[1:] {
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
			inCase := caseConditions(filepath.Join(pkg, f.FileName))
			for _, m := range f.Mutations {
				if m.RanBy != "" {
					c.rerun++
				}
				switch m.Status {
				case "KILLED":
					c.killed++
				case "TIMED OUT":
					c.timedOut++
				case "LIVED":
					c.lived++
				case "NOT COVERED":
					c.notCovered++
					if inCase(m.Line, m.Column) {
						c.inCase++
						m.Status = "NOT COVERED (case)"
					}
				case "NOT VIABLE":
					c.notViable++
				default:
					c.other++
				}
				if m.Status != "KILLED" && m.Status != "TIMED OUT" && m.Status != "NOT VIABLE" {
					by := ""
					if m.RanBy != "" {
						by = " (run by " + m.RanBy + ")"
					}
					survivors = append(survivors, fmt.Sprintf("%-18s %s/%s:%d:%d %s%s", m.Status, pkg, f.FileName, m.Line, m.Column, m.Type, by))
				}
			}
		}
		fmt.Printf("%-18s %7d %7d %7d %7d %6d %9d %6d %7.1f%% %7.1f%%\n", pkg, c.killed, c.timedOut, c.lived, c.notCovered, c.inCase, c.notViable, c.rerun, c.score(), c.efficacy())
	}
	fmt.Println("\nscore = (killed + timed out) / (killed + timed out + lived + not covered); not viable excluded")
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
}
