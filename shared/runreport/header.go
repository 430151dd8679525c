package runreport

import "time"

// Header is what every run report starts with, in the same JSON fields in
// the inbound and outbound reports: the run's id, status and times, the API
// calls it made, and what it says about its outcome. Reports embed it.
type Header struct {
	RunID    string    `json:"run_id"`
	Status   string    `json:"status"`
	Complete bool      `json:"complete"`
	Started  time.Time `json:"started"`
	Finished time.Time `json:"finished"`
	// DurationMS is Finished - Started in milliseconds.
	DurationMS int64 `json:"duration_ms"`
	// APICalls counts the calls the run made by endpoint.
	APICalls map[string]int64 `json:"api_calls,omitempty"`
	// Message explains a lease_held or partial status.
	Message string `json:"message,omitempty"`
	// Error summarises what failed.
	Error string `json:"error,omitempty"`
}

// Finish records the run's end at finished and the outcome Decide gives
// for parts (partial is the message of a partial run).
func (h *Header) Finish(finished time.Time, parts []Part, partial string) {
	h.Finished = finished
	h.DurationMS = finished.Sub(h.Started).Milliseconds()
	out := Decide(parts, partial)
	h.Status, h.Complete, h.Message, h.Error = out.Status, out.Complete, out.Message, out.Error
}
