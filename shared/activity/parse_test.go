package activity

import (
	"strings"
	"testing"
	"time"
)

const validTrack = `{"app_token":"NX-1","event_type":"track","event_name":"clicked_upgrade","user_id":"u1","company_id":"c1","source":"web-client","inserted_at":"2026-11-27T10:00:00.123456Z","internal_event_id":"e1","metadata":{"plan":"pro"}}`

func TestParseShapes(t *testing.T) {
	rec := func(id string) string { return strings.Replace(validTrack, `"e1"`, `"`+id+`"`, 1) }
	tests := []struct {
		name    string
		body    string
		wantIDs []string
	}{
		{"single", rec("a"), []string{"a"}},
		{"single with whitespace", "\n  " + rec("a") + "\n\n", []string{"a"}},
		{"array", "[" + rec("a") + "," + rec("b") + "]", []string{"a", "b"}},
		{"ndjson", rec("a") + "\n" + rec("b") + "\n" + rec("c") + "\n", []string{"a", "b", "c"}},
		{"ndjson crlf", rec("a") + "\r\n" + rec("b"), []string{"a", "b"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			evs, errs := Parse("m1", []byte(tt.body))
			if len(errs) > 0 {
				t.Fatalf("Parse: unexpected problems %v", errs)
			}
			var got []string
			for i, e := range evs {
				got = append(got, e.InternalEventID)
				if e.Index != i || e.MessageID != "m1" {
					t.Errorf("event %d: got index %d message %q, want %d m1", i, e.Index, e.MessageID, i)
				}
			}
			if strings.Join(got, ",") != strings.Join(tt.wantIDs, ",") {
				t.Errorf("got ids %v, want %v", got, tt.wantIDs)
			}
		})
	}
}

func TestParseFields(t *testing.T) {
	evs, errs := Parse("m1", []byte(`{"app_token":"STG-abc","event_type":"identify_user","user_id":42,"company_id":"c1","source":"backend-hubspot","inserted_at":"2026-11-27 10:00:00.1234567","internal_event_id":"e1","metadata":{"email":"A@B.com","plan":"pro","seats":3,"trial":false,"gone":null}}`))
	if len(errs) > 0 {
		t.Fatalf("Parse: %v", errs)
	}
	e := evs[0]
	if e.UserID != "42" {
		t.Errorf("got user id %q, want 42 (numeric ids are accepted)", e.UserID)
	}
	want := time.Date(2026, 11, 27, 10, 0, 0, 123456000, time.UTC)
	if !e.InsertedAt.Equal(want) {
		t.Errorf("got inserted_at %v, want %v (microseconds, UTC)", e.InsertedAt, want)
	}
	if e.Environment() != EnvStaging || !e.Echo() || !e.IsIdentify() {
		t.Errorf("got env %s echo %v identify %v, want staging true true", e.Environment(), e.Echo(), e.IsIdentify())
	}
	if e.Properties["seats"] != 3.0 || e.Properties["trial"] != false || e.Properties["email"] != "A@B.com" {
		t.Errorf("got properties %v", e.Properties)
	}
	if v, ok := e.Properties["gone"]; !ok || v != nil {
		t.Errorf("got gone=%v,%v, want a nil value (removal)", v, ok)
	}
}

func TestParseTime(t *testing.T) {
	want := time.Date(2026, 11, 27, 10, 0, 0, 123456000, time.UTC)
	for _, s := range []string{
		"2026-11-27T10:00:00.123456Z", "2026-11-27T11:00:00.123456+01:00", "2026-11-27T10:00:00.123456",
		"2026-11-27 10:00:00.123456", "2026-11-27 10:00:00.123456789Z", "2026-11-27 10:00:00.123456 UTC",
	} {
		got, err := ParseTime(s)
		if err != nil || !got.Equal(want) {
			t.Errorf("ParseTime(%q) = %v, %v; want %v", s, got, err, want)
		}
	}
	for _, s := range []string{"", "yesterday", "2026-13-01T00:00:00Z", "1732700000", "2026-11-27"} {
		if _, err := ParseTime(s); err == nil {
			t.Errorf("ParseTime(%q): got no error", s)
		}
	}
}

