package main

import (
	"math"
	"strings"
	"testing"
)

// sample is trimmed real `go test -bench -count 2` output, with a name and its
// measurements split by log output, another package with a same-named
// benchmark, and a self-measured ratio.
const sample = `goos: linux
goarch: amd64
pkg: github.com/pilotsync/pilotsync/shared/store
cpu: Intel(R) Xeon(R) CPU
BenchmarkPutProfiles/pilotsync-2         	      10	   3000000 ns/op	     33333 profiles/s	  120000 B/op	    900 allocs/op
BenchmarkPutProfiles/pilotsync-2         	      10	   5000000 ns/op	     20000 profiles/s	  120000 B/op	    900 allocs/op
BenchmarkPutProfiles/baseline_BatchWriteItem-2         	      20	   1000000 ns/op
BenchmarkPutProfiles/baseline_BatchWriteItem-2
2026/11/27 10:00:00 INFO something logged mid-benchmark
      20	   2000000 ns/op
BenchmarkLonely-2   	 100	 5 ns/op
ok  	github.com/pilotsync/pilotsync/shared/store	12.3s
pkg: github.com/pilotsync/pilotsync/shared/profileimport
BenchmarkPutProfiles/pilotsync-2   	 1	 900 ns/op
BenchmarkPutProfiles/baseline-2   	 1	 300 ns/op
pkg: github.com/pilotsync/pilotsync/shared/activity
BenchmarkPipeline-2   	  50	  2400000 ns/op	  2.50 x-json	  4800 cpu-ns/event
BenchmarkPipeline-2   	  50	  2600000 ns/op	  3.50 x-json	  5200 cpu-ns/event
PASS
`

func TestParse(t *testing.T) {
	got, err := parse(strings.NewReader(sample))
	if err != nil {
		t.Fatal(err)
	}
	if got.failed {
		t.Error("failed = true, want false")
	}
	tests := []struct {
		pkg, name, unit string
		want            []float64
	}{
		{"github.com/pilotsync/pilotsync/shared/store", "PutProfiles/pilotsync", "ns/op", []float64{3e6, 5e6}},
		{"github.com/pilotsync/pilotsync/shared/store", "PutProfiles/pilotsync", "profiles/s", []float64{33333, 20000}},
		{"github.com/pilotsync/pilotsync/shared/store", "PutProfiles/baseline_BatchWriteItem", "ns/op", []float64{1e6, 2e6}},
		{"github.com/pilotsync/pilotsync/shared/store", "Lonely", "ns/op", []float64{5}},
		{"github.com/pilotsync/pilotsync/shared/profileimport", "PutProfiles/pilotsync", "ns/op", []float64{900}},
		{"github.com/pilotsync/pilotsync/shared/activity", "Pipeline", "x-json", []float64{2.5, 3.5}},
	}
	for _, tc := range tests {
		var found *result
		for _, r := range got.results {
			if r.pkg == tc.pkg && r.name == tc.name {
				found = r
			}
		}
		if found == nil {
			t.Errorf("%s %s: not parsed", tc.pkg, tc.name)
			continue
		}
		if g := found.metrics[tc.unit]; !equal(g, tc.want) {
			t.Errorf("%s %s %s: got %v, want %v", tc.pkg, tc.name, tc.unit, g, tc.want)
		}
	}
	if n := len(got.results); n != 6 {
		t.Errorf("got %d results, want 6", n)
	}
}

func TestParseFailure(t *testing.T) {
	for _, in := range []string{
		"--- FAIL: BenchmarkX\n    x_test.go:1: boom\nFAIL\n",
		"FAIL\tgithub.com/pilotsync/pilotsync/shared/store\t1.2s\n",
		"panic: runtime error\n",
	} {
		got, err := parse(strings.NewReader(in))
		if err != nil {
			t.Fatal(err)
		}
		if !got.failed {
			t.Errorf("%q: failed = false, want true", in)
		}
	}
}

func TestRatios(t *testing.T) {
	res, err := parse(strings.NewReader(sample))
	if err != nil {
		t.Fatal(err)
	}
	got := ratios(res.results)
	want := []row{
		// medians 4e6 / 1.5e6; single runs 3/1 and 5/2.
		{bench: "store.PutProfiles/pilotsync", baseline: "baseline_BatchWriteItem", ratio: 4.0 / 1.5, lo: 2.5, hi: 3, ns: 4e6, baseNS: 1.5e6},
		// Same names in another package pair only with that package's baseline.
		{bench: "profileimport.PutProfiles/pilotsync", baseline: "baseline", ratio: 3, lo: 3, hi: 3, ns: 900, baseNS: 300},
		{bench: "activity.Pipeline", baseline: "json (same benchmark)", ratio: 3, lo: 2.5, hi: 3.5, ns: 2.5e6},
	}
	if len(got) != len(want) {
		t.Fatalf("got %d rows %+v, want %d", len(got), got, len(want))
	}
	for i := range want {
		g, w := got[i], want[i]
		if g.bench != w.bench || g.baseline != w.baseline || !near(g.ratio, w.ratio) || !near(g.lo, w.lo) ||
			!near(g.hi, w.hi) || !near(g.ns, w.ns) || !near(g.baseNS, w.baseNS) {
			t.Errorf("row %d: got %+v, want %+v", i, g, w)
		}
	}
}

func TestMedian(t *testing.T) {
	tests := []struct {
		in   []float64
		want float64
	}{
		{nil, 0},
		{[]float64{7}, 7},
		{[]float64{9, 1, 5}, 5},
		{[]float64{4, 1, 3, 2}, 2.5},
	}
	for _, tc := range tests {
		if got := median(tc.in); got != tc.want {
			t.Errorf("median(%v) = %v, want %v", tc.in, got, tc.want)
		}
	}
}

func TestPrintTable(t *testing.T) {
	var b strings.Builder
	rows := []row{{bench: "store.PutProfiles/pilotsync", baseline: "baseline", ratio: 2.5, lo: 2, hi: 3, ns: 1234567, baseNS: 493827}}
	if err := printTable(&b, rows); err != nil {
		t.Fatal(err)
	}
	got := b.String()
	for _, want := range []string{"benchmark", "store.PutProfiles/pilotsync", "2.50x", "2.00-3.00", "1,234,567", "493,827"} {
		if !strings.Contains(got, want) {
			t.Errorf("table %q does not contain %q", got, want)
		}
	}
}

func equal(a, b []float64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if !near(a[i], b[i]) {
			return false
		}
	}
	return true
}

func near(a, b float64) bool { return math.Abs(a-b) <= 1e-9*math.Max(1, math.Abs(b)) }
