package activity

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"
	"unicode/utf8"
)

// Limits on what one message and one record may hold.
const (
	// MaxBodyBytes is SQS's maximum message size (1 MiB since 2025-08; the SQS
	// developer guide, "Amazon SQS message quotas").
	MaxBodyBytes = 1 << 20
	// MaxRecords bounds the records of one message (pilotsync's own limit: a
	// bigger export belongs in several messages).
	MaxRecords = 10_000
	// MaxIDLen bounds ids, tokens and event names (pilotsync's own limit;
	// Userpilot publishes none, and 256 is HubSpot's property value limit).
	MaxIDLen = 256
	// MaxFieldLen bounds context fields such as pathname (pilotsync's own limit).
	MaxFieldLen = 2048
	// MaxMetadataBytes bounds one record's metadata (pilotsync's own limit).
	MaxMetadataBytes = 64 << 10
	// MaxIdentifyProperties bounds the properties of one identify event
	// (pilotsync's own limit, well above HubSpot's 1,000 properties per object).
	MaxIdentifyProperties = 1000
)

// Problem codes: short, stable, free of personal data (used as the DLQ reason).
const (
	CodeTooLarge       = "too_large"
	CodeEmpty          = "empty"
	CodeInvalidJSON    = "invalid_json"
	CodeUnknownSchema  = "unknown_schema"
	CodeUnknownType    = "unknown_event_type"
	CodeMissingField   = "missing_field"
	CodeInvalidField   = "invalid_field"
	CodeFieldTooLong   = "field_too_long"
	CodeBadTimestamp   = "bad_timestamp"
	CodeBadEventName   = "bad_event_name"
	CodeBadMetadata    = "bad_metadata"
	recordWholeMessage = -1
)

var errNotStringOrNumber = errors.New("want a string or a number")

// Error is one problem with a message or one of its records. It names the
// message, the record, the field and the problem, and never holds a value (values
// may be personal data).
type Error struct {
	MessageID string
	// Record is the record's index in the message, or -1 for the whole message.
	Record  int
	Field   string
	Code    string
	Problem string
}

// Error implements error.
func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString("activity: message ")
	b.WriteString(e.MessageID)
	if e.Record >= 0 {
		fmt.Fprintf(&b, " record %d", e.Record)
	}
	if e.Field != "" {
		b.WriteString(" field ")
		b.WriteString(e.Field)
	}
	b.WriteString(": ")
	b.WriteString(e.Problem)
	return b.String()
}

// Parse reads one message body: a single event record, a JSON array of records,
// or newline-delimited records. It returns the valid events and a problem for
// each invalid record (or one for the whole message when it is not JSON at all).
// Every problem is permanent: the same body can never succeed.
func Parse(messageID string, body []byte) ([]Event, []*Error) {
	if len(body) > MaxBodyBytes {
		return nil, []*Error{{MessageID: messageID, Record: recordWholeMessage, Code: CodeTooLarge,
			Problem: fmt.Sprintf("body is %d bytes, over the %d-byte limit", len(body), MaxBodyBytes)}}
	}
	trimmed := bytes.TrimSpace(body)
	if len(trimmed) == 0 {
		return nil, []*Error{{MessageID: messageID, Record: recordWholeMessage, Code: CodeEmpty, Problem: "body is empty"}}
	}
	var raws []json.RawMessage
	var problems []*Error
	if trimmed[0] == '[' {
		if err := json.Unmarshal(trimmed, &raws); err != nil {
			return nil, []*Error{{MessageID: messageID, Record: recordWholeMessage, Code: CodeInvalidJSON,
				Problem: "not a JSON array of event records: " + jsonProblem(err)}}
		}
		if len(raws) == 0 {
			return nil, []*Error{{MessageID: messageID, Record: recordWholeMessage, Code: CodeEmpty, Problem: "array holds no records"}}
		}
	} else {
		// One record or NDJSON: a stream of JSON values. A syntax error stops the
		// stream; the records before it stand.
		dec := json.NewDecoder(bytes.NewReader(trimmed))
		for {
			var raw json.RawMessage
			err := dec.Decode(&raw)
			if err == io.EOF {
				break
			}
			if err != nil {
				rec := len(raws)
				if rec == 0 {
					rec = recordWholeMessage
				}
				problems = append(problems, &Error{MessageID: messageID, Record: rec, Code: CodeInvalidJSON,
					Problem: "not JSON: " + jsonProblem(err)})
				break
			}
			raws = append(raws, raw)
		}
	}
	if len(raws) > MaxRecords {
		return nil, []*Error{{MessageID: messageID, Record: recordWholeMessage, Code: CodeTooLarge,
			Problem: fmt.Sprintf("%d records, over the %d-record limit", len(raws), MaxRecords)}}
	}
	events := make([]Event, 0, len(raws))
	for i, raw := range raws {
		ev, errs := parseRecord(messageID, i, raw)
		if len(errs) > 0 {
			problems = append(problems, errs...)
			continue
		}
		events = append(events, ev)
	}
	return events, problems
}

