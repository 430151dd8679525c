package store

import (
	"context"
	"errors"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// summaryTx is the deltas of some users of one company ("" for users whose
// events name none), written in one transaction: each user's summary, the
// company's, and a mark per event id.
type summaryTx struct {
	company string
	users   []string
	deltas  map[string][]ActivityDelta
	actions int
}

// packSummaries groups user deltas by company and packs each company's users
// into transactions of at most maxTransactItems actions. A user with more
// events than one transaction holds is split over several.
func packSummaries(deltas []ActivityDelta) (companies []string, txs map[string][]*summaryTx) {
	txs = map[string][]*summaryTx{}
	byUser := map[[2]string][]ActivityDelta{}
	var order [][2]string
	for _, d := range deltas {
		if d.Kind != KindUser || d.LastSeen.IsZero() {
			continue
		}
		k := [2]string{d.CompanyID, d.ID}
		if _, ok := byUser[k]; !ok {
			order = append(order, k)
		}
		byUser[k] = append(byUser[k], d)
	}
	for _, k := range order {
		company, user := k[0], k[1]
		if _, ok := txs[company]; !ok {
			companies = append(companies, company)
		}
		ds := byUser[k]
		for len(ds) > 0 {
			list := txs[company]
			var cur *summaryTx
			if n := len(list); n > 0 && list[n-1].actions+1+len(ds[0].EventIDs) <= maxTransactItems {
				cur = list[n-1]
			}
			if cur == nil {
				cur = &summaryTx{company: company, deltas: map[string][]ActivityDelta{}}
				if company != "" {
					cur.actions = 1
				}
				txs[company] = append(list, cur)
			}
			if _, ok := cur.deltas[user]; !ok {
				cur.users = append(cur.users, user)
				cur.actions++
			}
			// Take as many of the user's deltas as fit.
			n := 0
			for n < len(ds) && cur.actions+len(ds[n].EventIDs) <= maxTransactItems {
				cur.actions += len(ds[n].EventIDs)
				n++
			}
			if n == 0 { // a fresh transaction always takes one delta
				cur.actions += len(ds[0].EventIDs)
				n = 1
			}
			cur.deltas[user] = append(cur.deltas[user], ds[:n]...)
			ds = ds[n:]
		}
	}
	return companies, txs
}

// summarize adds user deltas to the user's and its company's activity
// summaries, exactly once per event id (own marks, so the day aggregates and
// the summaries are each exactly once). Company deltas are not used: a
// company's summary is the sum of its users' (their deltas name it). One
// company's transactions run one after another, carrying the company summary
// forward; companies run in parallel.
func (s *Store) summarize(ctx context.Context, env string, deltas []ActivityDelta) error {
	companies, txs := packSummaries(deltas)
	return parallel(ctx, len(companies), func(ctx context.Context, i int) error {
		var co *ActivitySummary
		for _, tx := range txs[companies[i]] {
			var err error
			if co, err = s.summarizeTx(ctx, env, tx, co); err != nil {
				return fmt.Errorf("store: summarize activity of company %q: %w", tx.company, err)
			}
		}
		return nil
	})
}

// summarizeTx applies one packed transaction. co is the company summary as
// the previous transaction left it (nil: read it). An event already marked is
// dropped; a version conflict re-reads and retries. It returns the company
// summary as written.
func (s *Store) summarizeTx(ctx context.Context, env string, tx *summaryTx, co *ActivitySummary) (*ActivitySummary, error) {
	opts := s.sum.withDefaults()
	deltas := tx.deltas
	for attempt := 0; ; attempt++ {
		if attempt > 0 {
			if attempt > maxRedrives {
				return nil, fmt.Errorf("still conflicting after %d attempts", maxRedrives)
			}
			if err := s.backoff(ctx, attempt); err != nil {
				return nil, err
			}
		}
		var users []string
		for _, u := range tx.users {
			if len(deltas[u]) > 0 {
				users = append(users, u)
			}
		}
		if len(users) == 0 {
			return co, nil
		}
		keys := make([]map[string]types.AttributeValue, 0, len(users)+1)
		for _, u := range users {
			keys = append(keys, summaryKey(env, KindUser, u))
		}
		readCompany := tx.company != "" && (co == nil || attempt != 0)
		if readCompany {
			keys = append(keys, summaryKey(env, KindCompany, tx.company))
		}
		items, err := s.batchGet(ctx, keys)
		if err != nil {
			return nil, err
		}
		sums := map[string]*ActivitySummary{}
		var cur *ActivitySummary
		if tx.company != "" {
			if readCompany {
				cur = &ActivitySummary{Env: env, Kind: KindCompany, ID: tx.company}
			} else {
				cur = co.clone()
			}
		}
		for _, it := range items {
			kind := KindUser
			if getS(it, attrPK) == summaryPK(env, KindCompany, summaryShard(getS(it, attrSK))) && getS(it, attrSK) == tx.company {
				kind = KindCompany
			}
			sum, err := decodeSummary(env, kind, it)
			if err != nil {
				return nil, err
			}
			if kind == KindCompany {
				cur = sum
			} else {
				sums[sum.ID] = sum
			}
		}
		cutoff := s.now().Add(-opts.keep).UTC().Format(dayLayout)
		actions := make([]types.TransactWriteItem, 0, tx.actions)
		for _, u := range users {
			user := sums[u]
			if user == nil {
				user = &ActivitySummary{Env: env, Kind: KindUser, ID: u}
			}
			before := sessionStats(user.Sessions)
			for _, d := range deltas[u] {
				e := summaryEvent{at: d.LastSeen, events: d.Events, ctx: d.Context}
				user.addEvent(e)
				user.Sessions = addToSessions(user.Sessions, e.at.UnixMilli(), opts.timeout)
				if cur != nil {
					cur.addEvent(e)
				}
			}
			diff := statsDiff(before, sessionStats(user.Sessions))
			user.applySessionStats(diff)
			user.prune(cutoff)
			if cur != nil {
				cur.applySessionStats(diff)
			}
			up, err := s.summaryUpdate(env, user)
			if err != nil {
				return nil, err
			}
			actions = append(actions, types.TransactWriteItem{Update: up})
		}
		if cur != nil {
			cur.prune(cutoff)
			cu, err := s.summaryUpdate(env, cur)
			if err != nil {
				return nil, err
			}
			actions = append(actions, types.TransactWriteItem{Update: cu})
		}
		head := len(actions)
		markExp := expiresAt(s.now().Add(activityMarkRetention))
		type owner struct {
			user string
			i    int
		}
		var owners []owner
		for _, u := range users {
			for i, d := range deltas[u] {
				for _, e := range d.EventIDs {
					item := key(summaryMarkPK(env, e), skSummaryMark)
					item[attrExpires] = markExp
					actions = append(actions, types.TransactWriteItem{Put: &types.Put{
						TableName: aws.String(s.table), Item: item,
						ConditionExpression: aws.String("attribute_not_exists(PK)"),
					}})
					owners = append(owners, owner{u, i})
				}
			}
		}
		_, err = s.db.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: actions})
		if err == nil {
			if cur != nil {
				cur.Version++
			}
			return cur, nil
		}
		var ce *types.TransactionCanceledException
		if !errors.As(err, &ce) {
			if retryable(err) {
				continue
			}
			return nil, err
		}
		drop := map[owner]bool{}
		for ai, c := range reasonCodes(ce) {
			if c == "ConditionalCheckFailed" && ai >= head && ai-head < len(owners) {
				drop[owners[ai-head]] = true
			}
		}
		if len(drop) > 0 {
			next := map[string][]ActivityDelta{}
			for _, u := range users {
				for i, d := range deltas[u] {
					if !drop[owner{u, i}] {
						next[u] = append(next[u], d)
					}
				}
			}
			deltas = next
			attempt = -1 // already applied, not contention: resend the rest at once
		}
	}
}

// clone returns a deep copy of the activity part of s.
func (s *ActivitySummary) clone() *ActivitySummary {
	c := *s
	c.Days = make(map[string]*DaySummary, len(s.Days))
	for k, v := range s.Days {
		d := *v
		c.Days[k] = &d
	}
	c.Sessions = append([]Session(nil), s.Sessions...)
	c.Context = make(map[string]ContextValue, len(s.Context))
	for k, v := range s.Context {
		c.Context[k] = v
	}
	return &c
}
