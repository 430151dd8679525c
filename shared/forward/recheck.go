package forward

import (
	"context"

	"github.com/pilotsync/pilotsync/shared/identity"
	"github.com/pilotsync/pilotsync/shared/store"
)

// recheck handles the events HubSpot refused for good. A refusal may be the
// link's fault rather than the event's: the record was merged away (a new
// id) or deleted since the user was linked. So the linker treats the users'
// records as gone and resolves them again by match value: a different record
// re-links them and the message is retried (it then goes to the surviving
// record, counted relinked_merged); no record unlinks them and drops the
// event (unlinked_deleted); the same record means the event itself is
// refused, and its message is dead-lettered with HubSpot's reason.
func (b *batch) recheck(ctx context.Context, refused []rejection, byID map[string]*pending) {
	if len(refused) == 0 {
		return
	}
	f := b.f
	var users []string
	sentTo := map[string]string{} // user → the record id the refused event went to
	for _, r := range refused {
		u := byID[r.item.EventID].ev.UserID
		if _, ok := sentTo[u]; !ok {
			users = append(users, u)
		}
		sentTo[u] = r.item.ObjectID
		f.misses.forget(f.env, u)
	}
	profiles, err := f.st.GetProfiles(ctx, f.env, store.KindUser, users)
	var res map[string]identity.Resolution
	if err == nil {
		ps := make([]*store.Profile, 0, len(profiles))
		for _, u := range users {
			if p := profiles[u]; p != nil {
				ps = append(ps, p)
			}
		}
		res, err = f.linker.Gone(ctx, store.KindUser, ps)
	}
	if err != nil {
		// Cannot tell whether the link is at fault: retry rather than
		// dead-letter events that may be fine.
		f.log.WarnContext(ctx, "activity: re-check refused events' records", "users", len(users), "err", err)
		b.sinkFailed(err)
		for _, r := range refused {
			b.retry(byID[r.item.EventID])
		}
		return
	}
	counted := map[string]bool{}
	for _, r := range refused {
		p := byID[r.item.EventID]
		u := p.ev.UserID
		res, ok := res[u]
		first := !counted[u]
		counted[u] = true
		switch {
		case ok && res.Outcome == identity.Linked && res.HubSpotID != sentTo[u]:
			if first {
				b.c.add(CountRelinkedMerged, 1)
			}
			b.retry(p)
		case ok && res.Outcome == identity.Linked:
			b.c.add(CountRejected, 1)
			b.reject(p, "rejected", "HubSpot rejected the event: "+r.reason)
		default:
			// The record is gone and HubSpot knows no other under the
			// user's match value.
			if first {
				b.c.add(CountUnlinkedDeleted, 1)
			}
		}
	}
}
