// Package activity is the activity queue's event envelope: it parses a message
// body (one Userpilot event record, a JSON array of them, or NDJSON), validates
// each record, classifies it into the activity categories pilotsync forwards to
// HubSpot (through a mapping table that is data, extended by config), and encodes
// it as a sink-neutral occurrence.
//
// It does no I/O: shared/forward drives it.
package activity
