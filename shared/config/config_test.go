package config_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/pilotsync/pilotsync/shared/config"
)

// problems parses src and returns the problems, failing the test when the
// error is not a *config.Error.
func problems(t *testing.T, src string) []config.Problem {
	t.Helper()
	_, err := config.Parse("integration.yaml", []byte(src))
	if err == nil {
		return nil
	}
	var ce *config.Error
	if !errors.As(err, &ce) {
		t.Fatalf("Parse: got error %T %v, want *config.Error", err, err)
	}
	return ce.Problems
}

// minimal is the smallest valid file: companies have no default match property.
const minimal = `
mapping:
  companies:
    match:
      hubspot: userpilot_company_id
`

func TestParseReportsEveryProblemWithItsLine(t *testing.T) {
	src := `userpilot:
  environment: prod
hubspot:
  api_version: v4
  tier: professional
mapping:
  users:
    match:
      hubspot: Email
    inbond:
      - hubspot: firstname
    outbound:
      - userpilot: plan
        hubspot: userpilot_plan
      - userpilot: tier
        hubspot: userpilot_plan
  companies:
    match:
      hubspot: userpilot_company_id
measured:
  period_days: thirty
activity:
  pages:
    - name: settings
      path: /settings/[a
notifications:
  recipients: [not-an-email]
schedule:
  daily_at: "25:00"
  poll_every: 5 minutes
`
	want := []config.Problem{
		{Line: 2, Field: "userpilot.environment", Message: `"prod" is not one of production, staging (did you mean "production"?)`},
		{Line: 4, Field: "hubspot.api_version", Message: `"v4" is not one of 2026-03, v3 (did you mean "v3"?)`},
		{Line: 9, Field: "mapping.users.match.hubspot", Message: `"Email" is not a HubSpot property name`},
		{Line: 10, Field: "mapping.users.inbond", Message: `unknown key "inbond" (did you mean "inbound"?)`},
		{Line: 16, Field: "mapping.users.outbound[1].hubspot", Message: `HubSpot property "userpilot_plan" is already a target (line 14)`},
		{Line: 21, Field: "measured.period_days", Message: `want a whole number, got "thirty"`},
		{Line: 25, Field: "activity.pages[0].path", Message: `"/settings/[a" is not a valid path.Match pattern`},
		{Line: 26, Field: "notifications.sender", Message: "required when recipients are set"},
		{Line: 27, Field: "notifications.recipients[0]", Message: `"not-an-email" is not an email address`},
		{Line: 29, Field: "schedule.daily_at", Message: `want a UTC time of day as HH:MM (00:00 to 23:59), got "25:00"`},
		{Line: 30, Field: "schedule.poll_every", Message: `want a duration such as 30s, 5m or 24h, got "5 minutes"`},
	}
	got := problems(t, src)
	if len(got) != len(want) {
		for _, p := range got {
			t.Log(p)
		}
		t.Fatalf("got %d problems, want %d", len(got), len(want))
	}
	for i, w := range want {
		g := got[i]
		if g.File != "integration.yaml" || g.Line != w.Line || g.Field != w.Field || !strings.Contains(g.Message, w.Message) {
			t.Errorf("problem %d: got %s, want integration.yaml:%d: %s: ...%s...", i, g, w.Line, w.Field, w.Message)
		}
	}
}

func TestErrorFormatsOneProblemPerLine(t *testing.T) {
	err := &config.Error{Problems: []config.Problem{
		{File: "integration.yaml", Line: 14, Field: "mapping.users.match.hubspot", Message: `property "emial" is not a known contact property`},
		{File: "integration.yaml", Field: "mapping.companies.match.hubspot", Message: "required"},
		{File: "integration.yaml", Line: 1, Message: "invalid YAML: x"},
	}}
	want := `integration.yaml:14: mapping.users.match.hubspot: property "emial" is not a known contact property
integration.yaml: mapping.companies.match.hubspot: required
integration.yaml:1: invalid YAML: x`
	if got := err.Error(); got != want {
		t.Errorf("Error():\ngot  %s\nwant %s", got, want)
	}
}

