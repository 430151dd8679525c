package activity

import (
	"encoding/json"
	"strconv"
	"strings"
	"time"
)

// Userpilot event types (https://docs.userpilot.com/data-sync/event-schema).
const (
	TypeIdentifyUser    = "identify_user"
	TypeIdentifyCompany = "identify_company"
	TypeInteraction     = "interaction"
	TypeTrack           = "track"
	TypeTrackFeature    = "track_feature"
	TypePageView        = "page_view"
	TypeSessionStart    = "session_start"
)

// knownTypes lists every event type the parser accepts.
var knownTypes = map[string]bool{
	TypeIdentifyUser: true, TypeIdentifyCompany: true, TypeInteraction: true, TypeTrack: true,
	TypeTrackFeature: true, TypePageView: true, TypeSessionStart: true,
}

// SourceHubSpot is the source of events that came from HubSpot itself; they are
// never echoed back.
const SourceHubSpot = "backend-hubspot"

// StagingTokenPrefix starts every staging environment token (https://docs.userpilot.com/api-references/http-api).
const StagingTokenPrefix = "STG-"

// Userpilot environments, as in config.EnvProduction and config.EnvStaging.
const (
	EnvProduction = "production"
	EnvStaging    = "staging"
)

// Event is one validated Userpilot event record.
type Event struct {
	// MessageID and Index say where the record came from (Index counts records
	// within the message from 0).
	MessageID string
	Index     int

	AppToken   string
	Type       string
	Name       string
	UserID     string
	CompanyID  string
	Source     string
	InsertedAt time.Time // UTC, microsecond precision
	// InternalEventID is the idempotency key: the record's
	// internal_event_id, or DeriveEventID's when it has none (IDDerived).
	InternalEventID string
	IDDerived       bool

	Hostname        string
	Pathname        string
	CountryCode     string
	Browser         string
	OperatingSystem string
	DeviceType      string
	Session         string

	// Metadata is the raw metadata object ("" or "null" when absent).
	Metadata json.RawMessage
	// Properties is the decoded metadata of identify events (primitives only;
	// a nil value removes the property). Nil for other event types.
	Properties map[string]any
}

// Environment is the Userpilot environment the event belongs to, from its
// token's prefix.
func (e *Event) Environment() string {
	if strings.HasPrefix(e.AppToken, StagingTokenPrefix) {
		return EnvStaging
	}
	return EnvProduction
}

// Echo reports whether the event came from HubSpot and must not be sent back.
func (e *Event) Echo() bool { return e.Source == SourceHubSpot }

// KnownType reports whether the event type is one Userpilot documents.
// Others are parsed (never dead-lettered for their type), counted as
// unclassified, and neither aggregated nor forwarded.
func (e *Event) KnownType() bool { return knownTypes[e.Type] }

// IsIdentify reports whether the event is an identify_user or identify_company.
func (e *Event) IsIdentify() bool {
	return e.Type == TypeIdentifyUser || e.Type == TypeIdentifyCompany
}

// Day is the UTC day of the event, "YYYY-MM-DD".
func (e *Event) Day() string { return e.InsertedAt.Format(time.DateOnly) }

// wireEvent is the JSON shape of an event record.
type wireEvent struct {
	AppToken        strictString    `json:"app_token"`
	EventType       strictString    `json:"event_type"`
	EventName       flexString      `json:"event_name"`
	UserID          flexString      `json:"user_id"`
	CompanyID       flexString      `json:"company_id"`
	Source          strictString    `json:"source"`
	InsertedAt      json.RawMessage `json:"inserted_at"`
	InternalEventID flexString      `json:"internal_event_id"`
	Hostname        strictString    `json:"hostname"`
	Pathname        strictString    `json:"pathname"`
	CountryCode     strictString    `json:"country_code"`
	Browser         strictString    `json:"browser"`
	OperatingSystem strictString    `json:"operating_system"`
	DeviceType      strictString    `json:"device_type"`
	Session         flexString      `json:"session"`
	Metadata        json.RawMessage `json:"metadata"`
}

// wireFields lists the fields of wireEvent by JSON name, to find the ones
// holding invalid text.
var wireFields = []string{"app_token", "event_type", "event_name", "user_id", "company_id", "source",
	"inserted_at", "internal_event_id", "hostname", "pathname", "country_code", "browser",
	"operating_system", "device_type", "session"}

// flexString accepts a JSON string, number or null: exports write some ids as
// numbers.
type flexString string

// UnmarshalJSON implements json.Unmarshaler.
func (f *flexString) UnmarshalJSON(b []byte) error {
	if len(b) == 0 {
		return nil
	}
	switch b[0] {
	case '"':
		if !validText(b) {
			return errBadText
		}
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		*f = flexString(s)
		return nil
	case 'n':
		*f = ""
		return nil
	case '-', '0', '1', '2', '3', '4', '5', '6', '7', '8', '9':
		if _, err := strconv.ParseFloat(string(b), 64); err != nil {
			return errNotStringOrNumber
		}
		*f = flexString(b)
		return nil
	}
	return errNotStringOrNumber
}
