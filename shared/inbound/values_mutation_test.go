package inbound

import (
	"encoding/json"
	"errors"
	"log/slog"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/pilotsync/pilotsync/shared/config"
	"github.com/pilotsync/pilotsync/shared/store"
)

// TestPropertyTypesReadOncePerRun: a run reads the property types once
// however many pages it writes, and the next run reads them again (a type
// changed in HubSpot is seen by the next run).
func TestPropertyTypesReadOncePerRun(t *testing.T) {
	e, hs := newRichEnv(t)
	hs.types = map[string]string{"firstname": "string", "lifecyclestage": "enumeration"}
	e.seed(7) // 3 pages, each with a user to write
	rep := e.run(t, ModeFull)
	if rep.Totals.Pages != 3 || rep.Totals.Written != 4 || hs.typeCalls != 1 || rep.APICalls["hubspot.properties"] != 1 {
		t.Errorf("%+v, %d type reads (%d in the report); want 3 pages written after one", rep.Totals, hs.typeCalls, rep.APICalls["hubspot.properties"])
	}
	e.hs.put("contacts", "1001", now0.Add(time.Minute), map[string]string{"email": "c0@example.com", "firstname": "Changed"})
	e.clock.advance(5 * time.Minute)
	if rep := e.run(t, ModeIncremental); rep.Totals.Written != 1 || hs.typeCalls != 2 {
		t.Errorf("next run %+v after %d type reads, want one written after a second read", rep.Totals, hs.typeCalls)
	}
}

// TestPropertyTypesUnreadableFailThePage: when the types cannot be read the
// page is not written (untyped values would be marked sent) and the
// checkpoint stays; the next run writes it typed.
func TestPropertyTypesUnreadableFailThePage(t *testing.T) {
	e, hs := newRichEnv(t)
	hs.types = map[string]string{"firstname": "string"}
	hs.typesErr = errors.New("properties: 502")
	e.seed(2)
	rep := e.run(t, ModeFull)
	o := rep.Objects[0]
	if rep.Status != StatusFailed || !errors.Is(o.Err, hs.typesErr) || !strings.Contains(o.Error, "read contacts property types") || o.Pages != 0 {
		t.Errorf("report %s %q pages %d, want failed reading the types, no checkpoint", rep.Status, o.Error, o.Pages)
	}
	if len(e.up.written()) != 0 {
		t.Errorf("written %v, want nothing", e.up.written())
	}
	hs.typesErr = nil
	if rep := e.run(t, ModeIncremental); !rep.Complete || len(e.up.written()["u0"]) != 1 {
		t.Errorf("next run %s, wrote %v; want u0 written", rep.Status, e.up.written())
	}
}

// valuesObject maps HubSpot properties of several types.
func valuesObject() Object {
	o := usersObject()
	o.Inbound = []config.PropertyMapping{
		{HubSpot: "firstname", Userpilot: "first_name"}, {HubSpot: "lifecyclestage", Userpilot: "hs_stage"},
		{HubSpot: "score", Userpilot: "score"}, {HubSpot: "vip", Userpilot: "vip"},
	}
	return o
}

var valuesTypes = map[string]string{"firstname": "string", "lifecyclestage": "number", "score": "number", "vip": "bool"}

// TestValueNotOfItsTypeIsSentAsText: a value that does not read as its
// HubSpot type is written as the text it is, with a warning naming the
// property and its type; the others are typed.
func TestValueNotOfItsTypeIsSentAsText(t *testing.T) {
	e, hs := newRichEnv(t, valuesObject())
	logs := e.logTo()
	hs.types = valuesTypes
	e.hs.put("contacts", "1001", now0.Add(-time.Hour), map[string]string{"email": "a@example.com", "firstname": "Ann", "lifecyclestage": "lead", "score": "42", "vip": "maybe"})
	e.st.add(&store.Profile{Kind: store.KindUser, ID: "u1", MatchValue: "a@example.com"})
	if rep := e.run(t, ModeFull); !rep.Complete {
		t.Fatalf("report %+v", rep)
	}
	w := e.up.written()["u1"]
	if len(w) != 1 || w[0]["first_name"] != "Ann" || w[0]["hs_stage"] != "lead" || w[0]["score"] != json.Number("42") || w[0]["vip"] != "maybe" || w[0][KeyUserID] != "1001" {
		t.Errorf("written %v, want score typed, hs_stage and vip as text, the link key as text", w)
	}
	var warned []string
	for _, l := range logs.Containing("does not read as its hubspot type") {
		if l.Level == slog.LevelWarn && l.Attrs["object"] == "users" {
			warned = append(warned, l.Attrs["property"]+":"+l.Attrs["type"])
		}
	}
	slices.Sort(warned)
	if want := []string{"lifecyclestage:number", "vip:bool"}; !slices.Equal(warned, want) {
		t.Errorf("warnings %v, want %v", warned, want)
	}
}

// TestTypeMeta: the pure typing the run and the preview share types each
// mapped value by its HubSpot property's type, reports every property whose
// value does not read as its type, and leaves clears and the link keys.
func TestTypeMeta(t *testing.T) {
	meta := map[string]any{"first_name": "Ann", "hs_stage": "lead", "score": "42", "vip": "maybe", "gone": nil,
		KeyUserID: "1001", KeyObjectType: "contacts"}
	o := valuesObject()
	o.Inbound = append(o.Inbound, config.PropertyMapping{HubSpot: "gone", Userpilot: "gone"})
	untyped := TypeMeta(o, valuesTypes, meta)
	slices.Sort(untyped)
	if want := []string{"lifecyclestage", "vip"}; !slices.Equal(untyped, want) {
		t.Errorf("untyped %v, want %v", untyped, want)
	}
	want := map[string]any{"first_name": "Ann", "hs_stage": "lead", "score": json.Number("42"), "vip": "maybe", "gone": nil,
		KeyUserID: "1001", KeyObjectType: "contacts"}
	if describe(meta) != describe(want) || meta["score"] != json.Number("42") {
		t.Errorf("typed\n got %s\nwant %s", describe(meta), describe(want))
	}
}
