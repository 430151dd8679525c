package store

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// Item layout of the small state items; see the package comment.
const (
	skCursor  = "cursor"
	skLease   = "lease"
	skEnabled = "enabled"
	skProblem = "problem"

	attrValue    = "value"
	attrOwner    = "owner"
	attrUntil    = "until_ms"
	attrAt       = "at"
	attrSummary  = "summary"
	attrOpened   = "opened_ms"
	attrNotified = "notified_ms"
	attrSeen     = "seen_ms"

	// leaseGrace keeps an expired lease item this long before TTL may delete
	// it, so its last owner stays visible to operators for a while.
	leaseGrace = 24 * time.Hour
)

func cursorPK(env, name string) string     { return env + "#cursor#" + name }
func leasePK(env, name string) string      { return env + "#lease#" + name }
func enabledPK(env string) string          { return env + "#enabled" }
func problemPK(env, key string) string     { return env + "#problem#" + key }
func msN(t time.Time) types.AttributeValue { return num(t.UnixMilli()) }

// GetCursor returns the cursor called name, "" when none was stored. The
// value is opaque to the store.
func (s *Store) GetCursor(ctx context.Context, env, name string) (string, error) {
	if err := checkEnv(env); err != nil {
		return "", err
	}
	if err := checkName("cursor name", name); err != nil {
		return "", err
	}
	res, err := s.db.GetItem(ctx, &dynamodb.GetItemInput{
		TableName:      aws.String(s.table),
		Key:            key(cursorPK(env, name), skCursor),
		ConsistentRead: aws.Bool(true),
	})
	if err != nil {
		return "", fmt.Errorf("store: get cursor %s: %w", name, err)
	}
	return getS(res.Item, attrValue), nil
}

// PutCursor stores the cursor called name (last write wins: the caller holds
// the lease of the job that owns the cursor).
func (s *Store) PutCursor(ctx context.Context, env, name, value string) error {
	if err := checkEnv(env); err != nil {
		return err
	}
	if err := checkName("cursor name", name); err != nil {
		return err
	}
	if err := s.noteName(ctx, env, NamesCursor, name, true); err != nil {
		return err
	}
	item := key(cursorPK(env, name), skCursor)
	item[attrValue] = str(value)
	item[attrAt] = str(s.now().UTC().Format(time.RFC3339Nano))
	if _, err := s.db.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(s.table), Item: item}); err != nil {
		return fmt.Errorf("store: put cursor %s: %w", name, err)
	}
	return nil
}

// PutCursorLeased stores the cursor called name only while owner holds the
// live lease called lease, in one transaction with a check of the lease. It
// returns ErrLeaseLost (and stores nothing) when the lease expired or another
// owner took it: a run that lost its lease must not move a checkpoint that
// the run now holding the lease relies on.
func (s *Store) PutCursorLeased(ctx context.Context, env, name, value, lease, owner string) error {
	if err := checkEnv(env); err != nil {
		return err
	}
	if err := checkName("cursor name", name); err != nil {
		return err
	}
	if err := checkLeaseArgs(env, lease, owner); err != nil {
		return err
	}
	if err := s.noteName(ctx, env, NamesCursor, name, true); err != nil {
		return err
	}
	for attempt := 0; ; attempt++ {
		if attempt > 0 {
			if attempt > maxRedrives {
				return fmt.Errorf("store: put cursor %s: still conflicting after %d attempts", name, maxRedrives)
			}
			if err := s.backoff(ctx, attempt); err != nil {
				return fmt.Errorf("store: put cursor %s: %w", name, err)
			}
		}
		now := s.now()
		item := key(cursorPK(env, name), skCursor)
		item[attrValue] = str(value)
		item[attrAt] = str(now.UTC().Format(time.RFC3339Nano))
		_, err := s.db.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: []types.TransactWriteItem{
			{ConditionCheck: &types.ConditionCheck{
				TableName:                 aws.String(s.table),
				Key:                       key(leasePK(env, lease), skLease),
				ConditionExpression:       aws.String("#owner = :owner AND #until > :now"),
				ExpressionAttributeNames:  map[string]string{"#owner": attrOwner, "#until": attrUntil},
				ExpressionAttributeValues: map[string]types.AttributeValue{":owner": str(owner), ":now": msN(now)},
			}},
			{Put: &types.Put{TableName: aws.String(s.table), Item: item}},
		}})
		var ce *types.TransactionCanceledException
		switch {
		case err == nil:
			return nil
		case errors.As(err, &ce):
			codes := reasonCodes(ce)
			if len(codes) > 0 && codes[0] == "ConditionalCheckFailed" {
				return fmt.Errorf("store: put cursor %s: lease %s: %w", name, lease, ErrLeaseLost)
			}
			if transient(codes) {
				continue // e.g. the lease renewed at the same moment
			}
			return fmt.Errorf("store: put cursor %s: %w", name, err)
		case retryable(err):
			continue
		default:
			return fmt.Errorf("store: put cursor %s: %w", name, err)
		}
	}
}

