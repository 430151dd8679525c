package outbound

import (
	"strings"
	"testing"
	"time"

	"github.com/pilotsync/pilotsync/shared/hubspot"
	"github.com/pilotsync/pilotsync/shared/identity"
	"github.com/pilotsync/pilotsync/shared/store"
)

// planOne previews one mapping of userpilot property up (value v, set at
// t0) to a HubSpot property of type typ.
func planOne(t *testing.T, typ string, v any) PlannedValue {
	t.Helper()
	obj := Object{Kind: store.KindUser, HubSpotObject: "contacts", Mappings: []Mapping{{Userpilot: "up", HubSpot: "hs"}}}
	p := &store.Profile{ID: "a", Properties: map[string]store.Property{"up": {Value: v, At: time.Unix(100, 0)}}}
	got := PlanValues(obj, []hubspot.Property{{Name: "hs", Type: typ}}, p)
	if len(got) != 1 {
		t.Fatalf("PlanValues = %+v, want one value", got)
	}
	return got[0]
}

// TestPushEncodesNumbersAsDates: a Userpilot number written to a date or
// date-time property is epoch seconds below 1e11 and epoch milliseconds from
// 1e11 on (both occur in Userpilot data); a number that is not a whole
// number, or too large for a time, is refused as a type mismatch instead of
// being sent as some other date.
func TestPushEncodesNumbersAsDates(t *testing.T) {
	for _, tc := range []struct {
		typ  string
		v    any
		want string // "" for refused
	}{
		{hubspot.TypeDateTime, 1.7e9, "2023-11-14T22:13:20Z"},                  // seconds
		{hubspot.TypeDateTime, 1.7e12, "2023-11-14T22:13:20Z"},                 // milliseconds
		{hubspot.TypeDateTime, 1.7e12 + 5, "2023-11-14T22:13:20.005Z"},         // milliseconds kept
		{hubspot.TypeDateTime, 99_999_999_999.0, "5138-11-16T09:46:39Z"},       // the last seconds value
		{hubspot.TypeDateTime, 1e11, "1973-03-03T09:46:40Z"},                   // the first milliseconds value
		{hubspot.TypeDateTime, -86_400.0, "1969-12-31T00:00:00Z"},              // seconds before 1970
		{hubspot.TypeDateTime, -1e11, "1966-10-31T14:13:20Z"},                  // milliseconds before 1970
		{hubspot.TypeDate, 1.7e9, "2023-11-14"},                                // seconds to a date
		{hubspot.TypeDate, 1.7e12, "2023-11-14"},                               // milliseconds to a date
		{hubspot.TypeDate, "2026-11-01", "2026-11-01"},                         // a string is the codec's
		{hubspot.TypeDateTime, "2026-11-01T10:00:00Z", "2026-11-01T10:00:00Z"}, // (not a number: untouched)
		{hubspot.TypeDateTime, 1.7e12 + 0.5, ""},                               // not whole milliseconds
		{hubspot.TypeDateTime, 1.5, ""},                                        // not whole seconds
		{hubspot.TypeDateTime, 1e16, ""},                                       // too large for a time
		{hubspot.TypeDateTime, 9223372036854775807.0 / 1000, ""},               // the first too large
		{hubspot.TypeDateTime, true, ""},
		{hubspot.TypeNumber, 1.7e9, "1700000000"}, // numbers are not dates elsewhere
		{hubspot.TypeString, 1e11, "100000000000"},
	} {
		got := planOne(t, tc.typ, tc.v)
		switch {
		case tc.want == "" && (got.State != ValueRefused || !strings.HasPrefix(got.Problem, "TYPE_MISMATCH: ")):
			t.Errorf("%s %v: %+v, want refused as a type mismatch", tc.typ, tc.v, got)
		case tc.want != "" && (got.State != ValueSend || got.Encoded != tc.want):
			t.Errorf("%s %v: %+v, want %q sent", tc.typ, tc.v, got, tc.want)
		}
	}
}

// TestPushEncodesListsAndClears: a Userpilot list written to an
// enumeration is its options joined as HubSpot's multi-select; a removed
// Userpilot property (nil) clears the HubSpot value.
func TestPushEncodesListsAndClears(t *testing.T) {
	if got := planOne(t, hubspot.TypeEnumeration, []any{"a", "b", 3.0}); got.State != ValueSend || got.Encoded != "a;b;3" {
		t.Errorf("list: %+v, want a;b;3 sent", got)
	}
	if got := planOne(t, hubspot.TypeString, []any{"a", "b"}); got.State != ValueRefused {
		t.Errorf("list to a string: %+v, want refused (only enumerations take lists)", got)
	}
	for _, typ := range []string{hubspot.TypeEnumeration, hubspot.TypeString, hubspot.TypeDateTime, hubspot.TypeNumber} {
		if got := planOne(t, typ, nil); got.State != ValueSend || got.Encoded != "" {
			t.Errorf("%s cleared: %+v, want an empty value sent", typ, got)
		}
	}
}

