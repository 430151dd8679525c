package linker

import "github.com/pilotsync/pilotsync/shared/store"

// newRecord marks p, about to be linked to a record it was not linked to,
// dirty when it has Userpilot values, so the next outbound push plans it
// against the new record. Without it a profile pushed while HubSpot did not
// know it (unmatched: the push clears the mark) and linked later would not
// send its values until they changed again. The push decides what is mapped
// and not yet sent (its per-property sent state); a profile with nothing to
// send just loses the mark there.
func newRecord(p *store.Profile) {
	if len(p.Properties) > 0 {
		p.Dirty = true
	}
}
