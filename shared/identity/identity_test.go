package identity

import (
	"slices"
	"testing"
)

func TestValidFor(t *testing.T) {
	l := Link{ID: "101", Object: "contacts", Match: "a@x.com"}
	tests := []struct {
		name          string
		link          Link
		match, object string
		want          bool
	}{
		{"same value and object", l, "a@x.com", "contacts", true},
		{"match value changed", l, "b@x.com", "contacts", false},
		{"another object", l, "a@x.com", "2-777", false},
		{"unlinked", Link{}, "", "", false},
		{"made before links recorded their value", Link{ID: "101", Object: "contacts"}, "", "contacts", false},
		{"no id", Link{Object: "contacts", Match: "a@x.com"}, "a@x.com", "contacts", false},
	}
	for _, tt := range tests {
		if got := tt.link.ValidFor(tt.match, tt.object); got != tt.want {
			t.Errorf("%s: ValidFor = %v, want %v", tt.name, got, tt.want)
		}
	}
}

func TestNormalizeSplitRedact(t *testing.T) {
	if got := Normalize("  Ann@Example.COM "); got != "ann@example.com" {
		t.Errorf("Normalize = %q", got)
	}
	if got := SplitMulti(" a@x.com;; b@x.com ;"); !slices.Equal(got, []string{"a@x.com", "b@x.com"}) {
		t.Errorf("SplitMulti = %q", got)
	}
	if SplitMulti("") != nil {
		t.Error("SplitMulti of empty is not nil")
	}
	if a, b := Redact("Ann@Example.com"), Redact(" ann@example.com"); a != b || len(a) != 12 {
		t.Errorf("Redact differs for one address: %q %q", a, b)
	}
	if Redact("a@x.com") == Redact("b@x.com") {
		t.Error("Redact collides")
	}
	if ValueHash("x") == AbsentHash || len(ValueHash("x")) != 16 || ValueHash("x") == ValueHash("X") {
		t.Error("ValueHash")
	}
}
