package preview

import (
	"context"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/pilotsync/pilotsync/shared/activity"
	"github.com/pilotsync/pilotsync/shared/config"
	"github.com/pilotsync/pilotsync/shared/hubspot"
)

// Page sizes a full sync uses (the engines' own constants are unexported;
// the numbers are HubSpot's).
const (
	// listPage is the list endpoint's largest page
	// (https://developers.hubspot.com/docs/api-reference/crm-objects-v3/basic/get-crm-v3-objects-objectType).
	listPage = hubspot.MaxListLimit
	// batchUpdate is the batch update endpoint's input limit
	// (https://developers.hubspot.com/docs/api-reference/crm-objects-v3/batch/post-crm-v3-objects-objectType-batch-update).
	batchUpdate = hubspot.MaxBatchInputs
)

// Activity is whether the activity sink can deliver events.
type Activity struct {
	Sink  string `json:"sink"`
	Ready bool   `json:"ready"`
	// Existing are the event definitions of this integration that exist;
	// Missing the configured ones that do not yet (the activity function
	// creates them on the first event).
	Existing []string `json:"existing,omitempty"`
	Missing  []string `json:"missing,omitempty"`
	Problem  string   `json:"problem,omitempty"`
}

// activity checks the sink: for custom events, that the account lets the
// token list event definitions (an account or token without custom events
// is refused) and which of the configured definitions exist.
func (p *Preview) activity(ctx context.Context) Activity {
	a := Activity{Sink: p.cfg.Activity.Sink}
	if a.Sink == "" {
		a.Sink = config.SinkCustomEvents
	}
	switch a.Sink {
	case config.SinkNone:
		a.Problem = "activity forwarding is off (activity.sink: none)"
		return a
	case config.SinkCustomEvents:
	default:
		a.Ready = true // timeline and app events need no definitions listed here
		return a
	}
	defs, err := p.hs.ListEventDefinitions(ctx)
	if err != nil {
		var ae *hubspot.APIError
		if errors.As(err, &ae) && (ae.Status == 403 || ae.Status == 401) {
			a.Problem = "HubSpot refused to list custom event definitions: the account needs custom events (Marketing/Operations Hub Enterprise) and the token the behavioral_events scopes: " + err.Error()
		} else {
			a.Problem = "list custom event definitions: " + err.Error()
		}
		return a
	}
	a.Ready = true
	prefix := p.cfg.Activity.EventNamePrefix
	if prefix == "" {
		prefix = activity.DefaultEventNamePrefix
	}
	have := map[string]bool{}
	for _, d := range defs {
		if strings.HasPrefix(d.Name, prefix+"_") {
			have[d.Name] = true
			a.Existing = append(a.Existing, d.Name)
		}
	}
	slices.Sort(a.Existing)
	for _, c := range p.cfg.Activity.Categories {
		for _, s := range c.Statuses {
			if n := activity.EventName(prefix, activity.Category(c.Name), activity.NormalizeStatus(s)); !have[n] {
				a.Missing = append(a.Missing, n)
			}
		}
	}
	return a
}

// Estimate is what a full sync ("sync now") would cost at the account's
// limits.
type Estimate struct {
	Objects []ObjectEstimate `json:"objects"`
	// HubSpotCalls is the total of HubSpot requests, at most.
	HubSpotCalls int64 `json:"hubspot_calls"`
	// PerWindow requests per WindowMS are the limits the client paces to.
	PerWindow  int   `json:"per_window"`
	WindowMS   int64 `json:"window_ms"`
	DurationMS int64 `json:"duration_ms"`
	// Problems are counts that could not be read.
	Problems []string `json:"problems,omitempty"`
}

// Duration is the estimated time.
func (e Estimate) Duration() time.Duration {
	return (time.Duration(e.DurationMS) * time.Millisecond).Round(time.Second)
}

// ObjectEstimate is one object type's share.
type ObjectEstimate struct {
	Object string `json:"object"`
	// Records is HubSpot's count of the object's records.
	Records int64 `json:"records"`
	// ReadCalls are the list pages of the inbound sync; WriteCalls the batch
	// updates of the outbound push and the measured job if every record
	// changed (an upper bound: only changed values are sent).
	ReadCalls  int64 `json:"read_calls"`
	WriteCalls int64 `json:"write_calls"`
}

// estimate counts each synced object's records (a search with limit 1 gives
// the total) and prices a full sync at the pacing limits.
func (p *Preview) estimate(ctx context.Context) Estimate {
	e := Estimate{PerWindow: p.limits.PerWindow, WindowMS: p.limits.Window.Milliseconds()}
	if e.WindowMS <= 0 {
		e.WindowMS = hubspot.DefaultWindow.Milliseconds()
	}
	seen := map[string]bool{}
	for _, k := range sortedKinds(p.link) {
		lo := p.link[k]
		if seen[lo.HubSpotObject] {
			continue
		}
		seen[lo.HubSpotObject] = true
		page, err := p.hs.Search(ctx, lo.HubSpotObject, hubspot.SearchRequest{Limit: 1, Properties: []string{}})
		if err != nil {
			e.Problems = append(e.Problems, fmt.Sprintf("count %s: %v", lo.HubSpotObject, err))
			continue
		}
		n := int64(page.Total)
		o := ObjectEstimate{Object: lo.HubSpotObject, Records: n, ReadCalls: ceilDiv(n, listPage) + 1}
		writers := int64(0)
		if _, ok := p.outbound[k]; ok {
			writers++
		}
		if _, ok := p.measured[k]; ok {
			writers++
		}
		o.WriteCalls = writers * ceilDiv(n, batchUpdate)
		e.Objects = append(e.Objects, o)
		e.HubSpotCalls += o.ReadCalls + o.WriteCalls + 1 // + the property list
	}
	perMS := float64(e.PerWindow) / float64(e.WindowMS)
	if perMS > 0 {
		e.DurationMS = int64(math.Ceil(float64(e.HubSpotCalls) / perMS))
	}
	return e
}

func ceilDiv(n, d int64) int64 {
	if n <= 0 {
		return 0
	}
	return (n + d - 1) / d
}