func TestParseDefaults(t *testing.T) {
	cfg, err := config.Parse("integration.yaml", []byte(minimal))
	if err != nil {
		t.Fatalf("Parse(minimal): %v", err)
	}
	checks := []struct {
		name      string
		got, want any
	}{
		{"environment", cfg.Userpilot.Environment, "production"},
		{"userpilot base url", cfg.Userpilot.BaseURL, "https://analytex.userpilot.io"},
		{"identify company key", cfg.Userpilot.IdentifyCompanyKey, "both"},
		{"clear value", cfg.Userpilot.ClearValue, "null"},
		{"hubspot base url", cfg.HubSpot.BaseURL, "https://api.hubapi.com"},
		{"api version", cfg.HubSpot.APIVersion, "2026-03"},
		{"auth", cfg.HubSpot.Auth, "token"},
		{"tier", cfg.HubSpot.Tier, "professional"},
		{"users enabled", cfg.Mapping.Users.IsEnabled(), true},
		{"users object", cfg.Mapping.Users.HubSpotObject, "contacts"},
		{"users match userpilot", cfg.Mapping.Users.Match.Userpilot, "email"},
		{"users match hubspot", cfg.Mapping.Users.Match.HubSpot, "email"},
		{"users additional emails", *cfg.Mapping.Users.Match.AdditionalEmails, true},
		{"companies object", cfg.Mapping.Companies.HubSpotObject, "companies"},
		{"companies match userpilot", cfg.Mapping.Companies.Match.Userpilot, "company_id"},
		{"companies additional emails", *cfg.Mapping.Companies.Match.AdditionalEmails, false},
		{"period days", cfg.Measured.PeriodDays, 30},
		{"session timeout", cfg.Measured.SessionTimeout.D(), 30 * time.Minute},
		{"sink", cfg.Activity.Sink, "custom_events"},
		{"prefix", cfg.Activity.EventNamePrefix, "userpilot"},
		{"enabled at", cfg.Activity.EnabledAt == nil, true},
		{"repeat after", cfg.Notifications.RepeatAfter.D(), 24 * time.Hour},
		{"poll every", cfg.Schedule.PollEvery.D(), 5 * time.Minute},
		{"daily at", cfg.Schedule.DailyAt, "03:00"},
		{"search overlap", cfg.Schedule.SearchOverlap.D(), 2 * time.Minute},
		{"file", cfg.File(), "integration.yaml"},
		{"line of written field", cfg.Line("mapping.companies.match.hubspot"), 5},
		{"line of defaulted field falls back to parent", cfg.Line("mapping.companies.match.userpilot"), 4},
		{"line of field with no written ancestor", cfg.Line("schedule.daily_at"), 0},
	}
	for _, c := range checks {
		if !equal(c.got, c.want) {
			t.Errorf("%s: got %#v, want %#v", c.name, c.got, c.want)
		}
	}
}

