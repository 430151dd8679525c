package hubspot

import (
	"encoding/json"
	"errors"
	"math"
	"reflect"
	"testing"
	"time"
)

type stringer struct{}

func (stringer) String() string { return "stringer" }

func TestEncodeValueGolden(t *testing.T) {
	tokyo, _ := time.LoadLocation("Asia/Tokyo")
	tests := []struct {
		typ  string
		in   any
		want string
	}{
		{TypeNumber, 0, "0"},
		{TypeNumber, int64(-42), "-42"},
		{TypeNumber, uint64(math.MaxUint64), "18446744073709551615"},
		{TypeNumber, 1.5, "1.5"},
		{TypeNumber, 0.1 + 0.2, "0.3"},
		{TypeNumber, 1e21, "1000000000000000000000"},
		{TypeNumber, 1.25e-7, "0.000000125"},
		{TypeNumber, -0.0, "0"},
		{TypeNumber, float32(0.1), "0.1"},
		{TypeNumber, 1.0 / 3, "0.333333333333333"},
		{TypeNumber, json.Number("1e3"), "1000"},
		{TypeNumber, "  +12.50 ", "12.5"},
		{TypeNumber, "1.5E-3", "0.0015"},
		{TypeNumber, "123456789012345678901234567890", "123456789012345678901234567890"},
		{TypeBool, false, "false"},
		{TypeBool, true, "true"},
		{TypeBool, "TRUE", "true"},
		{TypeDate, time.Date(2024, 1, 15, 0, 0, 0, 0, time.UTC), "2024-01-15"},
		{TypeDate, time.Date(2024, 1, 15, 0, 0, 0, 0, tokyo), "2024-01-15"}, // not shifted through UTC
		{TypeDate, int64(1705276800000), "2024-01-15"},
		{TypeDate, "1705276800000", "2024-01-15"},
		{TypeDate, "2024-01-15T00:00:00.000Z", "2024-01-15"},
		{TypeDateTime, time.Date(2024, 1, 15, 19, 30, 0, 0, tokyo), "2024-01-15T10:30:00Z"},
		{TypeDateTime, time.Date(2024, 1, 15, 10, 30, 0, 123e6, time.UTC), "2024-01-15T10:30:00.123Z"},
		{TypeDateTime, int64(1705314600000), "2024-01-15T10:30:00Z"},
		{TypeDateTime, "2024-01-15T11:30:00+01:00", "2024-01-15T10:30:00Z"},
		{TypeEnumeration, "gold", "gold"},
		{TypeEnumeration, []string{"a", "b"}, "a;b"},
		{TypeString, "hello", "hello"},
		{TypeString, 0, "0"},
		{TypeString, false, "false"},
		{TypeString, stringer{}, "stringer"},
		{TypePhoneNumber, " +44 20 7946 0958 ", "+44 20 7946 0958"},
		{TypeNumber, Clear, ""},
		{TypeDate, Clear, ""},
		{TypeString, Clear, ""},
		{"object_coordinates", "x", "x"},
	}
	for _, tc := range tests {
		got, err := EncodeValue(tc.typ, tc.in)
		if err != nil || got != tc.want {
			t.Errorf("EncodeValue(%s, %#v) = %q, %v; want %q", tc.typ, tc.in, got, err, tc.want)
		}
	}
}

func TestEncodeValueRejects(t *testing.T) {
	tests := []struct {
		typ string
		in  any
	}{
		{TypeNumber, nil},
		{TypeNumber, math.NaN()},
		{TypeNumber, math.Inf(1)},
		{TypeNumber, "12abc"},
		{TypeNumber, "1,234"},
		{TypeNumber, "0x10"},
		{TypeNumber, "1/3"},
		{TypeNumber, "1e999999"},
		{TypeNumber, ""},
		{TypeNumber, true},
		{TypeBool, "yes please"},
		{TypeBool, 1},
		{TypeDate, time.Time{}},
		{TypeDate, "15/01/2024"},
		{TypeDateTime, "yesterday"},
		{TypeEnumeration, []string{"a;b"}},
		{TypeEnumeration, 3},
		{TypeString, []int{1}},
	}
	for _, tc := range tests {
		if got, err := EncodeValue(tc.typ, tc.in); !errors.Is(err, ErrInvalidValue) {
			t.Errorf("EncodeValue(%s, %#v) = %q, %v; want ErrInvalidValue", tc.typ, tc.in, got, err)
		}
	}
}

