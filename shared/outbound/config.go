package outbound

import (
	"fmt"

	"github.com/pilotsync/pilotsync/shared/config"
	"github.com/pilotsync/pilotsync/shared/store"
)

// Mapping is one outbound property: a Userpilot property written to a
// HubSpot property.
type Mapping struct {
	Userpilot, HubSpot string
	// EchoOf is set when inbound copies the same HubSpot property into this
	// Userpilot property: a value whose hash is the profile's inbound hash came
	// from HubSpot and is never sent back.
	EchoOf bool
}

// Object is one profile kind's outbound mapping.
type Object struct {
	Kind store.Kind
	// HubSpotObject is the HubSpot object type written ("contacts", ...).
	HubSpotObject string
	Mappings      []Mapping
}

// name is the object's name in reports and problem keys.
func (o Object) name() string {
	if o.Kind == store.KindCompany {
		return "companies"
	}
	return "users"
}

// Config is what the push needs from integration.yaml.
type Config struct {
	// Env is the Userpilot environment every stored key is namespaced by.
	Env string
	// Objects are the enabled kinds with outbound mappings, in run order.
	Objects []Object
}

// ConfigFrom builds the push's config from integration.yaml (defaults
// applied): the enabled kinds with at least one outbound mapping.
func ConfigFrom(cfg *config.Config) (Config, error) {
	out := Config{Env: cfg.Userpilot.Environment} // config.Load applied the default
	for _, k := range []struct {
		kind store.Kind
		m    config.ObjectMapping
	}{{store.KindUser, cfg.Mapping.Users}, {store.KindCompany, cfg.Mapping.Companies}} {
		if !k.m.IsEnabled() || len(k.m.Outbound) == 0 {
			continue
		}
		if k.m.HubSpotObject == "" {
			return Config{}, fmt.Errorf("outbound: %s: no hubspot object", k.kind)
		}
		obj := Object{Kind: k.kind, HubSpotObject: k.m.HubSpotObject}
		for _, pm := range k.m.Outbound {
			m := Mapping{Userpilot: pm.Userpilot, HubSpot: pm.HubSpot}
			for _, in := range k.m.Inbound {
				if in.HubSpot == pm.HubSpot && in.Userpilot == pm.Userpilot {
					m.EchoOf = true
				}
			}
			obj.Mappings = append(obj.Mappings, m)
		}
		out.Objects = append(out.Objects, obj)
	}
	return out, nil
}

// OutboundProperties returns the Userpilot properties whose change marks a
// profile of kind dirty (store.IdentifyInput.Outbound).
func (c Config) OutboundProperties(kind store.Kind) []string {
	for _, o := range c.Objects {
		if o.Kind == kind {
			var out []string
			for _, m := range o.Mappings {
				out = append(out, m.Userpilot)
			}
			return out
		}
	}
	return nil
}