func TestParseProblems(t *testing.T) {
	set := func(field, value string) string {
		// Replace or drop one field of validTrack.
		parts := strings.Split(strings.TrimSuffix(strings.TrimPrefix(validTrack, "{"), "}"), `,"`)
		var out []string
		for i, p := range parts {
			if i > 0 {
				p = `"` + p
			}
			if strings.HasPrefix(p, `"`+field+`":`) {
				if value == "" {
					continue
				}
				p = `"` + field + `":` + value
			}
			out = append(out, p)
		}
		return "{" + strings.Join(out, ",") + "}"
	}
	tests := []struct {
		name      string
		body      string
		wantField string
		wantCode  string
		wantRec   int
	}{
		{"not json", `{"app_token":`, "", CodeInvalidJSON, -1},
		{"garbage", `hello`, "", CodeInvalidJSON, -1},
		{"empty", "  ", "", CodeEmpty, -1},
		{"empty array", "[]", "", CodeEmpty, -1},
		{"not an object", `"x"`, "", CodeUnknownSchema, 0},
		{"array of numbers", `[1]`, "", CodeUnknownSchema, 0},
		{"missing type", set("event_type", ""), "event_type", CodeMissingField, 0},
		{"missing token", set("app_token", ""), "app_token", CodeMissingField, 0},
		{"missing user", set("user_id", ""), "user_id", CodeMissingField, 0},
		{"missing name", set("event_name", ""), "event_name", CodeMissingField, 0},
		{"bad time", set("inserted_at", `"27/11/2026"`), "inserted_at", CodeBadTimestamp, 0},
		{"wrong type", set("source", `7`), "source", CodeInvalidField, 0},
		{"object id", set("user_id", `{"a":1}`), "", CodeInvalidField, 0},
		{"long id", set("user_id", `"`+strings.Repeat("x", MaxIDLen+1)+`"`), "user_id", CodeFieldTooLong, 0},
		{"metadata array", set("metadata", `[1]`), "metadata", CodeBadMetadata, 0},
		{"bad interaction", strings.Replace(set("event_name", `"checklist:2"`), `"track"`, `"interaction"`, 1), "event_name", CodeBadEventName, 0},
		{"nested identify", strings.Replace(set("metadata", `{"a":{"b":1}}`), `"track"`, `"identify_user"`, 1), "metadata", CodeBadMetadata, 0},
		{"second ndjson line broken", validTrack + "\n{", "", CodeInvalidJSON, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, errs := Parse("m9", []byte(tt.body))
			if len(errs) == 0 {
				t.Fatalf("Parse(%s): got no problem, want %s on %q", tt.body, tt.wantCode, tt.wantField)
			}
			e := errs[0]
			if e.Code != tt.wantCode || e.Field != tt.wantField || e.Record != tt.wantRec {
				t.Errorf("got %s/%q/record %d (%v), want %s/%q/record %d", e.Code, e.Field, e.Record, e, tt.wantCode, tt.wantField, tt.wantRec)
			}
			if !strings.Contains(e.Error(), "message m9") {
				t.Errorf("error %q does not name the message", e)
			}
		})
	}
}

func TestParseErrorsHoldNoValues(t *testing.T) {
	body := `{"app_token":"NX-1","event_type":"jane@example.com","user_id":"jane@example.com","inserted_at":"jane@example.com","internal_event_id":"e1"}`
	_, errs := Parse("m1", []byte(body))
	if len(errs) < 1 { // an unknown event type is no problem: it is reported as unclassified
		t.Fatalf("got %d problems, want at least 1", len(errs))
	}
	for _, e := range errs {
		if strings.Contains(e.Error(), "jane") {
			t.Errorf("error %q holds a value", e)
		}
	}
}

func TestParseKeepsValidRecordsBesideInvalid(t *testing.T) {
	body := "[" + validTrack + `,{"event_type":"track"}]`
	evs, errs := Parse("m1", []byte(body))
	if len(evs) != 1 || len(errs) == 0 {
		t.Fatalf("got %d events %d problems, want 1 and some", len(evs), len(errs))
	}
	for _, e := range errs {
		if e.Record != 1 {
			t.Errorf("problem %v on record %d, want 1", e, e.Record)
		}
	}
}
