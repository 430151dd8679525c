package store

// Profile reads: by id, by lookup entry (match value, HubSpot id), and the
// dirty profiles the outbound push sends.

import (
	"context"
	"fmt"
	"iter"
	"slices"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/pilotsync/pilotsync/shared/identity"
)

// GetProfile reads one profile; ErrNotFound when there is none.
func (s *Store) GetProfile(ctx context.Context, env string, kind Kind, id string) (*Profile, error) {
	if err := checkProfileKey(env, kind, id); err != nil {
		return nil, err
	}
	res, err := s.db.GetItem(ctx, &dynamodb.GetItemInput{
		TableName:      aws.String(s.table),
		Key:            key(profilePK(env, kind, id), skProfile),
		ConsistentRead: aws.Bool(true),
	})
	if err != nil {
		return nil, fmt.Errorf("store: get %s profile: %w", kind, err)
	}
	if res.Item == nil {
		return nil, fmt.Errorf("store: get %s profile %s: %w", kind, id, ErrNotFound)
	}
	return decodeProfile(res.Item)
}

// GetProfiles reads many profiles (BatchGetItem, 100 keys a call, unprocessed
// keys re-driven). Profiles that do not exist are absent from the map.
func (s *Store) GetProfiles(ctx context.Context, env string, kind Kind, ids []string) (map[string]*Profile, error) {
	keys := make([]map[string]types.AttributeValue, 0, len(ids))
	seen := make(map[string]bool, len(ids))
	for _, id := range ids {
		if err := checkProfileKey(env, kind, id); err != nil {
			return nil, err
		}
		if seen[id] {
			continue
		}
		seen[id] = true
		keys = append(keys, key(profilePK(env, kind, id), skProfile))
	}
	items, err := s.batchGet(ctx, keys)
	if err != nil {
		return nil, fmt.Errorf("store: get %d %s profiles: %w", len(keys), kind, err)
	}
	out := make(map[string]*Profile, len(items))
	for _, item := range items {
		p, err := decodeProfile(item)
		if err != nil {
			return nil, err
		}
		out[p.ID] = p
	}
	return out, nil
}

// LookupByMatch returns, for each normalized match value that has any, the
// ids of the profiles of kind with that match value (BatchGetItem, 100 a call).
// Values are normalized before lookup; the map is keyed by normalized value.
func (s *Store) LookupByMatch(ctx context.Context, env string, kind Kind, values []string) (map[string][]string, error) {
	return s.lookup(ctx, env, kind, values, matchPK, identity.Normalize, "match value")
}

// LookupByHubSpotID returns, for each HubSpot record id linked to any
// profiles of kind, those profile ids (BatchGetItem, 100 a call). Entries are
// keyed by the profile kind, not HubSpotObject: one kind maps to one HubSpot
// object type in a configuration.
func (s *Store) LookupByHubSpotID(ctx context.Context, env string, kind Kind, ids []string) (map[string][]string, error) {
	return s.lookup(ctx, env, kind, ids, hubspotPK, func(v string) string { return v }, "hubspot id")
}

func (s *Store) lookup(ctx context.Context, env string, kind Kind, values []string,
	pk func(string, Kind, string) string, norm func(string) string, what string,
) (map[string][]string, error) {
	if err := checkEnv(env); err != nil {
		return nil, err
	}
	if !kind.valid() {
		return nil, fmt.Errorf("%w: kind %q", ErrInvalid, kind)
	}
	byPK := make(map[string]string, len(values))
	keys := make([]map[string]types.AttributeValue, 0, len(values))
	for _, v := range values {
		v = norm(v)
		if v == "" {
			continue
		}
		k := pk(env, kind, v)
		if _, dup := byPK[k]; dup {
			continue
		}
		byPK[k] = v
		keys = append(keys, key(k, skLookup))
	}
	items, err := s.batchGet(ctx, keys)
	if err != nil {
		return nil, fmt.Errorf("store: lookup %d %s by %s: %w", len(keys), kind, what, err)
	}
	out := make(map[string][]string, len(items))
	for _, item := range items {
		set, ok := item[attrIDs].(*types.AttributeValueMemberSS)
		if !ok || len(set.Value) == 0 {
			continue
		}
		ids := slices.Clone(set.Value)
		slices.Sort(ids)
		out[byPK[getS(item, attrPK)]] = ids
	}
	return out, nil
}

// DirtyProfiles yields every profile of kind marked Dirty, querying all
// shards of the sparse GSI1. The index is eventually consistent: a profile
// may be yielded with a Version already superseded (PutProfile then reports
// ErrConflict) or shortly after its mark was cleared.
func (s *Store) DirtyProfiles(ctx context.Context, env string, kind Kind) iter.Seq2[*Profile, error] {
	return func(yield func(*Profile, error) bool) {
		if err := checkEnv(env); err != nil {
			yield(nil, err)
			return
		}
		if !kind.valid() {
			yield(nil, fmt.Errorf("%w: kind %q", ErrInvalid, kind))
			return
		}
		for shard := range dirtyShards {
			p := dynamodb.NewQueryPaginator(s.db, &dynamodb.QueryInput{
				TableName:                 aws.String(s.table),
				IndexName:                 aws.String(GSI1Name),
				KeyConditionExpression:    aws.String("#pk = :pk"),
				ExpressionAttributeNames:  map[string]string{"#pk": attrGSI1PK},
				ExpressionAttributeValues: map[string]types.AttributeValue{":pk": str(dirtyPK(env, kind, shard))},
			})
			next := func(ctx context.Context) ([]map[string]types.AttributeValue, error) {
				page, err := p.NextPage(ctx)
				if err != nil {
					return nil, err
				}
				return page.Items, nil
			}
			if !yieldProfiles(ctx, p.HasMorePages, next, "list dirty "+string(kind)+" profiles", yield) {
				return
			}
		}
	}
}

// yieldProfiles decodes the profile items of every page a Query or Scan
// paginator gives (more, next) and yields them, an error naming what was
// listed. It reports whether the caller may go on (no error, and yield did
// not stop).
func yieldProfiles(ctx context.Context, more func() bool, next func(context.Context) ([]map[string]types.AttributeValue, error),
	what string, yield func(*Profile, error) bool) bool {
	for more() {
		items, err := next(ctx)
		if err != nil {
			yield(nil, fmt.Errorf("store: %s: %w", what, err))
			return false
		}
		for _, item := range items {
			prof, err := decodeProfile(item)
			if !yield(prof, err) || err != nil {
				return false
			}
		}
	}
	return true
}

// scanPages adapts a Scan paginator to yieldProfiles.
func scanPages(p *dynamodb.ScanPaginator) func(context.Context) ([]map[string]types.AttributeValue, error) {
	return func(ctx context.Context) ([]map[string]types.AttributeValue, error) {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, err
		}
		return page.Items, nil
	}
}
