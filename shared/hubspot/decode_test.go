package hubspot

import (
	"encoding/json"
	"errors"
	"testing"
)

func TestJSONValue(t *testing.T) {
	for _, tt := range []struct {
		typ, in string
		want    any
	}{
		{TypeNumber, "", nil},
		{TypeNumber, "0", json.Number("0")},
		{TypeNumber, "42", json.Number("42")},
		{TypeNumber, "-1.50", json.Number("-1.5")},
		{TypeNumber, "12345678901234567890.25", json.Number("12345678901234567890.25")},
		{TypeBool, "false", false},
		{TypeBool, "true", true},
		{TypeBool, "", nil},
		{TypeDate, "2026-11-27", "2026-11-27"},
		{TypeDate, "1795737600000", "2026-11-27"},
		{TypeDate, "2026-11-27T00:00:00.000Z", "2026-11-27"},
		{TypeDate, "", nil},
		{TypeDateTime, "2026-11-27T10:00:00.000Z", "2026-11-27T10:00:00Z"},
		{TypeDateTime, "1795773600123", "2026-11-27T10:00:00.123Z"},
		{TypeDateTime, "2026-11-27T11:00:00+01:00", "2026-11-27T10:00:00Z"},
		{TypeEnumeration, "gold", "gold"},
		{TypeEnumeration, "a;b;c", "a;b;c"},
		{TypeEnumeration, "", nil},
		{TypeString, "0", "0"},
		{TypeString, "", nil},
		{TypePhoneNumber, "+44 20 7946 0000", "+44 20 7946 0000"},
		{"some_future_type", "x", "x"},
	} {
		got, err := JSONValue(tt.typ, tt.in)
		if err != nil || got != tt.want {
			t.Errorf("JSONValue(%s, %q) = %#v, %v; want %#v", tt.typ, tt.in, got, err, tt.want)
		}
	}
	for _, bad := range [][2]string{{TypeNumber, "abc"}, {TypeNumber, "1,5"}, {TypeBool, "yes"}, {TypeDate, "27/11/2026"}, {TypeDateTime, "soon"}} {
		if _, err := JSONValue(bad[0], bad[1]); !errors.Is(err, ErrInvalidValue) {
			t.Errorf("JSONValue(%s, %q): err %v, want ErrInvalidValue", bad[0], bad[1], err)
		}
	}
	// The JSON a value encodes to is what Userpilot receives.
	b, _ := json.Marshal(map[string]any{"n": decodeJSON(t, TypeNumber, "0"), "b": decodeJSON(t, TypeBool, "false")})
	if string(b) != `{"b":false,"n":0}` {
		t.Errorf("encoded %s", b)
	}
}

func decodeJSON(t *testing.T, typ, s string) any {
	t.Helper()
	v, err := JSONValue(typ, s)
	if err != nil {
		t.Fatal(err)
	}
	return v
}
