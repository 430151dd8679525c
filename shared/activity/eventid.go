package activity

import (
	"strconv"
	"strings"
	"time"

	"github.com/cespare/xxhash/v2"
)

// eventIDTimeLayout is how inserted_at enters DeriveEventID: UTC with
// exactly six fractional digits, Userpilot's precision, so the same instant
// given as an ISO string, epoch milliseconds or epoch microseconds derives
// the same id.
const eventIDTimeLayout = "2006-01-02T15:04:05.000000Z"

// eventIDSeparator separates the fields DeriveEventID hashes, so that
// ("ab","c") and ("a","bc") differ.
const eventIDSeparator = "\x00"

// DeriveEventID returns the idempotency key of an event that carries no
// internal_event_id (older export schemas, events sent by a backend).
// Userpilot's export and data-sync schemas document internal_event_id as
// "calculated using xxHash64 of the composite key (app_token, event_type,
// event_name, user_id, company_id, inserted_at)"
// (https://docs.userpilot.com/data-sync/event-schema), without the exact
// byte layout, seed or output form. pilotsync's assumption, written down in
// the README: xxHash64 with seed 0 over the six fields in that order joined
// by NUL bytes, inserted_at as eventIDTimeLayout, the hash as 16 lower-case
// hex digits. A redelivery of the same event always derives the same id, so
// it is de-duplicated whichever way it arrives; whether the id equals the
// one Userpilot writes is unconfirmed (the run record counts derived ids).
func DeriveEventID(appToken, eventType, eventName, userID, companyID string, insertedAt time.Time) string {
	var b strings.Builder
	for i, s := range [...]string{appToken, eventType, eventName, userID, companyID, insertedAt.UTC().Format(eventIDTimeLayout)} {
		if i > 0 {
			b.WriteString(eventIDSeparator)
		}
		b.WriteString(s)
	}
	sum := xxhash.Sum64String(b.String())
	s := strconv.FormatUint(sum, 16)
	return strings.Repeat("0", 16-len(s)) + s
}
