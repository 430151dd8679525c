package config_test

import (
	"reflect"
	"testing"
	"time"

	"github.com/pilotsync/pilotsync/shared/config"
)

func TestExampleLoads(t *testing.T) {
	cfg, err := config.Load("../../integration.example.yaml")
	if err != nil {
		t.Fatalf("Load(integration.example.yaml): %v", err)
	}
	checks := []struct {
		name      string
		got, want any
	}{
		{"environment", cfg.Userpilot.Environment, config.EnvProduction},
		{"users object", cfg.Mapping.Users.HubSpotObject, "contacts"},
		{"users match", cfg.Mapping.Users.Match, config.Match{Userpilot: "email", HubSpot: "email", AdditionalEmails: new(true)}},
		{"companies match hubspot", cfg.Mapping.Companies.Match.HubSpot, "userpilot_company_id"},
		{"inbound name defaulted from hubspot side", cfg.Mapping.Users.Inbound[1], config.PropertyMapping{HubSpot: "jobtitle", Userpilot: "jobtitle"}},
		{"api version", cfg.HubSpot.APIVersion, config.APIVersion202603},
		{"sink", cfg.Activity.Sink, config.SinkCustomEvents},
		{"enabled_at", *cfg.Activity.EnabledAt, time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)},
		{"period", cfg.Measured.PeriodDays, 30},
		{"session timeout", cfg.Measured.SessionTimeout.D(), 30 * time.Minute},
		{"poll every", cfg.Schedule.PollEvery.D(), 5 * time.Minute},
		{"daily at", cfg.Schedule.DailyAt, "03:00"},
		{"repeat after", cfg.Notifications.RepeatAfter.D(), 24 * time.Hour},
		{"flows statuses", cfg.Activity.Categories[0].Statuses, []string{"completed", "dismissed"}},
		{"line of users.match.hubspot", cfg.Line("mapping.users.match.hubspot"), 47},
	}
	for _, c := range checks {
		if !equal(c.got, c.want) {
			t.Errorf("%s: got %#v, want %#v", c.name, c.got, c.want)
		}
	}
}

func equal(a, b any) bool { return reflect.DeepEqual(a, b) }
