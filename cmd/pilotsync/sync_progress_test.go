package main

import (
	"strings"
	"testing"
	"time"

	"github.com/pilotsync/pilotsync/shared/handler"
)

// TestProgressPrinter: a line at most once a second per direction and
// object (a change of object prints at once), with records of total, rate,
// calls and time left; flush prints the last held-back report.
func TestProgressPrinter(t *testing.T) {
	var out strings.Builder
	now := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	pp := newProgressPrinter(&out, func() time.Time { return now })
	in := func(done int64, calls int64) handler.Progress {
		return handler.Progress{Direction: handler.DirectionInbound, Object: "users", Done: done, Total: 1000, Calls: calls}
	}
	pp.report(in(0, 1))
	now = now.Add(400 * time.Millisecond)
	pp.report(in(100, 3)) // held back: under a second
	now = now.Add(600 * time.Millisecond)
	pp.report(in(200, 5))
	now = now.Add(100 * time.Millisecond)
	pp.report(handler.Progress{Direction: handler.DirectionOutbound, Object: "users", Done: 100, Sent: 90, Calls: 2}) // new direction: printed
	now = now.Add(100 * time.Millisecond)
	pp.report(handler.Progress{Direction: handler.DirectionOutbound, Object: "users", Done: 150, Sent: 140, Calls: 3})
	pp.flush()
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	want := []string{
		"inbound users: 0 of 1000 records (0%), 1 calls",
		"inbound users: 200 of 1000 records (20%), 200/s, 5 calls, about 4s left",
		"outbound users: 100 records, 90 sent, 2 calls",
		"outbound users: 150 records, 140 sent, 1500/s, 3 calls",
	}
	if len(lines) != len(want) {
		t.Fatalf("got %d lines:\n%s\nwant %d", len(lines), out.String(), len(want))
	}
	for i := range want {
		if lines[i] != want[i] {
			t.Errorf("line %d = %q, want %q", i, lines[i], want[i])
		}
	}
}
