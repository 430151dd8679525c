package inbound

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/pilotsync/pilotsync/shared/hubspot"
)

// cursorState is the inbound checkpoint of one object type, stored as JSON
// (opaque to the store). Either an incremental position (Since/AfterID, the
// hubspot.WalkCursor to resume from) or a full sync in progress (Full).
type cursorState struct {
	// SinceMS and AfterID resume the incremental walk.
	SinceMS int64  `json:"since_ms,omitempty"`
	AfterID string `json:"after_id,omitempty"`
	// Full is set while a full sync is under way.
	Full *fullState `json:"full,omitempty"`
}

// fullState is the progress of a full sync: the list endpoint's paging token,
// and where the incremental walk starts once the full sync is done.
type fullState struct {
	After string `json:"after,omitempty"`
	// ResumeMS is the incremental position after the full sync: its start
	// minus the overlap, so changes made while it ran are read again.
	ResumeMS int64 `json:"resume_ms"`
}

func (c cursorState) walkCursor() hubspot.WalkCursor {
	return hubspot.WalkCursor{Since: time.UnixMilli(c.SinceMS).UTC(), AfterID: c.AfterID}
}

func decodeCursor(raw string) (cursorState, error) {
	var c cursorState
	if raw == "" {
		return c, nil
	}
	if err := json.Unmarshal([]byte(raw), &c); err != nil {
		return c, fmt.Errorf("decode cursor: %w", err)
	}
	return c, nil
}

func (c cursorState) encode() string {
	b, _ := json.Marshal(c) // plain struct of strings and ints: cannot fail
	return string(b)
}

// cursorName names an object type's inbound cursor; it includes the HubSpot
// object so that mapping users to another object starts afresh.
func cursorName(o Object) string { return "inbound:" + o.name() + ":" + o.HubSpotObject }

// leaseName is the inbound job's lease: one for all object types, so two
// overlapping invocations never both work.
const leaseName = "inbound"

// lag returns where the checkpoint stands (during a full sync, where the
// incremental walk resumes after it) and how many seconds that is before
// now; zero values when it stands nowhere yet.
func (c cursorState) lag(now time.Time) (time.Time, float64) {
	ms := c.SinceMS
	if c.Full != nil {
		ms = c.Full.ResumeMS
	}
	if ms <= 0 {
		return time.Time{}, 0
	}
	at := time.UnixMilli(ms).UTC()
	return at, max(now.Sub(at), 0).Round(time.Millisecond).Seconds()
}
