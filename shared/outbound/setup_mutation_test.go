package outbound

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/pilotsync/pilotsync/shared/config"
	"github.com/pilotsync/pilotsync/shared/hubspot"
	"github.com/pilotsync/pilotsync/shared/hubspot/hubspottest"
)

// setupYAML maps outbound and measured properties on contacts and companies.
const setupYAML = `mapping:
  users:
    outbound:
      - userpilot: plan
        hubspot: up_plan
      - userpilot: trial
        hubspot: up_trial
        type: bool
      - userpilot: renewal
        hubspot: up_renewal
        type: date
    measured:
      - metric: last_seen
        hubspot: up_last_seen
      - metric: sessions
        hubspot: up_sessions
  companies:
    match:
      hubspot: userpilot_company_id
    outbound:
      - userpilot: tier
        hubspot: up_tier
        type: number
activity:
  sink: none
`

func setupConfig(t *testing.T, yaml string) *config.Config {
	t.Helper()
	cfg, err := config.Parse("integration.yaml", []byte(yaml))
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

func setupServer(t *testing.T) (*hubspottest.Server, *hubspot.Client) {
	t.Helper()
	hs := hubspottest.NewTestServer(t, hubspottest.Options{PerTenSeconds: -1, SearchPerSecond: -1, Daily: -1, Logger: slog.New(slog.DiscardHandler)})
	hc, err := hubspot.NewClient(hubspot.WithBaseURL(hs.URL), hubspot.WithToken(hubspottest.DefaultToken), hubspot.WithLogger(slog.New(slog.DiscardHandler)),
		hubspot.WithLimits(hubspot.Limits{PerWindow: 1_000_000, Window: time.Second, SearchPerSecond: 1_000_000}))
	if err != nil {
		t.Fatal(err)
	}
	return hs, hc
}

func propertyOf(hs *hubspottest.Server, object, name string) (hubspottest.Property, bool) {
	for _, p := range hs.Properties(object) {
		if p.Name == name {
			return p, true
		}
	}
	return hubspottest.Property{}, false
}

func actions(rep *SetupReport) map[string]string {
	out := map[string]string{}
	for _, p := range rep.Properties {
		out[p.Object+"/"+p.Name] = p.Type + "/" + p.FieldType + "/" + p.Action + "/" + p.Source
	}
	return out
}

// TestSetupCreatesEveryMappedProperty: setup creates each property the
// outbound and measured mappings of both kinds write, with the type the
// mapping needs, a label naming the Userpilot side, in a pilotsync group it
// creates once per object; a dry run reports the same and creates nothing;
// a property that exists with a fitting type is kept as it is.
func TestSetupCreatesEveryMappedProperty(t *testing.T) {
	hs, hc := setupServer(t)
	// up_sessions exists already, in another group, with a fitting type.
	hs.CreateProperty("contacts", hubspottest.Property{Name: "up_sessions", Label: "Sessions (mine)", Type: "number", FieldType: "number", GroupName: "contactinformation"})
	cfg := setupConfig(t, setupYAML)
	want := map[string]string{
		"contacts/up_plan":      "string/text/%s/mapping.users.outbound[0]",
		"contacts/up_trial":     "bool/booleancheckbox/%s/mapping.users.outbound[1]",
		"contacts/up_renewal":   "date/date/%s/mapping.users.outbound[2]",
		"contacts/up_last_seen": "datetime/date/%s/mapping.users.measured[0]",
		"contacts/up_sessions":  "number/number/exists/mapping.users.measured[1]",
		"companies/up_tier":     "number/number/%s/mapping.companies.outbound[0]",
	}
	check := func(rep *SetupReport, action string) {
		t.Helper()
		got := actions(rep)
		if len(got) != len(want) {
			t.Errorf("setup reported %v, want %d properties", got, len(want))
		}
		for k, w := range want {
			if strings.Contains(w, "%s") {
				w = strings.Replace(w, "%s", action, 1)
			}
			if got[k] != w {
				t.Errorf("%s: %q, want %q", k, got[k], w)
			}
		}
	}

	rep, err := Setup(t.Context(), cfg, hc, true)
	if err != nil {
		t.Fatal(err)
	}
	check(rep, "create")
	if !rep.DryRun || !slices.Equal(rep.Groups, []string{"contacts/pilotsync", "companies/pilotsync"}) {
		t.Errorf("dry run: dry %v groups %v, want both pilotsync groups to create", rep.DryRun, rep.Groups)
	}
	for _, k := range []string{"up_plan", "up_trial", "up_renewal", "up_last_seen"} {
		if _, ok := propertyOf(hs, "contacts", k); ok {
			t.Errorf("the dry run created %s", k)
		}
	}
	if _, ok := propertyOf(hs, "companies", "up_tier"); ok {
		t.Error("the dry run created up_tier")
	}
	if n := hs.Count(hubspottest.EndpointPropertyGroups); n != 2 {
		t.Errorf("dry run made %d property group requests, want one list per object and no create", n)
	}

	rep, err = Setup(t.Context(), cfg, hc, false)
	if err != nil {
		t.Fatal(err)
	}
	check(rep, "created")
	if rep.DryRun || !slices.Equal(rep.Groups, []string{"contacts/pilotsync", "companies/pilotsync"}) {
		t.Errorf("setup: dry %v groups %v, want both groups created", rep.DryRun, rep.Groups)
	}
	labels := map[string]string{"up_plan": "Userpilot plan", "up_trial": "Userpilot trial", "up_renewal": "Userpilot renewal", "up_last_seen": "Userpilot last seen"}
	for name, label := range labels {
		p, ok := propertyOf(hs, "contacts", name)
		if !ok || p.Label != label || p.GroupName != GroupName || !strings.Contains(p.Description, "mapping.users.") {
			t.Errorf("HubSpot holds %s as %+v (found %v), want label %q in group %s", name, p, ok, label, GroupName)
		}
	}
	if p, _ := propertyOf(hs, "contacts", "up_trial"); len(p.Options) != 2 || p.Options[0].Value != "true" || p.Options[1].Value != "false" {
		t.Errorf("bool property options %+v, want true and false", p.Options)
	}
	if p, _ := propertyOf(hs, "contacts", "up_plan"); len(p.Options) != 0 {
		t.Errorf("string property got options %+v", p.Options)
	}
	if p, ok := propertyOf(hs, "companies", "up_tier"); !ok || p.Type != "number" || p.GroupName != GroupName || p.Label != "Userpilot tier" {
		t.Errorf("companies up_tier: %+v (found %v)", p, ok)
	}
	if p, _ := propertyOf(hs, "contacts", "up_sessions"); p.Label != "Sessions (mine)" || p.GroupName != "contactinformation" {
		t.Errorf("the existing up_sessions was changed: %+v", p)
	}

	// Everything exists now: a second run creates nothing, not even a group.
	calls := hs.Count(hubspottest.EndpointProperties)
	rep, err = Setup(t.Context(), cfg, hc, false)
	if err != nil {
		t.Fatal(err)
	}
	for k, a := range actions(rep) {
		if !strings.Contains(a, "/exists/") {
			t.Errorf("second run: %s %s, want exists", k, a)
		}
	}
	if len(rep.Groups) != 0 || hs.Count(hubspottest.EndpointProperties)-calls != 2 {
		t.Errorf("second run: groups %v, %d property requests; want no group and only the two lists", rep.Groups, hs.Count(hubspottest.EndpointProperties)-calls)
	}
}

// TestSetupRefusesWithoutCreating: a mapped property that exists read-only
// or with a type that cannot hold the values, or that setup cannot create
// (an enumeration needs its options), is refused with the config line and
// the reason, and then nothing at all is created, not even the fine ones.
func TestSetupRefusesWithoutCreating(t *testing.T) {
	hs, hc := setupServer(t)
	hs.CreateProperty("contacts", hubspottest.Property{Name: "up_trial", Label: "Trial", Type: "date", FieldType: "date", GroupName: "contactinformation"})
	hs.CreateProperty("contacts", hubspottest.Property{Name: "up_sessions", Label: "Sessions", Type: "string", FieldType: "text", GroupName: "contactinformation"})
	hs.CreateProperty("companies", hubspottest.Property{Name: "up_tier", Label: "Tier", Type: "number", FieldType: "number", GroupName: "companyinformation", ReadOnlyValue: true})
	yaml := strings.Replace(setupYAML, "        type: date\n", "        type: date\n      - userpilot: stage\n        hubspot: up_stage\n        type: enumeration\n", 1)
	cfg := setupConfig(t, yaml)
	for _, dry := range []bool{true, false} {
		rep, err := Setup(t.Context(), cfg, hc, dry)
		if !errors.Is(err, ErrSetupRefused) || rep == nil {
			t.Fatalf("dry %v: %v, want ErrSetupRefused with the report", dry, err)
		}
		wantProblems := []string{
			`integration.yaml:7: mapping.users.outbound[1].hubspot: property "up_trial" has type date, but "trial" is mapped as bool`,
			`mapping.users.outbound[3].hubspot: property "up_stage" does not exist and setup cannot create a enumeration property`,
			`mapping.users.measured[1].hubspot: property "up_sessions" has type string, but metric sessions needs number`,
			`mapping.companies.outbound[0].hubspot: property "up_tier" is read-only in HubSpot`,
		}
		if len(rep.Problems) != len(wantProblems) {
			t.Errorf("dry %v: problems %q, want %d", dry, rep.Problems, len(wantProblems))
		}
		for _, w := range wantProblems {
			if !slices.ContainsFunc(rep.Problems, func(p string) bool { return strings.Contains(p, w) }) || !strings.Contains(err.Error(), w) {
				t.Errorf("dry %v: problems %q, want one containing %q (and in the error)", dry, rep.Problems, w)
			}
		}
		// The ones that would be created are still reported, as creates.
		got := actions(rep)
		if got["contacts/up_plan"] != "string/text/create/mapping.users.outbound[0]" || got["contacts/up_trial"] != "date/date/exists/mapping.users.outbound[1]" {
			t.Errorf("dry %v: report %v", dry, got)
		}
		if _, listed := got["contacts/up_stage"]; listed {
			t.Errorf("dry %v: the enumeration setup cannot create is listed as %q", dry, got["contacts/up_stage"])
		}
	}
	for _, name := range []string{"up_plan", "up_renewal", "up_last_seen", "up_stage"} {
		if _, ok := propertyOf(hs, "contacts", name); ok {
			t.Errorf("setup created %s despite the refusal", name)
		}
	}
	if n := len(hs.RequestsTo(hubspottest.EndpointPropertyGroups)); n != 0 {
		t.Errorf("%d property group requests after a refusal, want none", n)
	}
}

// TestSetupSkipsDisabledKinds: a disabled kind's mappings are left alone;
// an existing pilotsync group is reused.
func TestSetupSkipsDisabledKinds(t *testing.T) {
	hs, hc := setupServer(t)
	hs.CreateProperty("contacts", hubspottest.Property{Name: "up_other", Label: "Other", Type: "string", FieldType: "text", GroupName: GroupName})
	cfg := setupConfig(t, `mapping:
  users:
    outbound:
      - userpilot: plan
        hubspot: up_plan
  companies:
    enabled: false
    outbound:
      - userpilot: tier
        hubspot: up_tier
activity:
  sink: none
`)
	rep, err := Setup(t.Context(), cfg, hc, false)
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Properties) != 1 || rep.Properties[0].Name != "up_plan" || rep.Properties[0].Action != "created" || len(rep.Groups) != 0 {
		t.Errorf("report %+v, want up_plan created once in the existing group", rep)
	}
	if p, ok := propertyOf(hs, "contacts", "up_plan"); !ok || p.Label != "Userpilot plan" {
		t.Errorf("up_plan %+v (found %v)", p, ok)
	}
	if len(hs.Properties("companies")) == 0 {
		t.Fatal("no company properties at all")
	}
	if _, ok := propertyOf(hs, "companies", "up_tier"); ok {
		t.Error("a disabled kind's property was created")
	}
}

