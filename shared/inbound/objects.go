package inbound

import (
	"errors"
	"fmt"
	"strings"

	"github.com/pilotsync/pilotsync/shared/config"
	"github.com/pilotsync/pilotsync/shared/identity"
	"github.com/pilotsync/pilotsync/shared/store"
)

// Userpilot metadata keys inbound writes with every linked record (README "How the inbound poll links and writes").
const (
	KeyObjectType = identity.KeyObjectType
	KeyUserID     = identity.KeyUserID
	KeyCompanyID  = identity.KeyCompanyID
)

// Object is the inbound configuration of one Userpilot kind: which HubSpot
// object it maps to, how records are matched, and which properties flow in.
type Object struct {
	// Kind is store.KindUser or store.KindCompany.
	Kind store.Kind
	// HubSpotObject is "contacts", "companies" or a custom object type id.
	HubSpotObject string
	// MatchHubSpot is the HubSpot property holding the match value.
	MatchHubSpot string
	// MatchUserpilot is the Userpilot property it is compared with; "user_id"
	// (users) or "company_id" (companies) means the Userpilot id itself.
	MatchUserpilot string
	// AdditionalEmails also matches hs_additional_emails.
	AdditionalEmails bool
	// Inbound pairs HubSpot properties (keys) with Userpilot properties.
	Inbound []config.PropertyMapping
	// ClearOnUnlink also removes the Inbound properties in Userpilot when a
	// profile is unlinked (config mapping.<kind>.clear_on_unlink).
	ClearOnUnlink bool
}

// idMatch reports whether the Userpilot side of the match is the Userpilot id
// itself, in which case no stored profile is needed to link: the HubSpot value
// names the Userpilot user or company directly.
func (o Object) idMatch() bool {
	switch o.MatchUserpilot {
	case "id":
		return true
	case "user_id":
		return o.Kind == store.KindUser
	case "company_id":
		return o.Kind == store.KindCompany
	}
	return false
}

// linkKey is the Userpilot metadata key carrying the linked HubSpot id.
func (o Object) linkKey() string {
	if o.Kind == store.KindCompany {
		return KeyCompanyID
	}
	return KeyUserID
}

// name is the object's short name in reports and cursor names.
func (o Object) name() string {
	if o.Kind == store.KindCompany {
		return "companies"
	}
	return "users"
}

// properties is the list of HubSpot properties requested for each record:
// the inbound ones, the match key, and the identity properties.
func (o Object) properties() []string {
	seen := map[string]bool{}
	var out []string
	add := func(p string) {
		if p != "" && !seen[p] {
			seen[p] = true
			out = append(out, p)
		}
	}
	add(o.MatchHubSpot)
	if o.AdditionalEmails {
		add(identity.PropAdditionalEmails)
	}
	add(identity.PropMergedIDs)
	for _, m := range o.Inbound {
		add(m.HubSpot)
	}
	return out
}

// ObjectsFromConfig derives the inbound configuration of every enabled kind
// from integration.yaml as config.Load gives it (its defaults applied, so
// users are contacts matched by email unless the file says otherwise). A
// hand-built config that leaves a match or property name empty is refused,
// naming the setting.
func ObjectsFromConfig(cfg *config.Config) ([]Object, error) {
	var out []Object
	var errs []error
	for _, k := range []struct {
		kind store.Kind
		m    config.ObjectMapping
		path string
	}{
		{store.KindUser, cfg.Mapping.Users, "mapping.users"},
		{store.KindCompany, cfg.Mapping.Companies, "mapping.companies"},
	} {
		if !k.m.IsEnabled() {
			continue
		}
		o := Object{
			Kind:             k.kind,
			HubSpotObject:    k.m.HubSpotObject,
			MatchHubSpot:     k.m.Match.HubSpot,
			MatchUserpilot:   k.m.Match.Userpilot,
			ClearOnUnlink:    k.m.ClearsOnUnlink(),
			AdditionalEmails: k.m.MatchesAdditionalEmails(),
		}
		if o.MatchHubSpot == "" {
			errs = append(errs, fmt.Errorf("%s.match.hubspot: no hubspot property to match on", k.path))
		}
		if o.MatchUserpilot == "" {
			errs = append(errs, fmt.Errorf("%s.match.userpilot: no userpilot property to match on", k.path))
		}
		if o.HubSpotObject == "" {
			errs = append(errs, fmt.Errorf("%s.hubspot_object: no hubspot object", k.path))
		}
		for i, p := range k.m.Inbound {
			if p.HubSpot == "" || p.Userpilot == "" {
				errs = append(errs, fmt.Errorf("%s.inbound[%d]: no property named", k.path, i))
				continue
			}
			if strings.HasPrefix(p.Userpilot, "__hubspot__") {
				errs = append(errs, fmt.Errorf("%s.inbound[%d]: userpilot property %q is reserved for the link", k.path, i, p.Userpilot))
				continue
			}
			o.Inbound = append(o.Inbound, config.PropertyMapping{HubSpot: p.HubSpot, Userpilot: p.Userpilot})
		}
		out = append(out, o)
	}
	if len(errs) > 0 {
		return nil, fmt.Errorf("inbound: inbound mapping: %w", errors.Join(errs...))
	}
	return out, nil
}
