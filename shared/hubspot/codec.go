package hubspot

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"math/big"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// HubSpot property types (https://developers.hubspot.com/docs/api-reference/crm-properties-v3/guide#property-type-and-fieldtype-values).
const (
	TypeBool        = "bool"
	TypeDate        = "date"
	TypeDateTime    = "datetime"
	TypeEnumeration = "enumeration"
	TypeNumber      = "number"
	TypePhoneNumber = "phone_number"
	TypeString      = "string"
)

// Clear, given to EncodeValue, clears a property: it encodes to "" (HubSpot's "no value").
// It is distinct from leaving the property out of an update, which keeps the current value.
var Clear = clearValue{}

type clearValue struct{}

func (clearValue) String() string { return "<clear>" }

// ErrInvalidValue matches (errors.Is) every codec error.
var ErrInvalidValue = errors.New("hubspot: invalid value")

// dateLayout and dateTimeLayout are the formats the client writes.
const (
	dateLayout       = "2006-01-02"
	dateTimeLayout   = "2006-01-02T15:04:05Z"
	dateTimeMsLayout = "2006-01-02T15:04:05.000Z"
	// maxExponent bounds number exponents accepted from strings ("1e400"), so a hostile value
	// cannot make the codec build a huge integer.
	maxExponent = 400
)

func invalid(propType string, v any, why string) error {
	return fmt.Errorf("%w: %s value %T: %s", ErrInvalidValue, propType, v, why)
}

// EncodeValue converts a Go value to the string HubSpot expects for a property of propType.
//
//   - Clear gives "" for every type; nil is an error (say Clear to clear).
//   - number: any integer or float type, json.Number or a numeric string; written as a plain
//     decimal (no exponent: 1e21 → "1000000000000000000000"); floats are rounded to 15
//     significant digits, so 0.1+0.2 → "0.3". 0 stays "0". NaN and ±Inf are errors.
//   - bool: bool, or "true"/"false" in any case. false stays "false".
//   - date: time.Time (its calendar date in its own location, never shifted through UTC),
//     an ISO date or date-time string, or epoch milliseconds (the UTC date) → "2024-01-15".
//   - datetime: time.Time, ISO string or epoch milliseconds → UTC "2024-01-15T10:30:00Z"
//     (with milliseconds when non-zero).
//   - enumeration: a string (the option's internal value) or []string for multi-select,
//     joined with ";".
//   - string, phone_number and unknown types: strings as given (phone numbers are never
//     treated as numbers); numbers and bools are formatted as above.
func EncodeValue(propType string, v any) (string, error) {
	if v == nil {
		return "", invalid(propType, v, "nil (use hubspot.Clear to clear a value)")
	}
	if _, ok := v.(clearValue); ok {
		return "", nil
	}
	if p, ok := v.(*clearValue); ok && p != nil {
		return "", nil
	}
	switch propType {
	case TypeNumber:
		return encodeNumber(v)
	case TypeBool:
		switch b := v.(type) {
		case bool:
			return strconv.FormatBool(b), nil
		case string:
			switch strings.ToLower(strings.TrimSpace(b)) {
			case "true":
				return "true", nil
			case "false":
				return "false", nil
			}
		}
		return "", invalid(propType, v, "not a bool")
	case TypeDate:
		t, err := toTime(propType, v, true)
		if err != nil {
			return "", err
		}
		return t.Format(dateLayout), nil
	case TypeDateTime:
		t, err := toTime(propType, v, false)
		if err != nil {
			return "", err
		}
		return formatDateTime(t), nil
	case TypeEnumeration:
		switch e := v.(type) {
		case string:
			return e, nil
		case []string:
			for _, x := range e {
				if x == "" || strings.Contains(x, ";") {
					return "", invalid(propType, v, "an option is empty or contains ';'")
				}
			}
			return strings.Join(e, ";"), nil
		}
		return "", invalid(propType, v, "not a string or []string")
	default: // string, phone_number, and types the codec does not know
		switch x := v.(type) {
		case string:
			if propType == TypePhoneNumber {
				return strings.TrimSpace(x), nil
			}
			return x, nil
		case bool:
			return strconv.FormatBool(x), nil
		case time.Time:
			return formatDateTime(x), nil
		case fmt.Stringer:
			return x.String(), nil
		}
		if s, err := encodeNumber(v); err == nil {
			return s, nil
		}
		return "", invalid(propType, v, "not a string")
	}
}

var numberRE = regexp.MustCompile(`^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$`)

