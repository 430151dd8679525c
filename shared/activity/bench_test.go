package activity

import (
	"encoding/json"
	"fmt"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/pilotsync/pilotsync/shared/config"
)

// benchBody is one message of n records across every category.
func benchBody(n int) []byte {
	names := []struct{ typ, name, meta string }{
		{TypeTrackFeature, "ft_1", `{"plan":"pro"}`},
		{TypeTrack, "clicked_upgrade", `{"plan":"pro","seats":4}`},
		{TypeTrack, "saved_report", `{"labeled":true}`},
		{TypePageView, "", ``},
		{TypeInteraction, "checklist:2:COMPLETED", ``},
		{TypeInteraction, "experience:448:SEEN", ``},
		{TypeInteraction, "mobile:9:DISMISSED", ``},
		{TypeInteraction, "nps:3:FEEDBACK", `{"score":9,"feedback":"good"}`},
		{TypeInteraction, "survey:5:SUBMITTED", ``},
		{TypeInteraction, "form:6:SUBMITTED", ``},
	}
	var b strings.Builder
	b.WriteByte('[')
	for i := range n {
		k := names[i%len(names)]
		if i > 0 {
			b.WriteByte(',')
		}
		meta := ""
		if k.meta != "" {
			meta = `,"metadata":` + k.meta
		}
		fmt.Fprintf(&b, `{"app_token":"NX-1","event_type":%q,"event_name":%q,"user_id":"user-%d","company_id":"co-%d","source":"web-client","hostname":"app.example.com","pathname":"/settings/team","country_code":"DE","browser":"Firefox","operating_system":"Linux","device_type":"desktop","session":"s-%d","inserted_at":"2026-11-27T10:00:%02d.%06dZ","internal_event_id":"evt-%d"%s}`,
			k.typ, k.name, i%97, i%13, i%31, i%60, i, i, meta)
	}
	b.WriteByte(']')
	return []byte(b.String())
}

// sinkInput is the HubSpot custom event send input the encode step produces.
type sinkInput struct {
	EventName  string            `json:"eventName"`
	ObjectID   string            `json:"objectId"`
	OccurredAt string            `json:"occurredAt"`
	UUID       string            `json:"uuid"`
	Properties map[string]string `json:"properties"`
}

func cpuTime() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkPipeline reports the CPU per event of parse + classify + encode, and
// its ratio to plain encoding/json decode + encode of the same records, both
// measured in the same run (metrics cpu-ns/event, json-cpu-ns/event, x-json).
func BenchmarkPipeline(b *testing.B) {
	const records = 500
	body := benchBody(records)
	c, err := NewClassifier(config.Activity{Pages: []config.PageRule{{Name: "settings", Path: "/settings/*"}}})
	if err != nil {
		b.Fatal(err)
	}
	ours := func() {
		evs, probs := Parse("bench", body)
		if len(probs) > 0 {
			b.Fatal(probs[0])
		}
		out := make([]sinkInput, 0, len(evs))
		for i := range evs {
			cl := c.Classify(&evs[i])
			if cl.Kind != KindActivity {
				continue
			}
			o := c.Encode(&evs[i], cl)
			out = append(out, sinkInput{EventName: o.Name, ObjectID: "1", OccurredAt: o.OccurredAt.Format(time.RFC3339Nano), UUID: o.EventID, Properties: o.Properties})
		}
		if _, err := json.Marshal(out); err != nil {
			b.Fatal(err)
		}
	}
	plain := func() {
		var v []map[string]any
		if err := json.Unmarshal(body, &v); err != nil {
			b.Fatal(err)
		}
		if _, err := json.Marshal(v); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportAllocs()
	b.SetBytes(int64(len(body)))
	var n int
	start := cpuTime()
	for b.Loop() {
		ours()
		n++
	}
	oursCPU := cpuTime() - start
	b.StopTimer()
	start = cpuTime()
	for range n {
		plain()
	}
	plainCPU := cpuTime() - start
	perOurs := float64(oursCPU.Nanoseconds()) / float64(n*records)
	perPlain := float64(plainCPU.Nanoseconds()) / float64(n*records)
	b.ReportMetric(perOurs, "cpu-ns/event")
	b.ReportMetric(perPlain, "json-cpu-ns/event")
	b.ReportMetric(perOurs/perPlain, "x-json")
}
