package runreport_test

import (
	"maps"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/pilotsync/pilotsync/shared/runreport"
)

// TestDecide: a run's status follows from its object types: any error makes
// it failed (naming every failed object type), an object type that did not
// catch up makes it partial, and only a run where all caught up is complete.
func TestDecide(t *testing.T) {
	const partial = "stopped before the deadline: the next run continues"
	for _, c := range []struct {
		name  string
		parts []runreport.Part
		want  runreport.Outcome
	}{
		{"no parts", nil, runreport.Outcome{Status: runreport.StatusComplete, Complete: true}},
		{"all caught up", []runreport.Part{{Object: "users", Complete: true}, {Object: "companies", Complete: true}},
			runreport.Outcome{Status: runreport.StatusComplete, Complete: true}},
		{"one not caught up", []runreport.Part{{Object: "users", Complete: true}, {Object: "companies"}},
			runreport.Outcome{Status: runreport.StatusPartial, Message: partial}},
		{"first not caught up", []runreport.Part{{Object: "users"}, {Object: "companies", Complete: true}},
			runreport.Outcome{Status: runreport.StatusPartial, Message: partial}},
		{"an error wins over partial", []runreport.Part{{Object: "users"}, {Object: "companies", Error: "hubspot: status 502"}},
			runreport.Outcome{Status: runreport.StatusFailed, Error: "companies: hubspot: status 502"}},
		{"an error on a complete part", []runreport.Part{{Object: "users", Complete: true, Error: "save run: boom"}},
			runreport.Outcome{Status: runreport.StatusFailed, Complete: true, Error: "users: save run: boom"}},
		{"every error named", []runreport.Part{{Object: "users", Error: "a"}, {Object: "companies", Complete: true}, {Object: "deals", Error: "b"}},
			runreport.Outcome{Status: runreport.StatusFailed, Error: "users: a; deals: b"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			if got := runreport.Decide(c.parts, partial); got != c.want {
				t.Errorf("Decide = %+v, want %+v", got, c.want)
			}
		})
	}
}

// TestJoinCapped: the error summary of a run record stays bounded, cut on a
// character boundary and marked as cut; a short one is kept whole.
func TestJoinCapped(t *testing.T) {
	if got := runreport.JoinCapped([]string{"a", "b"}); got != "a; b" {
		t.Errorf("JoinCapped(a, b) = %q", got)
	}
	exact := strings.Repeat("x", runreport.MaxErrorLen)
	if got := runreport.JoinCapped([]string{exact}); got != exact {
		t.Errorf("an error of exactly %d bytes was cut to %d", runreport.MaxErrorLen, len(got))
	}
	long := strings.Repeat("x", runreport.MaxErrorLen-1) + "é and more"
	got := runreport.JoinCapped([]string{long})
	if !utf8.ValidString(got) || !strings.HasSuffix(got, "…") || len(got) > runreport.MaxErrorLen+len("…") {
		t.Errorf("cut error: %d bytes, valid UTF-8 %v, suffix %q", len(got), utf8.ValidString(got), got[len(got)-6:])
	}
	if want := strings.Repeat("x", runreport.MaxErrorLen-1) + "…"; got != want {
		t.Errorf("cut inside é: got ...%q, want ...%q", got[len(got)-8:], want[len(want)-8:])
	}
}

// TestCalls: the calls a run made are the difference of two readings; an
// endpoint first called during the run counts from zero and one not called
// is left out.
func TestCalls(t *testing.T) {
	before := map[string]int64{"hubspot.search": 4, "hubspot.batch_read": 2, "userpilot.bulk": 1}
	after := map[string]int64{"hubspot.search": 7, "hubspot.batch_read": 2, "userpilot.bulk": 1, "hubspot.batch_update": 3}
	want := map[string]int64{"hubspot.search": 3, "hubspot.batch_update": 3}
	if got := runreport.Calls(before, after); !maps.Equal(got, want) {
		t.Errorf("Calls = %v, want %v", got, want)
	}
	if got := runreport.Calls(nil, after); !maps.Equal(got, after) {
		t.Errorf("Calls(nil, after) = %v, want %v", got, after)
	}
}

// TestJoinCappedInvalidUTF8: an error text that is not UTF-8 (bytes of an
// API answer) is still cut at the cap, without a panic.
func TestJoinCappedInvalidUTF8(t *testing.T) {
	bad := strings.Repeat("\x80", runreport.MaxErrorLen+10)
	if got := runreport.JoinCapped([]string{bad}); got != "…" {
		t.Errorf("JoinCapped of continuation bytes only = %d bytes, want just the cut mark", len(got))
	}
}

// TestHeaderFinish: Finish sets the end, the duration from the start and
// the outcome of the parts.
func TestHeaderFinish(t *testing.T) {
	t0 := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	h := runreport.Header{RunID: "r1", Started: t0}
	h.Finish(t0.Add(1500*time.Millisecond), []runreport.Part{{Object: "users", Complete: true}, {Object: "companies"}}, "next run continues")
	if !h.Finished.Equal(t0.Add(1500*time.Millisecond)) || h.DurationMS != 1500 {
		t.Errorf("finished %v after %d ms, want 1500 ms after the start", h.Finished, h.DurationMS)
	}
	if h.Status != runreport.StatusPartial || h.Complete || h.Message != "next run continues" || h.Error != "" || h.RunID != "r1" {
		t.Errorf("header %+v, want partial with the message", h)
	}
	h.Finish(t0.Add(time.Second), []runreport.Part{{Object: "users", Error: "boom"}}, "unused")
	if h.Status != runreport.StatusFailed || h.Error != "users: boom" || h.DurationMS != 1000 {
		t.Errorf("header %+v, want failed naming users", h)
	}
}
