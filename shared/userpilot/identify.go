package userpilot

import (
	"context"
	"net/http"
	"strings"
)

// User is a Userpilot user to identify.
type User struct {
	// UserID is the user's id in this environment (required).
	UserID string
	// CompanyID links the user to a company ("" = leave the link as is).
	CompanyID string
	// Metadata holds the properties to set: primitives only (string, bool,
	// numbers, time.Time sent as ISO 8601 UTC). A nil value clears the
	// property (sent as WithClearValue says); properties not named are left
	// as they are.
	Metadata map[string]any
}

// Company is a Userpilot company to identify.
type Company struct {
	// CompanyID is the company's id in this environment (required).
	CompanyID string
	// Metadata is as for User.Metadata.
	Metadata map[string]any
}

// Event is a tracked event for an existing user.
type Event struct {
	// UserID names a user Userpilot already knows (required).
	UserID string
	// Name is the event name (required).
	Name string
	// Metadata holds event properties, primitives only (nil is sent as
	// JSON null: an event has no property to clear).
	Metadata map[string]any
}

// IdentifyUser creates or updates one user (POST /v1/identify, 202).
func (c *Client) IdentifyUser(ctx context.Context, u User) error {
	body, err := c.identifyBody(u)
	if err != nil {
		return err
	}
	return c.do(ctx, call{endpoint: EndpointIdentify, method: http.MethodPost, path: "/v1/identify", body: body}, nil)
}

func (c *Client) identifyBody(u User) (map[string]any, error) {
	if strings.TrimSpace(u.UserID) == "" {
		return nil, &ValidationError{Field: "user_id", Reason: "required"}
	}
	md, err := encodeMetadata("", u.Metadata, c.clear)
	if err != nil {
		return nil, err
	}
	body := map[string]any{"user_id": u.UserID}
	if md != nil {
		body["metadata"] = md
	}
	if u.CompanyID != "" {
		body["company"] = c.companyObject(u.CompanyID)
	}
	return body, nil
}

// companyObject is identify's "company" object for id, keyed as
// WithCompanyKey says.
func (c *Client) companyObject(id string) map[string]any {
	if c.companyKey == CompanyKeyBoth {
		return map[string]any{CompanyKeyID: id, CompanyKeyCompanyID: id}
	}
	return map[string]any{c.companyKey: id}
}

// IdentifyCompany creates or updates one company
// (POST /v1/companies/identify, 202).
func (c *Client) IdentifyCompany(ctx context.Context, co Company) error {
	if strings.TrimSpace(co.CompanyID) == "" {
		return &ValidationError{Field: "company_id", Reason: "required"}
	}
	md, err := encodeMetadata("", co.Metadata, c.clear)
	if err != nil {
		return err
	}
	body := map[string]any{"company_id": co.CompanyID}
	if md != nil {
		body["metadata"] = md
	}
	return c.do(ctx, call{endpoint: EndpointCompaniesIdentify, method: http.MethodPost, path: "/v1/companies/identify", body: body}, nil)
}

// Track records an event for an existing user (POST /v1/track, 202).
func (c *Client) Track(ctx context.Context, e Event) error {
	if strings.TrimSpace(e.UserID) == "" {
		return &ValidationError{Field: "user_id", Reason: "required"}
	}
	if strings.TrimSpace(e.Name) == "" {
		return &ValidationError{Field: "event_name", Reason: "required"}
	}
	md, err := encodeMetadata("", e.Metadata, nil)
	if err != nil {
		return err
	}
	body := map[string]any{"user_id": e.UserID, "event_name": e.Name}
	if md != nil {
		body["metadata"] = md
	}
	return c.do(ctx, call{endpoint: EndpointTrack, method: http.MethodPost, path: "/v1/track", body: body}, nil)
}
