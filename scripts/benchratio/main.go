// Command benchratio reads `go test -bench` output and prints, for every
// measured path, its cost as a ratio to a baseline measured in the same run.
//
// These machines are noisy, so absolute times mean little; a ratio to a
// baseline that ran seconds earlier on the same machine, against the same
// emulator or sandbox, does. Two conventions pair a benchmark with its
// baseline:
//
//   - Sub-benchmarks: a sub-benchmark whose last name element is "baseline"
//     or starts with "baseline_" is the baseline of its siblings (same
//     parent, same package). Each sibling gets a row whose ratio is the
//     median ns/op of the sibling over the median ns/op of the baseline
//     (medians over -count runs). A "/" in a sub-benchmark name makes a
//     deeper level, so "baseline_net/http" would pair with nothing: name it
//     "baseline_net_http".
//   - Self-measured ratios: a benchmark that measures its own baseline
//     reports the ratio with b.ReportMetric under a unit starting with "x-"
//     (shared/activity's BenchmarkPipeline reports "x-json"); the row shows
//     the median of that metric.
//
// Usage:
//
//	go test -run '^$' -bench . -count 3 ./shared/... | go run ./scripts/benchratio
//	go run ./scripts/benchratio bench.out
//
// The input is echoed to stdout as it is read (-q suppresses that), then the
// table follows. The exit status is 1 when the input reports a failure or
// holds no benchmark results, so `make bench` fails visibly.
package main

import (
	"bufio"
	"flag"
	"fmt"
	"io"
	"maps"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
)

func main() {
	quiet := flag.Bool("q", false, "do not echo the benchmark output, print only the table")
	flag.Usage = func() {
		fmt.Fprintf(flag.CommandLine.Output(), "usage: go test -bench ... | benchratio [-q]\n       benchratio [-q] FILE...\n")
		flag.PrintDefaults()
	}
	flag.Parse()

	var echo io.Writer = os.Stdout
	if *quiet {
		echo = io.Discard
	}
	var inputs []io.Reader
	if flag.NArg() == 0 {
		inputs = append(inputs, os.Stdin)
	}
	for _, name := range flag.Args() {
		f, err := os.Open(name)
		if err != nil {
			fmt.Fprintf(os.Stderr, "benchratio: %v\n", err)
			os.Exit(2)
		}
		defer f.Close()
		inputs = append(inputs, f)
	}
	res, err := parse(io.TeeReader(io.MultiReader(inputs...), echo))
	if err != nil {
		fmt.Fprintf(os.Stderr, "benchratio: read input: %v\n", err)
		os.Exit(2)
	}
	rows := ratios(res.results)
	fmt.Println()
	if err := printTable(os.Stdout, rows); err != nil {
		fmt.Fprintf(os.Stderr, "benchratio: %v\n", err)
		os.Exit(2)
	}
	switch {
	case res.failed:
		fmt.Fprintln(os.Stderr, "benchratio: the benchmark run reported a failure (see FAIL above)")
		os.Exit(1)
	case len(res.results) == 0:
		fmt.Fprintln(os.Stderr, "benchratio: no benchmark results in the input")
		os.Exit(1)
	}
}

// result is every run of one benchmark (one per -count).
type result struct {
	pkg  string
	name string // without the "Benchmark" prefix and the -GOMAXPROCS suffix
	// metrics maps a unit ("ns/op", "B/op", "x-json", ...) to its value in each run.
	metrics map[string][]float64
}

type parsed struct {
	results []*result // in first-seen order
	failed  bool
}

var (
	// nameRE matches a benchmark name with its optional -GOMAXPROCS suffix.
	nameRE = regexp.MustCompile(`^Benchmark(\S*?)(?:-\d+)?$`)
	// runsRE matches the iteration count that starts the measurements.
	runsRE = regexp.MustCompile(`^\d+$`)
)

// parse reads `go test -bench` output. A result line is
// "BenchmarkName-N  <iterations>  <value> <unit>  <value> <unit> ...". When a
// benchmark logs while it runs, its name and its measurements land on
// different lines; a line holding only a name is remembered for the next
// measurement line.
func parse(r io.Reader) (*parsed, error) {
	out := &parsed{}
	byKey := map[string]*result{}
	var pkg, pending string
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if p, ok := strings.CutPrefix(line, "pkg: "); ok {
			pkg = strings.TrimSpace(p)
			continue
		}
		if strings.HasPrefix(line, "FAIL") || strings.HasPrefix(strings.TrimSpace(line), "--- FAIL") || strings.HasPrefix(line, "panic: ") {
			out.failed = true
			continue
		}
		fields := strings.Fields(line)
		if len(fields) == 0 {
			continue
		}
		name := ""
		if m := nameRE.FindStringSubmatch(fields[0]); m != nil && m[1] != "" {
			name = m[1]
			fields = fields[1:]
			if len(fields) == 0 {
				pending = name
				continue
			}
		} else if pending != "" && runsRE.MatchString(fields[0]) {
			name = pending
		} else {
			continue
		}
		if len(fields) < 3 || !runsRE.MatchString(fields[0]) {
			continue
		}
		pending = ""
		metrics := map[string]float64{}
		for i := 1; i+1 < len(fields); i += 2 {
			v, err := strconv.ParseFloat(fields[i], 64)
			if err != nil {
				break
			}
			metrics[fields[i+1]] = v
		}
		if len(metrics) == 0 {
			continue
		}
		key := pkg + "\x00" + name
		res := byKey[key]
		if res == nil {
			res = &result{pkg: pkg, name: name, metrics: map[string][]float64{}}
			byKey[key] = res
			out.results = append(out.results, res)
		}
		for unit, v := range metrics {
			res.metrics[unit] = append(res.metrics[unit], v)
		}
	}
	return out, sc.Err()
}

