package hubspot

import (
	"context"
	"errors"
	"net/url"
	"reflect"
	"strings"
	"testing"
	"time"
)

// TestRequests asserts method, path (both versions), query, headers and body of every call.
func TestRequests(t *testing.T) {
	occurred := time.Date(2026, 11, 27, 10, 0, 0, 0, time.UTC)
	type call struct {
		name   string
		reply  reply
		run    func(ctx context.Context, c *Client) error
		method string
		paths  map[string]string // version -> path
		query  url.Values
		body   string // JSON, "" for none
	}
	calls := []call{
		{
			name:  "search",
			reply: reply{body: `{"total":1,"results":[{"id":"1","properties":{"email":"a@b.c"}}],"paging":{"next":{"after":"200"}}}`},
			run: func(ctx context.Context, c *Client) error {
				p, err := c.Search(ctx, "contacts", SearchRequest{FilterGroups: []FilterGroup{{Filters: []Filter{{PropertyName: "lastmodifieddate", Operator: "GTE", Value: "1700000000000"}}}},
					Sorts: []Sort{{PropertyName: "lastmodifieddate", Direction: "ASCENDING"}}, Properties: []string{"email"}, After: "0"})
				if err == nil && (p.Total != 1 || p.After != "200" || p.Results[0].Properties["email"] != "a@b.c") {
					t.Errorf("search page = %+v", p)
				}
				return err
			},
			method: "POST",
			paths:  map[string]string{"v3": "/crm/v3/objects/contacts/search", "2026-03": "/crm/objects/2026-03/contacts/search"},
			body: `{"filterGroups":[{"filters":[{"propertyName":"lastmodifieddate","operator":"GTE","value":"1700000000000"}]}],
				"sorts":[{"propertyName":"lastmodifieddate","direction":"ASCENDING"}],"properties":["email"],"limit":200,"after":"0"}`,
		},
		{
			name:  "list",
			reply: reply{body: `{"results":[{"id":"7","properties":{"name":"x","gone":null},"createdAt":"2024-01-01T00:00:00Z","updatedAt":"2024-01-02T00:00:00.123Z"}],"paging":{"next":{"after":"8"}}}`},
			run: func(ctx context.Context, c *Client) error {
				p, err := c.List(ctx, "companies", []string{"name", "domain"}, "5", 50)
				if err == nil {
					r := p.Results[0]
					if _, has := r.Properties["gone"]; has || p.After != "8" || r.UpdatedAt.UnixMilli() != 1704153600123 {
						t.Errorf("list page = %+v", p)
					}
				}
				return err
			},
			method: "GET",
			paths:  map[string]string{"v3": "/crm/v3/objects/companies", "2026-03": "/crm/objects/2026-03/companies"},
			query:  url.Values{"limit": {"50"}, "after": {"5"}, "properties": {"name,domain"}, "archived": {"false"}},
		},
		{
			name:  "batch read by email",
			reply: reply{body: `{"status":"COMPLETE","results":[{"id":"11","properties":{"email":"A@b.c"}}]}`},
			run: func(ctx context.Context, c *Client) error {
				res, err := c.BatchRead(ctx, "contacts", []string{"a@b.c"}, "email", []string{"firstname"})
				if err == nil && res.ByRequest["a@b.c"] != "11" {
					t.Errorf("batch read = %+v", res)
				}
				return err
			},
			method: "POST",
			paths:  map[string]string{"v3": "/crm/v3/objects/contacts/batch/read", "2026-03": "/crm/objects/2026-03/contacts/batch/read"},
			body:   `{"inputs":[{"id":"a@b.c"}],"properties":["firstname","email"],"propertiesWithHistory":[],"idProperty":"email"}`,
		},
		{
			name:  "batch update",
			reply: reply{body: `{"status":"COMPLETE","results":[{"id":"11","properties":{"n":"1"}}]}`},
			run: func(ctx context.Context, c *Client) error {
				res, err := c.BatchUpdate(ctx, "contacts", []UpdateInput{{ID: "11", Properties: map[string]string{"n": "1", "gone": ""}}})
				if err == nil && (len(res.Updated) != 1 || len(res.Failed) != 0) {
					t.Errorf("batch update = %+v", res)
				}
				return err
			},
			method: "POST",
			paths:  map[string]string{"v3": "/crm/v3/objects/contacts/batch/update", "2026-03": "/crm/objects/2026-03/contacts/batch/update"},
			body:   `{"inputs":[{"id":"11","properties":{"n":"1","gone":""}}]}`,
		},
		{
			name: "list properties",
			reply: reply{body: `{"results":[{"name":"n","label":"N","type":"number","fieldType":"number","groupName":"g","calculated":true,
				"options":[{"label":"A","value":"a"}],"modificationMetadata":{"readOnlyValue":true},"hasUniqueValue":true}]}`},
			run: func(ctx context.Context, c *Client) error {
				ps, err := c.ListProperties(ctx, "contacts")
				want := []Property{{Name: "n", Label: "N", Type: "number", FieldType: "number", GroupName: "g", Calculated: true, ReadOnlyValue: true, HasUniqueValue: true,
					Options: []PropertyOption{{Label: "A", Value: "a"}}}}
				if err == nil && !reflect.DeepEqual(ps, want) {
					t.Errorf("properties = %+v, want %+v", ps, want)
				}
				return err
			},
			method: "GET",
			paths:  map[string]string{"v3": "/crm/v3/properties/contacts", "2026-03": "/crm/properties/2026-03/contacts"},
		},
		{
			name:  "create property",
			reply: reply{status: 201, body: `{"name":"up_score","label":"Score","type":"number","fieldType":"number","groupName":"userpilot"}`},
			run: func(ctx context.Context, c *Client) error {
				_, err := c.CreateProperty(ctx, "contacts", Property{Name: "up_score", Label: "Score", Type: "number", FieldType: "number", GroupName: "userpilot"})
				return err
			},
			method: "POST",
			paths:  map[string]string{"v3": "/crm/v3/properties/contacts", "2026-03": "/crm/properties/2026-03/contacts"},
			body:   `{"name":"up_score","label":"Score","type":"number","fieldType":"number","groupName":"userpilot"}`,
		},
		{
			name:  "list property groups",
			reply: reply{body: `{"results":[{"name":"userpilot","label":"Userpilot"}]}`},
			run: func(ctx context.Context, c *Client) error {
				gs, err := c.ListPropertyGroups(ctx, "companies")
				if err == nil && (len(gs) != 1 || gs[0].Name != "userpilot") {
					t.Errorf("groups = %+v", gs)
				}
				return err
			},
			method: "GET",
			paths:  map[string]string{"v3": "/crm/v3/properties/companies/groups", "2026-03": "/crm/properties/2026-03/companies/groups"},
		},
		{
			name:  "create property group",
			reply: reply{status: 201, body: `{"name":"userpilot","label":"Userpilot","displayOrder":-1}`},
			run: func(ctx context.Context, c *Client) error {
				_, err := c.CreatePropertyGroup(ctx, "companies", PropertyGroup{Name: "userpilot", Label: "Userpilot"})
				return err
			},
			method: "POST",
			paths:  map[string]string{"v3": "/crm/v3/properties/companies/groups", "2026-03": "/crm/properties/2026-03/companies/groups"},
			body:   `{"name":"userpilot","label":"Userpilot"}`,
		},
		{
			name:  "list event definitions",
			reply: reply{body: `{"results":[{"name":"flow","labels":{"singular":"Flow","plural":"Flows"},"fullyQualifiedName":"pe1_flow","primaryObject":"CONTACT","properties":[{"name":"flow_id","label":"Flow id","type":"string"}]}]}`},
			run: func(ctx context.Context, c *Client) error {
				ds, err := c.ListEventDefinitions(ctx)
				if err == nil && (len(ds) != 1 || ds[0].FullyQualifiedName != "pe1_flow" || ds[0].Label != "Flow" || len(ds[0].Properties) != 1) {
					t.Errorf("definitions = %+v", ds)
				}
				return err
			},
			method: "GET",
			paths:  map[string]string{"v3": "/events/v3/event-definitions", "2026-03": "/events/2026-03/event-definitions"},
		},
		{
			name:  "create event definition",
			reply: reply{status: 201, body: `{"name":"flow","labels":{"singular":"Flow"},"fullyQualifiedName":"pe1_flow","primaryObject":"CONTACT"}`},
			run: func(ctx context.Context, c *Client) error {
				d, err := c.CreateEventDefinition(ctx, EventDefinition{Name: "flow", Label: "Flow", PrimaryObject: "CONTACT",
					Properties: []EventProperty{{Name: "flow_id", Label: "Flow id", Type: "string"}}})
				if err == nil && (d.FullyQualifiedName != "pe1_flow" || d.Label != "Flow") {
					t.Errorf("definition = %+v", d)
				}
				return err
			},
			method: "POST",
			paths:  map[string]string{"v3": "/events/v3/event-definitions", "2026-03": "/events/2026-03/event-definitions"},
			body:   `{"name":"flow","label":"Flow","primaryObject":"CONTACT","includeDefaultProperties":false,"propertyDefinitions":[{"name":"flow_id","label":"Flow id","type":"string"}]}`,
		},
		{
			name:  "send events",
			reply: reply{status: 204},
			run: func(ctx context.Context, c *Client) error {
				return c.SendEvents(ctx, []EventOccurrence{{EventName: "pe1_flow", ObjectID: "11", OccurredAt: occurred, UUID: "u-1", Properties: map[string]string{"flow_id": "448"}}})
			},
			method: "POST",
			paths:  map[string]string{"v3": "/events/v3/send/batch", "2026-03": "/events/2026-03/send/batch"},
			body:   `{"inputs":[{"eventName":"pe1_flow","objectId":"11","occurredAt":"2026-11-27T10:00:00Z","uuid":"u-1","properties":{"flow_id":"448"}}]}`,
		},
		{
			name:  "timeline events",
			reply: reply{status: 201, body: `{"status":"COMPLETE","results":[]}`},
			run: func(ctx context.Context, c *Client) error {
				return c.SendTimelineEvents(ctx, []TimelineEvent{{TemplateID: "t1", ObjectID: "11", ID: "e1", Timestamp: occurred, Tokens: map[string]string{"k": "v"}}})
			},
			method: "POST",
			paths:  map[string]string{"v3": "/integrators/timeline/v3/events/batch/create", "2026-03": "/integrators/timeline/v3/events/batch/create"},
			body:   `{"inputs":[{"eventTemplateId":"t1","objectId":"11","id":"e1","timestamp":"2026-11-27T10:00:00Z","tokens":{"k":"v"}}]}`,
		},
		{
			name:  "app events",
			reply: reply{status: 201, body: `{"status":"COMPLETE","results":[]}`},
			run: func(ctx context.Context, c *Client) error {
				return c.SendAppEvents(ctx, []AppEvent{{EventTypeName: "t1", ObjectID: "11", ID: "e1", Timestamp: occurred, Properties: map[string]string{"k": "v"}}})
			},
			method: "POST",
			paths:  map[string]string{"v3": "/integrators/timeline/2026-03/events/batch", "2026-03": "/integrators/timeline/2026-03/events/batch"},
			body:   `{"inputs":[{"eventTypeName":"t1","objectId":"11","id":"e1","timestamp":"2026-11-27T10:00:00Z","properties":{"k":"v"}}]}`,
		},
	}
	for _, version := range []string{APIVersionV3, APIVersion202603} {
		for _, tc := range calls {
			t.Run(version+"/"+tc.name, func(t *testing.T) {
				f := newFake(t, tc.reply)
				c := f.client(t, newFakeClock(), WithAPIVersion(version))
				if err := tc.run(context.Background(), c); err != nil {
					t.Fatalf("call: %v", err)
				}
				reqs := f.requests()
				if len(reqs) != 1 {
					t.Fatalf("got %d requests, want 1", len(reqs))
				}
				r := reqs[0]
				if r.Method != tc.method || r.Path != tc.paths[version] {
					t.Errorf("got %s %s, want %s %s", r.Method, r.Path, tc.method, tc.paths[version])
				}
				wantQuery := tc.query
				if wantQuery == nil {
					wantQuery = url.Values{}
				}
				if !reflect.DeepEqual(r.Query, wantQuery) {
					t.Errorf("query = %v, want %v", r.Query, wantQuery)
				}
				if got := r.Header.Get("Authorization"); got != "Bearer secret-token" {
					t.Errorf("Authorization = %q", got)
				}
				if tc.body == "" {
					if len(r.Body) != 0 || r.Header.Get("Content-Type") != "" {
						t.Errorf("unexpected body %q (Content-Type %q)", r.Body, r.Header.Get("Content-Type"))
					}
					return
				}
				if ct := r.Header.Get("Content-Type"); ct != "application/json" {
					t.Errorf("Content-Type = %q", ct)
				}
				got := r.JSON(t)
				if inputs, ok := got["inputs"].([]any); ok && strings.HasSuffix(tc.paths[version], "/batch/update") {
					// Trace ids are unique per call: check the shape, then compare the rest.
					for _, in := range inputs {
						m := in.(map[string]any)
						if tr, _ := m["objectWriteTraceId"].(string); !strings.HasPrefix(tr, "ps-") {
							t.Errorf("objectWriteTraceId = %v, want a ps- trace id", m["objectWriteTraceId"])
						}
						delete(m, "objectWriteTraceId")
					}
				}
				if want := mustJSON(t, tc.body); !reflect.DeepEqual(any(got), want) {
					t.Errorf("body = %s\nwant %s", r.Body, tc.body)
				}
			})
		}
	}
}

