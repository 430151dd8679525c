package hubspot

import (
	"context"
	"fmt"
	"net/http"
)

// Property describes one CRM property.
type Property struct {
	Name           string
	Label          string
	Type           string // bool date datetime enumeration number phone_number string
	FieldType      string // text, number, date, booleancheckbox, select, checkbox, ...
	Description    string
	GroupName      string
	Options        []PropertyOption
	HasUniqueValue bool
	// Calculated and ReadOnlyValue properties must never be written.
	Calculated    bool
	ReadOnlyValue bool
}

// Writable reports whether the integration may write the property.
func (p Property) Writable() bool { return !p.Calculated && !p.ReadOnlyValue }

// PropertyOption is one enumeration option (named so because Option configures a Client).
type PropertyOption struct {
	Label        string `json:"label"`
	Value        string `json:"value"`
	DisplayOrder int    `json:"displayOrder,omitempty"`
	Hidden       bool   `json:"hidden,omitempty"`
}

// PropertyGroup groups properties in HubSpot's UI.
type PropertyGroup struct {
	Name         string `json:"name"`
	Label        string `json:"label"`
	DisplayOrder int    `json:"displayOrder,omitempty"`
}

type propertyJSON struct {
	Name                 string           `json:"name"`
	Label                string           `json:"label"`
	Type                 string           `json:"type"`
	FieldType            string           `json:"fieldType"`
	Description          string           `json:"description,omitempty"`
	GroupName            string           `json:"groupName,omitempty"`
	Options              []PropertyOption `json:"options,omitempty"`
	HasUniqueValue       bool             `json:"hasUniqueValue,omitempty"`
	Calculated           bool             `json:"calculated,omitempty"`
	ModificationMetadata *struct {
		ReadOnlyValue bool `json:"readOnlyValue"`
	} `json:"modificationMetadata,omitempty"`
}

func (p propertyJSON) property() Property {
	out := Property{Name: p.Name, Label: p.Label, Type: p.Type, FieldType: p.FieldType, Description: p.Description,
		GroupName: p.GroupName, Options: p.Options, HasUniqueValue: p.HasUniqueValue, Calculated: p.Calculated}
	if p.ModificationMetadata != nil {
		out.ReadOnlyValue = p.ModificationMetadata.ReadOnlyValue
	}
	return out
}

// ListProperties lists an object type's properties with their types.
func (c *Client) ListProperties(ctx context.Context, objectType string) ([]Property, error) {
	var out struct {
		Results []propertyJSON `json:"results"`
	}
	if _, err := c.do(ctx, &request{endpoint: "properties", method: http.MethodGet, path: apiPath(c.version, "properties", objectType)}, &out); err != nil {
		return nil, fmt.Errorf("hubspot: list %s properties: %w", objectType, err)
	}
	props := make([]Property, len(out.Results))
	for i, p := range out.Results {
		props[i] = p.property()
	}
	return props, nil
}

// CreateProperty creates a property and returns it as HubSpot stored it.
func (c *Client) CreateProperty(ctx context.Context, objectType string, p Property) (*Property, error) {
	in := propertyInputJSON{Name: p.Name, Label: p.Label, Type: p.Type, FieldType: p.FieldType, Description: p.Description,
		GroupName: p.GroupName, Options: optionInputs(p.Options), HasUniqueValue: p.HasUniqueValue}
	var out propertyJSON
	if _, err := c.do(ctx, &request{endpoint: "properties", method: http.MethodPost, path: apiPath(c.version, "properties", objectType), body: in}, &out); err != nil {
		return nil, fmt.Errorf("hubspot: create %s property %s: %w", objectType, p.Name, err)
	}
	got := out.property()
	return &got, nil
}

// ListPropertyGroups lists an object type's property groups.
func (c *Client) ListPropertyGroups(ctx context.Context, objectType string) ([]PropertyGroup, error) {
	var out struct {
		Results []PropertyGroup `json:"results"`
	}
	if _, err := c.do(ctx, &request{endpoint: "property_groups", method: http.MethodGet, path: apiPath(c.version, "properties", objectType, "groups")}, &out); err != nil {
		return nil, fmt.Errorf("hubspot: list %s property groups: %w", objectType, err)
	}
	return out.Results, nil
}

// CreatePropertyGroup creates a property group.
func (c *Client) CreatePropertyGroup(ctx context.Context, objectType string, g PropertyGroup) (*PropertyGroup, error) {
	var out PropertyGroup
	if _, err := c.do(ctx, &request{endpoint: "property_groups", method: http.MethodPost, path: apiPath(c.version, "properties", objectType, "groups"), body: g}, &out); err != nil {
		return nil, fmt.Errorf("hubspot: create %s property group %s: %w", objectType, g.Name, err)
	}
	return &out, nil
}
