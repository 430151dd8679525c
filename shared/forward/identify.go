package forward

import (
	"context"
	"sync"

	"github.com/pilotsync/pilotsync/shared/activity"
	"github.com/pilotsync/pilotsync/shared/store"
)

// identify merges identify events into profiles: one profile's events in
// order, different profiles concurrently.
func (b *batch) identify(ctx context.Context, idents []*pending) {
	if len(idents) == 0 {
		return
	}
	type profKey struct {
		kind store.Kind
		id   string
	}
	groups := map[profKey][]*pending{}
	var order []profKey
	for _, p := range idents {
		k := profKey{store.KindUser, p.ev.UserID}
		if p.ev.Type == activity.TypeIdentifyCompany {
			k = profKey{store.KindCompany, p.ev.CompanyID}
		}
		if _, ok := groups[k]; !ok {
			order = append(order, k)
		}
		groups[k] = append(groups[k], p)
	}
	b.c.add(CountIdentify, len(idents))
	work := make(chan profKey)
	var wg sync.WaitGroup
	for range min(defaultIdentifyWorkers, len(order)) {
		wg.Go(func() {
			for k := range work {
				for _, p := range groups[k] {
					in := store.IdentifyInput{Properties: p.ev.Properties, At: p.ev.InsertedAt}
					if k.kind == store.KindUser {
						in.CompanyID, in.MatchProperty, in.Outbound = p.ev.CompanyID, b.f.matchUP, b.f.outboundUser
					} else {
						in.MatchProperty = b.f.matchCo
						in.Outbound = b.f.outboundCo
					}
					res, err := b.f.st.MergeIdentify(ctx, b.f.env, k.kind, k.id, in)
					if err != nil {
						b.c.add(CountIdentifyFailed, 1)
						b.f.log.WarnContext(ctx, "activity: merge identify", "message", p.ev.MessageID, "record", p.ev.Index, "kind", k.kind, "err", err)
						b.retry(p)
						continue
					}
					if len(res.Changed) > 0 || res.Created {
						b.c.add(CountProfilesChanged, 1)
					}
					if res.MatchChanged && k.kind == store.KindUser {
						// The user's match value moved: its cached link may be stale.
						b.f.cache.forget(b.f.env, k.id)
					}
				}
			}
		})
	}
	for _, k := range order {
		work <- k
	}
	close(work)
	wg.Wait()
}