// AcquireLease takes the lease called name for owner for ttl. It succeeds
// when the lease is free, expired, or already owner's (then it is extended);
// otherwise it returns ErrLeaseHeld. Expiry uses the caller's clock, so keep
// ttl well above clock skew between invocations.
func (s *Store) AcquireLease(ctx context.Context, env, name, owner string, ttl time.Duration) error {
	if err := checkLeaseArgs(env, name, owner); err != nil {
		return err
	}
	if err := s.noteName(ctx, env, NamesLease, name, true); err != nil {
		return err
	}
	now := s.now()
	until := now.Add(ttl)
	item := key(leasePK(env, name), skLease)
	item[attrOwner] = str(owner)
	item[attrUntil] = msN(until)
	item[attrExpires] = expiresAt(until.Add(leaseGrace))
	_, err := s.db.PutItem(ctx, &dynamodb.PutItemInput{
		TableName:                 aws.String(s.table),
		Item:                      item,
		ConditionExpression:       aws.String("attribute_not_exists(PK) OR #until <= :now OR #owner = :owner"),
		ExpressionAttributeNames:  map[string]string{"#until": attrUntil, "#owner": attrOwner},
		ExpressionAttributeValues: map[string]types.AttributeValue{":now": msN(now), ":owner": str(owner)},
	})
	if isConditionFailed(err) {
		return fmt.Errorf("store: acquire lease %s: %w", name, ErrLeaseHeld)
	}
	if err != nil {
		return fmt.Errorf("store: acquire lease %s: %w", name, err)
	}
	return nil
}

// RenewLease extends owner's lease to now+ttl. It returns ErrLeaseLost when
// owner no longer holds a live lease (it expired, or another owner took it):
// the caller must stop, because another run may have started.
func (s *Store) RenewLease(ctx context.Context, env, name, owner string, ttl time.Duration) error {
	if err := checkLeaseArgs(env, name, owner); err != nil {
		return err
	}
	now := s.now()
	until := now.Add(ttl)
	_, err := s.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:                aws.String(s.table),
		Key:                      key(leasePK(env, name), skLease),
		UpdateExpression:         aws.String("SET #until = :until, #exp = :exp"),
		ConditionExpression:      aws.String("#owner = :owner AND #until > :now"),
		ExpressionAttributeNames: map[string]string{"#until": attrUntil, "#owner": attrOwner, "#exp": attrExpires},
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":until": msN(until), ":now": msN(now), ":owner": str(owner),
			":exp": expiresAt(until.Add(leaseGrace)),
		},
	})
	if isConditionFailed(err) {
		return fmt.Errorf("store: renew lease %s: %w", name, ErrLeaseLost)
	}
	if err != nil {
		return fmt.Errorf("store: renew lease %s: %w", name, err)
	}
	return nil
}

// ReleaseLease frees owner's lease. It returns ErrLeaseLost when another
// owner holds it (or nobody does); the lease is then left alone.
func (s *Store) ReleaseLease(ctx context.Context, env, name, owner string) error {
	if err := checkLeaseArgs(env, name, owner); err != nil {
		return err
	}
	_, err := s.db.DeleteItem(ctx, &dynamodb.DeleteItemInput{
		TableName:                 aws.String(s.table),
		Key:                       key(leasePK(env, name), skLease),
		ConditionExpression:       aws.String("#owner = :owner"),
		ExpressionAttributeNames:  map[string]string{"#owner": attrOwner},
		ExpressionAttributeValues: map[string]types.AttributeValue{":owner": str(owner)},
	})
	if isConditionFailed(err) {
		return fmt.Errorf("store: release lease %s: %w", name, ErrLeaseLost)
	}
	if err != nil {
		return fmt.Errorf("store: release lease %s: %w", name, err)
	}
	return nil
}

func checkLeaseArgs(env, name, owner string) error {
	if err := checkEnv(env); err != nil {
		return err
	}
	if err := checkName("lease name", name); err != nil {
		return err
	}
	return checkName("lease owner", owner)
}

