package profileimport

import (
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"io"
	"testing"
)

// BenchmarkImport imports a 100,000-row CSV export held in memory into a store
// that keeps nothing (the store has its own benchmarks), against a plain
// encoding/csv read of the same bytes in the same run: the ratio is what
// parsing rows into profiles, batching and merging cost on top of reading the
// file (scripts/benchratio, make bench). The 1,000,000-row import is a soak
// test: TestImportMillionRows with PILOTSYNC_SOAK=1 (make soak).
//
// It replaces the earlier BenchmarkImport in profileimport_test.go, which
// imported 1,000,000 streamed rows an op with heap sampling and had no baseline.
func BenchmarkImport(b *testing.B) {
	const rows = 100_000
	file, err := io.ReadAll(generator(rows, false))
	if err != nil {
		b.Fatal(err)
	}
	b.Run("pilotsync", func(b *testing.B) {
		b.SetBytes(int64(len(file)))
		b.ReportAllocs()
		for b.Loop() {
			got, err := Import(context.Background(), &countingStore{}, bytes.NewReader(file), "users.csv", userOpts())
			if err != nil || got.Created != rows {
				b.Fatalf("got %+v, %v; want %d created", got, err, rows)
			}
		}
		b.ReportMetric(float64(b.N*rows)/b.Elapsed().Seconds(), "rows/s")
	})
	b.Run("baseline_csv.Reader", func(b *testing.B) {
		b.SetBytes(int64(len(file)))
		b.ReportAllocs()
		for b.Loop() {
			r := csv.NewReader(bytes.NewReader(file))
			n := 0
			for {
				_, err := r.Read()
				if errors.Is(err, io.EOF) {
					break
				}
				if err != nil {
					b.Fatal(err)
				}
				n++
			}
			if n != rows+1 { // + the header
				b.Fatalf("read %d records, want %d", n, rows+1)
			}
		}
		b.ReportMetric(float64(b.N*rows)/b.Elapsed().Seconds(), "rows/s")
	})
}
