package measured

import (
	"github.com/pilotsync/pilotsync/shared/hubspot"
	"github.com/pilotsync/pilotsync/shared/store"
)

// PlannedValue is what the daily job would do with one measured mapping of
// one profile.
type PlannedValue struct {
	Metric  string `json:"metric"`
	HubSpot string `json:"hubspot"`
	Type    string `json:"type,omitempty"`
	// Value is the computed value (Compute), Encoded its HubSpot encoding.
	Value   any    `json:"value,omitempty"`
	Encoded string `json:"encoded,omitempty"`
	// State is "send", "unchanged", "no_value" or "problem".
	State   string `json:"state"`
	Problem string `json:"problem,omitempty"`
}

// PlanValues computes t's measured mappings for summary sum (nil: no activity
// recorded) over period p with the rules of a run (checkMapping, Compute,
// encodeChanged), against the object's HubSpot properties props; hubspotID is
// the record the profile is linked to (what was sent to another record is
// sent again). It reads and writes nothing.
func PlanValues(t Target, props []hubspot.Property, sum *store.ActivitySummary, p Period, hubspotID string) []PlannedValue {
	byName := make(map[string]hubspot.Property, len(props))
	for _, hp := range props {
		byName[hp.Name] = hp
	}
	if sum == nil {
		sum = &store.ActivitySummary{}
	}
	var ok []mapping
	out := make([]PlannedValue, 0, len(t.Mappings))
	idx := map[string]int{}
	for _, mm := range t.Mappings {
		m, why := checkMapping(t, byName, mm)
		v := PlannedValue{Metric: mm.Metric, HubSpot: mm.HubSpot, Type: byName[mm.HubSpot].Type, State: "no_value"}
		if why != "" {
			v.State, v.Problem = "problem", why
		} else {
			ok = append(ok, m)
			idx[m.prop] = len(out)
		}
		out = append(out, v)
	}
	metrics := make([]string, len(ok))
	for i, m := range ok {
		metrics[i] = m.metric
	}
	values := Compute(sum, p, metrics)
	sent := map[string]string{}
	if sum.SentTo == hubspotID {
		sent = sum.Sent
	}
	changed, invalid := encodeChanged(ok, values, sent)
	for _, m := range ok {
		v := &out[idx[m.prop]]
		val, has := values[m.metric]
		if !has {
			continue
		}
		v.Value = val
		err, bad := invalid[m.prop]
		enc, send := changed[m.prop]
		switch {
		case bad:
			v.State, v.Problem = "problem", err.Error()
		case send:
			v.State, v.Encoded = "send", enc
		default:
			v.State = "unchanged"
			v.Encoded, _ = hubspot.EncodeValue(m.propType, val)
		}
	}
	return out
}
