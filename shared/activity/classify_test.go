package activity

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/pilotsync/pilotsync/shared/config"
)

func ev(typ, name string, meta string) *Event {
	e := &Event{Type: typ, Name: name, UserID: "u1", InternalEventID: "e1", InsertedAt: time.Date(2026, 11, 27, 10, 0, 0, 0, time.UTC)}
	if meta != "" {
		e.Metadata = json.RawMessage(meta)
	}
	return e
}

func TestClassifyDefaults(t *testing.T) {
	c, err := NewClassifier(config.Activity{Pages: []config.PageRule{
		{Name: "settings", Host: "app.example.com", Path: "/settings/*"},
		{Name: "pricing", Path: "/pricing"},
	}})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name        string
		e           *Event
		wantKind    Kind
		wantCat     Category
		wantStatus  string
		wantUnknown string
		wantName    string
	}{
		{"identify user", ev(TypeIdentifyUser, "", ""), KindIdentify, "", "", "", ""},
		{"identify company", ev(TypeIdentifyCompany, "", ""), KindIdentify, "", "", "", ""},
		{"session", ev(TypeSessionStart, "", ""), KindOther, "", "", "", ""},
		{"feature", ev(TypeTrackFeature, "ft_42", ""), KindActivity, FeatureTags, "occurred", "", "userpilot_feature_tag_occurred"},
		{"tracked", ev(TypeTrack, "clicked", `{"x":1}`), KindActivity, TrackedEvents, "occurred", "", "userpilot_tracked_event_occurred"},
		{"labeled", ev(TypeTrack, "clicked", `{"labeled":true}`), KindActivity, LabeledEvents, "occurred", "", "userpilot_labeled_event_occurred"},
		{"labeled false", ev(TypeTrack, "clicked", `{"labeled":false}`), KindActivity, TrackedEvents, "occurred", "", ""},
		{"checklist seen", ev(TypeInteraction, "checklist:2:SEEN", ""), KindActivity, Checklists, "seen", "", "userpilot_checklist_seen"},
		{"flow completed", ev(TypeInteraction, "experience:448:COMPLETED", ""), KindActivity, Flows, "completed", "", "userpilot_flow_completed"},
		{"flow dismissed lower", ev(TypeInteraction, "experience:448:dismissed", ""), KindActivity, Flows, "dismissed", "", ""},
		{"mobile", ev(TypeInteraction, "mobile:9:SEEN", ""), KindActivity, MobileContent, "seen", "", "userpilot_mobile_content_seen"},
		{"nps ask later", ev(TypeInteraction, "nps:1:ASK_LATER", ""), KindActivity, NPS, "ask_later", "", "userpilot_nps_ask_later"},
		{"nps feedback", ev(TypeInteraction, "nps:1:FEEDBACK", `{"score":9}`), KindActivity, NPS, "feedback", "", ""},
		{"survey", ev(TypeInteraction, "survey:5:SUBMITTED", ""), KindActivity, Surveys, "submitted", "", ""},
		{"form", ev(TypeInteraction, "form:6:SUBMITTED", ""), KindActivity, Forms, "submitted", "", "userpilot_form_submitted"},
		{"id with colons", ev(TypeInteraction, "experience:a:b:SEEN", ""), KindActivity, Flows, "seen", "", ""},
		{"unknown entity", ev(TypeInteraction, "banner:1:SEEN", ""), KindOther, "", "", UnknownEntityType, ""},
		{"unknown status", ev(TypeInteraction, "form:6:SEEN", ""), KindOther, "", "", UnknownStatus, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := c.Classify(tt.e)
			if got.Kind != tt.wantKind || got.Category != tt.wantCat || got.Status != tt.wantStatus || got.Unknown != tt.wantUnknown {
				t.Errorf("got %+v, want kind %d %s/%s unknown %q", got, tt.wantKind, tt.wantCat, tt.wantStatus, tt.wantUnknown)
			}
			if tt.wantName != "" {
				if o := c.Encode(tt.e, got); o.Name != tt.wantName {
					t.Errorf("got event name %q, want %q", o.Name, tt.wantName)
				}
			}
		})
	}
}

func TestClassifyPages(t *testing.T) {
	c, err := NewClassifier(config.Activity{Pages: []config.PageRule{
		{Name: "settings", Host: "app.example.com", Path: "/settings/*"},
		{Name: "pricing", Path: "/pricing"},
	}})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		host, path string
		wantPage   string
	}{
		{"app.example.com", "/settings/billing", "settings"},
		{"APP.example.com", "/settings/team", "settings"},
		{"other.example.com", "/settings/billing", ""},
		{"app.example.com", "/settings/a/b", ""},
		{"anything.io", "/pricing", "pricing"},
		{"app.example.com", "/home", ""},
	}
	for _, tt := range tests {
		e := ev(TypePageView, "", "")
		e.Hostname, e.Pathname = tt.host, tt.path
		got := c.Classify(e)
		if tt.wantPage == "" {
			if got.Kind != KindOther || got.Unknown != "" {
				t.Errorf("%s%s: got %+v, want an untagged page view (other, not unknown)", tt.host, tt.path, got)
			}
			continue
		}
		if got.Kind != KindActivity || got.Category != TaggedPages || got.Status != "viewed" || got.Page != tt.wantPage {
			t.Errorf("%s%s: got %+v, want tagged page %s", tt.host, tt.path, got, tt.wantPage)
		}
		if o := c.Encode(e, got); o.Properties["page_name"] != tt.wantPage || o.Name != "userpilot_tagged_page_viewed" {
			t.Errorf("got occurrence %+v", o)
		}
	}
}

