package main

import (
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/pilotsync/pilotsync/shared/handler"
)

// progressInterval is the least time between two progress lines.
const progressInterval = time.Second

// progressPrinter prints a sync's progress on stderr: records done of
// total, rate, API calls and time left, at most once per progressInterval
// (and always when a direction or object changes, so none goes unseen).
type progressPrinter struct {
	w   io.Writer
	now func() time.Time

	mu      sync.Mutex
	last    time.Time
	lastKey string
	started map[string]time.Time
	pending *handler.Progress
}

func newProgressPrinter(w io.Writer, now func() time.Time) *progressPrinter {
	if now == nil {
		now = time.Now
	}
	return &progressPrinter{w: w, now: now, started: map[string]time.Time{}}
}

// report is the handler's progress callback.
func (pp *progressPrinter) report(p handler.Progress) {
	pp.mu.Lock()
	defer pp.mu.Unlock()
	now := pp.now()
	key := p.Direction + " " + p.Object
	if _, ok := pp.started[key]; !ok {
		pp.started[key] = now
	}
	if key == pp.lastKey && now.Sub(pp.last) < progressInterval {
		pp.pending = &p
		return
	}
	pp.printLocked(p, now)
}

// flush prints the last progress held back by the interval.
func (pp *progressPrinter) flush() {
	pp.mu.Lock()
	defer pp.mu.Unlock()
	if pp.pending != nil {
		pp.printLocked(*pp.pending, pp.now())
	}
}

func (pp *progressPrinter) printLocked(p handler.Progress, now time.Time) {
	key := p.Direction + " " + p.Object
	pp.last, pp.lastKey, pp.pending = now, key, nil
	elapsed := now.Sub(pp.started[key])
	line := fmt.Sprintf("%s %s: %d", p.Direction, p.Object, p.Done)
	if p.Total > 0 {
		line += fmt.Sprintf(" of %d records (%d%%)", p.Total, min(100, p.Done*100/p.Total))
	} else {
		line += " records"
	}
	if p.Direction == handler.DirectionOutbound {
		line += fmt.Sprintf(", %d sent", p.Sent)
	}
	rate := 0.0
	if elapsed > 0 {
		rate = float64(p.Done) / elapsed.Seconds()
		line += fmt.Sprintf(", %.0f/s", rate)
	}
	line += fmt.Sprintf(", %d calls", p.Calls)
	if p.Total > p.Done && rate > 0 {
		left := time.Duration(float64(p.Total-p.Done) / rate * float64(time.Second))
		line += fmt.Sprintf(", about %s left", left.Round(time.Second))
	}
	fmt.Fprintln(pp.w, line)
}