// failingAdmin makes the sandbox answer 403 to the n-th call (from 1) of
// one PropertyAdmin method: a token missing a scope for that one request.
type failingAdmin struct {
	*hubspot.Client
	hs       *hubspottest.Server
	method   string
	endpoint string
	n        int
	calls    map[string]int
}

func (f *failingAdmin) arm(method string) {
	f.calls[method]++
	if method == f.method && f.calls[method] == f.n {
		f.hs.FailNext(f.endpoint, 403)
	}
}

func (f *failingAdmin) ListProperties(ctx context.Context, obj string) ([]hubspot.Property, error) {
	f.arm("ListProperties")
	return f.Client.ListProperties(ctx, obj)
}

func (f *failingAdmin) CreateProperty(ctx context.Context, obj string, p hubspot.Property) (*hubspot.Property, error) {
	f.arm("CreateProperty")
	return f.Client.CreateProperty(ctx, obj, p)
}

func (f *failingAdmin) ListPropertyGroups(ctx context.Context, obj string) ([]hubspot.PropertyGroup, error) {
	f.arm("ListPropertyGroups")
	return f.Client.ListPropertyGroups(ctx, obj)
}

func (f *failingAdmin) CreatePropertyGroup(ctx context.Context, obj string, g hubspot.PropertyGroup) (*hubspot.PropertyGroup, error) {
	f.arm("CreatePropertyGroup")
	return f.Client.CreatePropertyGroup(ctx, obj, g)
}

