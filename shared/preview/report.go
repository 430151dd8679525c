package preview

import (
	"fmt"
	"io"
	"maps"
	"slices"
	"time"

	"github.com/pilotsync/pilotsync/shared/hubspot"
	"github.com/pilotsync/pilotsync/shared/inbound"
	"github.com/pilotsync/pilotsync/shared/measured"
	"github.com/pilotsync/pilotsync/shared/outbound"
	"github.com/pilotsync/pilotsync/shared/store"
)

// Report is a preview's outcome.
type Report struct {
	Env      string    `json:"env"`
	At       time.Time `json:"at"`
	Records  []Record  `json:"records"`
	Activity Activity  `json:"activity"`
	Estimate Estimate  `json:"estimate"`
}

// Record is the preview of one chosen user or company.
type Record struct {
	Kind store.Kind `json:"kind"`
	// Ref is the id or match value asked for.
	Ref string `json:"ref"`
	// ProfileID is the Userpilot id; Known says whether pilotsync has seen
	// the profile (an identify event or an import).
	ProfileID string `json:"profile_id"`
	Known     bool   `json:"known"`
	Match     Match  `json:"match"`
	// Inbound are the values a sync would write to Userpilot (typed as the
	// inbound run types them); a nil Value removes the property.
	Inbound []InboundValue `json:"inbound,omitempty"`
	// Outbound are the custom properties the push would send to HubSpot.
	Outbound []outbound.PlannedValue `json:"outbound,omitempty"`
	// Measured are the measured and auto properties the daily job would send.
	Measured []measured.PlannedValue `json:"measured,omitempty"`
	Problems []Problem               `json:"problems,omitempty"`
}

// Match is how the record is matched to HubSpot.
type Match struct {
	State string `json:"state"`
	// HubSpotID is the record a sync would write to ("" when none).
	HubSpotID string `json:"hubspot_id,omitempty"`
	// PreviousID is the stored link ("" when unlinked).
	PreviousID string `json:"previous_id,omitempty"`
	// Value is a short hash of the normalized match value (identity.Redact).
	Value  string `json:"match_value_hash,omitempty"`
	Detail string `json:"detail,omitempty"`
}

// InboundValue is one Userpilot property a sync would write.
type InboundValue struct {
	Userpilot string `json:"userpilot"`
	HubSpot   string `json:"hubspot,omitempty"`
	Type      string `json:"type,omitempty"`
	Value     any    `json:"value"`
}

// Problem is a field that would not sync, and why.
type Problem struct {
	Field  string `json:"field,omitempty"`
	Reason string `json:"reason"`
}

type inboundResult struct {
	values   []InboundValue
	problems []Problem
}

// inboundPlan runs inbound's planner for prof and rec and lists its values.
func inboundPlan(obj inbound.Object, env string, now time.Time, prof *store.Profile, rec hubspot.Record, types map[string]string) inboundResult {
	plan := inbound.PlanRecord(obj, env, now, prof, rec, types)
	hs := map[string]string{}
	for _, m := range obj.Inbound {
		hs[m.Userpilot] = m.HubSpot
	}
	var out inboundResult
	for _, k := range slices.Sorted(maps.Keys(plan.Meta)) {
		out.values = append(out.values, InboundValue{Userpilot: k, HubSpot: hs[k], Type: types[hs[k]], Value: plan.Meta[k]})
	}
	for _, m := range obj.Inbound {
		if _, ok := types[m.HubSpot]; !ok && types != nil {
			out.problems = append(out.problems, Problem{Field: m.HubSpot, Reason: fmt.Sprintf("MISSING_PROPERTY: HubSpot has no %s property %q: nothing is copied from it", obj.HubSpotObject, m.HubSpot)})
		}
	}
	for _, p := range plan.Untyped {
		out.problems = append(out.problems, Problem{Field: p, Reason: fmt.Sprintf("TYPE_MISMATCH: the value does not read as HubSpot type %s: written to Userpilot as text", types[p])})
	}
	return out
}

// WriteText writes r for a person.
func (r *Report) WriteText(w io.Writer) {
	fmt.Fprintf(w, "Preview (%s, %s): nothing was written.\n", r.Env, r.At.Format(time.RFC3339))
	for _, rec := range r.Records {
		fmt.Fprintf(w, "\n%s %s", rec.Kind, rec.Ref)
		if rec.ProfileID != rec.Ref {
			fmt.Fprintf(w, " (profile %s)", rec.ProfileID)
		}
		if !rec.Known {
			fmt.Fprint(w, " (not seen by pilotsync yet)")
		}
		fmt.Fprintf(w, "\n  match: %s", rec.Match.State)
		if rec.Match.HubSpotID != "" {
			fmt.Fprintf(w, " -> HubSpot %s", rec.Match.HubSpotID)
		}
		if rec.Match.Detail != "" {
			fmt.Fprintf(w, " (%s)", rec.Match.Detail)
		}
		fmt.Fprintln(w)
		if len(rec.Inbound) > 0 {
			fmt.Fprintln(w, "  to Userpilot:")
			for _, v := range rec.Inbound {
				fmt.Fprintf(w, "    %-24s = %s\n", v.Userpilot, show(v.Value))
			}
		}
		if len(rec.Outbound) > 0 {
			fmt.Fprintln(w, "  to HubSpot (custom):")
			for _, v := range rec.Outbound {
				fmt.Fprintf(w, "    %-24s %-13s %s\n", v.HubSpot, v.State, encoded(v.Encoded, v.State))
			}
		}
		if len(rec.Measured) > 0 {
			fmt.Fprintln(w, "  to HubSpot (measured, daily):")
			for _, v := range rec.Measured {
				fmt.Fprintf(w, "    %-24s %-13s %s\n", v.HubSpot, v.State, encoded(v.Encoded, v.State))
			}
		}
		for _, p := range rec.Problems {
			if p.Field != "" {
				fmt.Fprintf(w, "  problem: %s: %s\n", p.Field, p.Reason)
			} else {
				fmt.Fprintf(w, "  problem: %s\n", p.Reason)
			}
		}
	}
	a := r.Activity
	fmt.Fprintf(w, "\nactivity sink %s: ", a.Sink)
	if a.Ready {
		fmt.Fprintf(w, "ready (%d event definitions exist, %d created on first use)\n", len(a.Existing), len(a.Missing))
	} else {
		fmt.Fprintf(w, "NOT ready: %s\n", a.Problem)
	}
	e := r.Estimate
	fmt.Fprintln(w, "\nfull sync estimate:")
	for _, o := range e.Objects {
		fmt.Fprintf(w, "  %-9s %8d HubSpot records: %d reads, up to %d writes\n", o.Object, o.Records, o.ReadCalls, o.WriteCalls)
	}
	fmt.Fprintf(w, "  %d HubSpot calls at %d per %s: about %s\n", e.HubSpotCalls, e.PerWindow, time.Duration(e.WindowMS)*time.Millisecond, e.Duration())
	for _, p := range e.Problems {
		fmt.Fprintf(w, "  problem: %s\n", p)
	}
}

func show(v any) string {
	if v == nil {
		return "(removed)"
	}
	if s, ok := v.(string); ok {
		return fmt.Sprintf("%q", s)
	}
	return fmt.Sprint(v)
}

func encoded(enc, state string) string {
	if enc == "" {
		if state == outbound.ValueSend || state == "unchanged" {
			return `"" (clear)`
		}
		return ""
	}
	return fmt.Sprintf("%q", enc)
}
