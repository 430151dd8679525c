package store

import (
	"cmp"
	"slices"
	"time"
)

// SessionLastEventAllowance is the time credited for a session's last event:
// a session lasts from its first event to its last plus this allowance, so a
// one-event session counts 30 seconds, not zero. The README documents it.
const SessionLastEventAllowance = 30 * time.Second

// Context fields kept in an ActivitySummary (the latest value of each).
const (
	ContextCountryCode     = "country_code"
	ContextBrowser         = "browser"
	ContextOperatingSystem = "operating_system"
	ContextDeviceType      = "device_type"
	// ContextPage is hostname + pathname of the latest event that had a hostname.
	ContextPage = "page"
)

// ActivityContext is the auto-captured context of one event (the event
// record, https://docs.userpilot.com/data-sync/event-schema).
type ActivityContext struct {
	Hostname, Pathname, CountryCode, Browser, OperatingSystem, DeviceType string
}

// fields returns the context as summary fields; empty values are absent.
func (c ActivityContext) fields() map[string]string {
	out := map[string]string{}
	for k, v := range map[string]string{
		ContextCountryCode: c.CountryCode, ContextBrowser: c.Browser,
		ContextOperatingSystem: c.OperatingSystem, ContextDeviceType: c.DeviceType,
	} {
		if v != "" {
			out[k] = v
		}
	}
	if c.Hostname != "" {
		out[ContextPage] = c.Hostname + c.Pathname
	}
	return out
}

// DaySummary is one UTC day of a profile's summary.
type DaySummary struct {
	// Events counts activity events (not session_start); Active counts every
	// recorded event, session_start included (a day with Active > 0 is an
	// active day).
	Events int64 `json:"e,omitempty"`
	Active int64 `json:"a,omitempty"`
	// Sessions started this day and their time (first to last event plus
	// SessionLastEventAllowance), in milliseconds. A company's are the sums
	// of its users'.
	Sessions int64 `json:"s,omitempty"`
	TimeMs   int64 `json:"t,omitempty"`
	// FirstMs and LastMs bound the day's events (Unix ms).
	FirstMs int64 `json:"f,omitempty"`
	LastMs  int64 `json:"l,omitempty"`
}

// Session is one user session: its first and last event (Unix ms).
type Session struct {
	Start int64 `json:"s"`
	End   int64 `json:"e"`
}

// ContextValue is the latest value of one context field and when it was seen.
type ContextValue struct {
	Value string `json:"v"`
	AtMs  int64  `json:"t"`
}

// ActivitySummary is one profile's rolling activity summary, kept as activity
// arrives (AddActivity) and read once per profile by the daily measured run.
type ActivitySummary struct {
	Env  string
	Kind Kind
	ID   string
	// Days holds the days still inside the kept window, keyed "YYYY-MM-DD".
	Days map[string]*DaySummary
	// Sessions are a user's sessions inside the window, oldest first (empty
	// for companies, whose session counts come from their users).
	Sessions []Session
	// Context holds the latest value of each context field.
	Context map[string]ContextValue
	// Sent is what the daily measured run last sent, per HubSpot property
	// (encoded values), and SentTo the HubSpot record it went to.
	Sent   map[string]string
	SentTo string
	// Version counts activity writes (optimistic lock of AddActivity).
	Version int64
}

// summaryBody is the stored JSON form of the activity part of a summary.
type summaryBody struct {
	Days     map[string]*DaySummary  `json:"d,omitempty"`
	Sessions []Session               `json:"s,omitempty"`
	Context  map[string]ContextValue `json:"c,omitempty"`
}

// summaryEvent is one event applied to a summary.
type summaryEvent struct {
	at           time.Time
	events       int64 // 0 for session_start
	sessionStart bool
	ctx          ActivityContext
}

func dayOf(ms int64) string { return time.UnixMilli(ms).UTC().Format(dayLayout) }

