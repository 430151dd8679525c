// Command mutscore prints the mutation score of each package from gremlins'
// JSON reports (gremlins unleash -o), given as package=report.json.
//
// The score is caught / (caught + lived + not covered), where caught is
// KILLED plus TIMED OUT (the tests did not pass with the mutant in place).
// A mutant no test runs (NOT COVERED) is a bug no test would notice, so it
// counts against the score; gremlins' own "efficacy" leaves it out, and is
// printed next to it. NOT VIABLE mutants (they do not compile) and SKIPPED
// ones are counted as neither caught nor missed.
package main

import (
	"encoding/json"
	"fmt"
	"os"
	"sort"
	"strings"
)

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

type counts struct{ killed, timedOut, lived, notCovered, notViable, other int }

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
	fmt.Printf("%-18s %7s %7s %7s %7s %9s %9s %8s\n", "package", "killed", "timeout", "lived", "uncov", "notviable", "score%", "effic%")
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
				case "NOT VIABLE":
					c.notViable++
				default:
					c.other++
				}
				if m.Status == "LIVED" || m.Status == "NOT COVERED" {
					survivors = append(survivors, fmt.Sprintf("%-11s %s/%s:%d:%d %s", m.Status, pkg, f.FileName, m.Line, m.Column, m.Type))
				}
			}
		}
		fmt.Printf("%-18s %7d %7d %7d %7d %9d %8.1f%% %7.1f%%\n", pkg, c.killed, c.timedOut, c.lived, c.notCovered, c.notViable, c.score(), c.efficacy())
	}
	fmt.Println("\nscore = (killed + timed out) / (killed + timed out + lived + not covered); not viable excluded")
	fmt.Println("effic = gremlins' efficacy: the same without the not covered mutants")
	if len(survivors) > 0 {
		sort.Strings(survivors)
		fmt.Println("\nsurvivors:")
		for _, s := range survivors {
			fmt.Println("  " + s)
		}
	}
}
