package store

// One profile's write: the conditional put and the lookup updates its link
// changes need, as one item write or one transaction.

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/pilotsync/pilotsync/shared/identity"
)

// profileWrite is one profile's share of a transaction: the conditional put
// of the profile item followed by the lookup updates its link changes need.
type profileWrite struct {
	p       *Profile
	actions []types.TransactWriteItem
	keys    []string // PK of every item touched, for collision checks
	bytes   int
	version int64
	at      time.Time
	match   string
}

// planWrite builds the actions that store p atomically: the profile item,
// conditional on the Version (and on the lookup entries it was read with, so a
// hand-built Profile cannot orphan lookup entries; PutHolds states the same
// condition), plus the lookup entries LookupMoves names.
func (s *Store) planWrite(p *Profile, now time.Time) (*profileWrite, error) {
	if err := checkProfileKey(p.Env, p.Kind, p.ID); err != nil {
		return nil, err
	}
	w := &profileWrite{p: p, version: p.Version + 1, at: now, match: identity.Normalize(p.MatchValue)}
	item, err := encodeProfile(p, w.version, now)
	if err != nil {
		return nil, fmt.Errorf("store: encode %s profile %s: %w", p.Kind, p.ID, err)
	}
	w.bytes = itemSize(item)
	if w.bytes > maxItemBytes {
		return nil, fmt.Errorf("store: %s profile %s is %d bytes, over the %d-byte item limit: %w", p.Kind, p.ID, w.bytes, maxItemBytes, ErrItemTooLarge)
	}
	put := &types.Put{TableName: aws.String(s.table), Item: item}
	if p.Version == 0 {
		put.ConditionExpression = aws.String("attribute_not_exists(PK)")
	} else {
		cond := []string{"#ver = :ver"}
		put.ExpressionAttributeNames = map[string]string{"#ver": attrVersion}
		put.ExpressionAttributeValues = map[string]types.AttributeValue{":ver": num(p.Version)}
		for _, c := range []struct{ attr, placeholder, old string }{
			{attrMatch, "m", p.stored.match},
			{attrHSID, "h", p.stored.hubSpotID},
		} {
			put.ExpressionAttributeNames["#"+c.placeholder] = c.attr
			if c.old == "" {
				cond = append(cond, "attribute_not_exists(#"+c.placeholder+")")
			} else {
				cond = append(cond, "#"+c.placeholder+" = :"+c.placeholder)
				put.ExpressionAttributeValues[":"+c.placeholder] = str(c.old)
			}
		}
		put.ConditionExpression = aws.String(strings.Join(cond, " AND "))
	}
	w.actions = append(w.actions, types.TransactWriteItem{Put: put})
	w.keys = append(w.keys, profilePK(p.Env, p.Kind, p.ID))

	idSet := &types.AttributeValueMemberSS{Value: []string{p.ID}}
	lookup := func(pk, op string) {
		w.actions = append(w.actions, types.TransactWriteItem{Update: &types.Update{
			TableName:                 aws.String(s.table),
			Key:                       key(pk, skLookup),
			UpdateExpression:          aws.String(op + " #ids :id"),
			ExpressionAttributeNames:  map[string]string{"#ids": attrIDs},
			ExpressionAttributeValues: map[string]types.AttributeValue{":id": idSet},
		}})
		w.keys = append(w.keys, pk)
		w.bytes += len(pk) + len(skLookup) + len(p.ID) + 16
	}
	for _, m := range LookupMoves(p) {
		pk := map[LookupIndex]func(env string, kind Kind, v string) string{IndexMatch: matchPK, IndexHubSpotID: hubspotPK}[m.Index]
		if m.From != "" {
			lookup(pk(p.Env, p.Kind, m.From), "DELETE")
		}
		if m.To != "" {
			lookup(pk(p.Env, p.Kind, m.To), "ADD")
		}
	}
	return w, nil
}

// committed updates the caller's profile after its write landed.
func (w *profileWrite) committed() {
	w.p.Version = w.version
	w.p.UpdatedAt = w.at
	w.p.MatchValue = w.match
	w.p.stored = storedLinks{match: w.match, hubSpotID: w.p.HubSpotID}
}

// PutProfile stores p, conditional on p.Version matching the stored version
// (0: the profile must not exist yet), and keeps the lookup entries (match
// value, HubSpot id) and the dirty mark in step in the same transaction. On
// success it bumps p.Version and sets p.UpdatedAt; a stale Version gives
// ErrConflict and leaves p unchanged.
func (s *Store) PutProfile(ctx context.Context, p *Profile) error {
	w, err := s.planWrite(p, s.now())
	if err != nil {
		return err
	}
	for attempt := 0; ; attempt++ {
		if attempt > 0 {
			if attempt > maxRedrives {
				return fmt.Errorf("store: put %s profile %s: still conflicting after %d attempts", p.Kind, p.ID, maxRedrives)
			}
			if err := s.backoff(ctx, attempt); err != nil {
				return fmt.Errorf("store: put %s profile %s: %w", p.Kind, p.ID, err)
			}
		}
		err := s.writeProfileActions(ctx, w.actions)
		var ce *types.TransactionCanceledException
		switch {
		case err == nil:
			w.committed()
			return nil
		case isConditionFailed(err):
			return fmt.Errorf("store: put %s profile %s at version %d: %w", p.Kind, p.ID, p.Version, ErrConflict)
		case errors.As(err, &ce):
			codes := reasonCodes(ce)
			if len(codes) > 0 && codes[0] == "ConditionalCheckFailed" {
				return fmt.Errorf("store: put %s profile %s at version %d: %w", p.Kind, p.ID, p.Version, ErrConflict)
			}
			if transient(codes) {
				continue
			}
			return fmt.Errorf("store: put %s profile %s: %w", p.Kind, p.ID, err)
		case retryable(err):
			continue
		default:
			return fmt.Errorf("store: put %s profile %s: %w", p.Kind, p.ID, err)
		}
	}
}

// writeProfileActions writes one profile's actions: a plain conditional
// PutItem when there is only the profile (half the cost of a transaction),
// a transaction otherwise.
func (s *Store) writeProfileActions(ctx context.Context, actions []types.TransactWriteItem) error {
	if len(actions) == 1 {
		put := actions[0].Put
		_, err := s.db.PutItem(ctx, &dynamodb.PutItemInput{
			TableName:                 put.TableName,
			Item:                      put.Item,
			ConditionExpression:       put.ConditionExpression,
			ExpressionAttributeNames:  put.ExpressionAttributeNames,
			ExpressionAttributeValues: put.ExpressionAttributeValues,
		})
		return err
	}
	_, err := s.db.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: actions})
	return err
}

func reasonCodes(ce *types.TransactionCanceledException) []string {
	out := make([]string, len(ce.CancellationReasons))
	for i, r := range ce.CancellationReasons {
		out[i] = aws.ToString(r.Code)
	}
	return out
}

// transient reports whether a cancelled transaction failed only for reasons
// worth retrying (another transaction touched the same items, throttling).
func transient(codes []string) bool {
	any := false
	for _, c := range codes {
		switch c {
		case "", "None", "ConditionalCheckFailed":
		case "TransactionConflict", "ThrottlingError", "ProvisionedThroughputExceeded", "RequestLimitExceeded":
			any = true
		default:
			return false
		}
	}
	return any
}
