package hubspottest_test

import (
	"fmt"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/pilotsync/pilotsync/shared/hubspot/hubspottest"
)

func defineFlowCompleted(t *testing.T, s *hubspottest.Server, prefix string) string {
	t.Helper()
	r := call(t, s, "POST", prefix+"/event-definitions", map[string]any{
		"label": "Flow completed", "name": "userpilot_flow_completed", "primaryObject": "CONTACT", "includeDefaultProperties": false,
		"propertyDefinitions": []map[string]string{{"name": "flow_id", "label": "Flow id", "type": "string"}},
	})
	wantStatus(t, r, 201)
	var d struct {
		FullyQualifiedName string `json:"fullyQualifiedName"`
	}
	r.json(t, &d)
	return d.FullyQualifiedName
}

func TestEventDefinitions(t *testing.T) {
	for _, v := range versions {
		t.Run(v.name, func(t *testing.T) {
			s := hubspottest.NewTestServer(t, hubspottest.Options{PortalID: 42})
			fqn := defineFlowCompleted(t, s, v.events)
			if fqn != "pe42_userpilot_flow_completed" {
				t.Errorf("fullyQualifiedName: got %q", fqn)
			}
			wantStatus(t, call(t, s, "POST", v.events+"/event-definitions", map[string]any{"label": "x", "name": "userpilot_flow_completed",
				"includeDefaultProperties": false, "propertyDefinitions": []any{}}), 409)
			wantStatus(t, call(t, s, "GET", v.events+"/event-definitions/userpilot_flow_completed", nil), 200)
			wantStatus(t, call(t, s, "GET", v.events+"/event-definitions/nope", nil), 404)
			wantStatus(t, call(t, s, "POST", v.events+"/event-definitions/userpilot_flow_completed/property",
				map[string]any{"name": "step", "label": "Step", "type": "number"}), 201)
			r := call(t, s, "GET", v.events+"/event-definitions", nil)
			wantStatus(t, r, 200)
			var list struct {
				Results []struct {
					Name       string         `json:"name"`
					Labels     map[string]any `json:"labels"`
					Label      *string        `json:"label"`
					Properties []struct {
						Name string `json:"name"`
					} `json:"properties"`
				} `json:"results"`
			}
			r.json(t, &list)
			if len(list.Results) != 1 || len(list.Results[0].Properties) != 2 {
				t.Errorf("list: got %s", r.body)
			}
			// HubSpot answers labels {singular, plural}, and no label.
			if got := list.Results[0]; got.Labels["singular"] != "Flow completed" || got.Label != nil {
				t.Errorf("labels = %v, label = %v; want singular Flow completed and no label", got.Labels, got.Label)
			}
			if s.Count(hubspottest.EndpointEventDefinitions) != 6 {
				t.Errorf("count: got %d", s.Count(hubspottest.EndpointEventDefinitions))
			}
		})
	}
}

func TestEventDefinitionLimit(t *testing.T) {
	s := hubspottest.NewTestServer(t, hubspottest.Options{PerTenSeconds: -1})
	def := func(name string) map[string]any {
		return map[string]any{"label": "e", "name": name, "includeDefaultProperties": false, "propertyDefinitions": []any{}}
	}
	for i := range 500 {
		wantStatus(t, call(t, s, "POST", "/events/v3/event-definitions", def(fmt.Sprintf("e%d", i))), 201)
	}
	wantStatus(t, call(t, s, "POST", "/events/v3/event-definitions", def("e500")), 400)
}

// TestEventDefinitionRequiredFields: label, includeDefaultProperties and propertyDefinitions
// are required by HubSpot's ExternalBehavioralEventTypeDefinitionEgg.
func TestEventDefinitionRequiredFields(t *testing.T) {
	s := hubspottest.NewTestServer(t, hubspottest.Options{})
	for _, tc := range []struct {
		name string
		body map[string]any
		want int
	}{
		{"no propertyDefinitions", map[string]any{"label": "e", "name": "a", "includeDefaultProperties": false}, 400},
		{"no includeDefaultProperties", map[string]any{"label": "e", "name": "b", "propertyDefinitions": []any{}}, 400},
		{"no label", map[string]any{"name": "c", "includeDefaultProperties": false, "propertyDefinitions": []any{}}, 400},
		{"all required", map[string]any{"label": "e", "name": "d", "includeDefaultProperties": false, "propertyDefinitions": []any{}}, 201},
	} {
		t.Run(tc.name, func(t *testing.T) {
			wantStatus(t, call(t, s, "POST", "/events/2026-03/event-definitions", tc.body), tc.want)
		})
	}
}