// row is one line of the table.
type row struct {
	bench, baseline string
	ratio           float64
	// lo and hi are the smallest and largest ratio of single runs (the i-th
	// run of the benchmark over the i-th run of its baseline); equal to ratio
	// when there is one run.
	lo, hi     float64
	ns, baseNS float64 // median ns/op; baseNS is 0 for self-measured ratios
}

// isBaseline reports whether a name's last element marks a baseline.
func isBaseline(name string) bool {
	last := name[strings.LastIndex(name, "/")+1:]
	return last == "baseline" || strings.HasPrefix(last, "baseline_")
}

func parent(name string) string {
	if i := strings.LastIndex(name, "/"); i >= 0 {
		return name[:i]
	}
	return ""
}

// display names a benchmark by its package's last path element and its name.
func display(r *result) string {
	pkg := r.pkg[strings.LastIndex(r.pkg, "/")+1:]
	if pkg == "" {
		return r.name
	}
	return pkg + "." + r.name
}

// ratios pairs every benchmark with its baseline sibling and collects the
// self-measured "x-" metrics.
func ratios(results []*result) []row {
	baselines := map[string]*result{} // pkg + parent -> baseline
	for _, r := range results {
		if isBaseline(r.name) && parent(r.name) != "" {
			baselines[r.pkg+"\x00"+parent(r.name)] = r
		}
	}
	var rows []row
	for _, r := range results {
		for _, unit := range slices.Sorted(maps.Keys(r.metrics)) {
			base, ok := strings.CutPrefix(unit, "x-")
			if !ok {
				continue
			}
			vs := r.metrics[unit]
			rows = append(rows, row{bench: display(r), baseline: base + " (same benchmark)", ratio: median(vs),
				lo: slices.Min(vs), hi: slices.Max(vs), ns: median(r.metrics["ns/op"])})
		}
		if isBaseline(r.name) || parent(r.name) == "" {
			continue
		}
		b := baselines[r.pkg+"\x00"+parent(r.name)]
		if b == nil {
			continue
		}
		ours, theirs := r.metrics["ns/op"], b.metrics["ns/op"]
		if len(ours) == 0 || len(theirs) == 0 || median(theirs) == 0 {
			continue
		}
		rw := row{bench: display(r), baseline: b.name[strings.LastIndex(b.name, "/")+1:],
			ns: median(ours), baseNS: median(theirs)}
		rw.ratio = rw.ns / rw.baseNS
		rw.lo, rw.hi = rw.ratio, rw.ratio
		for i := range min(len(ours), len(theirs)) {
			if theirs[i] == 0 {
				continue
			}
			q := ours[i] / theirs[i]
			rw.lo, rw.hi = min(rw.lo, q), max(rw.hi, q)
		}
		rows = append(rows, rw)
	}
	return rows
}

// median of vs (0 for none); the mean of the middle two for an even count.
func median(vs []float64) float64 {
	if len(vs) == 0 {
		return 0
	}
	s := slices.Sorted(slices.Values(vs))
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

// printTable writes the rows aligned: benchmark, baseline, ratio, the ratio's
// range over single runs, and the median ns/op of both for reference.
func printTable(w io.Writer, rows []row) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "benchmark\tbaseline\tratio\trange\tns/op\tbaseline ns/op\t")
	for _, r := range rows {
		base := "-"
		if r.baseNS > 0 {
			base = formatNS(r.baseNS)
		}
		fmt.Fprintf(tw, "%s\t%s\t%.2fx\t%.2f-%.2f\t%s\t%s\t\n", r.bench, r.baseline, r.ratio, r.lo, r.hi, formatNS(r.ns), base)
	}
	if len(rows) == 0 {
		fmt.Fprintln(tw, "(no benchmark paired with a baseline)\t\t\t\t\t\t")
	}
	return tw.Flush()
}

// formatNS prints a duration in ns with thousands separators ("-" for none).
func formatNS(ns float64) string {
	if ns <= 0 {
		return "-"
	}
	s := strconv.FormatFloat(ns, 'f', 0, 64)
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	return b.String()
}