func TestNewClientValidates(t *testing.T) {
	tests := []struct {
		name string
		opts []Option
		want string
	}{
		{"no auth", nil, "exactly one of a token and oauth"},
		{"both auths", []Option{WithToken("t"), WithOAuth(OAuthConfig{"a", "b", "c"})}, "exactly one"},
		{"bad version", []Option{WithToken("t"), WithAPIVersion("v4")}, "api version"},
		{"bad url", []Option{WithToken("t"), WithBaseURL("ftp://x")}, "base url"},
		{"bad oauth token api", []Option{WithToken("t"), WithOAuthTokenAPI("v2")}, "oauth token api"},
		{"incomplete oauth", []Option{WithOAuth(OAuthConfig{ClientID: "a"})}, "oauth needs"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := NewClient(tc.opts...)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("got %v, want an error containing %q", err, tc.want)
			}
		})
	}
	if _, err := NewClient(WithToken("secret-token")); err != nil {
		t.Errorf("defaults: %v", err)
	}
}

func TestAPIErrorParsed(t *testing.T) {
	f := newFake(t, reply{status: 400, body: `{"status":"error","message":"Property values were not valid for ann@example.com","correlationId":"c-1","category":"VALIDATION_ERROR",
		"errors":[{"message":"x is not a number","code":"INVALID_INTEGER","context":{"propertyName":["score"]}}]}`})
	c := f.client(t, newFakeClock())
	_, err := c.ListProperties(context.Background(), "contacts")
	var ae *APIError
	if !errors.As(err, &ae) {
		t.Fatalf("got %v, want *APIError", err)
	}
	if ae.Status != 400 || ae.Category != "VALIDATION_ERROR" || ae.CorrelationID != "c-1" || len(ae.Errors) != 1 ||
		ae.Errors[0].Property != "score" || ae.Errors[0].Code != "INVALID_INTEGER" {
		t.Errorf("APIError = %+v", ae)
	}
	if strings.Contains(err.Error(), "ann@example.com") || strings.Contains(ae.Message, "ann@example.com") {
		t.Errorf("error leaks an email: %v", err)
	}
	if IsRetryable(err) {
		t.Error("400 is retryable")
	}
	if len(f.requests()) != 1 {
		t.Errorf("400 was retried")
	}
}

func TestNotFound(t *testing.T) {
	f := newFake(t, reply{status: 404, body: `{"status":"error","message":"not found","category":"OBJECT_NOT_FOUND"}`})
	c := f.client(t, newFakeClock())
	_, err := c.ListPropertyGroups(context.Background(), "nope")
	if !errors.Is(err, ErrNotFound) {
		t.Errorf("got %v, want ErrNotFound", err)
	}
}