func TestClassifyConfigRules(t *testing.T) {
	c, err := NewClassifier(config.Activity{
		EventNamePrefix: "up",
		Rules: []config.ClassifyRule{
			{EventType: TypeInteraction, EntityType: "banner", Status: "SEEN", Category: "flows", AsStatus: "seen"},
			{EventType: TypeInteraction, EntityType: "experience", Status: "COMPLETED", Category: "flows", AsStatus: "finished"},
			{EventType: TypeInteraction, EntityType: "form", Category: "forms"}, // any status
		},
		Categories: []config.CategoryFilter{{Name: "flows", Statuses: []string{"seen", "finished"}}, {Name: "forms"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name       string
		want       Category
		wantStatus string
	}{
		{"banner:1:SEEN", Flows, "seen"},
		{"experience:1:COMPLETED", Flows, "finished"},
		{"form:2:Started Typing", Forms, "started_typing"},
	}
	for _, tt := range tests {
		got := c.Classify(ev(TypeInteraction, tt.name, ""))
		if got.Category != tt.want || got.Status != tt.wantStatus {
			t.Errorf("%s: got %s/%s, want %s/%s", tt.name, got.Category, got.Status, tt.want, tt.wantStatus)
		}
		if !c.Enabled(got.Category, got.Status) {
			t.Errorf("%s: not enabled, want enabled", tt.name)
		}
	}
	if c.Enabled(Flows, "dismissed") || c.Enabled(Checklists, "seen") {
		t.Error("filtered category/status reported enabled")
	}
	pairs := c.Pairs()
	want := []Pair{{Flows, "finished"}, {Flows, "seen"}, {Forms, "submitted"}}
	if len(pairs) != len(want) {
		t.Fatalf("got pairs %v, want %v", pairs, want)
	}
	for i := range want {
		if pairs[i] != want[i] {
			t.Errorf("pair %d: got %v, want %v", i, pairs[i], want[i])
		}
	}
	if n := c.EventName(pairs[0]); n != "up_flow_finished" {
		t.Errorf("got %q, want up_flow_finished", n)
	}
}

func TestNewClassifierReportsEveryProblem(t *testing.T) {
	_, err := NewClassifier(config.Activity{
		Rules:      []config.ClassifyRule{{EventType: "nope", Category: "flows"}, {EventType: "track", Category: "nope"}},
		Pages:      []config.PageRule{{Name: "x", Path: "[bad"}},
		Categories: []config.CategoryFilter{{Name: "nope"}},
	})
	if err == nil {
		t.Fatal("got nil error")
	}
	for _, want := range []string{"rules[0]", "rules[1]", "pages[0]", "categories[0]"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not mention %s", err, want)
		}
	}
}

func TestEncodeProperties(t *testing.T) {
	c, _ := NewClassifier(config.Activity{})
	e := ev(TypeInteraction, "nps:7:FEEDBACK", `{"score":9,"feedback":"great"}`)
	e.CompanyID, e.Hostname, e.Source = "c1", "app.example.com", "web-client"
	o := c.Encode(e, c.Classify(e))
	want := map[string]string{"nps_id": "7", "score": "9", "feedback": "great", "userpilot_user_id": "u1",
		"userpilot_company_id": "c1", "hostname": "app.example.com", "source": "web-client", "userpilot_event_id": "e1"}
	for k, v := range want {
		if o.Properties[k] != v {
			t.Errorf("property %s: got %q, want %q", k, o.Properties[k], v)
		}
	}
	if len(o.Properties) != len(want) {
		t.Errorf("got %d properties %v, want %d", len(o.Properties), o.Properties, len(want))
	}
	if !o.OccurredAt.Equal(e.InsertedAt) || o.EventID != "e1" {
		t.Errorf("got %v %q", o.OccurredAt, o.EventID)
	}
	// Every property sent is declared on the definition, and the limits hold.
	for _, cat := range Categories {
		declared := map[string]bool{}
		for _, p := range DefinitionProperties(cat) {
			declared[p.Name] = true
		}
		if len(declared) > MaxEventProperties {
			t.Errorf("%s: %d properties, over %d", cat, len(declared), MaxEventProperties)
		}
		if cat == NPS {
			for k := range o.Properties {
				if !declared[k] {
					t.Errorf("nps: property %s sent but not declared", k)
				}
			}
		}
	}
	long := ev(TypeTrack, "x", `{"a":"`+strings.Repeat("é", 300)+`"}`)
	o = c.Encode(long, c.Classify(long))
	if n := len([]rune(o.Properties["metadata_json"])); n != MaxPropertyValueLen {
		t.Errorf("got metadata_json of %d characters, want %d", n, MaxPropertyValueLen)
	}
}