// EnabledAt returns when the integration was enabled in env: the first
// caller's now is stored (conditional put, first writer wins) and kept
// forever; later callers get the stored time.
func (s *Store) EnabledAt(ctx context.Context, env string, now time.Time) (time.Time, error) {
	if err := checkEnv(env); err != nil {
		return time.Time{}, err
	}
	item := key(enabledPK(env), skEnabled)
	item[attrAt] = str(now.UTC().Format(time.RFC3339Nano))
	_, err := s.db.PutItem(ctx, &dynamodb.PutItemInput{
		TableName:                           aws.String(s.table),
		Item:                                item,
		ConditionExpression:                 aws.String("attribute_not_exists(PK)"),
		ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld,
	})
	if err == nil {
		return now.UTC(), nil
	}
	var cc *types.ConditionalCheckFailedException
	if !errors.As(err, &cc) {
		return time.Time{}, fmt.Errorf("store: record enabled time: %w", err)
	}
	if t, err := time.Parse(time.RFC3339Nano, getS(cc.Item, attrAt)); err == nil {
		return t, nil
	}
	// Older DynamoDB Local builds do not return the item on failure.
	res, err := s.db.GetItem(ctx, &dynamodb.GetItemInput{
		TableName:      aws.String(s.table),
		Key:            key(enabledPK(env), skEnabled),
		ConsistentRead: aws.Bool(true),
	})
	if err != nil {
		return time.Time{}, fmt.Errorf("store: read enabled time: %w", err)
	}
	t, err := time.Parse(time.RFC3339Nano, getS(res.Item, attrAt))
	if err != nil {
		return time.Time{}, fmt.Errorf("store: read enabled time: %w", err)
	}
	return t, nil
}

// OpenProblem records that the problem key is open (summary is the latest
// description). notify is true when the caller should send a notification:
// the problem was not open, or its last notification is more than
// repeatAfter old. Concurrent callers cannot both get true for one window:
// the decision is a conditional write.
func (s *Store) OpenProblem(ctx context.Context, env, key, summary string, now time.Time, repeatAfter time.Duration) (bool, error) {
	if err := checkEnv(env); err != nil {
		return false, err
	}
	if err := checkName("problem key", key); err != nil {
		return false, err
	}
	if err := s.noteName(ctx, env, NamesProblem, key, false); err != nil {
		return false, err
	}
	k := problemKey(env, key)
	_, err := s.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:           aws.String(s.table),
		Key:                 k,
		UpdateExpression:    aws.String("SET #sum = :sum, #opened = if_not_exists(#opened, :now), #notified = :now, #seen = :now"),
		ConditionExpression: aws.String("attribute_not_exists(#notified) OR #notified <= :cutoff"),
		ExpressionAttributeNames: map[string]string{
			"#sum": attrSummary, "#opened": attrOpened, "#notified": attrNotified, "#seen": attrSeen,
		},
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":sum": str(summary), ":now": msN(now), ":cutoff": msN(now.Add(-repeatAfter)),
		},
	})
	if err == nil {
		return true, nil
	}
	if !isConditionFailed(err) {
		return false, fmt.Errorf("store: open problem: %w", err)
	}
	_, err = s.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:                 aws.String(s.table),
		Key:                       k,
		UpdateExpression:          aws.String("SET #sum = :sum, #seen = :now"),
		ExpressionAttributeNames:  map[string]string{"#sum": attrSummary, "#seen": attrSeen},
		ExpressionAttributeValues: map[string]types.AttributeValue{":sum": str(summary), ":now": msN(now)},
	})
	if err != nil {
		return false, fmt.Errorf("store: open problem: %w", err)
	}
	return false, nil
}

// CloseProblem marks the problem key resolved; wasOpen reports whether it was
// open (the caller sends a recovery notice only then).
func (s *Store) CloseProblem(ctx context.Context, env, key string) (bool, error) {
	if err := checkEnv(env); err != nil {
		return false, err
	}
	if err := checkName("problem key", key); err != nil {
		return false, err
	}
	res, err := s.db.DeleteItem(ctx, &dynamodb.DeleteItemInput{
		TableName:    aws.String(s.table),
		Key:          problemKey(env, key),
		ReturnValues: types.ReturnValueAllOld,
	})
	if err != nil {
		return false, fmt.Errorf("store: close problem: %w", err)
	}
	wasOpen := len(res.Attributes) > 0
	if wasOpen {
		// After the problem item, and only when there was one (resolving a
		// clean key is frequent): a failure leaves a listed name without its
		// item, which readers skip, so it does not fail the close.
		_ = s.forgetName(ctx, env, NamesProblem, key)
	}
	return wasOpen, nil
}

func problemKey(env, k string) map[string]types.AttributeValue {
	return key(problemPK(env, k), skProblem)
}

// parseMs reads an epoch-milliseconds number attribute.
func parseMs(item map[string]types.AttributeValue, name string) time.Time {
	v, ok := item[name].(*types.AttributeValueMemberN)
	if !ok {
		return time.Time{}
	}
	ms, err := strconv.ParseInt(v.Value, 10, 64)
	if err != nil {
		return time.Time{}
	}
	return time.UnixMilli(ms).UTC()
}
