// Package identity owns the rules that tie a Userpilot user or company to a
// HubSpot record: how match values are normalized, what a link records (the
// HubSpot id, its object type and the match value it was made under), when a
// link may be used, and what resolving a profile can answer. Every flow
// (inbound, outbound, measured, the activity forwarder) goes through these
// rules, so they agree on which record a profile belongs to.
//
// This package is a leaf (it imports nothing of pilotsync), so the store and
// the HubSpot client can use its normalization too. The resolver that reads
// HubSpot and writes links lives in shared/identity/linker.
package identity

import (
	"crypto/sha256"
	"encoding/hex"
	"strings"
)

// HubSpot's identity properties.
// https://knowledge.hubspot.com/records/merge-records (hs_merged_object_ids)
// https://knowledge.hubspot.com/records/add-multiple-email-addresses-to-a-contact (hs_additional_emails)
const (
	// PropAdditionalEmails lists a contact's secondary emails, ";"-separated.
	PropAdditionalEmails = "hs_additional_emails"
	// PropMergedIDs lists the ids of the records merged into a record.
	PropMergedIDs = "hs_merged_object_ids"
)

// Normalize returns v trimmed and lower-cased: the form match values are
// compared, stored and looked up in.
func Normalize(v string) string { return strings.ToLower(strings.TrimSpace(v)) }

// SplitMulti splits one of HubSpot's ";"-separated multi-values, trimming
// each part and dropping blanks.
func SplitMulti(s string) []string {
	if s == "" {
		return nil
	}
	var out []string
	for _, p := range strings.Split(s, ";") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// Redact returns a short stable hash of an identity value (an email, a user
// id) for log lines, run records and alert emails: the same value hashes the
// same everywhere, so an operator can follow one person across them without
// the raw address appearing anywhere.
func Redact(v string) string {
	sum := sha256.Sum256([]byte(Normalize(v)))
	return hex.EncodeToString(sum[:6])
}

// Link is what a profile's link to a HubSpot record records.
type Link struct {
	// ID is the HubSpot record id ("" when unlinked).
	ID string
	// Object is the HubSpot object type of the record ("contacts",
	// "companies", or a custom object type id).
	Object string
	// Match is the normalized match value the link was made under.
	Match string
}

// ValidFor reports whether the link may be used for a profile whose current
// normalized match value is match, in a flow that writes to object. A link
// made under another match value is stale: the profile must be resolved again.
func (l Link) ValidFor(match, object string) bool {
	return l.ID != "" && l.Object == object && l.Match != "" && l.Match == match
}

// Outcome is what resolving one profile answered.
type Outcome string

// Outcomes of resolving a profile.
const (
	// Linked: the profile is linked to Resolution.HubSpotID (a valid link
	// kept, or a new link made).
	Linked Outcome = "linked"
	// NotFound: HubSpot has no record with the profile's match value; the
	// profile is (now) unlinked.
	NotFound Outcome = "not_found"
	// Ambiguous: more than one HubSpot record carries the match value; the
	// profile is left unlinked rather than guessed.
	Ambiguous Outcome = "ambiguous"
	// NoMatchValue: the profile has no match value to resolve by.
	NoMatchValue Outcome = "no_match_value"
)

// Resolution is the answer for one profile.
type Resolution struct {
	// HubSpotID is the linked record id when Outcome is Linked.
	HubSpotID string
	// Outcome says what happened.
	Outcome Outcome
	// Relinked is true when the profile was moved from another record (a
	// stale link, a merge); Unlinked when a link was removed.
	Relinked, Unlinked bool
	// Merged is true when the record the profile was linked to was merged
	// into HubSpotID.
	Merged bool
}

// valueHashLen is the number of hex digits kept of a value hash: 64 bits is
// far more than enough to tell one value of a property from the next, and
// keeps the per-profile hash maps small in DynamoDB.
const valueHashLen = 16

// AbsentHash stands for "no value" in a profile's value hashes (a HubSpot
// property that is empty or not set), distinct from the hash of any string.
const AbsentHash = "-"

// ValueHash returns the short hash of a HubSpot-encoded property value kept
// per property in a profile (store.Profile InboundHashes, OutboundHashes):
// every flow that writes a value records it with this function, so each can
// recognise the others' writes.
func ValueHash(v string) string {
	sum := sha256.Sum256([]byte(v))
	return hex.EncodeToString(sum[:])[:valueHashLen]
}

// Userpilot metadata keys that carry a profile's link in Userpilot.
const (
	KeyObjectType = "__hubspot__object_type"
	KeyUserID     = "__hubspot__user_id"
	KeyCompanyID  = "__hubspot__company_id"
)
