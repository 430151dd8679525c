package activity

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
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
	// MaxFutureSkew is how far past the processing time an event's
	// inserted_at may lie (clock skew between producers and Lambda); later
	// events (a client clock in 2099) are refused with CodeFutureTimestamp,
	// neither aggregated nor sent (pilotsync's own limit).
	MaxFutureSkew = 5 * time.Minute
)

// Problem codes: short, stable, free of personal data (used as the DLQ reason).
const (
	CodeTooLarge       = "too_large"
	CodeEmpty          = "empty"
	CodeInvalidJSON    = "invalid_json"
	CodeUnknownSchema  = "unknown_schema"
	CodeMissingField   = "missing_field"
	CodeInvalidField   = "invalid_field"
	CodeFieldTooLong   = "field_too_long"
	CodeBadTimestamp   = "bad_timestamp"
	CodeFutureTime     = "future_timestamp"
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

// Parse is ParseAt without the check of future event times.
func Parse(messageID string, body []byte) ([]Event, []*Error) {
	return ParseAt(messageID, body, time.Time{})
}

// ParseAt reads one message body: a single event record, a JSON array of
// records, or newline-delimited records. It returns the valid events and a
// problem for each invalid record (or one for the whole message when it is
// not JSON at all). Every problem is permanent: the same body can never
// succeed. Events more than MaxFutureSkew after now are problems
// (CodeFutureTime); a zero now skips that check.
func ParseAt(messageID string, body []byte, now time.Time) ([]Event, []*Error) {
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
		ev, errs := parseRecord(messageID, i, raw, now)
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

func parseRecord(messageID string, idx int, raw json.RawMessage, now time.Time) (Event, []*Error) {
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
		if errors.Is(err, errBadText) {
			return Event{}, badTextFields(messageID, idx, raw)
		}
		return Event{}, fail("", CodeInvalidJSON, "record does not decode: "+jsonProblem(err))
	}
	ev := Event{
		MessageID:       messageID,
		Index:           idx,
		AppToken:        string(w.AppToken),
		Type:            string(w.EventType),
		Name:            string(w.EventName),
		UserID:          string(w.UserID),
		CompanyID:       string(w.CompanyID),
		Source:          string(w.Source),
		InternalEventID: string(w.InternalEventID),
		Hostname:        string(w.Hostname),
		Pathname:        string(w.Pathname),
		CountryCode:     string(w.CountryCode),
		Browser:         string(w.Browser),
		OperatingSystem: string(w.OperatingSystem),
		DeviceType:      string(w.DeviceType),
		Session:         string(w.Session),
		Metadata:        w.Metadata,
	}
	var errs []*Error
	add := func(field, code, problem string) {
		errs = append(errs, &Error{MessageID: messageID, Record: idx, Field: field, Code: code, Problem: problem})
	}

	// An event type Userpilot does not document (yet) is no reason to
	// dead-letter: the event is parsed, then counted as unclassified.
	if ev.Type == "" {
		add("event_type", CodeMissingField, "required")
	}
	required := func(field, v string) {
		if v == "" {
			add(field, CodeMissingField, "required")
		}
	}
	required("app_token", ev.AppToken)
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
		{"app_token", ev.AppToken, MaxIDLen}, {"event_type", ev.Type, MaxIDLen}, {"event_name", ev.Name, MaxIDLen}, {"user_id", ev.UserID, MaxIDLen},
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

	switch t, present, err := parseInsertedAt(w.InsertedAt); {
	case !present:
		add("inserted_at", CodeMissingField, "required")
	case err != nil:
		add("inserted_at", CodeBadTimestamp, err.Error())
	case !now.IsZero() && t.After(now.Add(MaxFutureSkew)):
		add("inserted_at", CodeFutureTime, fmt.Sprintf("more than %s after the time it was processed", MaxFutureSkew))
	default:
		ev.InsertedAt = t
	}

	if ev.Type == TypeInteraction && ev.Name != "" {
		if _, _, _, ok := splitInteraction(ev.Name); !ok {
			add("event_name", CodeBadEventName, `interaction name is not "entity_type:entity_id:status"`)
		}
	}

	m, problem := unwrapMetadata(ev.Metadata)
	if problem != "" {
		add("metadata", CodeBadMetadata, problem)
	}
	if len(m) > 0 {
		ev.Metadata = m
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
	if ev.InternalEventID == "" {
		ev.InternalEventID = DeriveEventID(ev.AppToken, ev.Type, ev.Name, ev.UserID, ev.CompanyID, ev.InsertedAt)
		ev.IDDerived = true
	}
	return ev, nil
}

// unwrapMetadata returns the metadata object's bytes, or nil when there is
// none (absent, null, or an empty or "null" string). Userpilot's data sync
// may deliver metadata as a JSON-encoded string
// (https://docs.userpilot.com/data-sync/understand-data: "may be
// stringified as JSON"): that string is decoded to the object it holds.
func unwrapMetadata(raw json.RawMessage) (json.RawMessage, string) {
	m := bytes.TrimSpace(raw)
	if len(m) == 0 || bytes.Equal(m, []byte("null")) {
		return nil, ""
	}
	if m[0] != '"' {
		return m, ""
	}
	var s string
	if err := json.Unmarshal(m, &s); err != nil {
		return nil, "a metadata string does not decode: " + jsonProblem(err)
	}
	inner := bytes.TrimSpace([]byte(s))
	if len(inner) == 0 || bytes.Equal(inner, []byte("null")) {
		return nil, ""
	}
	if inner[0] != '{' || !json.Valid(inner) {
		return nil, "a metadata string does not hold a JSON object"
	}
	return inner, ""
}

// parseInsertedAt reads inserted_at: an ISO 8601 string, or epoch
// milliseconds or microseconds as a number (or a string of digits).
// present is false when it is absent, null or "".
func parseInsertedAt(raw json.RawMessage) (t time.Time, present bool, err error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || bytes.Equal(raw, []byte("null")) {
		return time.Time{}, false, nil
	}
	s := string(raw)
	if raw[0] == '"' {
		if err := json.Unmarshal(raw, &s); err != nil {
			return time.Time{}, true, errors.New("not a string or a number")
		}
		if s == "" {
			return time.Time{}, false, nil
		}
		if !isDigits(s) {
			t, err := ParseTime(s)
			return t, true, err
		}
	}
	t, err = parseEpoch(s)
	return t, true, err
}

// Epoch number ranges: below epochMicrosFrom a number is milliseconds
// (1973 up to the year 5138), from it microseconds. Smaller numbers
// (seconds, or garbage) are refused rather than read as a date in 1970.
const (
	epochMillisFrom = 100_000_000_000        // 1973-03-03 in milliseconds
	epochMicrosFrom = 100_000_000_000_000    // 1973-03-03 in microseconds
	epochMicrosTo   = 10_000_000_000_000_000 // 2286-11-20 in microseconds
)

// parseEpoch reads an integer of epoch milliseconds or microseconds.
func parseEpoch(s string) (time.Time, error) {
	if !isDigits(s) {
		return time.Time{}, errors.New("not an ISO 8601 time or epoch milliseconds or microseconds")
	}
	n, err := strconv.ParseInt(s, 10, 64)
	switch {
	case err != nil || n < epochMillisFrom || n >= epochMicrosTo:
		return time.Time{}, errors.New("a number, but not epoch milliseconds or microseconds of a time after 1973")
	case n < epochMicrosFrom:
		return time.UnixMilli(n).UTC(), nil
	default:
		return time.UnixMicro(n).UTC(), nil
	}
}

func isDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// badTextFields names the record's fields that hold invalid text (without
// their values).
func badTextFields(messageID string, idx int, raw json.RawMessage) []*Error {
	var fields map[string]json.RawMessage
	_ = json.Unmarshal(raw, &fields) // it decoded once already
	var errs []*Error
	for _, f := range wireFields {
		if v, ok := fields[f]; ok && len(v) > 0 && v[0] == '"' && !validText(v) {
			errs = append(errs, &Error{MessageID: messageID, Record: idx, Field: f, Code: CodeInvalidField, Problem: errBadText.Error()})
		}
	}
	if len(errs) == 0 {
		errs = append(errs, &Error{MessageID: messageID, Record: idx, Code: CodeInvalidField, Problem: errBadText.Error()})
	}
	return errs
}

// decodeIdentifyMetadata decodes identify metadata, which holds primitives only
// (https://docs.userpilot.com/api-references/real-time/identify-user). A null value removes the property.
func decodeIdentifyMetadata(m []byte) (map[string]any, string) {
	var props map[string]any
	if err := json.Unmarshal(m, &props); err != nil {
		return nil, "does not decode: " + jsonProblem(err)
	}
	if len(props) > MaxIdentifyProperties {
		return nil, fmt.Sprintf("%d properties, over the %d-property limit", len(props), MaxIdentifyProperties)
	}
	if !validText(m) && badKeyText(m) {
		// Two names differing only in invalid bytes would decode to one.
		return nil, "a property name is not valid UTF-8 text (invalid bytes or a lone surrogate escape)"
	}
	for k, v := range props {
		if k == "" || len(k) > MaxIDLen {
			return nil, "a property name is empty or too long"
		}
		switch v.(type) {
		case nil, string, float64, bool:
		default:
			// The name is the producer's: it may be personal data or markup.
			return nil, fmt.Sprintf("property %q is not a string, number, boolean or null", SafeName(k))
		}
	}
	return props, ""
}

// badKeyText reports whether a key of the object m holds invalid text
// (values with invalid text are kept, decoded with U+FFFD as JSON does).
func badKeyText(m []byte) bool {
	dec := json.NewDecoder(bytes.NewReader(m))
	if _, err := dec.Token(); err != nil { // {
		return true
	}
	for dec.More() {
		from := dec.InputOffset()
		if _, err := dec.Token(); err != nil {
			return true
		}
		if !validText(m[from:dec.InputOffset()]) {
			return true
		}
		var skip json.RawMessage
		if err := dec.Decode(&skip); err != nil {
			return true
		}
	}
	return false
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