func encodeNumber(v any) (string, error) {
	switch n := v.(type) {
	case int:
		return strconv.FormatInt(int64(n), 10), nil
	case int8:
		return strconv.FormatInt(int64(n), 10), nil
	case int16:
		return strconv.FormatInt(int64(n), 10), nil
	case int32:
		return strconv.FormatInt(int64(n), 10), nil
	case int64:
		return strconv.FormatInt(n, 10), nil
	case uint:
		return strconv.FormatUint(uint64(n), 10), nil
	case uint8:
		return strconv.FormatUint(uint64(n), 10), nil
	case uint16:
		return strconv.FormatUint(uint64(n), 10), nil
	case uint32:
		return strconv.FormatUint(uint64(n), 10), nil
	case uint64:
		return strconv.FormatUint(n, 10), nil
	case uintptr:
		return strconv.FormatUint(uint64(n), 10), nil
	case float64:
		return formatFloat(n, 64)
	case float32:
		return formatFloat(float64(n), 32)
	case json.Number:
		return normalizeDecimal(string(n))
	case string:
		return normalizeDecimal(n)
	}
	return "", invalid(TypeNumber, v, "not a number")
}

// formatFloat writes f as a plain decimal: the shortest form that reads back as f, rounded to
// 15 significant digits when that form needs more (binary noise such as 0.30000000000000004).
func formatFloat(f float64, bits int) (string, error) {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return "", invalid(TypeNumber, f, "NaN or infinite")
	}
	if f == 0 {
		return "0", nil
	}
	s := strconv.FormatFloat(f, 'e', -1, bits)
	if mant, _, _ := strings.Cut(s, "e"); len(strings.TrimLeft(strings.Replace(mant, ".", "", 1), "-")) > 15 {
		s = strconv.FormatFloat(f, 'e', 14, bits)
	}
	return sciToPlain(s), nil
}

// sciToPlain turns strconv's "d.ddde±x" into a plain decimal with no trailing zeros.
func sciToPlain(s string) string {
	mant, expStr, _ := strings.Cut(s, "e")
	exp, _ := strconv.Atoi(expStr)
	neg := strings.HasPrefix(mant, "-")
	mant = strings.TrimPrefix(mant, "-")
	intPart, frac, _ := strings.Cut(mant, ".")
	digits := strings.TrimRight(intPart+frac, "0")
	if digits == "" {
		return "0"
	}
	point := len(intPart) + exp // digits before the decimal point
	var out string
	switch {
	case point <= 0:
		out = "0." + strings.Repeat("0", -point) + digits
	case point >= len(digits):
		out = digits + strings.Repeat("0", point-len(digits))
	default:
		out = digits[:point] + "." + digits[point:]
	}
	if neg {
		out = "-" + out
	}
	return out
}

// normalizeDecimal validates a numeric string and writes it as a plain decimal, exactly.
func normalizeDecimal(s string) (string, error) {
	s = strings.TrimSpace(s)
	if !numberRE.MatchString(s) {
		return "", invalid(TypeNumber, s, "not a decimal number")
	}
	if _, e, ok := strings.Cut(strings.ToLower(s), "e"); ok {
		if n, err := strconv.Atoi(e); err != nil || n > maxExponent || n < -maxExponent {
			return "", invalid(TypeNumber, s, "exponent out of range")
		}
	}
	r, ok := new(big.Rat).SetString(s)
	if !ok {
		return "", invalid(TypeNumber, s, "not a decimal number")
	}
	if r.IsInt() {
		return r.Num().String(), nil
	}
	// A decimal's denominator is 2^a·5^b; max(a,b) fractional digits represent it exactly.
	d := new(big.Int).Set(r.Denom())
	two, five, zero := big.NewInt(2), big.NewInt(5), new(big.Int)
	a, b := 0, 0
	m := new(big.Int)
	for m.Mod(d, two).Cmp(zero) == 0 {
		d.Quo(d, two)
		a++
	}
	for m.Mod(d, five).Cmp(zero) == 0 {
		d.Quo(d, five)
		b++
	}
	out := strings.TrimRight(r.FloatString(max(a, b)), "0")
	return strings.TrimSuffix(out, "."), nil
}

func formatDateTime(t time.Time) string {
	t = t.UTC()
	if t.Nanosecond()/int(time.Millisecond) != 0 {
		return t.Format(dateTimeMsLayout)
	}
	return t.Format(dateTimeLayout)
}