// TestSetupReportsHubSpotErrors: a failed property list, group list, group
// creation or property creation fails setup with HubSpot's error, and the
// report says which properties were created and which not.
func TestSetupReportsHubSpotErrors(t *testing.T) {
	cfg := setupConfig(t, setupYAML)
	for _, tc := range []struct {
		method, endpoint string
		n                int
		created          []string // properties created before the failure
	}{
		{"ListProperties", hubspottest.EndpointProperties, 2, nil},
		{"ListPropertyGroups", hubspottest.EndpointPropertyGroups, 1, nil},
		{"CreatePropertyGroup", hubspottest.EndpointPropertyGroups, 1, nil},
		{"CreateProperty", hubspottest.EndpointProperties, 2, []string{"up_plan"}},
		{"ListPropertyGroups", hubspottest.EndpointPropertyGroups, 2, []string{"up_plan", "up_trial", "up_renewal", "up_last_seen"}},
	} {
		t.Run(fmt.Sprintf("%s#%d", tc.method, tc.n), func(t *testing.T) {
			hs, hc := setupServer(t)
			hs.CreateProperty("contacts", hubspottest.Property{Name: "up_sessions", Label: "Sessions", Type: "number", FieldType: "number", GroupName: "contactinformation"})
			admin := &failingAdmin{Client: hc, hs: hs, method: tc.method, endpoint: tc.endpoint, n: tc.n, calls: map[string]int{}}
			rep, err := Setup(t.Context(), cfg, admin, false)
			var ae *hubspot.APIError
			if errors.Is(err, ErrSetupRefused) || !errors.As(err, &ae) || ae.Status != 403 || !strings.HasPrefix(err.Error(), "outbound: setup: ") {
				t.Fatalf("err %v, want HubSpot's 403 from setup", err)
			}
			var created []string
			for _, p := range hs.Properties("contacts") {
				if strings.HasPrefix(p.Name, "up_") && p.Name != "up_sessions" {
					created = append(created, p.Name)
				}
			}
			if !slices.Equal(created, tc.created) {
				t.Errorf("HubSpot holds %v, want %v created before the failure", created, tc.created)
			}
			if tc.method == "ListProperties" || rep == nil {
				return
			}
			var reported []string
			for _, p := range rep.Properties {
				if p.Action == "created" {
					reported = append(reported, p.Name)
				}
			}
			if !slices.Equal(reported, tc.created) || len(rep.Properties) != 6 {
				t.Errorf("report %+v: created %v, want %v and every property listed", rep.Properties, reported, tc.created)
			}
		})
	}
}

