package inbound

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/pilotsync/pilotsync/shared/store"
)

// contact adds a HubSpot contact and a stored profile matched to it by
// email, so that a walk reading the contact writes the profile's user.
func (e *env) contact(id string, at time.Time) {
	email := "c" + id + "@example.com"
	e.hs.put("contacts", id, at, map[string]string{"email": email, "firstname": "F" + id})
	if e.st.get(store.KindUser, "u"+id) == nil {
		e.st.add(&store.Profile{Kind: store.KindUser, ID: "u" + id, MatchValue: email})
	}
}

// TestClampedCursorDropsTheTieBreakingID (issue 14 item 5): when a page
// ends past the safe time, the checkpoint is clamped back to the safe time,
// and the id that broke ties inside an older millisecond is dropped with
// it. A record HubSpot search shows late in the safe millisecond itself,
// whatever its id, is then read by the next poll.
func TestClampedCursorDropsTheTieBreakingID(t *testing.T) {
	e := newEnv(t)
	e.run(t, ModeFull) // nothing yet: the cursor starts at the full sync's start
	e.clock.advance(5 * time.Minute)
	safe := e.clock.now().Add(-2 * time.Minute) // the overlap is 2 minutes
	// Page 1 (three records) ends inside an older millisecond, at id 1012;
	// page 2 ends past the safe time.
	for _, id := range []string{"1010", "1011", "1012"} {
		e.contact(id, safe.Add(-time.Minute))
	}
	e.contact("1020", safe.Add(time.Minute))
	rep := e.run(t, ModeIncremental)
	if rep.Status != StatusComplete || rep.Totals.Written != 4 {
		t.Fatalf("walk: %s %+v, want complete with 4 written", rep.Status, rep.Totals)
	}
	c, _ := decodeCursor(e.st.cursors[cursorName(usersObject())])
	if want := (cursorState{SinceMS: safe.UnixMilli()}); c != want {
		t.Errorf("cursor %+v, want %+v: clamped to the safe time with no tie-breaking id", c, want)
	}

	// A contact with a lower id than the last tie-breaker shows up in
	// search, modified in the safe millisecond.
	e.contact("1005", safe)
	e.up.reset()
	e.clock.advance(5 * time.Minute)
	e.run(t, ModeIncremental)
	if got := e.up.written(); len(got["u1005"]) != 1 {
		t.Errorf("written %v, want u1005 (modified in the safe millisecond) read and written", got)
	}
}

// TestLostLeaseCancelsTheWorkInFlight (issue 14 item 6): when the heartbeat
// finds the lease taken, the run's context is cancelled, so the HubSpot call
// in flight ends at once; the run does not carry on to its next checkpoint.
func TestLostLeaseCancelsTheWorkInFlight(t *testing.T) {
	e := newEnv(t)
	e.in.leaseTTL = 150 * time.Millisecond // renewed every 50 ms
	e.seed(6)
	e.hs.delay = 3 * time.Second // one list page, far longer than the lease
	go func() {
		time.Sleep(20 * time.Millisecond)
		e.st.steal("newer-run")
	}()
	start := time.Now()
	rep := e.run(t, ModeFull)
	if d := time.Since(start); d > time.Second {
		t.Errorf("run took %s after losing its lease, want the list call in flight cancelled", d)
	}
	if rep.Status != StatusFailed || !errors.Is(rep.Objects[0].Err, store.ErrLeaseLost) {
		t.Errorf("report %s %q, want failed with the lease lost", rep.Status, rep.Error)
	}
	if n := len(e.up.written()); n != 0 {
		t.Errorf("%d users written after the lease was lost, want none", n)
	}
	if _, ok := e.st.cursors[cursorName(usersObject())]; ok {
		t.Error("a cursor was stored by a run that lost its lease")
	}
}

// TestFinalCursorSave (issue 14 item 6): the cursor save that ends a walk
// (moving past the last millisecond read) and the one that ends a full sync
// are checkpoints like the others: when they fail the object type fails
// with that error, and when they succeed the run is complete.
func TestFinalCursorSave(t *testing.T) {
	saveErr := errors.New("dynamodb: throttled")
	t.Run("incremental", func(t *testing.T) {
		for _, fail := range []bool{false, true} {
			t.Run(fmt.Sprint("fail=", fail), func(t *testing.T) {
				e := newEnv(t)
				e.run(t, ModeFull)
				at := e.clock.now().Add(time.Minute)
				e.contact("1001", at)
				e.clock.advance(10 * time.Minute) // the record is older than the overlap
				final := cursorState{SinceMS: at.UnixMilli() + 1}.encode()
				if fail {
					e.st.putCursor = func(_, value string) error {
						if value == final {
							return saveErr
						}
						return nil
					}
				}
				rep := e.run(t, ModeIncremental)
				o := rep.Objects[0]
				got := e.st.cursors[cursorName(usersObject())]
				if !fail {
					if rep.Status != StatusComplete || !o.Complete || got != final {
						t.Errorf("report %s complete %v, cursor %s; want complete at %s", rep.Status, o.Complete, got, final)
					}
					return
				}
				if rep.Status != StatusFailed || o.Complete || !errors.Is(o.Err, saveErr) || !strings.Contains(o.Error, "checkpoint") {
					t.Errorf("report %s complete %v error %q, want failed with the checkpoint error", rep.Status, o.Complete, o.Error)
				}
			})
		}
	})
	t.Run("full", func(t *testing.T) {
		for _, fail := range []bool{false, true} {
			t.Run(fmt.Sprint("fail=", fail), func(t *testing.T) {
				e := newEnv(t)
				e.seed(4) // two list pages
				if fail {
					e.st.putCursor = func(_, value string) error {
						if c, _ := decodeCursor(value); c.Full == nil {
							return saveErr // the save that ends the full sync
						}
						return nil
					}
				}
				rep := e.run(t, ModeFull)
				o := rep.Objects[0]
				c, _ := decodeCursor(e.st.cursors[cursorName(usersObject())])
				if !fail {
					if rep.Status != StatusComplete || !o.Complete || c.Full != nil {
						t.Errorf("report %s complete %v, cursor %+v; want complete with the full sync done", rep.Status, o.Complete, c)
					}
					return
				}
				if rep.Status != StatusFailed || o.Complete || !errors.Is(o.Err, saveErr) {
					t.Errorf("report %s complete %v error %q, want failed with the final checkpoint's error", rep.Status, o.Complete, o.Error)
				}
				if c.Full == nil {
					t.Errorf("cursor %+v, want the full sync still in progress", c)
				}
			})
		}
	})
}
