package store

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// The reads `pilotsync status` makes, and the small names index that lets it
// find run records, cursors, leases and open problems without scanning the
// table: each of those lives in a partition of its own, keyed by a name only
// the job writing it knows.
//
//	names index   <env>#names#<what>                  names        names (string set)
//
// what is one of the Names* constants. Writers add their name before the item
// it names (PutRun, PutCursor, PutCursorLeased, AcquireLease once per Store
// and name; OpenProblem every time, because CloseProblem removes the name), so
// a listed name may lack its item (the reader skips it) but an item is never
// missing from the index once written by this version. Items written before
// it appear at their next write: every 5-minute poll rewrites its cursors and
// lease, and an open problem is re-opened by each run that still finds it.

// Kinds of names in the names index.
const (
	NamesJob     = "job"
	NamesCursor  = "cursor"
	NamesLease   = "lease"
	NamesProblem = "problem"

	skNames   = "names"
	attrNames = "names"
)

func namesPK(env, what string) string { return env + "#names#" + what }

// noteName adds name to the index of what. With once, a Store adds each name
// once per process (run records, cursors and leases are never removed from
// the index, so a warm process need not write it again).
func (s *Store) noteName(ctx context.Context, env, what, name string, once bool) error {
	memo := env + "\x00" + what + "\x00" + name
	if once {
		if _, ok := s.names.Load(memo); ok {
			return nil
		}
	}
	if err := s.updateNames(ctx, env, what, name, "ADD"); err != nil {
		return err
	}
	if once {
		s.names.Store(memo, true)
	}
	return nil
}

// forgetName removes name from the index of what.
func (s *Store) forgetName(ctx context.Context, env, what, name string) error {
	return s.updateNames(ctx, env, what, name, "DELETE")
}

func (s *Store) updateNames(ctx context.Context, env, what, name, op string) error {
	_, err := s.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:                 aws.String(s.table),
		Key:                       key(namesPK(env, what), skNames),
		UpdateExpression:          aws.String(op + " #n :n"),
		ExpressionAttributeNames:  map[string]string{"#n": attrNames},
		ExpressionAttributeValues: map[string]types.AttributeValue{":n": &types.AttributeValueMemberSS{Value: []string{name}}},
	})
	if err != nil {
		return fmt.Errorf("store: index %s name %s: %w", what, name, err)
	}
	return nil
}

// Names returns the names in the index of what (one of the Names* kinds),
// sorted.
func (s *Store) Names(ctx context.Context, env, what string) ([]string, error) {
	if err := checkEnv(env); err != nil {
		return nil, err
	}
	if err := checkName("names kind", what); err != nil {
		return nil, err
	}
	res, err := s.db.GetItem(ctx, &dynamodb.GetItemInput{
		TableName:      aws.String(s.table),
		Key:            key(namesPK(env, what), skNames),
		ConsistentRead: aws.Bool(true),
	})
	if err != nil {
		return nil, fmt.Errorf("store: read %s names: %w", what, err)
	}
	set, _ := res.Item[attrNames].(*types.AttributeValueMemberSS)
	if set == nil {
		return nil, nil
	}
	out := slices.Clone(set.Value)
	slices.Sort(out)
	return out, nil
}

// CursorInfo is a stored cursor with when it was last written.
type CursorInfo struct {
	Name, Value string
	At          time.Time
}

// CursorInfo returns the cursor called name; ErrNotFound when none is stored.
func (s *Store) CursorInfo(ctx context.Context, env, name string) (CursorInfo, error) {
	if err := checkEnv(env); err != nil {
		return CursorInfo{}, err
	}
	if err := checkName("cursor name", name); err != nil {
		return CursorInfo{}, err
	}
	res, err := s.db.GetItem(ctx, &dynamodb.GetItemInput{
		TableName:      aws.String(s.table),
		Key:            key(cursorPK(env, name), skCursor),
		ConsistentRead: aws.Bool(true),
	})
	if err != nil {
		return CursorInfo{}, fmt.Errorf("store: get cursor %s: %w", name, err)
	}
	if res.Item == nil {
		return CursorInfo{}, fmt.Errorf("store: cursor %s: %w", name, ErrNotFound)
	}
	c := CursorInfo{Name: name, Value: getS(res.Item, attrValue)}
	c.At, _ = time.Parse(time.RFC3339Nano, getS(res.Item, attrAt))
	return c, nil
}

// LeaseInfo is the last holder of a lease; Until in the past means it is free.
type LeaseInfo struct {
	Name, Owner string
	Until       time.Time
}

// Lease returns the lease called name as stored; ErrNotFound when it was
// released (or never taken).
func (s *Store) Lease(ctx context.Context, env, name string) (LeaseInfo, error) {
	if err := checkEnv(env); err != nil {
		return LeaseInfo{}, err
	}
	if err := checkName("lease name", name); err != nil {
		return LeaseInfo{}, err
	}
	res, err := s.db.GetItem(ctx, &dynamodb.GetItemInput{
		TableName:      aws.String(s.table),
		Key:            key(leasePK(env, name), skLease),
		ConsistentRead: aws.Bool(true),
	})
	if err != nil {
		return LeaseInfo{}, fmt.Errorf("store: get lease %s: %w", name, err)
	}
	if res.Item == nil {
		return LeaseInfo{}, fmt.Errorf("store: lease %s: %w", name, ErrNotFound)
	}
	return LeaseInfo{Name: name, Owner: getS(res.Item, attrOwner), Until: parseMs(res.Item, attrUntil)}, nil
}

// ProblemInfo is an open problem as the notifier recorded it.
type ProblemInfo struct {
	Key, Summary           string
	Opened, Notified, Seen time.Time
}

// Problems returns the open problems among keys (BatchGetItem), sorted by
// key; keys with no open problem are left out.
func (s *Store) Problems(ctx context.Context, env string, keys []string) ([]ProblemInfo, error) {
	if err := checkEnv(env); err != nil {
		return nil, err
	}
	ks := make([]map[string]types.AttributeValue, 0, len(keys))
	byPK := make(map[string]string, len(keys))
	for _, k := range keys {
		if err := checkName("problem key", k); err != nil {
			return nil, err
		}
		pk := problemPK(env, k)
		if _, dup := byPK[pk]; dup {
			continue
		}
		byPK[pk] = k
		ks = append(ks, problemKey(env, k))
	}
	items, err := s.batchGet(ctx, ks)
	if err != nil {
		return nil, fmt.Errorf("store: get %d problems: %w", len(ks), err)
	}
	out := make([]ProblemInfo, 0, len(items))
	for _, item := range items {
		out = append(out, ProblemInfo{
			Key: byPK[getS(item, attrPK)], Summary: getS(item, attrSummary),
			Opened: parseMs(item, attrOpened), Notified: parseMs(item, attrNotified), Seen: parseMs(item, attrSeen),
		})
	}
	slices.SortFunc(out, func(a, b ProblemInfo) int { return cmp.Compare(a.Key, b.Key) })
	return out, nil
}
