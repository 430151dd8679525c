package hubspot

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"
)

// TestEncodeValueEveryInputForm: each documented input form of EncodeValue gives the exact
// string HubSpot is sent, including the forms no other test writes (a *Clear, a "false"
// string, a pointer to a time, epoch milliseconds as int or json.Number, a time for a text
// property, a datetime with sub-millisecond noise).
func TestEncodeValueEveryInputForm(t *testing.T) {
	jan15 := time.Date(2024, 1, 15, 10, 30, 0, 0, time.UTC)
	tests := []struct {
		typ  string
		in   any
		want string
	}{
		{TypeNumber, &Clear, ""},
		{TypeString, &Clear, ""},
		{TypeBool, " false ", "false"},
		{TypeBool, "False", "false"},
		{TypeDate, &jan15, "2024-01-15"},
		{TypeDateTime, &jan15, "2024-01-15T10:30:00Z"},
		{TypeDate, 1705276800000, "2024-01-15"},
		{TypeDateTime, 1705314600000, "2024-01-15T10:30:00Z"},
		{TypeDate, json.Number("1705276800000"), "2024-01-15"},
		{TypeDateTime, json.Number("1705314600123"), "2024-01-15T10:30:00.123Z"},
		{TypeDateTime, "2024-01-15T10:30:00", "2024-01-15T10:30:00Z"}, // no zone: UTC
		{TypeDateTime, "2024-01-15T11:30+01:00", "2024-01-15T10:30:00Z"},
		{TypeDateTime, "2024-01-15", "2024-01-15T00:00:00Z"},
		{TypeDate, "2024-01-15T23:30:00", "2024-01-15"},
		// Nanoseconds below a millisecond are not a millisecond: no ".000".
		{TypeDateTime, jan15.Add(500 * time.Microsecond), "2024-01-15T10:30:00Z"},
		{TypeDateTime, jan15.Add(999_999 * time.Nanosecond), "2024-01-15T10:30:00Z"},
		{TypeDateTime, jan15.Add(time.Millisecond), "2024-01-15T10:30:00.001Z"},
		{TypeString, jan15, "2024-01-15T10:30:00Z"},
		{TypeString, true, "true"},
		{TypeString, 2.5, "2.5"},
		{TypeString, "  kept as given  ", "  kept as given  "},
		{TypePhoneNumber, 4420, "4420"},
	}
	for _, tc := range tests {
		got, err := EncodeValue(tc.typ, tc.in)
		if err != nil || got != tc.want {
			t.Errorf("EncodeValue(%s, %#v) = %q, %v; want %q", tc.typ, tc.in, got, err, tc.want)
		}
	}
}

// TestEncodeValueRejectsBadTimes: a nil *Clear or *time.Time, a fractional or
// non-numeric json.Number, epoch milliseconds that do not fit, a type that is no time, and
// the zero time (which would write year 1) are all refused with ErrInvalidValue, never
// written.
func TestEncodeValueRejectsBadTimes(t *testing.T) {
	var nilTime *time.Time
	var nilClear *clearValue
	tests := []struct {
		typ string
		in  any
	}{
		{TypeNumber, nilClear},
		{TypeDate, nilTime},
		{TypeDateTime, nilTime},
		{TypeDate, json.Number("1.5")},
		{TypeDateTime, json.Number("soon")},
		{TypeDate, "99999999999999999999"},
		{TypeDateTime, "99999999999999999999"},
		{TypeDateTime, "   "},
		{TypeDate, 1.5},
		{TypeDateTime, true},
		{TypeDateTime, time.Time{}},
		{TypeDate, &time.Time{}},
		{TypeDateTime, "2024-01-15T10:30:00+0100"},
	}
	for _, tc := range tests {
		if got, err := EncodeValue(tc.typ, tc.in); !errors.Is(err, ErrInvalidValue) {
			t.Errorf("EncodeValue(%s, %#v) = %q, %v; want ErrInvalidValue", tc.typ, tc.in, got, err)
		}
	}
}

// TestEncodeNumberExponentBounds: a numeric string's exponent is accepted up to ±400 (the
// value is written out in full) and refused beyond, so a hostile "1e999999" cannot make the
// codec build a huge number.
func TestEncodeNumberExponentBounds(t *testing.T) {
	accepted := map[string]string{
		"1e400":   "1" + strings.Repeat("0", 400),
		"1E+400":  "1" + strings.Repeat("0", 400),
		"1e-400":  "0." + strings.Repeat("0", 399) + "1",
		"-2.5e-3": "-0.0025",
		"0.125":   "0.125",
		"4e-1":    "0.4",
	}
	for in, want := range accepted {
		if got, err := EncodeValue(TypeNumber, in); err != nil || got != want {
			t.Errorf("EncodeValue(number, %q) = %.40q, %v; want %.40q", in, got, err, want)
		}
	}
	for _, in := range []string{"1e401", "1e-401", "1e+401", "1e99999999999999999999"} {
		if got, err := EncodeValue(TypeNumber, in); !errors.Is(err, ErrInvalidValue) {
			t.Errorf("EncodeValue(number, %q) = %.40q, %v; want ErrInvalidValue", in, got, err)
		}
	}
}

// TestDecodeValueEdges: what HubSpot hands back at the edges of each type reads as
// documented: a number too large for a float is an error (never +Inf), an integer too large
// for int64 is a float, epoch milliseconds that do not fit are an error for dates and
// datetimes, and a date-time with no zone is UTC.
func TestDecodeValueEdges(t *testing.T) {
	tests := []struct {
		typ, in string
		want    any
	}{
		{TypeNumber, " 7 ", int64(7)},
		{TypeNumber, "+7", int64(7)},
		{TypeNumber, "1e-999", 0.0},
		{TypeNumber, "9223372036854775808", 9223372036854775808.0},
		{TypeDateTime, "2024-01-15T10:30:00", time.Date(2024, 1, 15, 10, 30, 0, 0, time.UTC)},
		{TypeDateTime, "2024-01-15", time.Date(2024, 1, 15, 0, 0, 0, 0, time.UTC)},
		{TypeDate, "2024-01-15T23:59:59", time.Date(2024, 1, 15, 0, 0, 0, 0, time.UTC)},
		{TypeDate, "-86400000", time.Date(1969, 12, 31, 0, 0, 0, 0, time.UTC)},
	}
	for _, tc := range tests {
		got, err := DecodeValue(tc.typ, tc.in)
		if err != nil || got != tc.want {
			t.Errorf("DecodeValue(%s, %q) = %#v, %v; want %#v", tc.typ, tc.in, got, err, tc.want)
		}
	}
	for _, bad := range [][2]string{
		{TypeNumber, "1e999"}, {TypeNumber, "-1e999"},
		{TypeDate, "99999999999999999999"}, {TypeDateTime, "99999999999999999999"},
		{TypeDateTime, "  "}, {TypeDate, "2024-01-15 10:30"},
	} {
		if got, err := DecodeValue(bad[0], bad[1]); !errors.Is(err, ErrInvalidValue) {
			t.Errorf("DecodeValue(%s, %q) = %#v, %v; want ErrInvalidValue", bad[0], bad[1], got, err)
		}
	}
}