func TestParseValidation(t *testing.T) {
	tests := []struct {
		name string
		src  string
		// want lists "field: message fragment" for each expected problem, in
		// order; empty means the file is valid.
		want []string
	}{
		{"minimal file is valid", minimal, nil},
		{"empty file needs the companies match", ``, []string{"mapping.companies.match.hubspot: required"}},
		{"companies disabled need no match", "mapping: {companies: {enabled: false}}", nil},
		{"syntax error keeps its line", "userpilot:\n  environment: [production\n", []string{": invalid YAML"}},
		{"top-level unknown key", minimal + "hubspt: {}\n", []string{`hubspt: unknown key "hubspt" (did you mean "hubspot"?)`}},
		{"unknown key far from any", minimal + "zzz: 1\n", []string{`zzz: unknown key "zzz"`}},
		{"duplicate key", minimal + "measured:\n  period_days: 7\n  period_days: 8\n", []string{`measured.period_days: duplicate key "period_days" (first set on line 7)`}},
		{"wrong shape", minimal + "activity: [1]\n", []string{"activity: want a mapping, got a list"}},
		{"bool", minimal + "hubspot: {public_app: maybe}\n", []string{`hubspot.public_app: want true or false, got "maybe"`}},
		{"staging and v3 are fine", minimal + "userpilot: {environment: staging}\nhubspot: {api_version: v3}\n", nil},
		{"identify company key", minimal + "userpilot: {identify_company_key: company}\n", []string{`userpilot.identify_company_key: "company" is not one of both, id, company_id`}},
		{"bad clear value", minimal + "userpilot: {clear_value: nil}\n", []string{`userpilot.clear_value: "nil" is not one of null, empty_string`}},
		{"auth", minimal + "hubspot: {auth: basic}\n", []string{`hubspot.auth: "basic" is not one of token, oauth`}},
		{"tier", minimal + "hubspot: {tier: pro}\n", []string{`hubspot.tier: "pro" is not one of free, starter, professional, enterprise`}},
		{"public app needs oauth", minimal + "hubspot: {public_app: true}\n", []string{"hubspot.public_app: a public app authenticates with OAuth"}},
		{"negative add-ons", minimal + "hubspot: {api_limit_increases: -1}\n", []string{"hubspot.api_limit_increases: must not be negative"}},
		{"url scheme", minimal + "hubspot: {base_url: ftp://api.hubapi.com}\n", []string{`hubspot.base_url: want an http(s) URL such as https://api.hubapi.com, got "ftp://api.hubapi.com"`}},
		{"url without host", minimal + "userpilot: {base_url: 'https://'}\n", []string{"userpilot.base_url: want an http(s) URL"}},
		{"local http url", minimal + "hubspot: {base_url: 'http://127.0.0.1:8080'}\n", nil},
		{"object types", `
mapping:
  users: {hubspot_object: "2-1234567"}
  companies: {hubspot_object: p_accounts, match: {hubspot: account_id}}
`, nil},
		{"object type ids of standard objects", "mapping: {users: {hubspot_object: '0-1'}, companies: {hubspot_object: '0-2', match: {hubspot: x}}}", nil},
		{"bad object type", `
mapping:
  users: {hubspot_object: contact}
  companies: {match: {hubspot: x}}
`, []string{`mapping.users.hubspot_object: "contact" is not a HubSpot object type`}},
		{"same object twice", `
mapping:
  users: {hubspot_object: companies}
  companies: {match: {hubspot: x}}
`, []string{"mapping.companies.hubspot_object: users and companies both map to HubSpot companies"}},
		{"users matched by company id", `
mapping:
  users: {match: {userpilot: company_id}}
  companies: {match: {hubspot: x}}
`, []string{"mapping.users.match.userpilot: users cannot be matched by company_id"}},
		{"additional emails without email", `
mapping:
  users: {match: {hubspot: hs_object_id, additional_emails: true}}
  companies: {match: {hubspot: x}}
`, []string{"mapping.users.match.additional_emails: only applies when match.hubspot is email"}},
		{"inbound both sides empty", minimal + `
  users:
    inbound:
      - {}
`, []string{"mapping.users.inbound[0].hubspot: a HubSpot property name is required", "mapping.users.inbound[0].userpilot: a Userpilot property name is required"}},
		{"inbound into reserved property", minimal + `
  users:
    inbound:
      - {hubspot: hs_object_id, userpilot: __hubspot__user_id}
`, []string{"mapping.users.inbound[0].userpilot: \"__hubspot__user_id\" uses the prefix __hubspot__"}},
		{"duplicate inbound mapping", minimal + `
  users:
    inbound:
      - {hubspot: jobtitle}
      - {hubspot: jobtitle, userpilot: jobtitle}
`, []string{"mapping.users.inbound[1]: duplicate mapping jobtitle -> jobtitle (also on line 9)"}},
		{"two sources for one userpilot property", minimal + `
  users:
    inbound:
      - {hubspot: jobtitle, userpilot: title}
      - {hubspot: hs_title, userpilot: title}
`, []string{`mapping.users.inbound[1].userpilot: Userpilot property "title" is already written from HubSpot "jobtitle" (line 9)`}},
		{"measured and outbound share a target", minimal + `
  users:
    outbound:
      - {userpilot: sessions}
    measured:
      - {metric: sessions, hubspot: sessions}
`, []string{`mapping.users.measured[0].hubspot: HubSpot property "sessions" is already a target (line 9)`}},
		{"unknown metric", minimal + `
  users:
    measured:
      - {metric: session, hubspot: up_sessions}
`, []string{`mapping.users.measured[0].metric: "session" is not one of sessions, events, active_days, time_spent_seconds, first_seen, last_seen, country_code, browser, operating_system, device_type, last_page, last_seen_date (did you mean "sessions"?)`}},
		{"period out of range", minimal + "measured: {period_days: 400}\n", []string{"measured.period_days: 400 is out of range: want 1 to 365"}},
		{"negative duration", minimal + "measured: {session_timeout: -5m}\n", []string{"measured.session_timeout: -5m0s is out of range"}},
		{"sink", minimal + "activity: {sink: custom}\n", []string{`activity.sink: "custom" is not one of custom_events, timeline, app_events, none`}},
		{"enabled_at not RFC 3339", minimal + "activity: {enabled_at: 2026-01-01}\n", []string{`activity.enabled_at: want an RFC 3339 time such as 2026-01-31T09:00:00Z, got "2026-01-01"`}},
		{"prefix", minimal + "activity: {event_name_prefix: User-Pilot}\n", []string{`activity.event_name_prefix: "User-Pilot" is not a valid event name prefix`}},
		{"unknown category", minimal + "activity: {categories: [{name: flow}]}\n", []string{`activity.categories[0].name: "flow" is not one of feature_tags`}},
		{"status of another category", minimal + "activity: {categories: [{name: forms, statuses: [seen]}]}\n", []string{`activity.categories[0].statuses[0]: "seen" is not a status of forms: want submitted`}},
		{"status added by a rule", minimal + `
activity:
  rules: [{event_type: interaction, entity_type: form, status: STARTED, category: forms}]
  categories: [{name: forms, statuses: [started, submitted]}]
`, nil},
		{"category listed twice", minimal + "activity: {categories: [{name: nps}, {name: nps}]}\n", []string{"activity.categories[1].name: category nps is already listed on line 6"}},
		{"tagged pages without pages", minimal + "activity: {categories: [{name: tagged_pages}]}\n", []string{"activity.categories[0].name: tagged_pages needs at least one rule in activity.pages"}},
		{"rule problems", minimal + `
activity:
  rules:
    - {event_type: track, entity_type: flow, category: flows}
    - {event_type: click, category: nowhere}
`, []string{"activity.rules[0].entity_type: only interaction events have an entity type", `activity.rules[1].event_type: "click" is not one of`, `activity.rules[1].category: "nowhere" is not one of`}},
		{"page problems", minimal + `
activity:
  pages:
    - {name: a, host: "https://app.example.com", path: settings}
    - {name: a, path: /x}
`, []string{`activity.pages[0].host: "https://app.example.com" is not a host name`, `activity.pages[0].path: want a path pattern starting with /`, `activity.pages[1].name: page name "a" is already used on line 9`}},
		{"timeline to a custom object", `
hubspot: {auth: oauth}
mapping:
  users: {hubspot_object: "2-99"}
  companies: {match: {hubspot: x}}
activity: {sink: timeline, categories: [{name: forms}], timeline_templates: {forms_submitted: "1"}}
`, []string{`activity.sink: timeline events can only be attached to contacts, companies, deals or tickets, but users map to the custom object "2-99" (mapping.users.hubspot_object): use sink custom_events or none`}},
		{"app events to a custom object", `
hubspot: {auth: oauth}
mapping:
  users: {hubspot_object: p_members}
  companies: {match: {hubspot: x}}
activity: {sink: app_events, categories: [{name: forms}], app_event_types: {forms_submitted: "ev-1"}}
`, []string{`activity.sink: app events can only be attached to contacts, companies, deals or tickets, but users map to the custom object "p_members"`}},
		{"custom events to a custom object", `
mapping:
  users: {hubspot_object: p_members}
  companies: {match: {hubspot: x}}
`, nil},
		{"app events to deals", `
hubspot: {auth: oauth}
mapping:
  users: {hubspot_object: deals}
  companies: {match: {hubspot: x}}
activity: {sink: app_events, categories: [{name: forms}], app_event_types: {forms_submitted: "ev-1"}}
`, nil},
		{"app events need oauth", minimal + "activity: {sink: app_events, categories: [{name: forms}], app_event_types: {forms_submitted: ev-1}}\n", []string{"activity.sink: app events need an OAuth app installation"}},
		{"activity needs users", `
mapping:
  users: {enabled: false}
  companies: {match: {hubspot: x}}
`, []string{"activity.sink: custom_events needs mapping.users enabled"}},
		{"no sink needs no users", `
mapping:
  users: {enabled: false}
  companies: {match: {hubspot: x}}
activity: {sink: none}
`, nil},
		{"timeline templates missing and unknown", minimal + `
hubspot: {auth: oauth}
activity:
  sink: timeline
  categories: [{name: flows, statuses: [completed, dismissed]}]
  timeline_templates: {flows_completed: "1", flow_seen: "2"}
`, []string{`activity.timeline_templates.flow_seen: "flow_seen" is not a <category>_<status> that is sent`, "activity.timeline_templates: sink timeline needs a template id for every category and status sent; missing: flows_dismissed"}},
		{"templates without timeline", minimal + "activity: {timeline_templates: {flows_seen: '1'}}\n", []string{"activity.timeline_templates: only used with activity.sink: timeline"}},
		{"app event types missing, unknown and empty", minimal + `
hubspot: {auth: oauth}
activity:
  sink: app_events
  categories: [{name: flows, statuses: [completed, dismissed]}, {name: nps}]
  app_event_types: {flows_completed: "ev-1", flow_dismissed: "ev-2", nps_feedback: " "}
`, []string{
			`activity.app_event_types.flow_dismissed: "flow_dismissed" is not a <category>_<status> that is sent (did you mean "flows_dismissed"?)`,
			"activity.app_event_types.nps_feedback: event type name is empty",
			"activity.app_event_types: sink app_events needs an event type name for every category and status sent; missing: flows_dismissed, nps_ask_later",
		}},
		{"app event types for every status a rule adds", minimal + `
hubspot: {auth: oauth}
activity:
  sink: app_events
  rules: [{event_type: interaction, entity_type: form, status: STARTED, category: forms}]
  categories: [{name: forms}]
  app_event_types: {forms_submitted: "ev-1"}
`, []string{"activity.app_event_types: sink app_events needs an event type name for every category and status sent; missing: forms_started"}},
		{"app event types without app events", minimal + "activity: {app_event_types: {flows_seen: '1'}}\n", []string{"activity.app_event_types: only used with activity.sink: app_events (sink is custom_events)"}},
		{"timeline templates with app events", minimal + `
hubspot: {auth: oauth}
activity:
  sink: app_events
  categories: [{name: forms}]
  timeline_templates: {forms_submitted: "1"}
  app_event_types: {forms_submitted: "ev-1"}
`, []string{"activity.timeline_templates: only used with activity.sink: timeline (sink is app_events)"}},
		{"grace too long", minimal + "activity: {unmatched_grace: 30m}\n", []string{"activity.unmatched_grace: 30m0s is out of range: want 0s to 20m0s"}},
		{"notifications", minimal + `
notifications:
  recipients: [a@example.com, "Ops <A@example.com>", "bad@"]
  sender: "pilotsync at example"
  repeat_after: 10s
`, []string{`notifications.recipients[1]: "Ops <A@example.com>" is listed twice`, `notifications.recipients[2]: "bad@" is not an email address`, `notifications.sender: "pilotsync at example" is not an email address`, "notifications.repeat_after: 10s is out of range"}},
		{"schedule", minimal + "schedule: {poll_every: 30s, daily_at: '3:00', search_overlap: 2h}\n", []string{"schedule.poll_every: 30s is out of range: want 1m0s to 24h0m0s", `schedule.daily_at: want a UTC time of day as HH:MM (00:00 to 23:59), got "3:00"`, "schedule.search_overlap: 2h0m0s is out of range"}},
		{"anchors and merge keys", `
x-props: &props
  outbound: [{userpilot: plan, hubspot: up_plan}]
`, []string{`x-props: unknown key "x-props"`, "mapping.companies.match.hubspot: required"}},
		{"merge key inside a mapping", `
mapping:
  users: &u
    outbound: [{userpilot: plan, hubspot: up_plan}]
  companies:
    <<: *u
    hubspot_object: companies
    match: {hubspot: x}
`, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := problems(t, tt.src)
			if len(got) != len(tt.want) {
				for _, p := range got {
					t.Log(p)
				}
				t.Fatalf("got %d problems, want %d: %q", len(got), len(tt.want), tt.want)
			}
			for i, w := range tt.want {
				field, msg, _ := strings.Cut(w, ": ")
				if got[i].Field != field || !strings.Contains(got[i].Message, msg) {
					t.Errorf("problem %d: got %s, want %s", i, got[i], w)
				}
				if got[i].File != "integration.yaml" {
					t.Errorf("problem %d: file: got %q, want integration.yaml", i, got[i].File)
				}
			}
		})
	}
}