func TestSendEvents(t *testing.T) {
	clk := newClock(t0)
	s := hubspottest.NewTestServer(t, hubspottest.Options{Clock: clk.Now})
	ids := s.SeedContacts(2, nil)
	fqn := defineFlowCompleted(t, s, "/events/v3")
	ev := func(uuid, objectID string) map[string]any {
		return map[string]any{"eventName": fqn, "objectId": objectID, "occurredAt": "2026-11-27T09:00:00Z", "uuid": uuid,
			"properties": map[string]string{"flow_id": "448"}}
	}
	for _, v := range versions {
		t.Run(v.name, func(t *testing.T) {
			r := call(t, s, "POST", v.events+"/send/batch", map[string]any{"inputs": []any{ev(v.name+"-1", ids[0]), ev(v.name+"-2", ids[1])}})
			wantStatus(t, r, 204)
			if len(r.body) != 0 {
				t.Errorf("204 with body %q", r.body)
			}
			wantStatus(t, call(t, s, "POST", v.events+"/send", ev(v.name+"-3", ids[0])), 204)
		})
	}
	before := len(s.Events())
	// A repeat uuid of the same event type is dropped and counted.
	wantStatus(t, call(t, s, "POST", "/events/2026-03/send/batch", map[string]any{"inputs": []any{ev("v3-1", ids[0]), ev("v3-1", ids[0])}}), 204)
	if got := len(s.Events()); got != before {
		t.Errorf("events after repeats: got %d, want %d", got, before)
	}
	if got := s.DroppedDuplicates(); got != 2 {
		t.Errorf("dropped: got %d, want 2", got)
	}
	// After a year the uuid may be used again.
	clk.Advance(366 * 24 * time.Hour)
	wantStatus(t, call(t, s, "POST", "/events/v3/send", ev("v3-1", ids[0])), 204)
	evs := s.Events()
	if len(evs) != before+1 || evs[0].UUID != "v3-1" || evs[0].ObjectID != ids[0] || evs[0].Properties["flow_id"] != "448" ||
		!evs[0].OccurredAt.Equal(time.Date(2026, 11, 27, 9, 0, 0, 0, time.UTC)) {
		t.Errorf("events: got %+v", evs)
	}

	long := strings.Repeat("x", 257)
	many := map[string]string{}
	for i := range 51 {
		many[fmt.Sprintf("hs_p%d", i)] = "v"
	}
	bad := []struct {
		name string
		in   map[string]any
	}{
		{"unknown event", map[string]any{"eventName": "pe1_nope", "objectId": ids[0], "properties": map[string]any{}}},
		{"short event name", map[string]any{"eventName": "userpilot_flow_completed", "objectId": ids[0], "properties": map[string]any{}}},
		{"unknown object", map[string]any{"eventName": fqn, "objectId": "999999", "properties": map[string]any{}}},
		{"value over 256", map[string]any{"eventName": fqn, "objectId": ids[0], "properties": map[string]string{"flow_id": long}}},
		{"over 50 properties", map[string]any{"eventName": fqn, "objectId": ids[0], "properties": many}},
		{"undefined property", map[string]any{"eventName": fqn, "objectId": ids[0], "properties": map[string]string{"other": "1"}}},
	}
	for _, tc := range bad {
		t.Run(tc.name, func(t *testing.T) {
			n := len(s.Events())
			// One bad occurrence rejects the whole batch.
			wantStatus(t, call(t, s, "POST", "/events/v3/send/batch", map[string]any{"inputs": []any{ev("fresh-"+tc.name, ids[0]), tc.in}}), 400)
			if len(s.Events()) != n {
				t.Errorf("a rejected batch stored events")
			}
		})
	}
	inputs := make([]any, 501)
	for i := range inputs {
		inputs[i] = ev(fmt.Sprint("big-", i), ids[0])
	}
	wantStatus(t, call(t, s, "POST", "/events/v3/send/batch", map[string]any{"inputs": inputs}), 400)
	wantStatus(t, call(t, s, "POST", "/events/v3/send/batch", map[string]any{"inputs": inputs[:500]}), 204)

	// An email instead of an objectId creates a contact, which the sandbox counts.
	wantStatus(t, call(t, s, "POST", "/events/v3/send", map[string]any{"eventName": fqn, "email": "new@example.com", "properties": map[string]any{}}), 204)
	if s.ContactsCreatedByEmail() != 1 {
		t.Errorf("contacts created by email: got %d", s.ContactsCreatedByEmail())
	}
}

