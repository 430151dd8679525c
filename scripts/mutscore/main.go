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
// gremlins v0.6.0 reports every mutant in a switch case condition as NOT
// COVERED and never runs it, because Go's coverage profile has no counter
// for case expressions (github.com/go-gremlins/gremlins/issues/298). Those
// are counted in the "case" column (a part of "uncov"), and the score
// without them is printed as well: they are unmeasured, not caught.
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
			Line   int    `json:"line"`
			Column int    `json:"column"`
		} `json:"mutations"`
	} `json:"files"`
}

type counts struct{ killed, timedOut, lived, notCovered, inCase, notViable, other int }

func (c counts) caught() int { return c.killed + c.timedOut }

func (c counts) score() float64 {
	d := c.caught() + c.lived + c.notCovered
	if d == 0 {
		return 100
	}
	return 100 * float64(c.caught()) / float64(d)
}

// scoreMeasured leaves out the case-condition mutants gremlins cannot run.
func (c counts) scoreMeasured() float64 {
	d := c.caught() + c.lived + c.notCovered - c.inCase
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
	fmt.Printf("%-18s %7s %7s %7s %7s %6s %9s %8s %9s %8s\n", "package", "killed", "timeout", "lived", "uncov", "case", "notviable", "score%", "nocase%", "effic%")
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
					survivors = append(survivors, fmt.Sprintf("%-18s %s/%s:%d:%d %s", m.Status, pkg, f.FileName, m.Line, m.Column, m.Type))
				}
			}
		}
		fmt.Printf("%-18s %7d %7d %7d %7d %6d %9d %7.1f%% %8.1f%% %7.1f%%\n", pkg, c.killed, c.timedOut, c.lived, c.notCovered, c.inCase, c.notViable, c.score(), c.scoreMeasured(), c.efficacy())
	}
	fmt.Println("\nscore = (killed + timed out) / (killed + timed out + lived + not covered); not viable excluded")
	fmt.Println("nocase = the score without the switch-case mutants gremlins v0.6.0 never runs (case; go-gremlins/gremlins#298)")
	fmt.Println("effic = gremlins' efficacy: the same without any not covered mutant")
	if len(survivors) > 0 {
		sort.Strings(survivors)
		fmt.Println("\nsurvivors:")
		for _, s := range survivors {
			fmt.Println("  " + s)
		}
	}
}
