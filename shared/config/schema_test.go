package config_test

import (
	"bytes"
	"encoding/json"
	"os"
	"slices"
	"testing"

	"github.com/pilotsync/pilotsync/shared/config"
)

const committedSchema = "../../integration.schema.json"

func TestCommittedSchemaIsGenerated(t *testing.T) {
	want, err := config.Schema()
	if err != nil {
		t.Fatalf("Schema: %v", err)
	}
	got, err := os.ReadFile(committedSchema)
	if err != nil {
		t.Fatalf("read committed schema: %v", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("integration.schema.json differs from what the Go types generate: run `go generate ./shared/config` and commit it")
	}
}

// schemaNode is the part of a JSON Schema the tests look at.
type schemaNode struct {
	Ref                  string                 `json:"$ref"`
	Type                 string                 `json:"type"`
	Description          string                 `json:"description"`
	Enum                 []string               `json:"enum"`
	Default              any                    `json:"default"`
	AdditionalProperties any                    `json:"additionalProperties"`
	Properties           map[string]*schemaNode `json:"properties"`
	Defs                 map[string]*schemaNode `json:"$defs"`
}

func TestSchemaContents(t *testing.T) {
	data, err := config.Schema()
	if err != nil {
		t.Fatalf("Schema: %v", err)
	}
	var root schemaNode
	if err := json.Unmarshal(data, &root); err != nil {
		t.Fatalf("schema is not JSON: %v", err)
	}
	if root.AdditionalProperties != false {
		t.Errorf("root additionalProperties: got %v, want false", root.AdditionalProperties)
	}
	for name, def := range root.Defs {
		if def.Type == "object" && def.Properties != nil && def.AdditionalProperties != false {
			t.Errorf("%s additionalProperties: got %v, want false (unknown keys are errors)", name, def.AdditionalProperties)
		}
		for key, p := range def.Properties {
			if p.Description == "" && p.Ref == "" {
				t.Errorf("%s.%s has no description", name, key)
			}
		}
	}
	for _, key := range []string{"userpilot", "hubspot", "mapping", "measured", "activity", "notifications", "schedule"} {
		if root.Properties[key] == nil {
			t.Errorf("root property %s missing", key)
		}
	}
	prop := func(def, key string) *schemaNode {
		t.Helper()
		d := root.Defs[def]
		if d == nil || d.Properties[key] == nil {
			t.Fatalf("no property %s.%s in schema", def, key)
		}
		return d.Properties[key]
	}
	enums := []struct {
		def, key string
		want     []string
	}{
		{"Userpilot", "environment", []string{"production", "staging"}},
		{"HubSpot", "api_version", []string{"2026-03", "v3"}},
		{"HubSpot", "tier", []string{"free", "starter", "professional", "enterprise"}},
		{"Activity", "sink", []string{"custom_events", "timeline", "app_events", "none"}},
		{"CategoryFilter", "name", config.Categories()},
		{"MeasuredMapping", "metric", []string{"sessions", "events", "active_days", "time_spent_seconds", "first_seen", "last_seen", "country_code", "browser", "operating_system", "device_type", "last_page", "last_seen_date"}},
	}
	for _, e := range enums {
		if got := prop(e.def, e.key).Enum; !slices.Equal(got, e.want) {
			t.Errorf("%s.%s enum: got %v, want %v", e.def, e.key, got, e.want)
		}
	}
	defaults := []struct {
		def, key string
		want     any
	}{
		{"HubSpot", "api_version", "2026-03"},
		{"Schedule", "poll_every", "5m"},
		{"Notifications", "repeat_after", "24h"},
		{"Measured", "period_days", float64(30)},
	}
	for _, d := range defaults {
		if got := prop(d.def, d.key).Default; got != d.want {
			t.Errorf("%s.%s default: got %v, want %v", d.def, d.key, got, d.want)
		}
	}
	if got := prop("Schedule", "poll_every").Type; got != "string" {
		t.Errorf("durations: got type %q, want string", got)
	}
}
