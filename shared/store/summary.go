package store

import (
	"context"
	"encoding/json"
	"fmt"
	"hash/fnv"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/pilotsync/pilotsync/shared/config"
)

// SummaryShards is the number of partitions activity summaries are spread
// over (by a hash of the profile id); ActivitySummaries reads one at a time.
const SummaryShards = 16

const (
	skSummaryMark = "sumev"

	attrSumBody   = "body"
	attrSumVer    = "ver"
	attrSumLast   = "last_ms"
	attrSumSent   = "sent"
	attrSumSentTo = "sent_to"

	// defaultSummaryTimeout is the session timeout when none is configured.
	defaultSummaryTimeout = config.DefaultSessionTimeout
	// defaultSummaryKeep keeps the longest measured period plus a week of
	// days: room for the daily runs that send zeros once a profile's activity
	// has left the period.
	defaultSummaryKeep = (config.MaxPeriodDays + 7) * 24 * time.Hour
	// maxSummaryMarks leaves room for the user and company updates in one
	// transaction.
	maxSummaryMarks = maxTransactItems - 2
)

// summaryOptions configure how activity summaries are kept.
type summaryOptions struct {
	timeout, keep time.Duration
}

func (o summaryOptions) withDefaults() summaryOptions {
	if o.timeout <= 0 {
		o.timeout = defaultSummaryTimeout
	}
	if o.keep <= 0 {
		o.keep = defaultSummaryKeep
	}
	return o
}

// WithActivitySummary returns a copy of s that splits sessions after
// sessionTimeout of inactivity and keeps keepDays days of activity in each
// summary (the measured period plus a week, so runs after activity has left
// the period still see the profile and send its zeros). Zero values keep the
// defaults (30 minutes, 372 days).
func (s *Store) WithActivitySummary(sessionTimeout time.Duration, keepDays int) *Store {
	c := *s
	c.sum = summaryOptions{timeout: sessionTimeout, keep: time.Duration(keepDays) * 24 * time.Hour}
	return &c
}

func summaryShard(id string) int {
	h := fnv.New32a()
	h.Write([]byte(id))
	return int(h.Sum32() % SummaryShards)
}

func summaryPK(env string, kind Kind, shard int) string {
	return env + "#msum#" + string(kind) + "#" + strconv.Itoa(shard)
}

func summaryKey(env string, kind Kind, id string) map[string]types.AttributeValue {
	return key(summaryPK(env, kind, summaryShard(id)), id)
}

func summaryMarkPK(env, eventID string) string { return env + "#sumev#" + eventID }

// decodeSummary reads a summary item.
func decodeSummary(env string, kind Kind, item map[string]types.AttributeValue) (*ActivitySummary, error) {
	s := &ActivitySummary{Env: env, Kind: kind, ID: getS(item, attrSK), Version: getN(item, attrSumVer), SentTo: getS(item, attrSumSentTo)}
	var b summaryBody
	if raw := getS(item, attrSumBody); raw != "" {
		if err := json.Unmarshal([]byte(raw), &b); err != nil {
			return nil, fmt.Errorf("store: decode activity summary of %s %s: %w", kind, s.ID, err)
		}
	}
	s.Days, s.Sessions, s.Context = b.Days, b.Sessions, b.Context
	if raw := getS(item, attrSumSent); raw != "" {
		if err := json.Unmarshal([]byte(raw), &s.Sent); err != nil {
			return nil, fmt.Errorf("store: decode sent values of %s %s: %w", kind, s.ID, err)
		}
	}
	return s, nil
}

func (s *Store) summaryValues(sum *ActivitySummary) (body string, last, exp int64, err error) {
	b, err := json.Marshal(summaryBody{Days: sum.Days, Sessions: sum.Sessions, Context: sum.Context})
	if err != nil {
		return "", 0, 0, fmt.Errorf("store: encode activity summary of %s %s: %w", sum.Kind, sum.ID, err)
	}
	last = sum.lastMs()
	exp = time.UnixMilli(last).Add(s.sum.withDefaults().keep).Unix()
	if len(b) > maxItemBytes-1024 {
		return "", 0, 0, fmt.Errorf("store: activity summary of %s %s is %d bytes: %w", sum.Kind, sum.ID, len(b), ErrItemTooLarge)
	}
	return string(b), last, exp, nil
}

// summaryUpdate writes the activity part of sum (never its sent values),
// conditional on the version it was read with.
func (s *Store) summaryUpdate(env string, sum *ActivitySummary) (*types.Update, error) {
	body, last, exp, err := s.summaryValues(sum)
	if err != nil {
		return nil, err
	}
	cond := "attribute_not_exists(#ver)"
	vals := map[string]types.AttributeValue{
		":b": str(body), ":v": num(sum.Version + 1), ":l": num(last), ":x": num(exp),
	}
	if sum.Version > 0 {
		cond = "#ver = :ov"
		vals[":ov"] = num(sum.Version)
	}
	return &types.Update{
		TableName:                 aws.String(s.table),
		Key:                       summaryKey(env, sum.Kind, sum.ID),
		UpdateExpression:          aws.String("SET #b = :b, #ver = :v, #l = :l, #exp = :x"),
		ConditionExpression:       aws.String(cond),
		ExpressionAttributeNames:  map[string]string{"#b": attrSumBody, "#ver": attrSumVer, "#l": attrSumLast, "#exp": attrExpires},
		ExpressionAttributeValues: vals,
	}, nil
}