// jsonProblem describes a decoding error without quoting the input.
func jsonProblem(err error) string {
	var syn *json.SyntaxError
	if errors.As(err, &syn) {
		return fmt.Sprintf("syntax error at byte %d", syn.Offset)
	}
	var typ *json.UnmarshalTypeError
	if errors.As(err, &typ) {
		return fmt.Sprintf("want %s, got JSON %s", typ.Type, typ.Value)
	}
	if errors.Is(err, io.ErrUnexpectedEOF) {
		return "unexpected end of input"
	}
	return "malformed"
}

func parseRecord(messageID string, idx int, raw json.RawMessage) (Event, []*Error) {
	fail := func(field, code, problem string) []*Error {
		return []*Error{{MessageID: messageID, Record: idx, Field: field, Code: code, Problem: problem}}
	}
	if len(raw) == 0 || raw[0] != '{' {
		return Event{}, fail("", CodeUnknownSchema, "record is not a JSON object")
	}
	var w wireEvent
	if err := json.Unmarshal(raw, &w); err != nil {
		var typ *json.UnmarshalTypeError
		if errors.As(err, &typ) && typ.Field != "" {
			return Event{}, fail(typ.Field, CodeInvalidField, "want a string, got JSON "+typ.Value)
		}
		if errors.Is(err, errNotStringOrNumber) {
			return Event{}, fail("", CodeInvalidField, "an id field is neither a string nor a number")
		}
		return Event{}, fail("", CodeInvalidJSON, "record does not decode: "+jsonProblem(err))
	}
	ev := Event{
		MessageID:       messageID,
		Index:           idx,
		AppToken:        w.AppToken,
		Type:            w.EventType,
		Name:            string(w.EventName),
		UserID:          string(w.UserID),
		CompanyID:       string(w.CompanyID),
		Source:          w.Source,
		InternalEventID: string(w.InternalEventID),
		Hostname:        w.Hostname,
		Pathname:        w.Pathname,
		CountryCode:     w.CountryCode,
		Browser:         w.Browser,
		OperatingSystem: w.OperatingSystem,
		DeviceType:      w.DeviceType,
		Session:         string(w.Session),
		Metadata:        w.Metadata,
	}
	var errs []*Error
	add := func(field, code, problem string) {
		errs = append(errs, &Error{MessageID: messageID, Record: idx, Field: field, Code: code, Problem: problem})
	}

	switch {
	case ev.Type == "":
		add("event_type", CodeMissingField, "required")
	case !knownTypes[ev.Type]:
		add("event_type", CodeUnknownType, "not a known event type (want identify_user, identify_company, interaction, track, track_feature, page_view or session_start)")
	}
	required := func(field, v string) {
		if v == "" {
			add(field, CodeMissingField, "required")
		}
	}
	required("app_token", ev.AppToken)
	required("internal_event_id", ev.InternalEventID)
	switch ev.Type {
	case TypeIdentifyCompany:
		required("company_id", ev.CompanyID)
	case TypeTrack, TypeTrackFeature, TypeInteraction:
		required("user_id", ev.UserID)
		required("event_name", ev.Name)
	case TypeIdentifyUser, TypePageView, TypeSessionStart:
		required("user_id", ev.UserID)
	}
	for _, f := range [...]struct {
		name string
		v    string
		max  int
	}{
		{"app_token", ev.AppToken, MaxIDLen}, {"event_name", ev.Name, MaxIDLen}, {"user_id", ev.UserID, MaxIDLen},
		{"company_id", ev.CompanyID, MaxIDLen}, {"internal_event_id", ev.InternalEventID, MaxIDLen},
		{"source", ev.Source, MaxIDLen}, {"hostname", ev.Hostname, MaxFieldLen}, {"pathname", ev.Pathname, MaxFieldLen},
		{"country_code", ev.CountryCode, MaxIDLen}, {"browser", ev.Browser, MaxFieldLen},
		{"operating_system", ev.OperatingSystem, MaxFieldLen}, {"device_type", ev.DeviceType, MaxIDLen},
		{"session", ev.Session, MaxIDLen},
	} {
		if len(f.v) > f.max {
			add(f.name, CodeFieldTooLong, fmt.Sprintf("%d bytes, over the %d-byte limit", len(f.v), f.max))
		} else if !utf8.ValidString(f.v) {
			add(f.name, CodeInvalidField, "not valid UTF-8")
		}
	}

	if w.InsertedAt == "" {
		add("inserted_at", CodeMissingField, "required")
	} else if t, err := ParseTime(w.InsertedAt); err != nil {
		add("inserted_at", CodeBadTimestamp, err.Error())
	} else {
		ev.InsertedAt = t
	}

	if ev.Type == TypeInteraction && ev.Name != "" {
		if _, _, _, ok := splitInteraction(ev.Name); !ok {
			add("event_name", CodeBadEventName, `interaction name is not "entity_type:entity_id:status"`)
		}
	}

	if m := bytes.TrimSpace(ev.Metadata); len(m) > 0 && !bytes.Equal(m, []byte("null")) {
		switch {
		case len(m) > MaxMetadataBytes:
			add("metadata", CodeFieldTooLong, fmt.Sprintf("%d bytes, over the %d-byte limit", len(m), MaxMetadataBytes))
		case m[0] != '{':
			add("metadata", CodeBadMetadata, "not a JSON object")
		case ev.IsIdentify():
			props, problem := decodeIdentifyMetadata(m)
			if problem != "" {
				add("metadata", CodeBadMetadata, problem)
			}
			ev.Properties = props
		}
	} else {
		ev.Metadata = nil
		if ev.IsIdentify() {
			ev.Properties = map[string]any{}
		}
	}
	if len(errs) > 0 {
		return Event{}, errs
	}
	return ev, nil
}

