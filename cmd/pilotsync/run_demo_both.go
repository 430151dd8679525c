package main

// The demo's second direction: Userpilot custom and measured properties
// reaching HubSpot in the same cycle as HubSpot values reach Userpilot.

import (
	"fmt"
	"slices"
	"strings"

	"github.com/pilotsync/pilotsync/shared/config"
	"github.com/pilotsync/pilotsync/shared/identity"
)

// directions summarizes what the sandboxes hold in each direction: Userpilot
// records carrying HubSpot values (the link keys inbound writes), HubSpot
// records carrying the config's outbound and measured properties.
func (r *runner) directions() []string {
	if r.hubspot == nil || r.userpilot == nil {
		return nil
	}
	cfg := r.deps.Config
	var users, companies int
	for _, u := range r.userpilot.Users() {
		if u.Metadata[identity.KeyUserID] != nil {
			users++
		}
	}
	for _, c := range r.userpilot.Companies() {
		if c.Metadata[identity.KeyCompanyID] != nil {
			companies++
		}
	}
	lines := []string{fmt.Sprintf("HubSpot -> Userpilot: %d users and %d companies carry HubSpot values (%s)",
		users, companies, strings.Join(inboundNames(cfg), ", "))}
	for _, dir := range []struct {
		what  string
		props func(config.ObjectMapping) []string
	}{
		{"custom", func(m config.ObjectMapping) []string {
			var out []string
			for _, p := range m.Outbound {
				out = append(out, firstSet(p.HubSpot, p.Userpilot))
			}
			return out
		}},
		{"measured", func(m config.ObjectMapping) []string {
			var out []string
			for _, p := range m.Measured {
				out = append(out, p.HubSpot)
			}
			return out
		}},
	} {
		var parts, names []string
		for _, k := range []struct {
			obj string
			m   config.ObjectMapping
		}{
			{objectOr(cfg.Mapping.Users.HubSpotObject, "contacts"), cfg.Mapping.Users},
			{objectOr(cfg.Mapping.Companies.HubSpotObject, "companies"), cfg.Mapping.Companies},
		} {
			props := dir.props(k.m)
			if !k.m.IsEnabled() || len(props) == 0 {
				continue
			}
			n := 0
			for _, rec := range r.hubspot.Records(k.obj) {
				if slices.ContainsFunc(props, func(p string) bool { return rec.Properties[p] != "" }) {
					n++
				}
			}
			parts = append(parts, fmt.Sprintf("%d %s", n, k.obj))
			names = append(names, props...)
		}
		if len(parts) > 0 {
			lines = append(lines, fmt.Sprintf("Userpilot -> HubSpot (%s): %s carry %s", dir.what, strings.Join(parts, " and "), strings.Join(slices.Compact(slices.Sorted(slices.Values(names))), ", ")))
		}
	}
	return lines
}

// inboundNames are the Userpilot properties inbound writes.
func inboundNames(cfg *config.Config) []string {
	var out []string
	for _, m := range []config.ObjectMapping{cfg.Mapping.Users, cfg.Mapping.Companies} {
		if !m.IsEnabled() {
			continue
		}
		for _, p := range m.Inbound {
			out = append(out, p.Userpilot)
		}
	}
	return slices.Compact(slices.Sorted(slices.Values(out)))
}
