package store

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"iter"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/pilotsync/pilotsync/shared/identity"
)

// Kind is the kind of Userpilot profile.
type Kind string

// Profile kinds.
const (
	KindUser    Kind = "user"
	KindCompany Kind = "company"
)

func (k Kind) valid() bool { return k == KindUser || k == KindCompany }

// Property is one Userpilot property value with the source timestamp it came
// from. Value is a string, float64, bool, []any or map[string]any; nil means
// the property was removed at At (a tombstone: an older event cannot bring it
// back).
type Property struct {
	Value any
	At    time.Time
}

// Profile is what the integration knows about one Userpilot user or company.
type Profile struct {
	Env  string
	Kind Kind
	ID   string // Userpilot user_id / company_id
	// CompanyID is a user's company ("" for companies and unknown).
	CompanyID string
	// MatchValue is the normalized match value ("" if unknown). PutProfile
	// normalizes it.
	MatchValue string
	// Properties are the last known Userpilot properties.
	Properties map[string]Property
	// HubSpotID and HubSpotObject link the profile ("" when unlinked).
	HubSpotID, HubSpotObject string
	// LinkMatch is the normalized match value the link was made under: the
	// link is valid only while MatchValue equals it (identity.Link.ValidFor).
	// Only shared/identity/linker sets the link fields.
	LinkMatch string
	// InboundHashes: per Userpilot property, a hash of the value the inbound
	// sync last wrote to Userpilot.
	InboundHashes map[string]string
	// OutboundHashes: per HubSpot property, a hash of the value last sent.
	OutboundHashes map[string]string
	// Dirty marks unsent outbound changes (listed by DirtyProfiles).
	Dirty bool
	// Quarantined: HubSpot property -> permanent failure reason.
	Quarantined map[string]string
	// UpdatedAt is when the profile was last written (set by the store).
	UpdatedAt time.Time
	// Version is the optimistic lock: 0 for a profile not yet stored; the
	// store bumps it on every successful write.
	Version int64

	// stored is what the table held when the profile was read or last
	// written: the lookup entries to remove when they change.
	stored storedLinks
}

// Link returns the profile's link record.
func (p *Profile) Link() identity.Link {
	return identity.Link{ID: p.HubSpotID, Object: p.HubSpotObject, Match: p.LinkMatch}
}

type storedLinks struct {
	match, hubSpotID string
}

// Item layout of a profile; see the package comment.
const (
	skProfile = "profile"
	skLookup  = "lookup"

	attrEnv       = "env"
	attrKind      = "kind"
	attrID        = "id"
	attrCompany   = "company"
	attrMatch     = "match"
	attrProps     = "props"
	attrHSID      = "hs_id"
	attrHSObject  = "hs_object"
	attrHSMatch   = "hs_match"
	attrInHash    = "in_hash"
	attrOutHash   = "out_hash"
	attrQuar      = "quarantine"
	attrUpdatedAt = "updated_at"
	attrVersion   = "version"
	attrIDs       = "ids"

	propValue = "v"
	propAt    = "t"

	// dirtyShards spreads dirty marks over this many GSI1 partitions, so a burst
	// of identify events does not concentrate writes on one index partition.
	dirtyShards = 16
)

func profilePK(env string, kind Kind, id string) string { return env + "#" + string(kind) + "#" + id }

func matchPK(env string, kind Kind, v string) string { return env + "#match#" + string(kind) + "#" + v }

func hubspotPK(env string, kind Kind, id string) string {
	return env + "#hubspot#" + string(kind) + "#" + id
}

func dirtyPK(env string, kind Kind, shard int) string {
	return env + "#dirty#" + string(kind) + "#" + strconv.Itoa(shard)
}

func dirtyShard(id string) int {
	h := fnv.New32a()
	h.Write([]byte(id))
	return int(h.Sum32() % dirtyShards)
}

func checkProfileKey(env string, kind Kind, id string) error {
	if err := checkEnv(env); err != nil {
		return err
	}
	if !kind.valid() {
		return fmt.Errorf("%w: kind %q", ErrInvalid, kind)
	}
	return checkName("profile id", id)
}

// normValue converts v to the form it has after a round trip through the
// table (ints become float64, typed slices []any), so that comparisons of
// incoming and stored values are exact.
func normValue(v any) (any, error) {
	if v == nil {
		return nil, nil
	}
	switch v.(type) {
	case string, float64, bool:
		return v, nil
	}
	av, err := attributevalue.Marshal(v)
	if err != nil {
		return nil, err
	}
	var out any
	if err := attributevalue.Unmarshal(av, &out); err != nil {
		return nil, err
	}
	return out, nil
}

func encodeValue(v any) (types.AttributeValue, error) {
	if v == nil {
		return &types.AttributeValueMemberNULL{Value: true}, nil
	}
	return attributevalue.Marshal(v)
}