// decodeIdentifyMetadata decodes identify metadata, which holds primitives only
// (USERPILOT.md, "Write API"). A null value removes the property.
func decodeIdentifyMetadata(m []byte) (map[string]any, string) {
	var props map[string]any
	if err := json.Unmarshal(m, &props); err != nil {
		return nil, "does not decode: " + jsonProblem(err)
	}
	if len(props) > MaxIdentifyProperties {
		return nil, fmt.Sprintf("%d properties, over the %d-property limit", len(props), MaxIdentifyProperties)
	}
	for k, v := range props {
		if k == "" || len(k) > MaxIDLen {
			return nil, "a property name is empty or too long"
		}
		switch v.(type) {
		case nil, string, float64, bool:
		default:
			return nil, fmt.Sprintf("property %q is not a string, number, boolean or null", safeKey(k))
		}
	}
	return props, ""
}

// safeKey returns k when it looks like a property name, else a placeholder:
// keys are not personal data, but an arbitrary key could be.
func safeKey(k string) string {
	if len(k) > 64 || strings.ContainsAny(k, "@ ") {
		return "(unnamed)"
	}
	return k
}

// splitInteraction splits "{entity_type}:{entity_id}:{status}". The id may
// itself hold colons: the type is before the first, the status after the last.
func splitInteraction(name string) (entityType, entityID, status string, ok bool) {
	first := strings.IndexByte(name, ':')
	last := strings.LastIndexByte(name, ':')
	if first <= 0 || last <= first+1 || last == len(name)-1 {
		return "", "", "", false
	}
	return name[:first], name[first+1 : last], name[last+1:], true
}

// timeLayouts are the inserted_at forms accepted, after RFC 3339: Userpilot
// exports write UTC with microseconds, sometimes without a zone or with a
// space for the "T".
var timeLayouts = [...]string{
	"2006-01-02T15:04:05.999999999",
	"2006-01-02 15:04:05.999999999Z07:00",
	"2006-01-02 15:04:05.999999999",
	"2006-01-02 15:04:05.999999999 MST",
}

// ParseTime parses an ISO 8601 event time to UTC with microsecond precision
// (finer digits are truncated). A time without a zone is UTC.
func ParseTime(s string) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t.UTC().Truncate(time.Microsecond), nil
	}
	for _, l := range timeLayouts {
		if t, err := time.Parse(l, s); err == nil {
			if l == timeLayouts[3] && t.Location().String() != "UTC" {
				continue
			}
			return t.UTC().Truncate(time.Microsecond), nil
		}
	}
	return time.Time{}, errors.New("not an ISO 8601 time such as 2026-11-27T10:00:00.123456Z")
}