// GetActivitySummary returns one profile's activity summary, or ErrNotFound.
func (s *Store) GetActivitySummary(ctx context.Context, env string, kind Kind, id string) (*ActivitySummary, error) {
	if err := checkProfileKey(env, kind, id); err != nil {
		return nil, err
	}
	out, err := s.db.GetItem(ctx, &dynamodb.GetItemInput{
		TableName: aws.String(s.table), Key: summaryKey(env, kind, id), ConsistentRead: aws.Bool(true),
	})
	if err != nil {
		return nil, fmt.Errorf("store: get activity summary of %s %s: %w", kind, id, err)
	}
	if out.Item == nil || expired(out.Item, s.now()) {
		return nil, ErrNotFound
	}
	return decodeSummary(env, kind, out.Item)
}

// ActivitySummaries returns up to limit summaries of one shard in id order,
// starting after the id after ("" from the start), and the id to continue
// after ("" when the shard is done). Expired summaries are left out. Each page
// is one Query: reading every summary costs one item read per profile kept.
func (s *Store) ActivitySummaries(ctx context.Context, env string, kind Kind, shard int, after string, limit int) ([]*ActivitySummary, string, error) {
	if err := checkEnv(env); err != nil {
		return nil, "", err
	}
	if !kind.valid() || shard < 0 || shard >= SummaryShards {
		return nil, "", fmt.Errorf("%w: summary shard %s/%d", ErrInvalid, kind, shard)
	}
	pk := summaryPK(env, kind, shard)
	in := &dynamodb.QueryInput{
		TableName:                 aws.String(s.table),
		KeyConditionExpression:    aws.String("#pk = :pk"),
		ExpressionAttributeNames:  map[string]string{"#pk": attrPK},
		ExpressionAttributeValues: map[string]types.AttributeValue{":pk": str(pk)},
		ConsistentRead:            aws.Bool(true),
	}
	if limit > 0 {
		in.Limit = aws.Int32(int32(limit))
	}
	if after != "" {
		in.ExclusiveStartKey = key(pk, after)
	}
	out, err := s.db.Query(ctx, in)
	if err != nil {
		return nil, "", fmt.Errorf("store: list activity summaries of %s shard %d: %w", kind, shard, err)
	}
	now := s.now()
	var list []*ActivitySummary
	for _, it := range out.Items {
		if expired(it, now) {
			continue
		}
		sum, err := decodeSummary(env, kind, it)
		if err != nil {
			return nil, "", err
		}
		list = append(list, sum)
	}
	next := ""
	if out.LastEvaluatedKey != nil {
		next = getS(out.LastEvaluatedKey, attrSK)
	}
	return list, next, nil
}

// PutMeasuredSent records what the daily measured run sent for a profile and
// to which HubSpot record, leaving its activity untouched. The summary must
// exist.
func (s *Store) PutMeasuredSent(ctx context.Context, env string, kind Kind, id, hubspotID string, sent map[string]string) error {
	if err := checkProfileKey(env, kind, id); err != nil {
		return err
	}
	b, err := json.Marshal(sent)
	if err != nil {
		return fmt.Errorf("store: encode sent values of %s %s: %w", kind, id, err)
	}
	_, err = s.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:                 aws.String(s.table),
		Key:                       summaryKey(env, kind, id),
		UpdateExpression:          aws.String("SET #s = :s, #t = :t"),
		ConditionExpression:       aws.String("attribute_exists(PK)"),
		ExpressionAttributeNames:  map[string]string{"#s": attrSumSent, "#t": attrSumSentTo},
		ExpressionAttributeValues: map[string]types.AttributeValue{":s": str(string(b)), ":t": str(hubspotID)},
	})
	if isConditionFailed(err) {
		return fmt.Errorf("store: record sent values of %s %s: %w", kind, id, ErrNotFound)
	}
	if err != nil {
		return fmt.Errorf("store: record sent values of %s %s: %w", kind, id, err)
	}
	return nil
}

// PutActivitySummaries writes whole summaries with batch writes, replacing
// what is stored (sent values included). It is for bulk loads (imports,
// tests); activity arriving concurrently for the same profiles may be lost.
func (s *Store) PutActivitySummaries(ctx context.Context, env string, sums []*ActivitySummary) error {
	if err := checkEnv(env); err != nil {
		return err
	}
	reqs := make([]types.WriteRequest, 0, len(sums))
	for _, sum := range sums {
		if err := checkProfileKey(env, sum.Kind, sum.ID); err != nil {
			return err
		}
		body, last, exp, err := s.summaryValues(sum)
		if err != nil {
			return err
		}
		item := summaryKey(env, sum.Kind, sum.ID)
		item[attrSumBody] = str(body)
		item[attrSumVer] = num(max(sum.Version, 1))
		item[attrSumLast] = num(last)
		item[attrExpires] = num(exp)
		if sum.Sent != nil {
			b, err := json.Marshal(sum.Sent)
			if err != nil {
				return fmt.Errorf("store: encode sent values of %s %s: %w", sum.Kind, sum.ID, err)
			}
			item[attrSumSent] = str(string(b))
			item[attrSumSentTo] = str(sum.SentTo)
		}
		reqs = append(reqs, types.WriteRequest{PutRequest: &types.PutRequest{Item: item}})
	}
	if err := s.batchWrite(ctx, reqs); err != nil {
		return fmt.Errorf("store: put %d activity summaries: %w", len(sums), err)
	}
	return nil
}
