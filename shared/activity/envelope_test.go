package activity

import (
	"strings"
	"testing"
	"time"

	"github.com/pilotsync/pilotsync/shared/config"
)

// record builds one event record from validTrack with fields replaced
// (value "" drops the field; values are raw JSON).
func record(fields map[string]string) string {
	parts := strings.Split(strings.TrimSuffix(strings.TrimPrefix(validTrack, "{"), "}"), `,"`)
	var out []string
	seen := map[string]bool{}
	for i, p := range parts {
		if i > 0 {
			p = `"` + p
		}
		name := strings.Trim(strings.SplitN(p, ":", 2)[0], `"`)
		if v, ok := fields[name]; ok {
			seen[name] = true
			if v == "" {
				continue
			}
			p = `"` + name + `":` + v
		}
		out = append(out, p)
	}
	for name, v := range fields {
		if !seen[name] && v != "" {
			out = append(out, `"`+name+`":`+v)
		}
	}
	return "{" + strings.Join(out, ",") + "}"
}

func parseOne(t *testing.T, body string) Event {
	t.Helper()
	evs, errs := Parse("m1", []byte(body))
	if len(errs) > 0 || len(evs) != 1 {
		t.Fatalf("Parse(%s): %d events, problems %v", body, len(evs), errs)
	}
	return evs[0]
}

func parseProblem(t *testing.T, body string, now time.Time) *Error {
	t.Helper()
	evs, errs := ParseAt("m1", []byte(body), now)
	if len(errs) == 0 || len(evs) != 0 {
		t.Fatalf("ParseAt(%s): %d events, no problem; want a problem", body, len(evs))
	}
	return errs[0]
}

func TestMetadataAsJSONString(t *testing.T) {
	ident := record(map[string]string{"event_type": `"identify_user"`, "event_name": "", "metadata": `"{\"email\":\"a@b.com\",\"seats\":3}"`})
	e := parseOne(t, ident)
	if e.Properties["email"] != "a@b.com" || e.Properties["seats"] != 3.0 {
		t.Errorf("identify properties %v, want the decoded string's", e.Properties)
	}
	tr := parseOne(t, record(map[string]string{"metadata": `"{\"labeled\":true,\"plan\":\"pro\"}"`}))
	if string(tr.Metadata) != `{"labeled":true,"plan":"pro"}` {
		t.Errorf("track metadata %s, want the decoded object", tr.Metadata)
	}
	c, err := NewClassifier(config.Activity{})
	if err != nil {
		t.Fatal(err)
	}
	if cl := c.Classify(&tr); cl.Category != LabeledEvents {
		t.Errorf("class %+v, want labeled events (metadata read from the string)", cl)
	}
	for _, empty := range []string{`""`, `"null"`, `"  "`} {
		if e := parseOne(t, record(map[string]string{"metadata": empty})); e.Metadata != nil {
			t.Errorf("metadata %s: got %s, want none", empty, e.Metadata)
		}
	}
	for _, bad := range []string{`"[1,2]"`, `"not json"`, `"{\"a\":"`} {
		if p := parseProblem(t, record(map[string]string{"metadata": bad}), time.Time{}); p.Code != CodeBadMetadata || p.Field != "metadata" {
			t.Errorf("metadata %s: problem %v, want bad_metadata", bad, p)
		}
	}
}

func TestUnknownEventTypeIsUnclassifiedNotAProblem(t *testing.T) {
	e := parseOne(t, record(map[string]string{"event_type": `"screen_view"`, "user_id": "", "event_name": ""}))
	if e.KnownType() {
		t.Fatal("screen_view reported as a known type")
	}
	c, err := NewClassifier(config.Activity{})
	if err != nil {
		t.Fatal(err)
	}
	cl := c.Classify(&e)
	if cl.Kind != KindOther || cl.Unknown != UnknownEventType {
		t.Errorf("class %+v, want other / unknown event_type", cl)
	}
	if got := UnclassifiedKey(&e, cl); got != "screen_view/:" {
		t.Errorf("key %q, want screen_view/:", got)
	}
	odd := parseOne(t, record(map[string]string{"event_type": `"jane@example.com"`}))
	if got := UnclassifiedKey(&odd, c.Classify(&odd)); strings.Contains(got, "jane") {
		t.Errorf("key %q names the producer's unsafe event type", got)
	}
	inter := parseOne(t, record(map[string]string{"event_type": `"interaction"`, "event_name": `"<script>:1:+15551234567"`}))
	if got := UnclassifiedKey(&inter, c.Classify(&inter)); got != "interaction/"+UnsafeName+":"+UnsafeName {
		t.Errorf("key %q, want unsafe names replaced", got)
	}
}