func TestDecodeValueGolden(t *testing.T) {
	jan15 := time.Date(2024, 1, 15, 0, 0, 0, 0, time.UTC)
	tests := []struct {
		typ  string
		in   string
		want any
	}{
		// Peers' bug: "" read as 0. It is "no value".
		{TypeNumber, "", nil},
		{TypeBool, "", nil},
		{TypeDate, "", nil},
		{TypeDateTime, "", nil},
		{TypeEnumeration, "", nil},
		{TypeString, "", nil},
		{TypeNumber, "0", int64(0)},
		{TypeNumber, "42", int64(42)},
		{TypeNumber, "-3.25", -3.25},
		{TypeNumber, "99999999999999999999", 1e20},
		{TypeBool, "false", false},
		{TypeBool, "True", true},
		{TypeDate, "2024-01-15", jan15},
		{TypeDate, "1705276800000", jan15},
		{TypeDate, "2024-01-15T00:00:00Z", jan15},
		{TypeDateTime, "2024-01-15T10:30:00Z", time.Date(2024, 1, 15, 10, 30, 0, 0, time.UTC)},
		{TypeDateTime, "2024-01-15T10:30:00.123Z", time.Date(2024, 1, 15, 10, 30, 0, 123e6, time.UTC)},
		{TypeDateTime, "1705314600000", time.Date(2024, 1, 15, 10, 30, 0, 0, time.UTC)},
		{TypeEnumeration, "a;b", []string{"a", "b"}},
		{TypeEnumeration, "gold", []string{"gold"}},
		// Peers' bug: a phone number read as a number.
		{TypePhoneNumber, "+44 20 7946 0958", "+44 20 7946 0958"},
		{TypePhoneNumber, "0044", "0044"},
		{TypeString, "007", "007"},
	}
	for _, tc := range tests {
		got, err := DecodeValue(tc.typ, tc.in)
		if err != nil || !reflect.DeepEqual(got, tc.want) {
			t.Errorf("DecodeValue(%s, %q) = %#v, %v; want %#v", tc.typ, tc.in, got, err, tc.want)
		}
	}
	for _, bad := range [][2]string{{TypeNumber, "abc"}, {TypeNumber, "+44 20"}, {TypeBool, "yes"}, {TypeDate, "tomorrow"}, {TypeDateTime, "2024-13-01T00:00:00Z"}} {
		if _, err := DecodeValue(bad[0], bad[1]); !errors.Is(err, ErrInvalidValue) {
			t.Errorf("DecodeValue(%s, %q): got %v, want ErrInvalidValue", bad[0], bad[1], err)
		}
	}
}

// TestDatesIgnoreLocalZone is the peers' bug: a midnight-UTC date read or written one day off
// on a machine whose zone is not UTC.
func TestDatesIgnoreLocalZone(t *testing.T) {
	saved := time.Local
	t.Cleanup(func() { time.Local = saved })
	for _, zone := range []string{"America/Los_Angeles", "Asia/Tokyo", "Pacific/Kiritimati", "Pacific/Pago_Pago"} {
		loc, err := time.LoadLocation(zone)
		if err != nil {
			t.Skipf("no tzdata for %s: %v", zone, err)
		}
		time.Local = loc
		for _, in := range []string{"2024-01-15", "1705276800000", "2024-01-15T00:00:00.000Z"} {
			v, err := DecodeValue(TypeDate, in)
			if err != nil {
				t.Fatal(err)
			}
			d := v.(time.Time)
			if y, m, dd := d.Date(); y != 2024 || m != 1 || dd != 15 || d.Location() != time.UTC {
				t.Errorf("%s: DecodeValue(date, %q) = %v, want 2024-01-15 UTC", zone, in, d)
			}
			if s, err := EncodeValue(TypeDate, v); err != nil || s != "2024-01-15" {
				t.Errorf("%s: round trip of %q = %q, %v", zone, in, s, err)
			}
		}
		// A local calendar date is written as that date.
		if s, _ := EncodeValue(TypeDate, time.Date(2024, 1, 15, 0, 0, 0, 0, time.Local)); s != "2024-01-15" {
			t.Errorf("%s: local midnight written as %q", zone, s)
		}
		if s, _ := EncodeValue(TypeDateTime, time.Date(2024, 1, 15, 0, 0, 0, 0, time.UTC).In(time.Local)); s != "2024-01-15T00:00:00Z" {
			t.Errorf("%s: datetime written as %q", zone, s)
		}
	}
}

func TestNumberRoundTrip(t *testing.T) {
	for _, f := range []float64{0, 1, -1, 0.5, 123.456, 1e-10, 9007199254740993, 1e21, 12345.678901} {
		s, err := EncodeValue(TypeNumber, f)
		if err != nil {
			t.Fatal(err)
		}
		v, err := DecodeValue(TypeNumber, s)
		if err != nil {
			t.Fatalf("decode %q: %v", s, err)
		}
		var got float64
		switch x := v.(type) {
		case int64:
			got = float64(x)
		case float64:
			got = x
		}
		if math.Abs(got-f) > math.Abs(f)*1e-14 {
			t.Errorf("%v -> %q -> %v", f, s, got)
		}
	}
}
