package hubspot

import (
	"encoding/json"
	"strings"
)

// JSONValue converts a HubSpot property value (always a string on the wire)
// to the JSON value it stands for, by the property's type, for systems that
// keep typed values (Userpilot metadata):
//
//   - "" → nil (no value: the caller clears the property), never "" or 0;
//   - number → json.Number, a plain decimal exactly as HubSpot holds it
//     ("1.50" → 1.5, never rounded through float64);
//   - bool → true or false;
//   - date → "YYYY-MM-DD" (read from "YYYY-MM-DD", an ISO date-time or epoch
//     milliseconds, as HubSpot hands dates back in either form);
//   - datetime → ISO 8601 UTC, "2026-11-27T10:00:00Z" (milliseconds when not
//     zero), from ISO or epoch milliseconds;
//   - enumeration → the option's internal value as HubSpot holds it;
//     multi-select stays HubSpot's ";"-separated string;
//   - string, phone_number and unknown types → the string unchanged.
//
// A value that does not read as its type is an error wrapping
// ErrInvalidValue (it names the type, not the value). Property types:
// https://developers.hubspot.com/docs/api-reference/crm-properties-v3/guide
func JSONValue(propType, s string) (any, error) {
	if s == "" {
		return nil, nil
	}
	switch propType {
	case TypeNumber:
		n, err := normalizeDecimal(s)
		if err != nil {
			return nil, invalid(propType, s, "not a decimal number")
		}
		return json.Number(n), nil
	case TypeBool:
		b, err := parseBool(propType, s)
		if err != nil {
			return nil, err
		}
		return b, nil
	case TypeDate:
		t, err := parseDate(s)
		if err != nil {
			return nil, invalid(propType, s, "not an ISO date or epoch milliseconds")
		}
		return t.Format(dateLayout), nil
	case TypeDateTime:
		t, err := parseTime(s)
		if err != nil {
			return nil, invalid(propType, s, "not an ISO date-time or epoch milliseconds")
		}
		return formatDateTime(t), nil
	default: // enumeration, string, phone_number, and types the codec does not know
		return s, nil
	}
}

// parseBool reads HubSpot's "true" / "false" (any case, spaces around).
func parseBool(propType, s string) (bool, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "true":
		return true, nil
	case "false":
		return false, nil
	}
	return false, invalid(propType, s, "not true or false")
}