func TestDerivedEventIDMatchesTheDocumentedKey(t *testing.T) {
	at := time.Date(2026, 11, 27, 10, 0, 0, 123456000, time.UTC)
	derived := DeriveEventID("NX-1", "track", "clicked_upgrade", "u1", "c1", at)
	if len(derived) != 16 || strings.Trim(derived, "0123456789abcdef") != "" {
		t.Fatalf("derived id %q, want 16 hex digits", derived)
	}
	with := parseOne(t, record(map[string]string{"internal_event_id": `"` + derived + `"`}))
	without := parseOne(t, record(map[string]string{"internal_event_id": ""}))
	if with.InternalEventID != without.InternalEventID || with.IDDerived || !without.IDDerived {
		t.Errorf("with the field %q (derived %v), without %q (derived %v): want the same id, derived only without",
			with.InternalEventID, with.IDDerived, without.InternalEventID, without.IDDerived)
	}
	ms := parseOne(t, record(map[string]string{"internal_event_id": "", "inserted_at": "1796119200123"}))
	us := parseOne(t, record(map[string]string{"internal_event_id": "", "inserted_at": `"1796119200123456"`}))
	iso := parseOne(t, record(map[string]string{"internal_event_id": "", "inserted_at": `"2026-12-01T10:00:00.123Z"`}))
	if ms.InternalEventID != iso.InternalEventID {
		t.Errorf("ms %q and ISO %q of one instant derive different ids", ms.InternalEventID, iso.InternalEventID)
	}
	if us.InternalEventID == ms.InternalEventID {
		t.Errorf("µs and ms times 456µs apart derive one id %q", us.InternalEventID)
	}
	for name, other := range map[string]string{
		"user":    DeriveEventID("NX-1", "track", "clicked_upgrade", "u2", "c1", at),
		"company": DeriveEventID("NX-1", "track", "clicked_upgrade", "u1", "", at),
		"time":    DeriveEventID("NX-1", "track", "clicked_upgrade", "u1", "c1", at.Add(time.Microsecond)),
		"shifted": DeriveEventID("NX-1", "track", "clicked_upgradeu", "1", "c1", at),
	} {
		if other == derived {
			t.Errorf("%s differs but derives the same id", name)
		}
	}
}

func TestInsertedAtAsEpochNumbers(t *testing.T) {
	want := time.Date(2026, 12, 1, 10, 0, 0, 123000000, time.UTC)
	for _, v := range []string{"1796119200123", `"1796119200123"`, "1796119200123000", `"2026-12-01T10:00:00.123Z"`} {
		e := parseOne(t, record(map[string]string{"inserted_at": v}))
		if !e.InsertedAt.Equal(want) || e.InsertedAt.Location() != time.UTC {
			t.Errorf("inserted_at %s: got %v, want %v", v, e.InsertedAt, want)
		}
	}
	if e := parseOne(t, record(map[string]string{"inserted_at": "1796119200123456"})); !e.InsertedAt.Equal(want.Add(456 * time.Microsecond)) {
		t.Errorf("microseconds: got %v", e.InsertedAt)
	}
	for _, bad := range []string{"1796119200", "-1", "1.5e12", "true", `"17961192001234567890"`, "99999999999999999"} {
		if p := parseProblem(t, record(map[string]string{"inserted_at": bad}), time.Time{}); p.Code != CodeBadTimestamp || p.Field != "inserted_at" {
			t.Errorf("inserted_at %s: problem %v, want bad_timestamp", bad, p)
		}
	}
}