func strMap(m map[string]string) types.AttributeValue {
	out := make(map[string]types.AttributeValue, len(m))
	for k, v := range m {
		out[k] = str(v)
	}
	return &types.AttributeValueMemberM{Value: out}
}

// encodeProfile returns the profile item written with version and updatedAt.
func encodeProfile(p *Profile, version int64, updatedAt time.Time) (map[string]types.AttributeValue, error) {
	item := key(profilePK(p.Env, p.Kind, p.ID), skProfile)
	item[attrEnv] = str(p.Env)
	item[attrKind] = str(string(p.Kind))
	item[attrID] = str(p.ID)
	item[attrVersion] = num(version)
	item[attrUpdatedAt] = str(updatedAt.UTC().Format(time.RFC3339Nano))
	if p.CompanyID != "" {
		item[attrCompany] = str(p.CompanyID)
	}
	if m := identity.Normalize(p.MatchValue); m != "" {
		item[attrMatch] = str(m)
	}
	if p.HubSpotID != "" {
		item[attrHSID] = str(p.HubSpotID)
	}
	if p.HubSpotObject != "" {
		item[attrHSObject] = str(p.HubSpotObject)
	}
	if p.LinkMatch != "" {
		item[attrHSMatch] = str(p.LinkMatch)
	}
	if len(p.Properties) > 0 {
		props := make(map[string]types.AttributeValue, len(p.Properties))
		for name, prop := range p.Properties {
			if name == "" {
				return nil, fmt.Errorf("%w: empty property name", ErrInvalid)
			}
			v, err := encodeValue(prop.Value)
			if err != nil {
				return nil, fmt.Errorf("property %q: %w", name, err)
			}
			props[name] = &types.AttributeValueMemberM{Value: map[string]types.AttributeValue{
				propValue: v,
				propAt:    num(prop.At.UnixNano()),
			}}
		}
		item[attrProps] = &types.AttributeValueMemberM{Value: props}
	}
	if len(p.InboundHashes) > 0 {
		item[attrInHash] = strMap(p.InboundHashes)
	}
	if len(p.OutboundHashes) > 0 {
		item[attrOutHash] = strMap(p.OutboundHashes)
	}
	if len(p.Quarantined) > 0 {
		item[attrQuar] = strMap(p.Quarantined)
	}
	if p.Dirty {
		item[attrGSI1PK] = str(dirtyPK(p.Env, p.Kind, dirtyShard(p.ID)))
		item[attrGSI1SK] = str(p.ID)
	}
	return item, nil
}

func getS(item map[string]types.AttributeValue, name string) string {
	if v, ok := item[name].(*types.AttributeValueMemberS); ok {
		return v.Value
	}
	return ""
}

func getN(item map[string]types.AttributeValue, name string) int64 {
	if v, ok := item[name].(*types.AttributeValueMemberN); ok {
		n, _ := strconv.ParseInt(v.Value, 10, 64)
		return n
	}
	return 0
}

func getStrMap(item map[string]types.AttributeValue, name string) map[string]string {
	m, ok := item[name].(*types.AttributeValueMemberM)
	if !ok {
		return nil
	}
	out := make(map[string]string, len(m.Value))
	for k, v := range m.Value {
		if s, ok := v.(*types.AttributeValueMemberS); ok {
			out[k] = s.Value
		}
	}
	return out
}

