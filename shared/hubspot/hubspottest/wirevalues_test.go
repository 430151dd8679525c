package hubspottest_test

import (
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/pilotsync/pilotsync/shared/hubspot/hubspottest"
)

// TestDateValuesBothForms: reads hand dates back as YYYY-MM-DD (default)
// or epoch milliseconds at midnight UTC, however they were written, and
// date-times as ISO 8601 UTC.
func TestDateValuesBothForms(t *testing.T) {
	day := time.Date(2026, 11, 27, 0, 0, 0, 0, time.UTC)
	at := time.Date(2026, 11, 27, 10, 0, 0, 123e6, time.UTC)
	for _, tt := range []struct{ opt, want string }{
		{"", "2026-11-27"},
		{hubspottest.DateValuesISO, "2026-11-27"},
		{hubspottest.DateValuesEpochMillis, strconv.FormatInt(day.UnixMilli(), 10)},
	} {
		t.Run("dates "+tt.opt, func(t *testing.T) {
			s := hubspottest.NewTestServer(t, hubspottest.Options{DateValues: tt.opt})
			s.CreateProperty("contacts", hubspottest.Property{Name: "renewal", Type: "date", FieldType: "date"})
			s.CreateProperty("contacts", hubspottest.Property{Name: "seen", Type: "datetime", FieldType: "date"})
			ids := s.AddRecords("contacts", []hubspottest.SeedRecord{
				{Properties: map[string]string{"renewal": "2026-11-27", "seen": strconv.FormatInt(at.UnixMilli(), 10)}},
				{Properties: map[string]string{"renewal": strconv.FormatInt(day.UnixMilli(), 10), "seen": "2026-11-27T11:00:00.123+01:00"}},
			})
			for _, id := range ids {
				var got struct {
					Properties map[string]*string `json:"properties"`
				}
				call(t, s, "GET", "/crm/v3/objects/contacts/"+id+"?properties=renewal,seen", nil).json(t, &got)
				if v := got.Properties["renewal"]; v == nil || *v != tt.want {
					t.Errorf("record %s: renewal = %v, want %s", id, deref(v), tt.want)
				}
				if v := got.Properties["seen"]; v == nil || *v != "2026-11-27T10:00:00.123Z" {
					t.Errorf("record %s: seen = %v, want ISO UTC", id, deref(v))
				}
			}
		})
	}
}

func deref(p *string) string {
	if p == nil {
		return "<nil>"
	}
	return *p
}

// TestSeedValuesAreValidated: fixtures cannot give typed properties values
// HubSpot's API would refuse.
func TestSeedValuesAreValidated(t *testing.T) {
	s := hubspottest.NewTestServer(t, hubspottest.Options{})
	s.CreateProperty("contacts", hubspottest.Property{Name: "score", Type: "number", FieldType: "number"})
	s.CreateProperty("contacts", hubspottest.Property{Name: "vip", Type: "bool", FieldType: "booleancheckbox"})
	s.CreateProperty("contacts", hubspottest.Property{Name: "renewal", Type: "date", FieldType: "date"})
	s.CreateProperty("contacts", hubspottest.Property{Name: "tier", Type: "enumeration", FieldType: "select",
		Options: []hubspottest.PropertyOption{{Label: "Gold", Value: "gold"}}})
	for _, bad := range []map[string]string{
		{"score": "1e3"}, {"score": "12abc"}, {"vip": "yes"}, {"renewal": "27/11/2026"},
		{"renewal": "1795773600123"}, {"tier": "platinum"},
	} {
		for name, seed := range map[string]func(){
			"AddRecords": func() { s.AddRecords("contacts", []hubspottest.SeedRecord{{Properties: bad}}) },
			"Update": func() {
				id := s.AddRecords("contacts", []hubspottest.SeedRecord{{Properties: map[string]string{"email": "x@y.z"}}})[0]
				s.Update("contacts", id, bad)
			},
		} {
			func() {
				defer func() {
					r := recover()
					if r == nil || !strings.Contains(r.(string), "seed value") {
						t.Errorf("%s(%v): recovered %v, want a seed value panic", name, bad, r)
					}
				}()
				seed()
			}()
		}
	}
	// Valid values, read-only and undefined properties pass.
	s.AddRecords("contacts", []hubspottest.SeedRecord{{Properties: map[string]string{
		"score": "1000", "vip": "false", "renewal": "2026-11-27", "tier": "gold", "undefined_prop": "anything", "hs_additional_emails": "a@b.c;d@e.f",
	}}})
}

// TestRequestBatchInputs: a batch update's body decodes to id -> properties;
// a body that is not JSON is an error naming the request.
func TestRequestBatchInputs(t *testing.T) {
	r := hubspottest.Request{Method: "POST", Path: "/crm/v3/objects/contacts/batch/update", Body: []byte(`{"inputs":[{"id":"1","properties":{"a":"x"}},{"id":"2","properties":{"b":""}}]}`)}
	got, err := r.BatchInputs()
	if err != nil || len(got) != 2 || got["1"]["a"] != "x" || got["2"]["b"] != "" || len(got["2"]) != 1 {
		t.Errorf("BatchInputs = %v, %v", got, err)
	}
	r.Body = []byte("{")
	if _, err := r.BatchInputs(); err == nil || !strings.Contains(err.Error(), r.Path) {
		t.Errorf("bad body: %v, want an error naming %s", err, r.Path)
	}
}
