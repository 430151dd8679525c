package main

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/pilotsync/pilotsync/shared/config"
	"github.com/pilotsync/pilotsync/shared/hubspot/hubspottest"
)

// seedDemo gives the in-memory HubSpot the properties the config names and a
// few contacts and companies, and puts matching Userpilot identify and
// activity events on the queue, so a first `make run` shows every flow.
func (r *runner) seedDemo(ctx context.Context) error {
	cfg := r.deps.Config
	created := r.ensureDemoProperties(cfg)
	users := max(r.opts.demoUsers, 1)
	companies := max(users/2, 1)
	usersObj, companiesObj := objectOr(cfg.Mapping.Users.HubSpotObject, "contacts"), objectOr(cfg.Mapping.Companies.HubSpotObject, "companies")
	coMatch := cfg.Mapping.Companies.Match.HubSpot

	var contacts, cos []hubspottest.SeedRecord
	for i := range users {
		contacts = append(contacts, hubspottest.SeedRecord{Properties: map[string]string{
			"email": demoEmail(i), "firstname": "Demo", "lastname": fmt.Sprintf("User %d", i+1),
			"lifecyclestage": "lead", "jobtitle": "Engineer", "hs_lead_status": "NEW",
		}})
	}
	for i := range companies {
		p := map[string]string{"name": fmt.Sprintf("Demo Co %d", i+1), "domain": fmt.Sprintf("demo%d.example.com", i+1),
			"industry": "COMPUTER_SOFTWARE", "numberofemployees": "42"}
		if coMatch != "" {
			p[coMatch] = demoCompanyID(i)
		}
		cos = append(cos, hubspottest.SeedRecord{Properties: p})
	}
	r.hubspot.AddRecords(usersObj, contacts)
	if cfg.Mapping.Companies.IsEnabled() {
		r.hubspot.AddRecords(companiesObj, cos)
	}

	token := "NX-demo"
	if cfg.Userpilot.Environment == config.EnvStaging {
		token = "STG-demo"
	}
	now := time.Now().UTC()
	stamp := now.UnixNano()
	var bodies []map[string]any
	ev := func(typ, name, user, company string, meta map[string]any, n int) map[string]any {
		m := map[string]any{
			"app_token": token, "event_type": typ, "source": "web-client",
			"inserted_at":       now.Add(time.Duration(n) * time.Millisecond).Format("2006-01-02T15:04:05.000000Z"),
			"internal_event_id": fmt.Sprintf("demo-%d-%d", stamp, n),
			"hostname":          "app.example.com", "pathname": "/dashboard", "session": "demo-session",
			"metadata": meta,
		}
		if name != "" {
			m["event_name"] = name
		}
		if user != "" {
			m["user_id"] = user
		}
		if company != "" {
			m["company_id"] = company
		}
		return m
	}
	n := 0
	for i := range companies {
		n++
		bodies = append(bodies, ev("identify_company", "", "", demoCompanyID(i), map[string]any{"name": fmt.Sprintf("Demo Co %d", i+1), "plan": "pro"}, n))
	}
	plans := []string{"free", "pro", "enterprise"}
	for i := range users {
		uid, co := demoUserID(i), demoCompanyID(i%companies)
		n++
		bodies = append(bodies, ev("identify_user", "", uid, co, map[string]any{"email": demoEmail(i), "name": fmt.Sprintf("Demo User %d", i+1), "plan": plans[i%len(plans)], "role": "admin"}, n))
		n++
		bodies = append(bodies, ev("interaction", "experience:448:COMPLETED", uid, co, map[string]any{}, n))
		n++
		bodies = append(bodies, ev("track", "report_exported", uid, co, map[string]any{"format": "csv"}, n))
	}
	for start := 0; start < len(bodies); start += sqsMaxDeleteBatch {
		var entries []sqstypes.SendMessageBatchRequestEntry
		for j, b := range bodies[start:min(start+sqsMaxDeleteBatch, len(bodies))] {
			raw, err := json.Marshal(b)
			if err != nil {
				return err
			}
			entries = append(entries, sqstypes.SendMessageBatchRequestEntry{Id: aws.String(fmt.Sprint(j)), MessageBody: aws.String(string(raw))})
		}
		out, err := r.sqs.SendMessageBatch(ctx, &sqs.SendMessageBatchInput{QueueUrl: aws.String(r.queueURL), Entries: entries})
		if err != nil {
			return fmt.Errorf("send demo events: %w", err)
		}
		if len(out.Failed) > 0 {
			return fmt.Errorf("send demo events: %d refused: %s", len(out.Failed), aws.ToString(out.Failed[0].Message))
		}
	}
	r.say("demo: HubSpot sandbox seeded with %d %s and %d %s (%d properties created); %d Userpilot events queued (identify, a flow completion and a tracked event per user)",
		users, usersObj, companies, companiesObj, created, len(bodies))
	for _, s := range demoSeeders {
		if err := s.seed(ctx, r); err != nil {
			return fmt.Errorf("demo %s: %w", s.name, err)
		}
	}
	return nil
}

