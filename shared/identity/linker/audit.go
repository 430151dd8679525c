package linker

import (
	"context"
	"fmt"

	"github.com/pilotsync/pilotsync/shared/hubspot"
	"github.com/pilotsync/pilotsync/shared/identity"
	"github.com/pilotsync/pilotsync/shared/store"
)

// auditBatch is how many linked ids one audit batch read checks: HubSpot's
// batch read takes at most 100 inputs
// (https://developers.hubspot.com/docs/api-reference/crm-objects-v3/basic/post-crm-v3-objects-objectType-batch-read).
const auditBatch = hubspot.MaxBatchInputs

// AuditReport is what one link audit found and repaired, for the run record.
type AuditReport struct {
	Kind store.Kind
	// Checked is the number of linked profiles checked.
	Checked int
	// Valid links were confirmed by HubSpot as they are.
	Valid int
	// RelinkedMerged links moved to the record theirs was merged into.
	RelinkedMerged int
	// UnlinkedDeleted profiles lost their record and no other record has
	// their match value.
	UnlinkedDeleted int
	// Relinked profiles lost their record (or had a stale link) and were
	// linked to another record with their match value.
	Relinked int
	// BatchReads is the number of batch reads by record id (one per 100
	// linked profiles); Lookups the number of resolutions by match value
	// (each one batch read, plus additional-email searches).
	BatchReads, Lookups int
}

// Counts returns the report as run record counts.
func (r AuditReport) Counts() map[string]int64 {
	return map[string]int64{
		"links_checked": int64(r.Checked), "links_valid": int64(r.Valid),
		"relinked_merged": int64(r.RelinkedMerged), "unlinked_deleted": int64(r.UnlinkedDeleted),
		"relinked": int64(r.Relinked), "audit_batch_reads": int64(r.BatchReads), "audit_lookups": int64(r.Lookups),
	}
}

// Audit checks every linked profile of kind against HubSpot, 100 record ids
// per batch read, so links whose records were deleted or merged without any
// event are repaired within a day: a merged record moves the link to the
// surviving id; a deleted or archived one unlinks the profile, which is then
// resolved again by match value. Stale links (made under another match value
// or object) are resolved again as well.
func (l *Linker) Audit(ctx context.Context, kind store.Kind) (AuditReport, error) {
	rep := AuditReport{Kind: kind}
	obj, err := l.object(kind)
	if err != nil {
		return rep, err
	}
	var chunk []*store.Profile
	flush := func() error {
		err := l.auditChunk(ctx, kind, obj, chunk, &rep)
		chunk = chunk[:0]
		return err
	}
	for p, err := range l.st.LinkedProfiles(ctx, l.env, kind) {
		if err != nil {
			return rep, fmt.Errorf("linker: audit %s links: %w", kind, err)
		}
		rep.Checked++
		chunk = append(chunk, p)
		if len(chunk) == auditBatch {
			if err := flush(); err != nil {
				return rep, err
			}
		}
	}
	if len(chunk) > 0 {
		if err := flush(); err != nil {
			return rep, err
		}
	}
	l.log.InfoContext(ctx, "linker: link audit", "kind", kind, "checked", rep.Checked, "valid", rep.Valid,
		"relinked_merged", rep.RelinkedMerged, "unlinked_deleted", rep.UnlinkedDeleted, "relinked", rep.Relinked,
		"batch_reads", rep.BatchReads, "lookups", rep.Lookups)
	return rep, nil
}

func (l *Linker) auditChunk(ctx context.Context, kind store.Kind, obj Object, ps []*store.Profile, rep *AuditReport) error {
	var check, stale []*store.Profile
	var ids []string
	for _, p := range ps {
		if p.Link().ValidFor(obj.matchValue(kind, p), obj.HubSpotObject) {
			check = append(check, p)
			ids = append(ids, p.HubSpotID)
		} else {
			stale = append(stale, p)
		}
	}
	var gone, merged []*store.Profile
	if len(ids) > 0 {
		rep.BatchReads++
		res, err := l.hs.BatchRead(ctx, obj.HubSpotObject, ids, "", obj.inboundProperties())
		if err != nil {
			return fmt.Errorf("linker: audit %d %s links: %w", len(ids), kind, err)
		}
		byID := make(map[string]hubspot.Record, len(res.Results))
		for _, r := range res.Results {
			byID[r.ID] = r
		}
		for _, p := range check {
			switch to, ok := res.Merged[p.HubSpotID]; {
			case ok && to != p.HubSpotID:
				Set(p, to, obj.HubSpotObject, p.LinkMatch)
				rec, ok := byID[to]
				if !ok {
					rec = hubspot.Record{ID: to}
				}
				l.writeUserpilot(ctx, kind, p, obj.linkedMeta(kind, rec))
				merged = append(merged, p)
			case res.ByRequest[p.HubSpotID] == "":
				// HubSpot answered no record for it (BatchRead lists every
				// requested id in ByRequest or NotFound): deleted or archived.
				gone = append(gone, p)
			default:
				rep.Valid++
			}
		}
	}
	if len(merged) > 0 {
		conflicted, err := l.save(ctx, kind, merged)
		if err != nil {
			return err
		}
		rep.RelinkedMerged += len(merged) - len(conflicted)
		stale = append(stale, conflicted...) // changed meanwhile: resolve afresh
	}
	if len(gone) > 0 {
		rep.Lookups++
		res, err := l.Gone(ctx, kind, gone)
		if err != nil {
			return err
		}
		tally(rep, res, gone)
	}
	if len(stale) > 0 {
		rep.Lookups++
		res, err := l.Resolve(ctx, kind, stale)
		if err != nil {
			return err
		}
		tally(rep, res, stale)
	}
	return nil
}

func tally(rep *AuditReport, res map[string]identity.Resolution, ps []*store.Profile) {
	for _, p := range ps {
		switch r := res[p.ID]; {
		case r.Outcome == identity.Linked && r.Relinked:
			rep.Relinked++
		case r.Outcome == identity.Linked:
			rep.Valid++
		case r.Unlinked:
			rep.UnlinkedDeleted++
		}
	}
}