func decodeProfile(item map[string]types.AttributeValue) (*Profile, error) {
	p := &Profile{
		Env:            getS(item, attrEnv),
		Kind:           Kind(getS(item, attrKind)),
		ID:             getS(item, attrID),
		CompanyID:      getS(item, attrCompany),
		MatchValue:     getS(item, attrMatch),
		HubSpotID:      getS(item, attrHSID),
		HubSpotObject:  getS(item, attrHSObject),
		LinkMatch:      getS(item, attrHSMatch),
		InboundHashes:  getStrMap(item, attrInHash),
		OutboundHashes: getStrMap(item, attrOutHash),
		Quarantined:    getStrMap(item, attrQuar),
		Version:        getN(item, attrVersion),
	}
	_, p.Dirty = item[attrGSI1PK]
	if t, err := time.Parse(time.RFC3339Nano, getS(item, attrUpdatedAt)); err == nil {
		p.UpdatedAt = t
	}
	if m, ok := item[attrProps].(*types.AttributeValueMemberM); ok {
		p.Properties = make(map[string]Property, len(m.Value))
		for name, av := range m.Value {
			pm, ok := av.(*types.AttributeValueMemberM)
			if !ok {
				continue
			}
			var prop Property
			if _, isNull := pm.Value[propValue].(*types.AttributeValueMemberNULL); !isNull && pm.Value[propValue] != nil {
				if err := attributevalue.Unmarshal(pm.Value[propValue], &prop.Value); err != nil {
					return nil, fmt.Errorf("store: decode profile property %q: %w", name, err)
				}
			}
			prop.At = time.Unix(0, getN(pm.Value, propAt)).UTC()
			p.Properties[name] = prop
		}
	}
	p.stored = storedLinks{match: p.MatchValue, hubSpotID: p.HubSpotID}
	return p, nil
}

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
// hand-built Profile cannot orphan lookup entries), plus the lookup entries
// that move when the match value or HubSpot id changed.
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
	for _, c := range []struct {
		old, new string
		pk       func(env string, kind Kind, v string) string
	}{
		{p.stored.match, w.match, matchPK},
		{p.stored.hubSpotID, p.HubSpotID, hubspotPK},
	} {
		if c.old == c.new {
			continue
		}
		if c.old != "" {
			lookup(c.pk(p.Env, p.Kind, c.old), "DELETE")
		}
		if c.new != "" {
			lookup(c.pk(p.Env, p.Kind, c.new), "ADD")
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
			if err := sleep(ctx, attempt); err != nil {
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

// ProfileError is one profile's failure in a batch.
type ProfileError struct {
	Env  string
	Kind Kind
	ID   string
	Err  error
}

// BatchError lists the profiles a batch write could not store; the others
// were stored. errors.Is(err, ErrConflict) holds when any failure was a
// conflict.
type BatchError struct {
	Failed []ProfileError
}

// Error implements error.
func (e *BatchError) Error() string {
	ids := make([]string, 0, min(len(e.Failed), 5))
	for _, f := range e.Failed[:min(len(e.Failed), 5)] {
		ids = append(ids, string(f.Kind)+" "+f.ID)
	}
	more := ""
	if len(e.Failed) > 5 {
		more = fmt.Sprintf(" and %d more", len(e.Failed)-5)
	}
	first := ""
	if len(e.Failed) > 0 {
		first = ": " + e.Failed[0].Err.Error()
	}
	return fmt.Sprintf("store: %d profiles not stored (%s%s)%s", len(e.Failed), strings.Join(ids, ", "), more, first)
}

// Unwrap returns the per-profile errors.
func (e *BatchError) Unwrap() []error {
	out := make([]error, len(e.Failed))
	for i, f := range e.Failed {
		out[i] = f.Err
	}
	return out
}

// IDs returns the failed profile ids.
func (e *BatchError) IDs() []string {
	out := make([]string, len(e.Failed))
	for i, f := range e.Failed {
		out[i] = f.ID
	}
	return out
}

// PutProfiles stores many profiles with the semantics of PutProfile for each,
// packed into TransactWriteItems calls within DynamoDB's limits (100 actions,
// 4 MB) and run a few at a time. Each profile succeeds or fails on its own:
// a stale Version fails that profile with ErrConflict, and the rest of its
// transaction is retried without it. The returned *BatchError names the
// failures; stored profiles have their Version bumped. A profile may appear
// only once per call.
func (s *Store) PutProfiles(ctx context.Context, ps []*Profile) error {
	now := s.now()
	var (
		mu     sync.Mutex
		failed []ProfileError
	)
	fail := func(p *Profile, err error) {
		mu.Lock()
		failed = append(failed, ProfileError{Env: p.Env, Kind: p.Kind, ID: p.ID, Err: err})
		mu.Unlock()
	}
	writes := make([]*profileWrite, 0, len(ps))
	seen := make(map[string]bool, len(ps))
	for _, p := range ps {
		pk := profilePK(p.Env, p.Kind, p.ID)
		if seen[pk] {
			fail(p, fmt.Errorf("%w: %s profile %s appears twice in one batch", ErrInvalid, p.Kind, p.ID))
			continue
		}
		seen[pk] = true
		w, err := s.planWrite(p, now)
		if err != nil {
			fail(p, err)
			continue
		}
		writes = append(writes, w)
	}
	txs := packTransactions(writes)
	err := parallel(ctx, len(txs), func(ctx context.Context, i int) error {
		return s.runTransaction(ctx, txs[i], fail)
	})
	if err != nil {
		return fmt.Errorf("store: put %d profiles: %w", len(ps), err)
	}
	if len(failed) > 0 {
		slices.SortFunc(failed, func(a, b ProfileError) int { return strings.Compare(a.ID, b.ID) })
		return &BatchError{Failed: failed}
	}
	return nil
}

// packTransactions groups writes into transactions of at most
// maxTransactItems actions and maxTransactBytes, never touching one item
// twice in a transaction (DynamoDB rejects that): a write whose items collide
// with the open transaction waits for a later one.
func packTransactions(writes []*profileWrite) [][]*profileWrite {
	var txs [][]*profileWrite
	for len(writes) > 0 {
		var (
			deferred []*profileWrite
			cur      []*profileWrite
			n, bytes int
			keys     = map[string]bool{}
		)
		flush := func() {
			if len(cur) > 0 {
				txs = append(txs, cur)
			}
			cur, n, bytes, keys = nil, 0, 0, map[string]bool{}
		}
		for _, w := range writes {
			if slices.ContainsFunc(w.keys, func(k string) bool { return keys[k] }) {
				deferred = append(deferred, w)
				continue
			}
			if n+len(w.actions) > maxTransactItems || bytes+w.bytes > maxTransactBytes {
				flush()
			}
			cur = append(cur, w)
			n += len(w.actions)
			bytes += w.bytes
			for _, k := range w.keys {
				keys[k] = true
			}
		}
		flush()
		writes = deferred
	}
	return txs
}

// runTransaction writes one packed transaction, dropping profiles whose
// condition failed (reported as ErrConflict) and retrying transient
// cancellations with backoff.
func (s *Store) runTransaction(ctx context.Context, tx []*profileWrite, fail func(*Profile, error)) error {
	for attempt := 0; len(tx) > 0; attempt++ {
		if attempt > 0 {
			if attempt > maxRedrives {
				for _, w := range tx {
					fail(w.p, fmt.Errorf("store: put %s profile %s: still conflicting after %d attempts", w.p.Kind, w.p.ID, maxRedrives))
				}
				return nil
			}
			if err := sleep(ctx, attempt); err != nil {
				return err
			}
		}
		var actions []types.TransactWriteItem
		owner := make([]int, 0, maxTransactItems) // action index -> write index
		for i, w := range tx {
			actions = append(actions, w.actions...)
			for range w.actions {
				owner = append(owner, i)
			}
		}
		_, err := s.db.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: actions})
		if err == nil {
			for _, w := range tx {
				w.committed()
			}
			return nil
		}
		var ce *types.TransactionCanceledException
		if !errors.As(err, &ce) {
			if retryable(err) {
				continue
			}
			for _, w := range tx {
				fail(w.p, fmt.Errorf("store: put %s profile %s: %w", w.p.Kind, w.p.ID, err))
			}
			return nil
		}
		codes := reasonCodes(ce)
		drop := map[int]bool{}
		for ai, c := range codes {
			if c == "ConditionalCheckFailed" && ai < len(owner) {
				drop[owner[ai]] = true
			}
		}
		if len(drop) == 0 && !transient(codes) {
			for _, w := range tx {
				fail(w.p, fmt.Errorf("store: put %s profile %s: %w", w.p.Kind, w.p.ID, err))
			}
			return nil
		}
		kept := tx[:0:0]
		for i, w := range tx {
			if drop[i] {
				fail(w.p, fmt.Errorf("store: put %s profile %s at version %d: %w", w.p.Kind, w.p.ID, w.p.Version, ErrConflict))
				continue
			}
			kept = append(kept, w)
		}
		tx = kept
		if len(drop) > 0 {
			attempt = -1 // not contention: resend the rest at once
		}
	}
	return nil
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
			for p.HasMorePages() {
				page, err := p.NextPage(ctx)
				if err != nil {
					yield(nil, fmt.Errorf("store: list dirty %s profiles: %w", kind, err))
					return
				}
				for _, item := range page.Items {
					prof, err := decodeProfile(item)
					if !yield(prof, err) || err != nil {
						return
					}
				}
			}
		}
	}
}