// demoSeeder seeds the demo data of one flow beyond the inbound poll and the
// activity forwarder, so one cycle shows it too: the outbound push of custom
// properties (Userpilot values reaching HubSpot) and the daily measured job.
// Those flows register theirs from an init function in a file of their own
// (run_demo_<flow>.go), as commands do:
//
//	func init() { registerDemoSeeder("outbound", seedOutboundDemo) }
//
// seed runs after the sandboxes, the store, the queue and the handlers are
// ready and the inbound and activity demo data is seeded.
type demoSeeder struct {
	name string
	seed func(ctx context.Context, r *runner) error
}

// demoSeeders is written only by registerDemoSeeder from init functions.
var demoSeeders []demoSeeder

// registerDemoSeeder adds a flow's demo seeding.
func registerDemoSeeder(name string, seed func(ctx context.Context, r *runner) error) {
	demoSeeders = append(demoSeeders, demoSeeder{name: name, seed: seed})
}

func demoEmail(i int) string     { return fmt.Sprintf("demo.user%d@example.com", i+1) }
func demoUserID(i int) string    { return fmt.Sprintf("demo-u-%d", i+1) }
func demoCompanyID(i int) string { return fmt.Sprintf("demo-co-%d", i+1) }

func objectOr(v, def string) string {
	if v == "" {
		return def
	}
	return v
}

// ensureDemoProperties creates, in the sandbox, every HubSpot property the
// config maps that the sandbox does not have (custom ones such as
// userpilot_plan), typed by what is written to it.
func (r *runner) ensureDemoProperties(cfg *config.Config) int {
	created := 0
	for _, m := range []struct {
		obj string
		om  config.ObjectMapping
	}{
		{objectOr(cfg.Mapping.Users.HubSpotObject, "contacts"), cfg.Mapping.Users},
		{objectOr(cfg.Mapping.Companies.HubSpotObject, "companies"), cfg.Mapping.Companies},
	} {
		if !m.om.IsEnabled() {
			continue
		}
		have := map[string]bool{}
		for _, p := range r.hubspot.Properties(m.obj) {
			have[p.Name] = true
		}
		add := func(name, typ, field string, unique bool) {
			if name == "" || have[name] {
				return
			}
			have[name] = true
			r.hubspot.CreateProperty(m.obj, hubspottest.Property{Name: name, Label: strings.ReplaceAll(name, "_", " "), Type: typ, FieldType: field, GroupName: "pilotsync", HasUniqueValue: unique})
			created++
		}
		add(m.om.Match.HubSpot, "string", "text", true)
		for _, p := range append(append([]config.PropertyMapping{}, m.om.Inbound...), m.om.Outbound...) {
			add(firstSet(p.HubSpot, p.Userpilot), "string", "text", false)
		}
		for _, p := range m.om.Measured {
			switch p.Metric {
			case "first_seen", "last_seen":
				add(p.HubSpot, "date", "date", false)
			default:
				add(p.HubSpot, "number", "number", false)
			}
		}
	}
	return created
}
