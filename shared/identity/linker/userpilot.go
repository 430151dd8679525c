package linker

import (
	"context"

	"github.com/pilotsync/pilotsync/shared/hubspot"
	"github.com/pilotsync/pilotsync/shared/identity"
	"github.com/pilotsync/pilotsync/shared/store"
	"github.com/pilotsync/pilotsync/shared/userpilot"
)

// Userpilot is the part of the Userpilot client the linker writes link
// changes with.
type Userpilot interface {
	IdentifyUser(ctx context.Context, u userpilot.User) error
	IdentifyCompany(ctx context.Context, co userpilot.Company) error
}

var _ Userpilot = (*userpilot.Client)(nil)

// linkKey is the Userpilot metadata key carrying a kind's linked HubSpot id.
func linkKey(kind store.Kind) string {
	if kind == store.KindCompany {
		return identity.KeyCompanyID
	}
	return identity.KeyUserID
}

// inboundProperties are the HubSpot properties a resolution reads, so a new
// link can write the new record's values to Userpilot.
func (o Object) inboundProperties() []string {
	var out []string
	for _, m := range o.Inbound {
		out = append(out, m.HubSpot)
	}
	return out
}

// linkedMeta is what Userpilot gets when p is linked to rec: the link keys
// and every inbound property from the new record, those it lacks cleared
// (nil), so no value of the previous record is left behind.
func (o Object) linkedMeta(kind store.Kind, rec hubspot.Record) map[string]any {
	meta := map[string]any{identity.KeyObjectType: o.HubSpotObject, linkKey(kind): rec.ID}
	for _, m := range o.Inbound {
		if v := rec.Properties[m.HubSpot]; v != "" {
			meta[m.Userpilot] = v
		} else {
			meta[m.Userpilot] = nil
		}
	}
	return meta
}

// unlinkedMeta removes the link keys (and, with ClearOnUnlink, the inbound
// properties) in Userpilot.
func (o Object) unlinkedMeta(kind store.Kind) map[string]any {
	meta := map[string]any{identity.KeyObjectType: nil, linkKey(kind): nil}
	if o.ClearOnUnlink {
		for _, m := range o.Inbound {
			meta[m.Userpilot] = nil
		}
	}
	return meta
}

// writeUserpilot writes a link change of p to Userpilot, before the profile
// is stored, and records in p's InboundHashes what Userpilot now holds (so
// the inbound poll neither rewrites these values nor misses clearing them
// later). A failed write is logged and its hashes forgotten: the inbound poll
// writes the values again when the record next changes.
func (l *Linker) writeUserpilot(ctx context.Context, kind store.Kind, p *store.Profile, meta map[string]any) {
	if l.up == nil {
		return
	}
	var err error
	if kind == store.KindCompany {
		err = l.up.IdentifyCompany(ctx, userpilot.Company{CompanyID: p.ID, Metadata: meta})
	} else {
		err = l.up.IdentifyUser(ctx, userpilot.User{UserID: p.ID, Metadata: meta})
	}
	if p.InboundHashes == nil {
		p.InboundHashes = map[string]string{}
	}
	for k, v := range meta {
		switch s, ok := v.(string); {
		case err != nil || !ok:
			delete(p.InboundHashes, k)
		default:
			p.InboundHashes[k] = identity.ValueHash(s)
		}
	}
	if err != nil {
		l.log.WarnContext(ctx, "linker: write link change to Userpilot", "kind", kind, "profile", identity.Redact(p.ID), "err", err)
	}
}