func TestSDKStatusesAreClassified(t *testing.T) {
	c, err := NewClassifier(config.Activity{})
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name string
		cat  Category
		st   string
	}{
		{"nps:7:STARTED", NPS, "started"}, {"nps:7:SKIPPED", NPS, "skipped"}, {"nps:7:SUBMITTED", NPS, "submitted"},
		{"survey:3:STARTED", Surveys, "started"}, {"survey:3:SKIPPED", Surveys, "skipped"}, {"survey:3:SUBMITTED", Surveys, "submitted"},
	} {
		e := parseOne(t, record(map[string]string{"event_type": `"interaction"`, "event_name": `"` + tt.name + `"`}))
		cl := c.Classify(&e)
		if cl.Kind != KindActivity || cl.Category != tt.cat || cl.Status != tt.st {
			t.Errorf("%s: class %+v, want %s %s", tt.name, cl, tt.cat, tt.st)
		}
	}
}

func TestFutureEventTimesAreRefused(t *testing.T) {
	now := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	p := parseProblem(t, record(map[string]string{"inserted_at": `"2099-01-01T00:00:00Z"`}), now)
	if p.Code != CodeFutureTime || p.Field != "inserted_at" {
		t.Errorf("problem %v, want future_timestamp on inserted_at", p)
	}
	late := now.Add(MaxFutureSkew + time.Second).Format(time.RFC3339Nano)
	if p := parseProblem(t, record(map[string]string{"inserted_at": `"` + late + `"`}), now); p.Code != CodeFutureTime {
		t.Errorf("just past the skew: problem %v, want future_timestamp", p)
	}
	skewed := now.Add(MaxFutureSkew - time.Second).Format(time.RFC3339Nano)
	if evs, errs := ParseAt("m1", []byte(record(map[string]string{"inserted_at": `"` + skewed + `"`})), now); len(errs) > 0 || len(evs) != 1 {
		t.Errorf("within the skew: problems %v", errs)
	}
}

func TestIDsWithInvalidTextAreRefused(t *testing.T) {
	for _, tt := range []struct{ field, value string }{
		{"user_id", "\"u\xff\""},
		{"user_id", "\"u\xfe\""},
		{"user_id", `"u\ud800"`},
		{"user_id", `"u\udc00x"`},
		{"internal_event_id", `"e\ud83d"`},
		{"company_id", "\"c\xc3\""},
		{"app_token", `"NX-\ud800\u0041"`},
		{"event_name", "\"n\xff\""},
	} {
		p := parseProblem(t, record(map[string]string{tt.field: tt.value}), time.Time{})
		if p.Code != CodeInvalidField || p.Field != tt.field {
			t.Errorf("%s=%q: problem %v, want invalid_field on %s", tt.field, tt.value, p, tt.field)
		}
	}
	// A valid surrogate pair and escaped backslashes are text.
	e := parseOne(t, record(map[string]string{"user_id": `"u\ud83d\ude00"`, "company_id": `"c\\ud800"`}))
	if e.UserID != "u😀" || e.CompanyID != `c\ud800` {
		t.Errorf("got user %q company %q", e.UserID, e.CompanyID)
	}
}

func TestIdentifyPropertyNamesStayOutOfProblems(t *testing.T) {
	ident := func(meta string) string {
		return record(map[string]string{"event_type": `"identify_user"`, "event_name": "", "metadata": meta})
	}
	for _, name := range []string{"+15551234567", "<script>", "jane@example.com", "a b"} {
		p := parseProblem(t, ident(`{"`+name+`":{"x":1}}`), time.Time{})
		if p.Code != CodeBadMetadata || strings.Contains(p.Error(), name) {
			t.Errorf("name %q: problem %q names it (or code %s)", name, p.Error(), p.Code)
		}
	}
	if p := parseProblem(t, ident(`{"plan_tier":[1]}`), time.Time{}); !strings.Contains(p.Error(), "plan_tier") {
		t.Errorf("safe name: problem %q should name plan_tier", p.Error())
	}
	// Two names that differ only in invalid bytes would decode to one.
	if p := parseProblem(t, ident("{\"a\xff\":1,\"a\xfe\":2}"), time.Time{}); p.Code != CodeBadMetadata {
		t.Errorf("invalid names: problem %v, want bad_metadata", p)
	}
	// An invalid value is kept (decoded with U+FFFD), the event not lost.
	if e := parseOne(t, ident("{\"note\":\"x\xff\"}")); e.Properties["note"] != "x\uFFFD" {
		t.Errorf("note = %q", e.Properties["note"])
	}
}
