package config

import (
	"fmt"
	"slices"
	"strings"
)

// Value types an outbound mapping can declare (PropertyMapping.Type).
const (
	OutboundString      = "string"
	OutboundNumber      = "number"
	OutboundBool        = "bool"
	OutboundDate        = "date"
	OutboundDateTime    = "datetime"
	OutboundEnumeration = "enumeration"
)

// outboundFits lists, per declared value type, the HubSpot property types a
// value of that type can be written to, the one setup creates first. Every
// value can go to a text property; a date-time can go to a date property
// (its UTC date is kept); nothing else converts.
// https://developers.hubspot.com/docs/api-reference/crm-properties-v3/guide#property-type-and-fieldtype-values
var outboundFits = map[string][]string{
	OutboundString:      {"string", "phone_number", "enumeration"},
	OutboundNumber:      {"number", "string"},
	OutboundBool:        {"bool", "string"},
	OutboundDate:        {"date", "datetime", "string"},
	OutboundDateTime:    {"datetime", "date", "string"},
	OutboundEnumeration: {"enumeration", "string"},
}

// OutboundTypes returns the HubSpot property types an outbound mapping with
// declared type declared can be written to, the type setup creates first.
// A mapping without a type creates a string property and accepts any type
// (nil second value: no restriction).
func OutboundTypes(declared string) (create string, accepts []string) {
	if declared == "" {
		return "string", nil
	}
	fits := outboundFits[declared]
	if len(fits) == 0 {
		return "", nil
	}
	return fits[0], slices.Clone(fits)
}

// OutboundMismatch says why an existing HubSpot property of type hsType
// cannot take the values of outbound mapping pm, naming the property, its
// type and the types needed; "" when it fits.
func OutboundMismatch(pm PropertyMapping, hsType string) string {
	_, accepts := OutboundTypes(pm.Type)
	if accepts == nil || slices.Contains(accepts, hsType) {
		return ""
	}
	return fmt.Sprintf("property %q has type %s, but %q is mapped as %s, which needs a property of type %s",
		pm.HubSpot, hsType, pm.Userpilot, pm.Type, strings.Join(accepts, " or "))
}

// MeasuredMismatch is OutboundMismatch for a measured mapping.
func MeasuredMismatch(mm MeasuredMapping, hsType string) string {
	mp, ok := Metric(mm.Metric)
	if !ok || slices.Contains(mp.Accepts, hsType) {
		return ""
	}
	return fmt.Sprintf("property %q has type %s, but metric %s needs %s", mm.HubSpot, hsType, mm.Metric, strings.Join(mp.Accepts, " or "))
}