// TestEventsSendPathIsTheSpecOne: /events/custom/... is in no HubSpot spec, so the
// sandbox has no such route.
func TestEventsSendPathIsTheSpecOne(t *testing.T) {
	s := hubspottest.NewTestServer(t, hubspottest.Options{})
	ids := s.SeedContacts(1, nil)
	fqn := defineFlowCompleted(t, s, "/events/2026-03")
	body := func(uuid string) map[string]any {
		return map[string]any{"inputs": []any{map[string]any{"eventName": fqn, "objectId": ids[0], "uuid": uuid, "properties": map[string]any{}}}}
	}
	wantStatus(t, call(t, s, "POST", "/events/2026-03/send/batch", body("a")), 204)
	wantStatus(t, call(t, s, "POST", "/events/custom/2026-03/send/batch", body("b")), 404)
	wantStatus(t, call(t, s, "POST", "/events/v3/send/batch", body("c")), 204)
}

// TestSendEventsRequiresProperties: properties is required by the send spec.
func TestSendEventsRequiresProperties(t *testing.T) {
	s := hubspottest.NewTestServer(t, hubspottest.Options{})
	ids := s.SeedContacts(1, nil)
	fqn := defineFlowCompleted(t, s, "/events/2026-03")
	wantStatus(t, call(t, s, "POST", "/events/2026-03/send/batch", map[string]any{"inputs": []any{map[string]any{"eventName": fqn, "objectId": ids[0], "uuid": "x"}}}), 400)
	if len(s.Events()) != 0 {
		t.Errorf("stored an occurrence without properties")
	}
}

// TestDuplicateUUIDVariants: a repeated uuid is silently dropped (default) or fails the
// whole batch with 400 (DuplicateReject400), keeping none of it.
func TestDuplicateUUIDVariants(t *testing.T) {
	for _, tc := range []struct {
		mode       string
		wantStatus int
		wantKept   int
	}{
		{hubspottest.DuplicateDrop, 204, 2},
		{hubspottest.DuplicateReject400, 400, 1},
	} {
		t.Run("mode="+tc.mode, func(t *testing.T) {
			s := hubspottest.NewTestServer(t, hubspottest.Options{DuplicateEventUUID: tc.mode})
			ids := s.SeedContacts(1, nil)
			fqn := defineFlowCompleted(t, s, "/events/2026-03")
			ev := func(uuid string) map[string]any {
				return map[string]any{"eventName": fqn, "objectId": ids[0], "uuid": uuid, "properties": map[string]any{}}
			}
			wantStatus(t, call(t, s, "POST", "/events/2026-03/send/batch", map[string]any{"inputs": []any{ev("a")}}), 204)
			wantStatus(t, call(t, s, "POST", "/events/2026-03/send/batch", map[string]any{"inputs": []any{ev("b"), ev("a")}}), tc.wantStatus)
			if got := len(s.Events()); got != tc.wantKept {
				t.Errorf("kept %d events, want %d", got, tc.wantKept)
			}
		})
	}
}

func TestCustomEventsForbidden(t *testing.T) {
	s := hubspottest.NewTestServer(t, hubspottest.Options{CustomEventsForbidden: true})
	wantStatus(t, call(t, s, "GET", "/events/v3/event-definitions", nil), 403)
	wantStatus(t, call(t, s, "POST", "/events/2026-03/send/batch", map[string]any{"inputs": []any{}}), 403)
}

func TestEmptyWriteFaultOnEvents(t *testing.T) {
	s := hubspottest.NewTestServer(t, hubspottest.Options{})
	ids := s.SeedContacts(1, nil)
	fqn := defineFlowCompleted(t, s, "/events/v3")
	s.FailNext(hubspottest.EndpointEventsSend, hubspottest.FaultEmpty2xx)
	wantStatus(t, call(t, s, "POST", "/events/v3/send", map[string]any{"eventName": fqn, "objectId": ids[0], "properties": map[string]any{}}), 204)
	if len(s.Events()) != 0 {
		t.Errorf("an empty-2xx fault stored an event")
	}
}

