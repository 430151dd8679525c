package hubspottest

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// numberPattern is HubSpot's number format: digits, at most one decimal point, no exponent.
var numberPattern = regexp.MustCompile(`^-?(\d+(\.\d*)?|\.\d+)$`)

// parseTimeMS reads a date or datetime value as written to or stored by HubSpot:
// epoch milliseconds, "2006-01-02" or ISO 8601.
func parseTimeMS(v string) (int64, bool) {
	if v == "" {
		return 0, false
	}
	if n, err := strconv.ParseInt(v, 10, 64); err == nil {
		return n, true
	}
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05.000Z0700", "2006-01-02T15:04:05Z0700", time.DateOnly} {
		if t, err := time.Parse(layout, v); err == nil {
			return t.UnixMilli(), true
		}
	}
	return 0, false
}

// validationError is one invalid property value.
type validationError struct {
	property, code, message string
}

// validateValue checks a value written through the API against its property.
func validateValue(p *Property, name, v string) *validationError {
	bad := func(code, format string, args ...any) *validationError {
		return &validationError{property: name, code: code, message: fmt.Sprintf(format, args...)}
	}
	if p == nil {
		return bad("PROPERTY_DOESNT_EXIST", "Property %q does not exist", name)
	}
	if p.ReadOnlyValue || p.Calculated {
		return bad("READ_ONLY_VALUE", "%q is a read only property; its value cannot be set.", name)
	}
	if v == "" {
		return nil // clears the value
	}
	switch p.Type {
	case "number":
		if !numberPattern.MatchString(v) {
			return bad("INVALID_INTEGER", "%q is not a valid number", v)
		}
	case "bool":
		if v != "true" && v != "false" {
			return bad("INVALID_BOOLEAN", "%q is not a valid boolean; use true or false", v)
		}
	case "date":
		if n, err := strconv.ParseInt(v, 10, 64); err == nil {
			if n%(24*3600*1000) != 0 {
				return bad("INVALID_DATE", "%s is at %s, not midnight UTC", v, time.UnixMilli(n).UTC().Format(time.RFC3339))
			}
			return nil
		}
		if _, err := time.Parse(time.DateOnly, v); err != nil {
			return bad("INVALID_DATE", "%q is not a valid date; use YYYY-MM-DD or epoch milliseconds at midnight UTC", v)
		}
	case "datetime":
		if _, ok := parseTimeMS(v); !ok {
			return bad("INVALID_DATETIME", "%q is not a valid datetime; use ISO 8601 or epoch milliseconds", v)
		}
	case "enumeration":
		vals := []string{v}
		if p.FieldType == "checkbox" {
			vals = strings.Split(v, ";")
		}
		for _, x := range vals {
			if !hasOption(p, x) {
				return bad("INVALID_OPTION", "%q was not one of the allowed options: %s", x, optionList(p))
			}
		}
	default:
		if len(v) > maxStringValueChars {
			return bad("INVALID_STRING", "value is %d characters; the limit is %d", len(v), maxStringValueChars)
		}
	}
	return nil
}

func hasOption(p *Property, v string) bool {
	for _, o := range p.Options {
		if o.Value == v {
			return true
		}
	}
	return false
}

func optionList(p *Property) string {
	vals := make([]string, len(p.Options))
	for i, o := range p.Options {
		vals[i] = o.Value
	}
	return "[" + strings.Join(vals, ", ") + "]"
}