// addEvent applies one event's counts, bounds and context to a summary.
func (s *ActivitySummary) addEvent(e summaryEvent) {
	ms := e.at.UnixMilli()
	d := dayOf(ms)
	if s.Days == nil {
		s.Days = map[string]*DaySummary{}
	}
	ds := s.Days[d]
	if ds == nil {
		ds = &DaySummary{}
		s.Days[d] = ds
	}
	ds.Active++
	ds.Events += e.events
	if ds.FirstMs == 0 || ms < ds.FirstMs {
		ds.FirstMs = ms
	}
	if ms > ds.LastMs {
		ds.LastMs = ms
	}
	if s.Context == nil {
		s.Context = map[string]ContextValue{}
	}
	for k, v := range e.ctx.fields() {
		old, ok := s.Context[k]
		// The latest event wins; a tie goes to the larger value, so the
		// outcome does not depend on delivery order.
		if !ok || ms > old.AtMs || (ms == old.AtMs && v > old.Value) {
			s.Context[k] = ContextValue{Value: v, AtMs: ms}
		}
	}
}

// addToSessions inserts an event time into sessions (sorted by start): a gap
// longer than timeout between consecutive events starts a new session, so the
// result does not depend on the order events arrive in.
func addToSessions(ss []Session, ms int64, timeout time.Duration) []Session {
	gap := timeout.Milliseconds()
	i, _ := slices.BinarySearchFunc(ss, ms, func(s Session, t int64) int { return cmp.Compare(s.Start, t) })
	// Candidates: the session before i (may contain or precede ms) and the
	// sessions from i on (start at or after ms).
	lo, hi := i, i
	if i > 0 && ms-ss[i-1].End <= gap {
		lo = i - 1
	}
	for hi < len(ss) && ss[hi].Start-ms <= gap {
		hi++
	}
	if lo == hi {
		return slices.Insert(ss, i, Session{Start: ms, End: ms})
	}
	merged := Session{Start: min(ss[lo].Start, ms), End: max(ss[hi-1].End, ms)}
	return slices.Replace(ss, lo, hi, merged)
}

// sessionStats returns, per start day, the sessions and their time in ms.
func sessionStats(ss []Session) map[string][2]int64 {
	out := map[string][2]int64{}
	for _, s := range ss {
		d := dayOf(s.Start)
		v := out[d]
		v[0]++
		v[1] += s.End - s.Start + SessionLastEventAllowance.Milliseconds()
		out[d] = v
	}
	return out
}

// applySessionStats adds diff (per day: sessions, ms) to the days' session
// counters, creating days as needed.
func (s *ActivitySummary) applySessionStats(diff map[string][2]int64) {
	if s.Days == nil {
		s.Days = map[string]*DaySummary{}
	}
	for d, v := range diff {
		if v == [2]int64{} {
			continue
		}
		ds := s.Days[d]
		if ds == nil {
			ds = &DaySummary{}
			s.Days[d] = ds
		}
		ds.Sessions += v[0]
		ds.TimeMs += v[1]
	}
}

// statsDiff returns after minus before.
func statsDiff(before, after map[string][2]int64) map[string][2]int64 {
	out := map[string][2]int64{}
	for d, v := range after {
		out[d] = v
	}
	for d, v := range before {
		w := out[d]
		out[d] = [2]int64{w[0] - v[0], w[1] - v[1]}
	}
	return out
}

// prune drops days and sessions that started before cutoff (a UTC day).
func (s *ActivitySummary) prune(cutoff string) {
	for d := range s.Days {
		if d < cutoff {
			delete(s.Days, d)
		}
	}
	s.Sessions = slices.DeleteFunc(s.Sessions, func(x Session) bool { return dayOf(x.Start) < cutoff })
}

// lastMs is the latest event time of the summary (0 when empty).
func (s *ActivitySummary) lastMs() int64 {
	var l int64
	for _, d := range s.Days {
		l = max(l, d.LastMs)
	}
	return l
}