func oauthToken(t *testing.T, s *hubspottest.Server) string {
	t.Helper()
	r := callWith(t, s, "", "POST", "/oauth/v1/token", url.Values{"grant_type": {"refresh_token"},
		"client_id": {hubspottest.DefaultClientID}, "client_secret": {hubspottest.DefaultClientSecret}, "refresh_token": {hubspottest.DefaultRefreshToken}})
	wantStatus(t, r, 200)
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	r.json(t, &tok)
	return tok.AccessToken
}

func TestTimelineAndAppEvents(t *testing.T) {
	s := hubspottest.NewTestServer(t, hubspottest.Options{})
	ids := s.SeedContacts(2, nil)
	tok := oauthToken(t, s)
	ev := func(id string) map[string]any {
		return map[string]any{"eventTemplateId": "1001", "objectId": ids[0], "id": id, "timestamp": "2026-11-27T09:00:00Z", "tokens": map[string]string{"flow": "Onboarding"}}
	}
	// Static tokens cannot use them.
	wantStatus(t, call(t, s, "POST", "/integrators/timeline/v3/events", ev("a")), 403)

	wantStatus(t, callWith(t, s, tok, "POST", "/integrators/timeline/v3/events", ev("a")), 201)
	wantStatus(t, callWith(t, s, tok, "POST", "/integrators/timeline/v3/events/batch/create", map[string]any{"inputs": []any{ev("b"), ev("c")}}), 201)
	wantStatus(t, callWith(t, s, tok, "POST", "/integrators/timeline/v3/events", ev("a")), 409)
	if got := len(s.TimelineEvents()); got != 3 {
		t.Errorf("timeline events: got %d, want 3", got)
	}

	app := func(id string) map[string]any {
		return map[string]any{"eventTypeName": "ae_flow", "objectId": ids[0], "id": id, "timestamp": "2026-11-27T09:00:00Z", "properties": map[string]string{"flow": "Onboarding"}}
	}
	wantStatus(t, callWith(t, s, tok, "POST", "/integrators/timeline/2026-03/events/batch", map[string]any{"inputs": []any{app("a"), app("b")}}), 200)
	// One existing id rejects the whole batch with 409.
	wantStatus(t, callWith(t, s, tok, "POST", "/integrators/timeline/2026-03/events/batch", map[string]any{"inputs": []any{app("c"), app("b")}}), 409)
	wantStatus(t, callWith(t, s, tok, "POST", "/integrators/timeline/2026-03/events/batch", map[string]any{"inputs": []any{app("d"), app("d")}}), 409)
	apps := s.AppEvents()
	if len(apps) != 2 || apps[0].ID != "a" || apps[0].Tokens["flow"] != "Onboarding" || apps[0].ObjectID != ids[0] {
		t.Errorf("app events: got %+v", apps)
	}
	bad := app("e")
	bad["objectId"] = "999999"
	wantStatus(t, callWith(t, s, tok, "POST", "/integrators/timeline/2026-03/events", bad), 400)
	// App events name their type by eventTypeName: eventTypeId is refused with 400, and
	// properties is required; timeline events require tokens.
	withID := app("f")
	delete(withID, "eventTypeName")
	withID["eventTypeId"] = "ae_flow"
	wantStatus(t, callWith(t, s, tok, "POST", "/integrators/timeline/2026-03/events/batch", map[string]any{"inputs": []any{withID}}), 400)
	noProps := app("g")
	delete(noProps, "properties")
	wantStatus(t, callWith(t, s, tok, "POST", "/integrators/timeline/2026-03/events/batch", map[string]any{"inputs": []any{noProps}}), 400)
	noTokens := ev("h")
	delete(noTokens, "tokens")
	wantStatus(t, callWith(t, s, tok, "POST", "/integrators/timeline/v3/events/batch/create", map[string]any{"inputs": []any{noTokens}}), 400)
	if got := len(s.AppEvents()); got != 2 {
		t.Errorf("app events after refusals: got %d, want 2", got)
	}
	if s.Count(hubspottest.EndpointTimeline) != 5 || s.Count(hubspottest.EndpointAppEvents) != 6 {
		t.Errorf("counts: %v", s.Counts())
	}
}
