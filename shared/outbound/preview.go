package outbound

import (
	"fmt"
	"slices"
	"strings"

	"github.com/pilotsync/pilotsync/shared/hubspot"
	"github.com/pilotsync/pilotsync/shared/store"
)

// Value states of PlannedValue.
const (
	// ValueSend: the push would send Encoded.
	ValueSend = "send"
	// ValueUnchanged: HubSpot has the value already (or it is an echo of
	// HubSpot's own value).
	ValueUnchanged = "unchanged"
	// ValueNotSet: the Userpilot property was never set: nothing to send.
	ValueNotSet = "not_set"
	// ValueSent: this value was sent (or refused) already.
	ValueSent = "already_sent"
	// ValueStale: older than the value already sent: never sent.
	ValueStale = "stale"
	// ValueBlocked: the HubSpot property is missing or read-only.
	ValueBlocked = "blocked"
	// ValueRefused: the value cannot be written to the property's type, or
	// is an option HubSpot does not have.
	ValueRefused = "refused"
)

// PlannedValue is what the push would do with one mapped property of one
// profile.
type PlannedValue struct {
	Userpilot string `json:"userpilot"`
	HubSpot   string `json:"hubspot"`
	// Type is the HubSpot property's type ("" when it does not exist).
	Type string `json:"type,omitempty"`
	// Value is the stored Userpilot value.
	Value any `json:"value,omitempty"`
	// Encoded is the value in HubSpot's encoding (the codec's).
	Encoded string `json:"encoded,omitempty"`
	State   string `json:"state"`
	// Problem says why a blocked or refused value is not sent.
	Problem string `json:"problem,omitempty"`
}

// PlanValues applies the push's send rules (planProfile) to p with the HubSpot
// properties props of obj's object type, and says per mapping what would be
// sent and why not. It reads and writes nothing: the preview's view of a push.
func PlanValues(obj Object, props []hubspot.Property, p *store.Profile) []PlannedValue {
	cat := catalog{}
	for _, hp := range props {
		cat[hp.Name] = hp
	}
	pl := planProfile(obj, cat, p)
	out := make([]PlannedValue, 0, len(obj.Mappings))
	for _, m := range obj.Mappings {
		v := PlannedValue{Userpilot: m.Userpilot, HubSpot: m.HubSpot}
		hp, known := cat[m.HubSpot]
		v.Type = hp.Type
		prop, set := p.Properties[m.Userpilot]
		if set {
			v.Value = prop.Value
		}
		switch {
		case !known:
			v.State, v.Problem = ValueBlocked, fmt.Sprintf("MISSING_PROPERTY: the %s property %q does not exist (run pilotsync setup)", obj.HubSpotObject, m.HubSpot)
		case !hp.Writable():
			v.State, v.Problem = ValueBlocked, fmt.Sprintf("READ_ONLY: the %s property %q is read-only or calculated", obj.HubSpotObject, m.HubSpot)
		case !set:
			v.State = ValueNotSet
		default:
			if enc, err := encode(hp.Type, prop.Value); err == nil {
				v.Encoded = enc
			}
			switch q, refused := pl.refused[m.HubSpot]; {
			case refused:
				v.State, v.Problem = ValueRefused, q.reason
			case hasKey(pl.props, m.HubSpot):
				v.State = ValueSend
				v.Encoded = pl.props[m.HubSpot]
				if bad := missingOptions(hp, v.Encoded); len(bad) > 0 {
					v.State, v.Problem = ValueRefused, fmt.Sprintf("INVALID_OPTION: %q is not an option of %s property %s", bad, hp.Type, m.HubSpot)
				}
			case hasKey(pl.settled, m.HubSpot):
				v.State = ValueUnchanged
			case p.OutboundAt[m.HubSpot].After(prop.At):
				v.State = ValueStale
			default:
				v.State = ValueSent
			}
		}
		out = append(out, v)
	}
	return out
}

func hasKey[V any](m map[string]V, k string) bool {
	_, ok := m[k]
	return ok
}

// missingOptions returns the options of an enumeration value that property
// hp does not offer (HubSpot refuses them); nil for other types or a clear.
func missingOptions(hp hubspot.Property, enc string) []string {
	if hp.Type != hubspot.TypeEnumeration || enc == "" || len(hp.Options) == 0 {
		return nil
	}
	var bad []string
	for _, o := range splitOptions(enc) {
		if !slices.ContainsFunc(hp.Options, func(po hubspot.PropertyOption) bool { return po.Value == o }) {
			bad = append(bad, o)
		}
	}
	return bad
}

// splitOptions splits a multi-select value as the codec joins it (";").
func splitOptions(enc string) []string { return strings.Split(enc, ";") }