// itemSize estimates an item's stored size by DynamoDB's rules (attribute
// names plus values; numbers about one byte per two digits; three bytes plus
// one per element for maps and lists). See "Item sizes and formats" in the
// DynamoDB developer guide.
func itemSize(item map[string]types.AttributeValue) int {
	n := 0
	for k, v := range item {
		n += len(k) + avSize(v)
	}
	return n
}

func avSize(v types.AttributeValue) int {
	switch v := v.(type) {
	case *types.AttributeValueMemberS:
		return len(v.Value)
	case *types.AttributeValueMemberN:
		return len(v.Value)/2 + 2
	case *types.AttributeValueMemberB:
		return len(v.Value)
	case *types.AttributeValueMemberBOOL, *types.AttributeValueMemberNULL:
		return 1
	case *types.AttributeValueMemberSS:
		n := 0
		for _, s := range v.Value {
			n += len(s)
		}
		return n
	case *types.AttributeValueMemberNS:
		n := 0
		for _, s := range v.Value {
			n += len(s)/2 + 2
		}
		return n
	case *types.AttributeValueMemberL:
		n := 3
		for _, e := range v.Value {
			n += 1 + avSize(e)
		}
		return n
	case *types.AttributeValueMemberM:
		n := 3
		for k, e := range v.Value {
			n += 1 + len(k) + avSize(e)
		}
		return n
	}
	return 0
}
