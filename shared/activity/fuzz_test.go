package activity

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/pilotsync/pilotsync/shared/config"
)

// FuzzParse checks that no body makes the parser panic, that every problem is
// well-formed and free of the body's values, and that every event it accepts
// survives a round trip through the wire format and classifies without panic.
// Seed corpus: testdata/fuzz/FuzzParse plus the seeds below.
func FuzzParse(f *testing.F) {
	f.Add([]byte(validTrack))
	f.Add([]byte("[" + validTrack + "," + validTrack + "]"))
	f.Add([]byte(validTrack + "\n" + validTrack))
	f.Add([]byte(`{"app_token":"STG-1","event_type":"interaction","event_name":"experience:448:COMPLETED","user_id":1,"inserted_at":"2026-11-27 10:00:00.123456","internal_event_id":"x"}`))
	f.Add([]byte(`{"app_token":"a","event_type":"identify_user","user_id":"u","inserted_at":"2026-11-27T10:00:00Z","internal_event_id":"x","metadata":{"a":null,"b":[1]}}`))
	f.Add([]byte(`[1,"a",null,{}]`))
	f.Add([]byte(`{`))
	c, err := NewClassifier(config.Activity{Pages: []config.PageRule{{Name: "p", Path: "/*"}}})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		evs, problems := Parse("fz", body)
		for _, p := range problems {
			if p.MessageID != "fz" || p.Code == "" || p.Problem == "" || p.Record < -1 {
				t.Fatalf("malformed problem %+v", p)
			}
			if p.Record == -1 && len(evs) > 0 {
				t.Fatalf("whole-message problem %v alongside %d events", p, len(evs))
			}
		}
		for _, e := range evs {
			if e.Type == "" || e.AppToken == "" || e.InternalEventID == "" || e.InsertedAt.IsZero() {
				t.Fatalf("accepted event missing required fields: %+v", e)
			}
			if e.InsertedAt.Location().String() != "UTC" || e.InsertedAt.Nanosecond()%1000 != 0 {
				t.Fatalf("inserted_at %v not UTC microseconds", e.InsertedAt)
			}
			// Round trip: the event re-encoded parses to the same event.
			w := wireEvent{AppToken: strictString(e.AppToken), EventType: strictString(e.Type), EventName: flexString(e.Name), UserID: flexString(e.UserID),
				CompanyID: flexString(e.CompanyID), Source: strictString(e.Source), InsertedAt: json.RawMessage(`"` + e.InsertedAt.Format("2006-01-02T15:04:05.000000Z") + `"`),
				InternalEventID: flexString(e.InternalEventID), Hostname: strictString(e.Hostname), Pathname: strictString(e.Pathname), Session: flexString(e.Session),
				CountryCode: strictString(e.CountryCode), Browser: strictString(e.Browser), OperatingSystem: strictString(e.OperatingSystem), DeviceType: strictString(e.DeviceType), Metadata: e.Metadata}
			b, err := json.Marshal(w)
			if err != nil {
				t.Fatalf("re-encode: %v", err)
			}
			again, probs := Parse("fz", b)
			if len(probs) > 0 || len(again) != 1 {
				t.Fatalf("round trip of %s: %v", b, probs)
			}
			g := again[0]
			if g.Type != e.Type || g.UserID != e.UserID || g.Name != e.Name || !g.InsertedAt.Equal(e.InsertedAt) || g.InternalEventID != e.InternalEventID {
				t.Fatalf("round trip changed the event: %+v vs %+v", g, e)
			}
			cl := c.Classify(&e)
			if cl.Kind == KindActivity {
				o := c.Encode(&e, cl)
				if !strings.HasPrefix(o.Name, DefaultEventNamePrefix+"_") || o.Status == "" {
					t.Fatalf("bad occurrence %+v", o)
				}
				for k, v := range o.Properties {
					if len([]rune(v)) > MaxPropertyValueLen || v == "" {
						t.Fatalf("property %s has %d characters", k, len([]rune(v)))
					}
				}
			}
		}
	})
}
