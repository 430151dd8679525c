package inbound

import "github.com/pilotsync/pilotsync/shared/identity"

// absentHash stands for "no value" (a HubSpot property that is empty or not
// set), distinct from the hash of any string.
const absentHash = identity.AbsentHash

// ValueHash returns the short hash of a HubSpot-encoded property value that
// pilotsync keeps per property in a profile: InboundHashes (what inbound last
// wrote to Userpilot) and OutboundHashes (what outbound last wrote to
// HubSpot). Both directions must hash with this function so that inbound can
// recognise its own outbound writes and not copy them back (no echo). It is
// identity.ValueHash, which the linker also uses when a re-link writes values.
func ValueHash(v string) string { return identity.ValueHash(v) }

// valueHash hashes a possibly absent value.
func valueHash(v string, ok bool) string {
	if !ok {
		return absentHash
	}
	return ValueHash(v)
}
