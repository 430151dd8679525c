package hubspottest

import (
	"fmt"
	"strconv"
	"time"
)

// Date value forms for Options.DateValues: how the CRM read endpoints hand
// back date properties. HubSpot's property docs describe date values as
// midnight UTC, written as "YYYY-MM-DD" or epoch milliseconds
// (https://developers.hubspot.com/docs/faq/how-should-timestamps-be-formatted-for-hubspots-apis);
// which form a read returns has changed over the API's life, so the sandbox
// offers both and the client must read both.
const (
	// DateValuesISO answers dates as "2026-11-27" (the default).
	DateValuesISO = "iso"
	// DateValuesEpochMillis answers dates as epoch milliseconds at
	// midnight UTC, e.g. "1795737600000".
	DateValuesEpochMillis = "epoch_ms"
)

// wireValue is the form HubSpot hands a stored value back in: dates as
// Options.DateValues says, date-times as ISO 8601 UTC with milliseconds
// (whatever form they were written in), everything else as stored.
func (o *objectStore) wireValue(name, v string) string {
	p := o.props[name]
	if p == nil || v == "" {
		return v
	}
	switch p.Type {
	case "date":
		ms, ok := parseTimeMS(v)
		if !ok {
			return v
		}
		day := time.UnixMilli(ms).UTC().Truncate(24 * time.Hour)
		if o.dateValues == DateValuesEpochMillis {
			return strconv.FormatInt(day.UnixMilli(), 10)
		}
		return day.Format(time.DateOnly)
	case "datetime":
		if ms, ok := parseTimeMS(v); ok {
			return isoMillis(time.UnixMilli(ms))
		}
	}
	return v
}

// checkSeedValues panics when a test fixture gives a defined property a
// value HubSpot's API would refuse ("1e3" for a number, "yes" for a bool),
// so fixtures cannot hold values real records never do. Unknown and
// read-only properties pass: fixtures may set what only HubSpot sets, and
// so do HubSpot's option-less lists (hs_additional_emails).
// Caller holds mu.
func (o *objectStore) checkSeedValues(props map[string]string) {
	for name, v := range props {
		p := o.props[name]
		if p == nil || v == "" || (p.Type == "enumeration" && len(p.Options) == 0) {
			continue // HubSpot's own lists (hs_additional_emails) have no options
		}
		q := *p
		q.ReadOnlyValue, q.Calculated = false, false
		if bad := validateValue(&q, name, v); bad != nil {
			panic(fmt.Sprintf("hubspottest: %s seed value for %s: %s (%s)", o.name, name, bad.message, bad.code))
		}
	}
}
