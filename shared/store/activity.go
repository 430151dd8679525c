package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

const (
	skActivityMark = "actev"

	attrEvents    = "events"
	attrSessions  = "sessions"
	attrTimeSpent = "time_spent"
	attrFirst     = "first_ms"
	attrLast      = "last_ms"

	// activityRetention is how long day aggregates are kept (TTL): longer
	// than any measured period a year-over-year property needs.
	activityRetention = 400 * 24 * time.Hour
	// activityMarkRetention is how long per-event "applied" marks are kept:
	// longer than SQS's maximum retention (14 days) plus a DLQ redrive.
	activityMarkRetention = 35 * 24 * time.Hour
	// maxDeltaEventIDs is the most event ids one delta may carry: its marks
	// and its update must fit one transaction, and so must its summary marks
	// with the user's and the company's summary updates (maxSummaryMarks).
	maxDeltaEventIDs = maxSummaryMarks

	dayLayout = "2006-01-02"
)

// ActivityDelta is activity to add to one profile's aggregate for one day.
type ActivityDelta struct {
	Kind Kind
	ID   string
	// Day is the UTC day, "YYYY-MM-DD".
	Day                                string
	Events, Sessions, TimeSpentSeconds int64
	// FirstSeen and LastSeen widen the day's first/last seen (zero: no change).
	FirstSeen, LastSeen time.Time
	// EventIDs make the delta idempotent: it is applied only if none of these
	// events was applied before (at most 98 per delta). Without ids the delta
	// is applied every time.
	EventIDs []string

	// A user delta for one event (LastSeen set) also updates the activity
	// summaries (summary.go) of the user and of CompanyID, the company the
	// event names ("" for none), with the event's Context.
	CompanyID string
	Context   ActivityContext
}

// DayActivity is one profile's aggregate for one day.
type DayActivity struct {
	Day                                string
	Events, Sessions, TimeSpentSeconds int64
	FirstSeen, LastSeen                time.Time
}

func activityPK(env string, kind Kind, id string) string {
	return env + "#activity#" + string(kind) + "#" + id
}

func activityMarkPK(env, eventID string) string { return env + "#actev#" + eventID }

type dayKey struct {
	kind    Kind
	id, day string
}

// AddActivity adds deltas to the daily aggregates, exactly once per event id
// (see the package comment): each delta's counters are added with UpdateItem
// ADD in the same transaction as one conditional marker per event id; a
// delta with an already-applied event is skipped whole. Deltas of the same
// profile and day are summed into one update per transaction. First and last
// seen are then widened with conditional updates. Last, user deltas update
// the rolling activity summaries the daily measured run reads (summary.go),
// also exactly once per event id.
func (s *Store) AddActivity(ctx context.Context, env string, deltas []ActivityDelta) error {
	kept, err := PrepareDeltas(env, deltas)
	if err != nil {
		return err
	}

	// Pack deltas into transactions: one update per (profile, day) plus one
	// mark per event id, at most maxTransactItems actions.
	var txs [][]ActivityDelta
	var cur []ActivityDelta
	groups := map[dayKey]bool{}
	n := 0
	for _, d := range kept {
		need := len(d.EventIDs)
		k := dayKey{d.Kind, d.ID, d.Day}
		if !groups[k] {
			need++
		}
		if n+need > maxTransactItems {
			txs, cur, groups, n = append(txs, cur), nil, map[dayKey]bool{}, 0
			need = len(d.EventIDs) + 1
		}
		cur = append(cur, d)
		groups[k] = true
		n += need
	}
	if len(cur) > 0 {
		txs = append(txs, cur)
	}
	err = parallel(ctx, len(txs), func(ctx context.Context, i int) error {
		return s.applyActivity(ctx, env, txs[i])
	})
	if err != nil {
		return fmt.Errorf("store: add activity: %w", err)
	}
	if err := s.widenSeen(ctx, env, kept); err != nil {
		return err
	}
	if err := s.summarize(ctx, env, kept); err != nil {
		return fmt.Errorf("store: add activity: %w", err)
	}
	return nil
}

