package outbound

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"

	"github.com/pilotsync/pilotsync/shared/hubspot"
	"github.com/pilotsync/pilotsync/shared/identity"
	"github.com/pilotsync/pilotsync/shared/store"
)

const (
	// maxSendRounds bounds the sends of one batch: the first, then resends of
	// records whose other values a refused property held back, or that the
	// linker moved to another record after HubSpot said theirs was gone.
	maxSendRounds = 3
	// saveAttempts bounds re-applying outcomes after version conflicts (an
	// identify event updated the profile meanwhile).
	saveAttempts = 5
	// categoryGone is HubSpot's error category for a deleted or merged-away id.
	categoryGone = "OBJECT_NOT_FOUND"
)

// pending is one linked profile with values to send.
type pending struct {
	p   *store.Profile
	pl  *plan
	out *outcome
}

// batch pushes up to batchSize dirty profiles: resolve links, plan, send
// with one batch update call (a few more only for resends), and save what
// happened. Every profile it saves is checkpointed by its own write.
func (r *run) batch(ctx context.Context, obj Object, cat catalog, ps []*store.Profile, or *ObjectReport) error {
	res, err := r.linker.Resolve(ctx, obj.Kind, ps)
	if err != nil {
		return fmt.Errorf("resolve %d %s: %w", len(ps), or.Object, err)
	}
	outcomes := map[string]*outcome{}
	var save []*store.Profile
	var sends []*pending
	for _, p := range ps {
		if rs, ok := res[p.ID]; !ok || rs.Outcome != identity.Linked || p.HubSpotID == "" {
			or.Unmatched++
			outcomes[p.ID] = &outcome{unmatched: true}
			save = append(save, p)
			continue
		}
		pl := planProfile(obj, cat, p)
		or.Echoes += int64(pl.echoes)
		or.Stale += int64(pl.stale)
		out := newOutcome(pl)
		outcomes[p.ID] = out
		if len(pl.refused) > 0 {
			or.Quarantined++
			for k, q := range pl.refused {
				or.quarantined(p.ID, p.HubSpotID, k, q.reason)
			}
		}
		if len(pl.props) == 0 {
			or.Unchanged++
			save = append(save, p)
			continue
		}
		or.Changed++
		sends = append(sends, &pending{p: p, pl: pl, out: out})
	}
	for round := 0; len(sends) > 0 && round < maxSendRounds; round++ {
		var next []*pending
		next, err = r.send(ctx, obj, sends, or)
		for _, s := range sends {
			if !slices.Contains(next, s) {
				save = append(save, s.p)
			}
		}
		sends = next
		if err != nil {
			break
		}
	}
	for _, s := range sends { // out of rounds, or the call failed: retry next poll
		s.out.keepDirty = true
		save = append(save, s.p)
	}
	if serr := r.save(ctx, obj, cat, save, outcomes, or); serr != nil {
		return errors.Join(err, serr)
	}
	return err
}