// TestSetupProblemWithoutAFile: a config not read from a file (built in
// code, no line known) names the field alone.
func TestSetupProblemWithoutAFile(t *testing.T) {
	hs, hc := setupServer(t)
	hs.CreateProperty("contacts", hubspottest.Property{Name: "up_seats", Label: "Seats", Type: "date", FieldType: "date", GroupName: "contactinformation"})
	cfg := config.Defaults()
	cfg.Mapping.Users.Outbound = []config.PropertyMapping{{Userpilot: "seats", HubSpot: "up_seats", Type: "number"}}
	rep, err := Setup(t.Context(), cfg, hc, true)
	if !errors.Is(err, ErrSetupRefused) || len(rep.Problems) != 1 || !strings.HasPrefix(rep.Problems[0], `mapping.users.outbound[0]: property "up_seats" has type date`) {
		t.Errorf("problems %q, %v; want the field named without a file", rep.Problems, err)
	}
}

// TestSetupSkipsADisabledKindOnly: with users disabled, setup leaves their
// mappings alone and still creates what the companies write.
func TestSetupSkipsADisabledKindOnly(t *testing.T) {
	hs, hc := setupServer(t)
	cfg := setupConfig(t, strings.Replace(setupYAML, "  users:\n", "  users:\n    enabled: false\n", 1))
	rep, err := Setup(t.Context(), cfg, hc, false)
	if err != nil {
		t.Fatal(err)
	}
	if got := actions(rep); len(got) != 1 || got["companies/up_tier"] != "number/number/created/mapping.companies.outbound[0]" {
		t.Errorf("setup reported %v, want only the companies' up_tier created", got)
	}
	if _, ok := propertyOf(hs, "companies", "up_tier"); !ok {
		t.Error("companies/up_tier not created")
	}
	if _, ok := propertyOf(hs, "contacts", "up_plan"); ok {
		t.Error("contacts/up_plan created for a disabled kind")
	}
}