// TestPlanValuesStates: the preview says, per mapping, what the push would
// do and why, with the same rules as the push.
func TestPlanValuesStates(t *testing.T) {
	t0 := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	obj := Object{Kind: store.KindUser, HubSpotObject: "contacts", Mappings: []Mapping{
		{Userpilot: "plan", HubSpot: "up_plan"},                 // send
		{Userpilot: "tier", HubSpot: "up_missing"},              // blocked: missing
		{Userpilot: "score", HubSpot: "up_score"},               // blocked: read-only
		{Userpilot: "calc", HubSpot: "up_calc"},                 // blocked: calculated
		{Userpilot: "never", HubSpot: "up_never"},               // not set
		{Userpilot: "seats", HubSpot: "up_seats"},               // refused: not a number
		{Userpilot: "stage", HubSpot: "up_stage"},               // refused: not an option
		{Userpilot: "stage_ok", HubSpot: "up_stage_ok"},         // send: every option exists
		{Userpilot: "stage_clear", HubSpot: "up_stage_clear"},   // send: a clear needs no option
		{Userpilot: "free_stage", HubSpot: "up_free_stage"},     // send: no options known
		{Userpilot: "same", HubSpot: "up_same"},                 // unchanged: sent already
		{Userpilot: "echo", HubSpot: "up_echo", EchoOf: true},   // unchanged: HubSpot's own value
		{Userpilot: "clear", HubSpot: "up_clear", EchoOf: true}, // send: a clear is never an echo
		{Userpilot: "old", HubSpot: "up_old"},                   // stale
		{Userpilot: "done", HubSpot: "up_done"},                 // already sent
	}}
	opts := []hubspot.PropertyOption{{Value: "trial"}, {Value: "paid"}}
	props := []hubspot.Property{
		{Name: "up_plan", Type: "string"},
		{Name: "up_score", Type: "number", ReadOnlyValue: true},
		{Name: "up_calc", Type: "number", Calculated: true},
		{Name: "up_never", Type: "string"},
		{Name: "up_seats", Type: "number"},
		{Name: "up_stage", Type: "enumeration", Options: opts},
		{Name: "up_stage_ok", Type: "enumeration", Options: opts},
		{Name: "up_stage_clear", Type: "enumeration", Options: opts},
		{Name: "up_free_stage", Type: "enumeration"},
		{Name: "up_same", Type: "string"},
		{Name: "up_echo", Type: "string"},
		{Name: "up_clear", Type: "string"},
		{Name: "up_old", Type: "string"},
		{Name: "up_done", Type: "string"},
	}
	at := func(v any) store.Property { return store.Property{Value: v, At: t0} }
	p := &store.Profile{ID: "a", Properties: map[string]store.Property{
		"plan": at("pro"), "tier": at("gold"), "score": at(3.0), "calc": at(4.0), "seats": at("lots"),
		"stage": at([]any{"trial", "churned", "gone"}), "stage_ok": at([]any{"paid", "trial"}), "stage_clear": at(nil), "free_stage": at("x"),
		"same": at("kept"), "echo": at("theirs"), "clear": at(nil), "old": at("older"), "done": at("sent"),
	},
		OutboundHashes: map[string]string{"up_same": identity.ValueHash("kept")},
		InboundHashes:  map[string]string{"echo": identity.ValueHash("theirs"), "clear": identity.ValueHash("")},
		OutboundAt:     map[string]time.Time{"up_old": t0.Add(time.Second), "up_done": t0},
	}
	type want struct{ state, encoded, problem string }
	wants := map[string]want{
		"up_plan":        {ValueSend, "pro", ""},
		"up_missing":     {ValueBlocked, "", `MISSING_PROPERTY: the contacts property "up_missing" does not exist`},
		"up_score":       {ValueBlocked, "", `READ_ONLY: the contacts property "up_score" is read-only`},
		"up_calc":        {ValueBlocked, "", `READ_ONLY: the contacts property "up_calc" is read-only`},
		"up_never":       {ValueNotSet, "", ""},
		"up_seats":       {ValueRefused, "", `TYPE_MISMATCH: "seats" cannot be written to number property up_seats`},
		"up_stage":       {ValueRefused, "trial;churned;gone", `INVALID_OPTION: ["churned" "gone"] is not an option of enumeration property up_stage`},
		"up_stage_ok":    {ValueSend, "paid;trial", ""},
		"up_stage_clear": {ValueSend, "", ""},
		"up_free_stage":  {ValueSend, "x", ""},
		"up_same":        {ValueUnchanged, "kept", ""},
		"up_echo":        {ValueUnchanged, "theirs", ""},
		"up_clear":       {ValueSend, "", ""},
		"up_old":         {ValueStale, "older", ""},
		"up_done":        {ValueSent, "sent", ""},
	}
	got := PlanValues(obj, props, p)
	if len(got) != len(obj.Mappings) {
		t.Fatalf("%d values, want one per mapping", len(got))
	}
	for i, v := range got {
		m := obj.Mappings[i]
		w := wants[m.HubSpot]
		if v.Userpilot != m.Userpilot || v.HubSpot != m.HubSpot || v.State != w.state || v.Encoded != w.encoded || !strings.HasPrefix(v.Problem, w.problem) || (w.problem == "") != (v.Problem == "") {
			t.Errorf("%s: %+v, want state %s encoded %q problem %q", m.HubSpot, v, w.state, w.encoded, w.problem)
		}
		if want := p.Properties[m.Userpilot].Value; m.Userpilot != "never" && m.Userpilot != "stage" && m.Userpilot != "stage_ok" && v.Value != want {
			t.Errorf("%s: value %v, want the stored %v", m.HubSpot, v.Value, want)
		}
	}
	if got[0].Type != "string" || got[1].Type != "" || got[2].Type != "number" {
		t.Errorf("types %q %q %q, want the HubSpot property's type (none when missing)", got[0].Type, got[1].Type, got[2].Type)
	}
}
