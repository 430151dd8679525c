package activity

import (
	"bytes"
	"encoding/json"
	"strconv"
	"time"
)

// HubSpot custom event limits (https://developers.hubspot.com/docs/api/analytics/events, "Limits").
const (
	// MaxPropertyValueLen is the longest property value HubSpot keeps.
	MaxPropertyValueLen = 256
	// MaxEventProperties is the most properties one occurrence may carry.
	MaxEventProperties = 50
)

// DefaultEventNamePrefix prefixes event names when config sets none.
const DefaultEventNamePrefix = "userpilot"

// Property types of event definitions (HubSpot event property types).
const (
	PropString = "string"
	PropNumber = "number"
)

// PropertySpec is one typed property of an event definition.
type PropertySpec struct {
	Name  string
	Label string
	Type  string
}

// commonProperties are on every definition.
var commonProperties = []PropertySpec{
	{"userpilot_event_id", "Userpilot event id", PropString},
	{"userpilot_user_id", "Userpilot user id", PropString},
	{"userpilot_company_id", "Userpilot company id", PropString},
	{"source", "Source", PropString},
	{"hostname", "Hostname", PropString},
	{"pathname", "Path", PropString},
	{"country_code", "Country code", PropString},
	{"browser", "Browser", PropString},
	{"operating_system", "Operating system", PropString},
	{"device_type", "Device type", PropString},
	{"session", "Session", PropString},
}

// categoryProperties are the category's own properties.
var categoryProperties = map[Category][]PropertySpec{
	FeatureTags:   {{"feature_id", "Feature tag id", PropString}, {"metadata_json", "Metadata (JSON, first 256 characters)", PropString}},
	TrackedEvents: {{"event_name", "Event name", PropString}, {"metadata_json", "Metadata (JSON, first 256 characters)", PropString}},
	LabeledEvents: {{"event_name", "Event name", PropString}, {"metadata_json", "Metadata (JSON, first 256 characters)", PropString}},
	TaggedPages:   {{"page_name", "Page name", PropString}},
	Checklists:    {{"checklist_id", "Checklist id", PropString}},
	Flows:         {{"flow_id", "Flow id", PropString}},
	MobileContent: {{"content_id", "Content id", PropString}, {"content_type", "Content type", PropString}},
	NPS:           {{"nps_id", "NPS survey id", PropString}, {"score", "Score", PropNumber}, {"feedback", "Feedback", PropString}},
	Surveys:       {{"survey_id", "Survey id", PropString}},
	Forms:         {{"form_id", "Form id", PropString}},
}

// idProperty names the property that carries an interaction's entity id.
var idProperty = map[Category]string{
	Checklists: "checklist_id", Flows: "flow_id", MobileContent: "content_id", NPS: "nps_id",
	Surveys: "survey_id", Forms: "form_id", FeatureTags: "feature_id",
}

// DefinitionProperties lists the typed properties of cat's event definitions.
func DefinitionProperties(cat Category) []PropertySpec {
	out := make([]PropertySpec, 0, len(commonProperties)+3)
	out = append(out, commonProperties...)
	return append(out, categoryProperties[cat]...)
}

// EventName is the event definition's name for cat and status, e.g.
// "userpilot_flow_completed" (HubSpot adds its "pe<portalId>_" prefix).
func EventName(prefix string, cat Category, status string) string {
	if prefix == "" {
		prefix = DefaultEventNamePrefix
	}
	return prefix + "_" + singular[cat] + "_" + status
}

// Label is a human label for cat and status, e.g. "Userpilot flow completed".
func Label(cat Category, status string) string {
	b := []byte("Userpilot " + singular[cat] + " " + status)
	for i, c := range b {
		if c == '_' {
			b[i] = ' '
		}
	}
	return string(b)
}

// Occurrence is one activity event encoded for a sink: the event name without
// HubSpot's portal prefix, the time and the string-valued properties.
type Occurrence struct {
	EventID    string // internal_event_id: the idempotency key
	UserID     string
	Name       string
	Category   Category
	Status     string
	OccurredAt time.Time
	Properties map[string]string
}

// Encode turns an activity event and its class into an occurrence.
func (c *Classifier) Encode(e *Event, cl Class) Occurrence {
	p := make(map[string]string, 16)
	set := func(k, v string) {
		if v != "" {
			p[k] = truncate(v)
		}
	}
	set("userpilot_event_id", e.InternalEventID)
	set("userpilot_user_id", e.UserID)
	set("userpilot_company_id", e.CompanyID)
	set("source", e.Source)
	set("hostname", e.Hostname)
	set("pathname", e.Pathname)
	set("country_code", e.CountryCode)
	set("browser", e.Browser)
	set("operating_system", e.OperatingSystem)
	set("device_type", e.DeviceType)
	set("session", e.Session)
	switch cl.Category {
	case TrackedEvents, LabeledEvents:
		set("event_name", e.Name)
		set("metadata_json", compactMetadata(e.Metadata))
	case FeatureTags:
		set("feature_id", e.Name)
		set("metadata_json", compactMetadata(e.Metadata))
	case TaggedPages:
		set("page_name", cl.Page)
	case MobileContent:
		set("content_type", cl.EntityType)
	case NPS:
		if len(e.Metadata) > 0 {
			var m struct {
				Score    json.Number `json:"score"`
				Feedback string      `json:"feedback"`
			}
			if json.Unmarshal(e.Metadata, &m) == nil {
				if _, err := strconv.ParseFloat(string(m.Score), 64); err == nil {
					set("score", string(m.Score))
				}
				set("feedback", m.Feedback)
			}
		}
	}
	if k := idProperty[cl.Category]; k != "" && cl.EntityID != "" && cl.Category != FeatureTags {
		set(k, cl.EntityID)
	}
	return Occurrence{
		EventID:    e.InternalEventID,
		UserID:     e.UserID,
		Name:       EventName(c.prefix, cl.Category, cl.Status),
		Category:   cl.Category,
		Status:     cl.Status,
		OccurredAt: e.InsertedAt,
		Properties: p,
	}
}

// compactMetadata is the metadata as compact JSON, "" when empty.
func compactMetadata(m json.RawMessage) string {
	if len(m) == 0 || bytes.Equal(m, []byte("null")) || bytes.Equal(m, []byte("{}")) {
		return ""
	}
	var b bytes.Buffer
	if json.Compact(&b, m) != nil {
		return ""
	}
	return b.String()
}

// truncate cuts s to MaxPropertyValueLen characters (HubSpot drops longer values).
func truncate(s string) string {
	if len(s) <= MaxPropertyValueLen {
		return s
	}
	n := 0
	for i := range s {
		if n == MaxPropertyValueLen {
			return s[:i]
		}
		n++
	}
	return s
}
