package store

import (
	"context"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

const skLedger = "ledger"

func ledgerPK(env, id string) string { return env + "#ledger#" + id }

// LedgerSeen reports which event ids are recorded in the ledger (BatchGetItem,
// 100 ids a call, unprocessed keys re-driven). Expired entries count as
// unseen even before DynamoDB's TTL deletes them. Every id is a key of the
// result.
func (s *Store) LedgerSeen(ctx context.Context, env string, ids []string) (map[string]bool, error) {
	if err := checkEnv(env); err != nil {
		return nil, err
	}
	out := make(map[string]bool, len(ids))
	keys := make([]map[string]types.AttributeValue, 0, len(ids))
	for _, id := range ids {
		if err := checkName("event id", id); err != nil {
			return nil, err
		}
		if _, dup := out[id]; dup {
			continue
		}
		out[id] = false
		keys = append(keys, key(ledgerPK(env, id), skLedger))
	}
	items, err := s.batchGet(ctx, keys)
	if err != nil {
		return nil, fmt.Errorf("store: ledger check %d ids: %w", len(keys), err)
	}
	now := s.now()
	prefix := len(ledgerPK(env, ""))
	for _, item := range items {
		if expired(item, now) {
			continue
		}
		out[getS(item, attrPK)[prefix:]] = true
	}
	return out, nil
}

// LedgerRecord records event ids in the ledger for ttl (BatchWriteItem, 25 a
// call, unprocessed items re-driven with backoff). Recording an id again
// extends its expiry. ttl should exceed the queue's retention so a
// redelivered message is always recognised.
func (s *Store) LedgerRecord(ctx context.Context, env string, ids []string, ttl time.Duration) error {
	if err := checkEnv(env); err != nil {
		return err
	}
	exp := expiresAt(s.now().Add(ttl))
	seen := make(map[string]bool, len(ids))
	reqs := make([]types.WriteRequest, 0, len(ids))
	for _, id := range ids {
		if err := checkName("event id", id); err != nil {
			return err
		}
		if seen[id] {
			continue
		}
		seen[id] = true
		item := key(ledgerPK(env, id), skLedger)
		item[attrExpires] = exp
		reqs = append(reqs, types.WriteRequest{PutRequest: &types.PutRequest{Item: item}})
	}
	if err := s.batchWrite(ctx, reqs); err != nil {
		return fmt.Errorf("store: ledger record %d ids: %w", len(reqs), err)
	}
	return nil
}
