package alert

import (
	"context"
	"fmt"

	"github.com/pilotsync/pilotsync/shared/notify"
	"github.com/pilotsync/pilotsync/shared/outbound"
)

// OutboundRecordKey is the problem key of outbound values HubSpot (or the
// codec) refused for good for one reason: category and property, so each
// reason is one email however many records it hit.
func OutboundRecordKey(object, category, property string) string {
	return "outbound/" + object + "/records/" + category + "/" + property
}

// OutboundKey is the problem key of an outbound object type stopped by cause.
func OutboundKey(object string, cause Cause) string {
	return "outbound/" + object + "/" + string(cause)
}

// OutboundOutcome maps an outbound push to problems: one per quarantine
// reason (never resolved: quarantined values are not retried until they
// change, like dead-lettered activity), and one per object type stopped by a
// named cause (credentials, daily limit) or by a mapped property missing or
// read-only in HubSpot. A kind that sent without error resolves its cause
// keys.
func OutboundOutcome(rep *outbound.Report) Outcome {
	var out Outcome
	if rep == nil || rep.Status == outbound.StatusLeaseHeld {
		return out
	}
	for _, o := range rep.Objects {
		for _, q := range o.Quarantines {
			out.Problems = append(out.Problems, notify.Problem{
				Key:   OutboundRecordKey(o.Object, q.Category, q.Property),
				Count: q.Count, Records: q.Records,
				Title: fmt.Sprintf("HubSpot refused %d %s values of %s (%s)", q.Count, singular(o.Object), q.Property, q.Category),
				Detail: "pilotsync quarantined these values: they are not sent again until they change in Userpilot. " +
					"Check the outbound mapping's property type and HubSpot's validation rules for the property. First reason: " + q.Reason,
			})
		}
		if len(o.Blocked) > 0 {
			out.Problems = append(out.Problems, notify.Problem{
				Key:    "outbound/" + o.Object + "/properties",
				Title:  fmt.Sprintf("outbound %s: mapped HubSpot properties cannot be written", o.Object),
				Detail: "Run pilotsync setup to create missing properties, or fix the mapping. The affected profiles stay marked and are sent once the properties can be written. Error: " + o.Error,
			})
		} else if o.Complete {
			out.Clean = append(out.Clean, "outbound/"+o.Object+"/properties")
		}
		if o.Error != "" && len(o.Blocked) == 0 {
			if cause := ClassifyError(o.Err); cause != "" && cause != CauseOther {
				t := causeText[cause]
				out.Problems = append(out.Problems, notify.Problem{Key: OutboundKey(o.Object, cause),
					Title: fmt.Sprintf("%s (outbound %s)", t.title, o.Object), Detail: t.detail + "\nError: " + o.Error})
			}
		}
		if o.Error == "" && o.Complete {
			for _, cause := range []Cause{CauseHubSpotAuth, CauseHubSpotDailyLimit} {
				out.Clean = append(out.Clean, OutboundKey(o.Object, cause))
			}
		}
	}
	return out.consistent()
}

// Outbound reports the problems of an outbound push.
func (a *Alerter) Outbound(ctx context.Context, rep *outbound.Report) {
	if a == nil || rep == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), sendTimeout)
	defer cancel()
	a.send(ctx, outbound.JobOutbound, OutboundOutcome(rep))
}
