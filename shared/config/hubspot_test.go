package config_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/pilotsync/pilotsync/shared/config"
)

// fakeCatalog serves properties per object type and counts calls.
type fakeCatalog struct {
	props map[string][]config.HubSpotProperty
	err   map[string]error
	calls map[string]int
}

func (f *fakeCatalog) Properties(_ context.Context, objectType string) ([]config.HubSpotProperty, error) {
	if f.calls == nil {
		f.calls = map[string]int{}
	}
	f.calls[objectType]++
	if err := f.err[objectType]; err != nil {
		return nil, err
	}
	return f.props[objectType], nil
}

func newCatalog() *fakeCatalog {
	return &fakeCatalog{props: map[string][]config.HubSpotProperty{
		"contacts": {
			{Name: "email", Type: "string"}, // unique by HubSpot's own rule, not flagged
			{Name: "jobtitle", Type: "string"},
			{Name: "hs_additional_emails", Type: "enumeration", ReadOnlyValue: true},
			{Name: "up_plan", Type: "string"},
			{Name: "up_sessions", Type: "number"},
			{Name: "up_last_seen", Type: "date"},
			{Name: "hs_lifecyclestage_lead_date", Type: "datetime", ReadOnlyValue: true},
			{Name: "num_notes", Type: "number", Calculated: true},
			{Name: "external_id", Type: "string", HasUniqueValue: true},
		},
		"companies": {
			{Name: "domain", Type: "string"},
			{Name: "userpilot_company_id", Type: "string", HasUniqueValue: true},
			{Name: "industry", Type: "enumeration"},
			{Name: "up_active_days", Type: "number"},
		},
	}}
}

func TestCheckHubSpot(t *testing.T) {
	tests := []struct {
		name string
		src  string
		cat  func() *fakeCatalog
		want []string // "line field: message fragment"
	}{
		{"all good", `
mapping:
  users:
    inbound: [{hubspot: jobtitle}, {hubspot: hs_additional_emails, userpilot: other_emails}]
    outbound: [{userpilot: plan, hubspot: up_plan}]
    measured: [{metric: sessions, hubspot: up_sessions}, {metric: last_seen, hubspot: up_last_seen}]
  companies:
    match: {hubspot: userpilot_company_id}
    inbound: [{hubspot: industry}]
    measured: [{metric: active_days, hubspot: up_active_days}]
`, newCatalog, nil},
		{"unknown, read-only, calculated, wrong type, not unique", `
mapping:
  users:
    match: {hubspot: emial}
    inbound: [{hubspot: jobtitel}]
    outbound:
      - {userpilot: x, hubspot: hs_lifecyclestage_lead_date}
      - {userpilot: y, hubspot: num_notes}
    measured:
      - {metric: first_seen, hubspot: up_sessions}
  companies:
    match: {hubspot: domain}
`, newCatalog, []string{
			`4 mapping.users.match.hubspot: property "emial" is not a known contact property (did you mean "email"?)`,
			`5 mapping.users.inbound[0].hubspot: property "jobtitel" is not a known contact property (did you mean "jobtitle"?)`,
			`7 mapping.users.outbound[0].hubspot: property "hs_lifecyclestage_lead_date" is read-only`,
			`8 mapping.users.outbound[1].hubspot: property "num_notes" is calculated by HubSpot`,
			`10 mapping.users.measured[0].hubspot: property "up_sessions" has type number, but metric first_seen needs date or datetime`,
			`12 mapping.companies.match.hubspot: property "domain" does not require unique values`,
		}},
		{"unique flag and record id are unique", `
mapping:
  users: {match: {userpilot: user_id, hubspot: external_id}}
  companies: {match: {hubspot: hs_object_id}}
`, func() *fakeCatalog {
			c := newCatalog()
			c.props["companies"] = append(c.props["companies"], config.HubSpotProperty{Name: "hs_object_id", Type: "number"})
			return c
		}, nil},
		{"catalog error names the object and skips its mappings", `
mapping:
  users: {hubspot_object: "2-77", inbound: [{hubspot: anything}]}
  companies: {match: {hubspot: userpilot_company_id}, inbound: [{hubspot: industri}]}
`, func() *fakeCatalog {
			c := newCatalog()
			c.err = map[string]error{"2-77": errors.New("hubspot: not found")}
			return c
		}, []string{
			`3 mapping.users.hubspot_object: cannot list the HubSpot 2-77 properties: hubspot: not found`,
			`4 mapping.companies.inbound[0].hubspot: property "industri" is not a known company property`,
		}},
		{"disabled mappings are not checked", `
mapping:
  users: {enabled: false, inbound: [{hubspot: nope}]}
  companies: {match: {hubspot: userpilot_company_id}}
activity: {sink: none}
`, newCatalog, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, err := config.Parse("integration.yaml", []byte(tt.src))
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			cat := tt.cat()
			got := cfg.CheckHubSpot(context.Background(), cat)
			if len(got) != len(tt.want) {
				for _, p := range got {
					t.Log(p)
				}
				t.Fatalf("got %d problems, want %d", len(got), len(tt.want))
			}
			for i, w := range tt.want {
				var line int
				var field, msg string
				head, msg, _ := strings.Cut(w, ": ")
				if _, err := fmt.Sscan(head, &line, &field); err != nil {
					t.Fatalf("bad want %q", w)
				}
				if got[i].Line != line || got[i].Field != field || !strings.Contains(got[i].Message, msg) || got[i].File != "integration.yaml" {
					t.Errorf("problem %d: got %s, want line %d %s: %s", i, got[i], line, field, msg)
				}
			}
			for obj, n := range cat.calls {
				if n != 1 {
					t.Errorf("Properties(%s) called %d times, want once", obj, n)
				}
			}
		})
	}
}
