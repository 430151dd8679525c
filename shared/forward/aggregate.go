package forward

import (
	"cmp"
	"context"
	"slices"

	"github.com/pilotsync/pilotsync/shared/activity"
	"github.com/pilotsync/pilotsync/shared/store"
)

// aggregate adds every non-identify event to the daily aggregates of its user
// and company, exactly once per event (the store marks event ids).
func (b *batch) aggregate(ctx context.Context, others []*pending) {
	if len(others) == 0 {
		return
	}
	deltas := make([]store.ActivityDelta, 0, 2*len(others))
	now := b.f.now()
	var added []*pending
	for _, p := range others {
		if !p.ev.KnownType() {
			continue // unclassified: counted by forward, not user activity we can vouch for
		}
		if now.Sub(p.ev.InsertedAt) > AggregateMaxAge {
			b.c.add(CountAggregateTooOld, 1)
			continue
		}
		added = append(added, p)
		d := store.ActivityDelta{Day: p.ev.Day(), FirstSeen: p.ev.InsertedAt, LastSeen: p.ev.InsertedAt}
		if p.ev.Type == activity.TypeSessionStart {
			d.Sessions = 1
		} else {
			d.Events = 1
		}
		u := d
		u.Kind, u.ID, u.EventIDs = store.KindUser, p.ev.UserID, []string{"user:" + p.ev.InternalEventID}
		// The user's delta also feeds the rolling summaries of the user and its
		// company that the daily measured run reads.
		u.CompanyID = p.ev.CompanyID
		u.Context = store.ActivityContext{
			Hostname: p.ev.Hostname, Pathname: p.ev.Pathname, CountryCode: p.ev.CountryCode,
			Browser: p.ev.Browser, OperatingSystem: p.ev.OperatingSystem, DeviceType: p.ev.DeviceType,
		}
		deltas = append(deltas, u)
		if p.ev.CompanyID != "" {
			co := d
			co.Kind, co.ID, co.EventIDs = store.KindCompany, p.ev.CompanyID, []string{"company:" + p.ev.InternalEventID}
			deltas = append(deltas, co)
		}
	}
	// Grouped by profile and day, a transaction holds one counter update and
	// ~99 event marks instead of one update per event: half the transactions.
	slices.SortStableFunc(deltas, func(a, b store.ActivityDelta) int {
		return cmp.Or(cmp.Compare(a.Kind, b.Kind), cmp.Compare(a.ID, b.ID), cmp.Compare(a.Day, b.Day))
	})
	if len(deltas) == 0 {
		return
	}
	if err := b.f.st.AddActivity(ctx, b.f.env, deltas); err != nil {
		b.c.add(CountAggregateFailed, len(added))
		b.f.log.WarnContext(ctx, "activity: add to daily aggregates", "events", len(added), "err", err)
		for _, p := range added {
			b.retry(p)
		}
		return
	}
	b.c.add(CountAggregated, len(added))
}