// toTime reads a time for a date or datetime property. For dates it keeps the calendar date
// the value names: a time.Time's date in its own location, a string's literal date, epoch
// milliseconds' UTC date.
func toTime(propType string, v any, date bool) (time.Time, error) {
	var t time.Time
	switch x := v.(type) {
	case time.Time:
		t = x
	case *time.Time:
		if x == nil {
			return t, invalid(propType, v, "nil time")
		}
		t = *x
	case string:
		var err error
		if date {
			t, err = parseDate(x)
		} else {
			t, err = parseTime(x)
		}
		if err != nil {
			return t, invalid(propType, v, err.Error())
		}
	case int64:
		t = time.UnixMilli(x).UTC()
	case int:
		t = time.UnixMilli(int64(x)).UTC()
	case json.Number:
		n, err := x.Int64()
		if err != nil {
			return t, invalid(propType, v, "not epoch milliseconds")
		}
		t = time.UnixMilli(n).UTC()
	default:
		return t, invalid(propType, v, "not a time")
	}
	if t.IsZero() {
		return t, invalid(propType, v, "zero time (use hubspot.Clear to clear a value)")
	}
	return t, nil
}

// DecodeValue converts a HubSpot property string to a Go value.
//
//   - "" is "no value" for every type and gives (nil, nil): never 0, false or a zero time.
//   - number → int64 when integral and in range, else float64.
//   - bool → bool. date → time.Time at midnight UTC of the stored date (ISO or epoch ms),
//     independent of time.Local. datetime → time.Time in UTC (ISO or epoch ms).
//   - enumeration → []string (single-select gives one element; multi-select splits on ";").
//   - string, phone_number and unknown types → the string unchanged ("+44 20 ..." stays text).
func DecodeValue(propType, s string) (any, error) {
	if s == "" {
		return nil, nil
	}
	switch propType {
	case TypeNumber:
		t := strings.TrimSpace(s)
		if !numberRE.MatchString(t) {
			return nil, invalid(propType, s, "not a decimal number")
		}
		if n, err := strconv.ParseInt(strings.TrimPrefix(t, "+"), 10, 64); err == nil {
			return n, nil
		}
		f, err := strconv.ParseFloat(t, 64)
		if err != nil || math.IsInf(f, 0) {
			return nil, invalid(propType, s, "out of range")
		}
		return f, nil
	case TypeBool:
		b, err := parseBool(propType, s)
		if err != nil {
			return nil, err
		}
		return b, nil
	case TypeDate:
		t, err := parseDate(s)
		if err != nil {
			return nil, invalid(propType, s, err.Error())
		}
		return t, nil
	case TypeDateTime:
		t, err := parseTime(s)
		if err != nil {
			return nil, invalid(propType, s, err.Error())
		}
		return t, nil
	case TypeEnumeration:
		return splitMulti(s), nil
	default:
		return s, nil
	}
}

var epochMsRE = regexp.MustCompile(`^-?\d+$`)

// parseTime reads an ISO 8601 date-time (zone optional, UTC assumed), an ISO date, or epoch
// milliseconds, and returns it in UTC.
func parseTime(s string) (time.Time, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return time.Time{}, errors.New("empty")
	}
	if epochMsRE.MatchString(s) {
		ms, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return time.Time{}, errors.New("epoch milliseconds out of range")
		}
		return time.UnixMilli(ms).UTC(), nil
	}
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05.999999999", "2006-01-02T15:04Z07:00", dateLayout} {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UTC(), nil
		}
	}
	return time.Time{}, fmt.Errorf("%q is not an ISO 8601 time or epoch milliseconds", s)
}

// parseDate reads a date: "2024-01-15", an ISO date-time (its literal date), or epoch
// milliseconds (the UTC date). The result is midnight UTC, whatever time.Local is.
func parseDate(s string) (time.Time, error) {
	s = strings.TrimSpace(s)
	var y int
	var m time.Month
	var d int
	switch {
	case epochMsRE.MatchString(s):
		t, err := parseTime(s)
		if err != nil {
			return t, err
		}
		y, m, d = t.Date()
	default:
		t, err := time.Parse(dateLayout, s)
		if err != nil {
			for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05.999999999"} {
				if t, err = time.Parse(layout, s); err == nil {
					break
				}
			}
		}
		if err != nil {
			return time.Time{}, fmt.Errorf("%q is not an ISO date or epoch milliseconds", s)
		}
		y, m, d = t.Date()
	}
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC), nil
}