// TestAppEventTypesProblemLines checks that app_event_types problems point at
// the line of the entry (or of the field, for what is missing from it).
func TestAppEventTypesProblemLines(t *testing.T) {
	src := minimal + `hubspot: {auth: oauth}
activity:
  sink: app_events
  categories:
    - name: flows
      statuses: [completed, dismissed]
  app_event_types:
    flows_completed: "ev-1"
    flows_seen: "ev-2"
`
	var got []string
	for _, p := range problems(t, src) {
		got = append(got, p.String())
	}
	want := []string{
		"integration.yaml:12: activity.app_event_types: sink app_events needs an event type name for every category and status sent; missing: flows_dismissed",
		`integration.yaml:14: activity.app_event_types.flows_seen: "flows_seen" is not a <category>_<status> that is sent`,
	}
	if !equal(got, want) {
		t.Errorf("got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

func TestLoad(t *testing.T) {
	if _, err := config.Load(t.TempDir() + "/missing.yaml"); err == nil || !strings.Contains(err.Error(), "config: read") {
		t.Errorf("Load(missing): got %v, want a read error", err)
	}
	_, err := config.Load("testdata/five-mistakes.yaml")
	var ce *config.Error
	if !errors.As(err, &ce) {
		t.Fatalf("Load(five-mistakes.yaml): got %v, want *config.Error", err)
	}
	if got := ce.Problems[0].File; got != "testdata/five-mistakes.yaml" {
		t.Errorf("file: got %q, want the path as given", got)
	}
	want := []struct {
		line  int
		field string
	}{
		{4, "userpilot.environment"},
		{8, "mapping.users.match.hubspot"},
		{9, "mapping.users.outbond"},
		{14, "measured.period_days"},
		{15, "notifications.sender"},
	}
	if len(ce.Problems) != len(want) {
		t.Fatalf("got %d problems, want %d:\n%v", len(ce.Problems), len(want), err)
	}
	for i, w := range want {
		if p := ce.Problems[i]; p.Line != w.line || p.Field != w.field {
			t.Errorf("problem %d: got %s, want line %d field %s", i, p, w.line, w.field)
		}
	}
}

func TestDefaultPath(t *testing.T) {
	t.Setenv(config.EnvPath, "/etc/pilotsync.yaml")
	if got := config.DefaultPath(); got != "/etc/pilotsync.yaml" {
		t.Errorf("with %s set: got %q", config.EnvPath, got)
	}
	t.Setenv(config.EnvPath, "")
	t.Chdir(t.TempDir())
	if got := config.DefaultPath(); got != config.LocalPath && got != config.LambdaPath {
		t.Errorf("without %s: got %q", config.EnvPath, got)
	}
}

func TestActivityStatuses(t *testing.T) {
	a := config.Activity{Rules: []config.ClassifyRule{
		{EventType: "interaction", EntityType: "nps", Status: "SCORED", Category: "nps"},
		{EventType: "interaction", EntityType: "flow_v2", Category: "flows"},
	}}
	got, open := a.Statuses("nps")
	if !equal(got, []string{"ask_later", "feedback", "scored"}) || open {
		t.Errorf("nps: got %v open=%v, want [ask_later feedback scored] false", got, open)
	}
	if _, open := a.Statuses("flows"); !open {
		t.Errorf("flows: got open=false, want true (a rule passes statuses through)")
	}
	if got := config.PrimaryObject("0-1"); got != "CONTACT" {
		t.Errorf("PrimaryObject(0-1): got %q, want CONTACT", got)
	}
	if got := config.PrimaryObject("2-55"); got != "2-55" {
		t.Errorf("PrimaryObject(2-55): got %q", got)
	}
}

func TestParseSurvivesHostileAliases(t *testing.T) {
	tests := []struct {
		name, src, want string
	}{
		{"mapping merged into itself", "mapping:\n  users: &x\n    <<: *x\n", "merge key << refers to the mapping that contains it"},
		{"alias inside its own anchor", "activity:\n  categories: &c\n    - name: flows\n      statuses: *c\n", "alias refers to the value that contains it"},
		{"billion laughs", func() string {
			var b strings.Builder
			b.WriteString("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n")
			for i := 1; i < 9; i++ {
				fmt.Fprintf(&b, "a%d: &a%d [*a%d, *a%d, *a%d, *a%d, *a%d, *a%d, *a%d, *a%d, *a%d, *a%d]\n", i, i, i-1, i-1, i-1, i-1, i-1, i-1, i-1, i-1, i-1, i-1)
			}
			b.WriteString("notifications:\n  recipients: *a8\n") // 10^9 values once expanded
			return b.String()
		}(), "notifications.recipients[0]: want a string, got a list"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			done := make(chan []config.Problem)
			go func() { done <- problems(t, tt.src) }()
			select {
			case got := <-done:
				if !strings.Contains(fmt.Sprint(got), tt.want) {
					t.Errorf("got %v, want a problem containing %q", got, tt.want)
				}
			case <-time.After(10 * time.Second):
				t.Fatal("Parse did not return within 10s")
			}
		})
	}
}
