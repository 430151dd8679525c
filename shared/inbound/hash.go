package inbound

import (
	"crypto/sha256"
	"encoding/hex"
)

// hashLen is the number of hex digits kept of a value hash: 64 bits is far
// more than enough to tell one value of a property from the next, and keeps
// the per-profile hash maps small in DynamoDB.
const hashLen = 16

// absentHash stands for "no value" (a HubSpot property that is empty or not
// set), distinct from the hash of any string.
const absentHash = "-"

// ValueHash returns the short hash of a HubSpot-encoded property value that
// pilotsync keeps per property in a profile: InboundHashes (what inbound last
// wrote to Userpilot) and OutboundHashes (what outbound last wrote to
// HubSpot). Both directions must hash with this function so that inbound can
// recognise its own outbound writes and not copy them back (no echo).
func ValueHash(v string) string {
	sum := sha256.Sum256([]byte(v))
	return hex.EncodeToString(sum[:])[:hashLen]
}

// valueHash hashes a possibly absent value.
func valueHash(v string, ok bool) string {
	if !ok {
		return absentHash
	}
	return ValueHash(v)
}