// applyActivity runs one packed transaction of deltas, dropping deltas whose
// events were already applied and retrying the rest.
func (s *Store) applyActivity(ctx context.Context, env string, ds []ActivityDelta) error {
	now := s.now()
	markExp := expiresAt(now.Add(activityMarkRetention))
	aggExp := expiresAt(now.Add(activityRetention))
	for attempt := 0; len(ds) > 0; attempt++ {
		if attempt > 0 {
			if attempt > maxRedrives {
				return fmt.Errorf("still conflicting after %d attempts", maxRedrives)
			}
			if err := s.backoff(ctx, attempt); err != nil {
				return err
			}
		}
		type sums struct{ events, sessions, spent int64 }
		order := []dayKey{}
		totals := map[dayKey]*sums{}
		var marks []types.TransactWriteItem
		markOwner := []int{}
		for i, d := range ds {
			k := dayKey{d.Kind, d.ID, d.Day}
			t, ok := totals[k]
			if !ok {
				t = &sums{}
				totals[k] = t
				order = append(order, k)
			}
			t.events += d.Events
			t.sessions += d.Sessions
			t.spent += d.TimeSpentSeconds
			for _, e := range d.EventIDs {
				item := key(activityMarkPK(env, e), skActivityMark)
				item[attrExpires] = markExp
				marks = append(marks, types.TransactWriteItem{Put: &types.Put{
					TableName:           aws.String(s.table),
					Item:                item,
					ConditionExpression: aws.String("attribute_not_exists(PK)"),
				}})
				markOwner = append(markOwner, i)
			}
		}
		actions := make([]types.TransactWriteItem, 0, len(order)+len(marks))
		for _, k := range order {
			t := totals[k]
			actions = append(actions, types.TransactWriteItem{Update: &types.Update{
				TableName:        aws.String(s.table),
				Key:              key(activityPK(env, k.kind, k.id), k.day),
				UpdateExpression: aws.String("ADD #ev :ev, #se :se, #ts :ts SET #exp = :exp"),
				ExpressionAttributeNames: map[string]string{
					"#ev": attrEvents, "#se": attrSessions, "#ts": attrTimeSpent, "#exp": attrExpires,
				},
				ExpressionAttributeValues: map[string]types.AttributeValue{
					":ev": num(t.events), ":se": num(t.sessions), ":ts": num(t.spent), ":exp": aggExp,
				},
			}})
		}
		actions = append(actions, marks...)
		_, err := s.db.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: actions})
		if err == nil {
			return nil
		}
		var ce *types.TransactionCanceledException
		if !errors.As(err, &ce) {
			if retryable(err) {
				continue
			}
			return err
		}
		codes := reasonCodes(ce)
		drop := map[int]bool{}
		for ai, c := range codes {
			if c == "ConditionalCheckFailed" && ai >= len(order) && ai-len(order) < len(markOwner) {
				drop[markOwner[ai-len(order)]] = true
			}
		}
		if len(drop) == 0 && !transient(codes) {
			return err
		}
		next := ds[:0:0]
		for i, d := range ds {
			if !drop[i] {
				next = append(next, d)
			}
		}
		ds = next
		if len(drop) > 0 {
			attempt = -1 // not contention: resend the rest at once
		}
	}
	return nil
}

// widenSeen lowers first_ms and raises last_ms of each day touched. Min and
// max are idempotent, so they run for applied and skipped deltas alike (a
// crash between the counters and this step is repaired by the redelivery).
func (s *Store) widenSeen(ctx context.Context, env string, ds []ActivityDelta) error {
	type bound struct{ first, last time.Time }
	order := []dayKey{}
	bounds := map[dayKey]*bound{}
	for _, d := range ds {
		k := dayKey{d.Kind, d.ID, d.Day}
		b, ok := bounds[k]
		if !ok {
			b = &bound{}
			bounds[k] = b
			order = append(order, k)
		}
		if !d.FirstSeen.IsZero() && (b.first.IsZero() || d.FirstSeen.Before(b.first)) {
			b.first = d.FirstSeen
		}
		if !d.LastSeen.IsZero() && d.LastSeen.After(b.last) {
			b.last = d.LastSeen
		}
	}
	type update struct {
		k    dayKey
		attr string
		cmp  string
		at   time.Time
	}
	var ups []update
	for _, k := range order {
		b := bounds[k]
		if !b.first.IsZero() {
			ups = append(ups, update{k, attrFirst, ">", b.first})
		}
		if !b.last.IsZero() {
			ups = append(ups, update{k, attrLast, "<", b.last})
		}
	}
	if len(ups) == 0 {
		return nil
	}
	return parallel(ctx, len(ups), func(ctx context.Context, i int) error {
		u := ups[i]
		_, err := s.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{
			TableName:                 aws.String(s.table),
			Key:                       key(activityPK(env, u.k.kind, u.k.id), u.k.day),
			UpdateExpression:          aws.String("SET #a = :v"),
			ConditionExpression:       aws.String("attribute_not_exists(#a) OR #a " + u.cmp + " :v"),
			ExpressionAttributeNames:  map[string]string{"#a": u.attr},
			ExpressionAttributeValues: map[string]types.AttributeValue{":v": msN(u.at)},
		})
		if err != nil && !isConditionFailed(err) {
			return fmt.Errorf("store: widen %s of %s %s on %s: %w", u.attr, u.k.kind, u.k.id, u.k.day, err)
		}
		return nil
	})
}

// Activity returns the day aggregates of one profile from fromDay to toDay
// inclusive ("YYYY-MM-DD"), oldest first; days without activity are absent.
func (s *Store) Activity(ctx context.Context, env string, kind Kind, id string, fromDay, toDay string) ([]DayActivity, error) {
	if err := checkProfileKey(env, kind, id); err != nil {
		return nil, err
	}
	for _, d := range []string{fromDay, toDay} {
		if _, err := time.Parse(dayLayout, d); err != nil {
			return nil, fmt.Errorf("%w: activity day %q", ErrInvalid, d)
		}
	}
	now := s.now()
	p := dynamodb.NewQueryPaginator(s.db, &dynamodb.QueryInput{
		TableName:                aws.String(s.table),
		KeyConditionExpression:   aws.String("#pk = :pk AND #sk BETWEEN :from AND :to"),
		ExpressionAttributeNames: map[string]string{"#pk": attrPK, "#sk": attrSK},
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":pk": str(activityPK(env, kind, id)), ":from": str(fromDay), ":to": str(toDay),
		},
		ConsistentRead: aws.Bool(true),
	})
	var out []DayActivity
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("store: read activity of %s %s: %w", kind, id, err)
		}
		for _, item := range page.Items {
			if expired(item, now) {
				continue
			}
			out = append(out, DayActivity{
				Day:              getS(item, attrSK),
				Events:           getN(item, attrEvents),
				Sessions:         getN(item, attrSessions),
				TimeSpentSeconds: getN(item, attrTimeSpent),
				FirstSeen:        parseMs(item, attrFirst),
				LastSeen:         parseMs(item, attrLast),
			})
		}
	}
	return out, nil
}
