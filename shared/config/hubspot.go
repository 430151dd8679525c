package config

import (
	"context"
	"fmt"
	"slices"
	"strings"
)

// HubSpotProperty is what CheckHubSpot needs to know about one HubSpot property
// (GET /crm/properties/{type}: name, type, hasUniqueValue, calculated,
// modificationMetadata.readOnlyValue).
type HubSpotProperty struct {
	Name string
	// Type is HubSpot's property type: bool, date, datetime, enumeration,
	// number, phone_number or string.
	Type           string
	HasUniqueValue bool
	Calculated     bool
	ReadOnlyValue  bool
}

// PropertyCatalog lists the properties of a HubSpot object type. The HubSpot
// client satisfies it through a small adapter that converts its Property type.
type PropertyCatalog interface {
	Properties(ctx context.Context, objectType string) ([]HubSpotProperty, error)
}

// uniqueByHubSpot lists properties HubSpot keeps unique although the properties
// API does not flag them hasUniqueValue: a contact's email (HubSpot deduplicates
// contacts by email) and every object's record id.
var uniqueByHubSpot = map[string]bool{
	"contacts/email": true,
	"*/hs_object_id": true,
}

// CheckHubSpot checks the mappings against HubSpot's property catalog: every
// mapped property exists, the match property holds unique values, and outbound
// and measured targets are writable (not read-only or calculated) and of a type
// the metric can be written as. Problems carry the lines of the fields involved.
// It returns nil when everything checks out.
func (c *Config) CheckHubSpot(ctx context.Context, cat PropertyCatalog) []Problem {
	var problems []Problem
	add := func(field, format string, args ...any) {
		problems = append(problems, Problem{File: c.file, Line: c.Line(field), Field: field, Message: fmt.Sprintf(format, args...)})
	}
	cache := map[string]map[string]HubSpotProperty{}
	for _, kind := range []struct {
		name string
		m    ObjectMapping
	}{{"users", c.Mapping.Users}, {"companies", c.Mapping.Companies}} {
		m, prefix := kind.m, "mapping."+kind.name
		if !m.IsEnabled() {
			continue
		}
		obj := m.HubSpotObject
		props, ok := cache[obj]
		if !ok {
			list, err := cat.Properties(ctx, obj)
			if err != nil {
				add(prefix+".hubspot_object", "cannot list the HubSpot %s properties: %v", obj, err)
				continue
			}
			props = make(map[string]HubSpotProperty, len(list))
			for _, p := range list {
				props[p.Name] = p
			}
			cache[obj] = props
		}
		names := make([]string, 0, len(props))
		for n := range props {
			names = append(names, n)
		}
		noun := objectNoun(obj)
		lookup := func(field, name string) (HubSpotProperty, bool) {
			p, ok := props[name]
			if !ok {
				add(field, "property %q is not a known %s property%s", name, noun, didYouMean(name, names))
			}
			return p, ok
		}
		writable := func(field string, p HubSpotProperty) bool {
			switch {
			case p.Calculated:
				add(field, "property %q is calculated by HubSpot and cannot be written", p.Name)
			case p.ReadOnlyValue:
				add(field, "property %q is read-only and cannot be written", p.Name)
			default:
				return true
			}
			return false
		}

		if m.Match.HubSpot != "" {
			f := prefix + ".match.hubspot"
			if p, ok := lookup(f, m.Match.HubSpot); ok && !p.HasUniqueValue &&
				!uniqueByHubSpot[canonicalObject(obj)+"/"+p.Name] && !uniqueByHubSpot["*/"+p.Name] {
				add(f, "property %q does not require unique values, so it cannot link one %s to one record: choose a property with unique values", p.Name, strings.TrimSuffix(kind.name, "s"))
			}
		}
		for i, pm := range m.Inbound {
			lookup(fmt.Sprintf("%s.inbound[%d].hubspot", prefix, i), pm.HubSpot)
		}
		for i, pm := range m.Outbound {
			f := fmt.Sprintf("%s.outbound[%d].hubspot", prefix, i)
			if p, ok := lookup(f, pm.HubSpot); ok && writable(f, p) {
				if msg := OutboundMismatch(pm, p.Type); msg != "" {
					add(f, "%s", msg)
				}
			}
		}
		for i, mm := range m.Measured {
			f := fmt.Sprintf("%s.measured[%d].hubspot", prefix, i)
			p, ok := lookup(f, mm.HubSpot)
			if !ok || !writable(f, p) {
				continue
			}
			if spec, known := Metric(mm.Metric); known && !slices.Contains(spec.Accepts, p.Type) {
				add(f, "property %q has type %s, but metric %s needs %s", p.Name, p.Type, mm.Metric, strings.Join(spec.Accepts, " or "))
			}
		}
	}
	sortProblems(problems)
	return problems
}

// objectNoun names one record of a HubSpot object type for messages:
// "contact", "company", or the custom object's type.
func objectNoun(objectType string) string {
	switch canonicalObject(objectType) {
	case "contacts":
		return "contact"
	case "companies":
		return "company"
	case "deals":
		return "deal"
	case "tickets":
		return "ticket"
	}
	return objectType
}
