// Package sandbox holds the HTTP plumbing that the in-memory HubSpot
// (shared/hubspot/hubspottest) and Userpilot (shared/userpilot/userpilottest)
// sandboxes share: the seeded fault draw, dropping a connection, remembering
// the status a handler answered, the log of received requests, and pruning a
// sliding rate-limit window. Each sandbox keeps its own public API and its
// service's error bodies; only what is the same logic in both lives here.
package sandbox

import (
	"net/http"
	"time"
)

// Outcome is the fault a draw picked for one request.
type Outcome int

// The outcomes of Rates.Draw.
const (
	// Pass serves the request normally.
	Pass Outcome = iota
	// Drop closes the connection without an answer.
	Drop
	// ServerError answers a 5xx.
	ServerError
	// TooManyRequests answers a 429.
	TooManyRequests
	// Empty2xx answers success without writing anything.
	Empty2xx
)

// Rates are per-request probabilities of injected faults.
type Rates struct {
	Drop, ServerError, TooManyRequests, Empty2xx float64
	// Slow is the probability that the answer is delayed, drawn independently.
	Slow float64
}

// Source is the random source of a sandbox (math/rand and math/rand/v2 both
// fit), seeded so that runs repeat.
type Source interface{ Float64() float64 }

// Draw picks one request's fault. When r.Slow > 0 it first draws whether the
// request is slow; then one uniform draw falls into Drop, ServerError,
// TooManyRequests and Empty2xx in that order (so their sum should be ≤ 1), or
// past them into Pass. The order of draws is fixed, so a seed gives the same
// faults run after run.
func (r Rates) Draw(rnd Source) (o Outcome, slow bool) {
	if r.Slow > 0 && rnd.Float64() < r.Slow {
		slow = true
	}
	x := rnd.Float64()
	switch {
	case x < r.Drop:
		o = Drop
	case x < r.Drop+r.ServerError:
		o = ServerError
	case x < r.Drop+r.ServerError+r.TooManyRequests:
		o = TooManyRequests
	case x < r.Drop+r.ServerError+r.TooManyRequests+r.Empty2xx:
		o = Empty2xx
	}
	return o, slow
}

// DropConnection closes the client's connection without an answer. Where
// the connection cannot be hijacked (HTTP/2) it aborts the response instead.
func DropConnection(w http.ResponseWriter) {
	conn, _, err := http.NewResponseController(w).Hijack()
	if err != nil {
		panic(http.ErrAbortHandler) // aborts the response without writing one
	}
	_ = conn.Close()
}

// StatusWriter remembers the first status a handler answered: the one given
// to WriteHeader, or 200 for a Write without one. Status stays 0 when nothing
// was written (a dropped connection).
type StatusWriter struct {
	http.ResponseWriter
	Status int
}

// WriteHeader records code and passes it on.
func (w *StatusWriter) WriteHeader(code int) {
	if w.Status == 0 {
		w.Status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

// Write records an implicit 200 and passes b on.
func (w *StatusWriter) Write(b []byte) (int, error) {
	if w.Status == 0 {
		w.Status = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController (DropConnection's Hijack) reach the
// underlying writer.
func (w *StatusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// Prune drops from hits (oldest first) the times at or before now-window,
// reusing its array, and returns what is left: the requests that still
// count against a sliding window.
func Prune(hits []time.Time, now time.Time, window time.Duration) []time.Time {
	cut := now.Add(-window)
	i := 0
	for i < len(hits) && !hits[i].After(cut) {
		i++
	}
	if i == 0 {
		return hits
	}
	return append(hits[:0], hits[i:]...)
}
