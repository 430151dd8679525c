// Package logtest records what the engines log, for tests that assert what an
// operator reads in the logs (a warning written or not, an error named). It
// is a leaf package.
package logtest

import (
	"context"
	"log/slog"
	"strings"
	"sync"
)

// Record is one log record as kept: level, message and attributes (values
// as text).
type Record struct {
	Level   slog.Level
	Message string
	Attrs   map[string]string
}

// Recorder is a slog.Handler that keeps every record at or above Min (the
// zero value keeps Info and above; slog.LevelDebug keeps all). It is safe
// for concurrent use.
type Recorder struct {
	Min  slog.Level
	mu   sync.Mutex
	recs []Record
}

// Enabled reports whether l is at or above Min.
func (r *Recorder) Enabled(_ context.Context, l slog.Level) bool { return l >= r.Min }

// Handle keeps rec.
func (r *Recorder) Handle(_ context.Context, rec slog.Record) error {
	kept := Record{Level: rec.Level, Message: rec.Message, Attrs: map[string]string{}}
	rec.Attrs(func(a slog.Attr) bool {
		kept.Attrs[a.Key] = a.Value.String()
		return true
	})
	r.mu.Lock()
	defer r.mu.Unlock()
	r.recs = append(r.recs, kept)
	return nil
}

// WithAttrs returns r (attributes given to a derived logger are not kept).
func (r *Recorder) WithAttrs([]slog.Attr) slog.Handler { return r }

// WithGroup returns r.
func (r *Recorder) WithGroup(string) slog.Handler { return r }

// Records returns a copy of the records kept so far.
func (r *Recorder) Records() []Record {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]Record(nil), r.recs...)
}

// Lines returns "LEVEL message" for each record kept, e.g. "WARN save run".
func (r *Recorder) Lines() []string {
	var out []string
	for _, rec := range r.Records() {
		out = append(out, rec.Level.String()+" "+rec.Message)
	}
	return out
}

// Messages returns the message of each record kept.
func (r *Recorder) Messages() []string {
	var out []string
	for _, rec := range r.Records() {
		out = append(out, rec.Message)
	}
	return out
}

// Containing returns the records whose message contains substr.
func (r *Recorder) Containing(substr string) []Record {
	var out []Record
	for _, rec := range r.Records() {
		if strings.Contains(rec.Message, substr) {
			out = append(out, rec)
		}
	}
	return out
}