// send makes one batch update call for sends and applies the per-record
// results to their outcomes. It returns the records to send again (other
// values of a record whose one property was refused; records re-linked after
// HubSpot said theirs was gone) and the error of a call that failed as a
// whole (auth, daily limit, retries exhausted), for which nothing is
// quarantined.
func (r *run) send(ctx context.Context, obj Object, sends []*pending, or *ObjectReport) ([]*pending, error) {
	byID := map[string][]*pending{}
	var inputs []hubspot.UpdateInput
	for _, s := range sends {
		if _, dup := byID[s.p.HubSpotID]; !dup {
			inputs = append(inputs, hubspot.UpdateInput{ID: s.p.HubSpotID, Properties: maps.Clone(s.pl.props)})
		} else {
			// Two profiles on one record (a shared match value): HubSpot takes
			// one write per id, the later profile's values win.
			for i := range inputs {
				if inputs[i].ID == s.p.HubSpotID {
					maps.Copy(inputs[i].Properties, s.pl.props)
				}
			}
		}
		byID[s.p.HubSpotID] = append(byID[s.p.HubSpotID], s)
	}
	or.Batches++
	res, callErr := r.hs.BatchUpdate(ctx, obj.HubSpotObject, inputs)
	if res == nil {
		res = &hubspot.BatchUpdateResult{}
		for _, in := range inputs {
			res.Failed = append(res.Failed, hubspot.RecordError{ID: in.ID, Retryable: true})
		}
	}
	var again, gone []*pending
	for _, rec := range res.Updated {
		for _, s := range byID[rec.ID] {
			or.Sent++
			or.Values += int64(len(s.pl.props))
			maps.Copy(s.out.sent, s.pl.sent)
		}
		delete(byID, rec.ID)
	}
	for _, fe := range res.Failed {
		// A named property on a record two profiles share is one profile's
		// value: the other profiles are not at fault (refuse sends them again).
		named := fe.Property != "" && slices.ContainsFunc(byID[fe.ID], func(s *pending) bool { return hasKey(s.pl.props, fe.Property) })
		for _, s := range byID[fe.ID] {
			switch {
			case callErr != nil || fe.Retryable:
				or.Retry++
				s.out.keepDirty = true
			case fe.Category == categoryGone:
				or.Gone++
				gone = append(gone, s)
			default:
				again = append(again, r.refuse(s, fe, named, or)...)
			}
		}
		delete(byID, fe.ID)
	}
	for _, ss := range byID { // neither updated nor failed: nothing is known
		for _, s := range ss {
			or.Retry++
			s.out.keepDirty = true
		}
	}
	if callErr != nil {
		return nil, fmt.Errorf("batch update %d %s: %w", len(inputs), obj.HubSpotObject, callErr)
	}
	if len(gone) > 0 {
		ps := make([]*store.Profile, len(gone))
		for i, s := range gone {
			ps[i] = s.p
		}
		rs, err := r.linker.Gone(ctx, obj.Kind, ps)
		if err != nil {
			for _, s := range gone {
				s.out.keepDirty = true
			}
			return again, fmt.Errorf("re-resolve %d gone %s: %w", len(gone), obj.HubSpotObject, err)
		}
		for _, s := range gone {
			if x := rs[s.p.ID]; x.Outcome == identity.Linked && s.p.HubSpotID != "" {
				again = append(again, s)
				continue
			}
			or.Unmatched++
			s.out.unmatched = true
		}
	}
	return again, nil
}

// refuse quarantines what HubSpot refused for good: the property it names,
// or every value of the record when it names none. It returns the record
// when other values remain to send. named says another profile on the same
// record sent the named property: then s's values were not refused, and s
// is sent again as it is.
func (r *run) refuse(s *pending, fe hubspot.RecordError, named bool, or *ObjectReport) []*pending {
	if named && !hasKey(s.pl.props, fe.Property) {
		return []*pending{s}
	}
	reason := fe.Category
	if reason == "" {
		reason = "REFUSED"
	}
	if fe.Message != "" {
		reason += ": " + fe.Message
	}
	refused := []string{fe.Property}
	if _, ok := s.pl.props[fe.Property]; !ok {
		refused = slices.Sorted(maps.Keys(s.pl.props))
	}
	or.Quarantined++
	for _, k := range refused {
		s.out.refused[k] = quarantine{reason: reason, at: s.pl.sent[k].at}
		or.quarantined(s.p.ID, s.p.HubSpotID, k, reason)
		delete(s.pl.props, k)
		delete(s.pl.sent, k)
	}
	if len(s.pl.props) > 0 {
		return []*pending{s}
	}
	return nil
}

// save stores the profiles with their outcomes applied; a profile changed
// meanwhile (version conflict) is read again and its outcome re-applied.
func (r *run) save(ctx context.Context, obj Object, cat catalog, ps []*store.Profile, outs map[string]*outcome, or *ObjectReport) error {
	for _, p := range ps {
		outs[p.ID].apply(obj, cat, p)
	}
	for attempt := 0; len(ps) > 0; attempt++ {
		or.StoreWrites += int64(len(ps))
		err := r.store.PutProfiles(ctx, ps)
		var be *store.BatchError
		if err == nil {
			return nil
		}
		if !errors.As(err, &be) || attempt+1 >= saveAttempts {
			return fmt.Errorf("save %d %s: %w", len(ps), or.Object, err)
		}
		var retry []*store.Profile
		for _, f := range be.Failed {
			if !errors.Is(f.Err, store.ErrConflict) {
				return fmt.Errorf("save %s %s: %w", or.Object, f.ID, f.Err)
			}
			fresh, err := r.store.GetProfile(ctx, r.cfg.Env, obj.Kind, f.ID)
			or.StoreReads++
			if err != nil {
				return fmt.Errorf("re-read %s %s: %w", or.Object, f.ID, err)
			}
			outs[f.ID].apply(obj, cat, fresh)
			retry = append(retry, fresh)
		}
		ps = retry
	}
	return nil
}
