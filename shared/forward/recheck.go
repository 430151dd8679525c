package forward

import (
	"context"

	"github.com/pilotsync/pilotsync/shared/identity"
	"github.com/pilotsync/pilotsync/shared/store"
)

// recheck handles the events HubSpot refused for good. A refusal may be the
// link's fault rather than the event's: the record was merged away (a new
// id) or deleted since the user was linked. So the users are looked up again
// by match value: a different record re-links them and the message is
// retried (it then goes to the surviving record); no record drops the event
// as unmatched; the same record means the event itself is refused, and its
// message is dead-lettered with HubSpot's reason.
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
		f.cache.forget(f.env, u)
	}
	values := map[string]string{} // user → match value
	var profiles map[string]*store.Profile
	var found map[string]string
	var err error
	if profiles, err = f.st.GetProfiles(ctx, f.env, store.KindUser, users); err == nil {
		var vs []string
		for _, u := range users {
			if v := f.matchValue(profiles[u], u); v != "" {
				values[u] = v
				vs = append(vs, v)
			}
		}
		if len(vs) > 0 {
			found, err = f.finder.FindByMatch(ctx, f.usersObject, f.matchHS, vs)
		}
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
	norm := make(map[string]string, len(found))
	for v, id := range found {
		norm[identity.Normalize(v)] = id
	}
	relinked := map[string]bool{}
	for _, r := range refused {
		p := byID[r.item.EventID]
		u := p.ev.UserID
		v, hasValue := values[u]
		hsID, inHubSpot := norm[v]
		switch {
		case hasValue && !inHubSpot:
			b.c.add(CountUnmatched, 1)
		case hasValue && hsID != sentTo[u]:
			if !relinked[u] {
				relinked[u] = true
				b.c.add(CountRelinked, 1)
				f.link(ctx, b.c, profiles[u], u, v, hsID)
				f.cache.put(f.env, u, hsID, f.now())
			}
			b.retry(p)
		default:
			b.c.add(CountRejected, 1)
			b.reject(p, "rejected", "HubSpot rejected the event: "+r.reason)
		}
	}
}
