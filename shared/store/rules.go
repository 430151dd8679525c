package store

import (
	"encoding/json"
	"fmt"
	"maps"
	"reflect"
	"slices"
	"time"

	"github.com/pilotsync/pilotsync/shared/identity"
)

// This file holds the store's rules as pure functions: what a merge keeps,
// when a write's conditions hold, what a lease allows. The DynamoDB store
// (as condition expressions and read-merge-write loops) and the in-memory
// store in store/storetest both follow them, so the two cannot drift apart.

// PrepareIdentify validates in and returns it in the form the merge rules
// compare: values as they read back from the table (ints become float64,
// typed slices []any), At defaulted to now when zero, both in UTC.
func PrepareIdentify(in IdentifyInput, now time.Time) (IdentifyInput, error) {
	if in.At.IsZero() {
		in.At = now
	}
	in.At = in.At.UTC()
	incoming := make(map[string]any, len(in.Properties))
	for name, v := range in.Properties {
		if name == "" {
			return in, fmt.Errorf("%w: empty property name", ErrInvalid)
		}
		nv, err := normValue(v)
		if err != nil {
			return in, fmt.Errorf("property %q: %w", name, err)
		}
		incoming[name] = nv
	}
	in.Properties = incoming
	return in, nil
}

// ApplyIdentify applies the merge rules of MergeIdentify to p in place (in
// prepared by PrepareIdentify) and reports whether p must be written:
//   - per property the newer source timestamp wins; at an equal timestamp
//     the incoming value wins;
//   - a nil value removes the property, kept as a tombstone with its
//     timestamp; removing an unknown property records the tombstone;
//   - an equal value at another timestamp only refreshes the timestamp (a
//     write, but not a change);
//   - CompanyID "" keeps the stored company, another value replaces it;
//   - with a MatchProperty the match value is recomputed (normalized);
//   - a change of a property listed in Outbound marks p Dirty (never
//     cleared here).
//
// MergeResult.Created is left to the caller.
func ApplyIdentify(p *Profile, in IdentifyInput) (*MergeResult, bool) {
	res := &MergeResult{Profile: p}
	write := false
	if p.Properties == nil {
		p.Properties = make(map[string]Property, len(in.Properties))
	}
	for name, v := range in.Properties {
		cur, ok := p.Properties[name]
		switch {
		case ok && in.At.Before(cur.At):
			continue // older than what we have
		case ok && reflect.DeepEqual(cur.Value, v):
			if !in.At.Equal(cur.At) {
				p.Properties[name] = Property{Value: v, At: in.At}
				write = true
			}
			continue
		case !ok && v == nil:
			// Nothing to remove, but remember when it was removed.
			p.Properties[name] = Property{At: in.At}
			write = true
			continue
		}
		p.Properties[name] = Property{Value: v, At: in.At}
		res.Changed = append(res.Changed, name)
		write = true
	}
	slices.Sort(res.Changed)
	if in.CompanyID != "" && in.CompanyID != p.CompanyID {
		p.CompanyID = in.CompanyID
		write = true
	}
	if in.MatchProperty != "" {
		m := matchFrom(p, in.MatchProperty, p.ID)
		if m != identity.Normalize(p.MatchValue) {
			if p.HubSpotID != "" {
				// The link is now stale (identity.Link.ValidFor): the
				// outbound push of the next poll re-resolves it and sends
				// the profile's values to the record it belongs to now.
				p.Dirty = true
			}
			p.MatchValue = m
			res.MatchChanged = true
			write = true
		}
	}
	if slices.ContainsFunc(res.Changed, func(name string) bool { return slices.Contains(in.Outbound, name) }) {
		p.Dirty = true
	}
	return res, write
}

// PutHolds reports whether PutProfile's condition holds for p against cur,
// the profile as stored (nil when there is none): Version 0 needs no stored
// profile; otherwise the stored Version and the lookup entries p was read
// with (its match value and HubSpot id) must be unchanged.
func PutHolds(cur, p *Profile) bool {
	if p.Version == 0 {
		return cur == nil
	}
	return cur != nil && cur.Version == p.Version &&
		cur.MatchValue == p.stored.match && cur.HubSpotID == p.stored.hubSpotID
}

// LookupIndex names one of the lookups a profile write keeps in step.
type LookupIndex int

// The lookups of LookupByMatch and LookupByHubSpotID.
const (
	IndexMatch LookupIndex = iota
	IndexHubSpotID
)

// LookupMove is one lookup a profile write moves: the profile id leaves the
// entry of From (when not "") and joins the entry of To (when not "").
type LookupMove struct {
	Index    LookupIndex
	From, To string
}

// LookupMoves returns the lookup entries a write of p moves: those whose
// value (normalized match value, HubSpot id) differs from the one p was read
// with or last written as.
func LookupMoves(p *Profile) []LookupMove {
	var out []LookupMove
	if m := identity.Normalize(p.MatchValue); m != p.stored.match {
		out = append(out, LookupMove{Index: IndexMatch, From: p.stored.match, To: m})
	}
	if p.HubSpotID != p.stored.hubSpotID {
		out = append(out, LookupMove{Index: IndexHubSpotID, From: p.stored.hubSpotID, To: p.HubSpotID})
	}
	return out
}

// Stored returns the profile a successful write of p at now stores, exactly
// as a later read returns it: Version bumped, UpdatedAt now, match value
// normalized, values and maps in their stored form (empty maps absent, ints
// as float64, times in UTC). It fails like PutProfile on a profile that
// cannot be stored (ErrInvalid, ErrItemTooLarge).
func Stored(p *Profile, now time.Time) (*Profile, error) {
	if err := checkProfileKey(p.Env, p.Kind, p.ID); err != nil {
		return nil, err
	}
	item, err := encodeProfile(p, p.Version+1, now)
	if err != nil {
		return nil, fmt.Errorf("store: encode %s profile %s: %w", p.Kind, p.ID, err)
	}
	if n := itemSize(item); n > maxItemBytes {
		return nil, fmt.Errorf("store: %s profile %s is %d bytes, over the %d-byte item limit: %w", p.Kind, p.ID, n, maxItemBytes, ErrItemTooLarge)
	}
	return decodeProfile(item)
}

// Committed updates the caller's p after its write landed as stored (the
// result of Stored): Version, UpdatedAt and match value as stored, and the
// lookup values the next write is conditional on.
func Committed(p, stored *Profile) {
	p.Version = stored.Version
	p.UpdatedAt = stored.UpdatedAt
	p.MatchValue = stored.MatchValue
	p.stored = storedLinks{match: stored.MatchValue, hubSpotID: stored.HubSpotID}
}

// CloneProfile returns a deep enough copy of p (maps copied, property values
// shared) that changing one does not change the other.
func CloneProfile(p *Profile) *Profile {
	q := *p
	q.Properties = maps.Clone(p.Properties)
	q.InboundHashes = maps.Clone(p.InboundHashes)
	q.OutboundHashes = maps.Clone(p.OutboundHashes)
	q.Quarantined = maps.Clone(p.Quarantined)
	q.OutboundAt = maps.Clone(p.OutboundAt)
	return &q
}

// CanAcquireLease reports whether owner may take a lease held by holder
// until until (holder "" when there is none) at now: it is free, expired or
// already owner's. AcquireLease's condition expression says the same.
func CanAcquireLease(holder string, until time.Time, owner string, now time.Time) bool {
	return holder == "" || until.UnixMilli() <= now.UnixMilli() || holder == owner
}

// HoldsLease reports whether owner holds a live lease held by holder until
// until at now (the condition of RenewLease and PutCursorLeased). Times are
// compared in milliseconds, as they are stored.
func HoldsLease(holder string, until time.Time, owner string, now time.Time) bool {
	return holder != "" && holder == owner && until.UnixMilli() > now.UnixMilli()
}

// ShouldNotify reports whether OpenProblem tells its caller to notify: the
// problem was never notified (notified zero) or its last notification is at
// least repeatAfter old.
func ShouldNotify(notified, now time.Time, repeatAfter time.Duration) bool {
	return notified.IsZero() || notified.UnixMilli() <= now.Add(-repeatAfter).UnixMilli()
}

// EncodeRun validates r and returns the sort key and body PutRun stores
// (failures beyond maxRunFailures summarised in one last entry); ErrItemTooLarge when
// the record would not fit one item.
func EncodeRun(r RunRecord) (sk string, body []byte, err error) {
	if err := checkEnv(r.Env); err != nil {
		return "", nil, err
	}
	if err := checkName("run job", r.Job); err != nil {
		return "", nil, err
	}
	if err := checkName("run id", r.ID); err != nil {
		return "", nil, err
	}
	fs := r.Failures
	if len(fs) > maxRunFailures {
		fs = append(fs[:maxRunFailures-1:maxRunFailures-1], Failure{Reason: fmt.Sprintf("%d more failures not stored", len(r.Failures)-(maxRunFailures-1))})
	}
	body, err = json.Marshal(runBody{
		ID: r.ID, Started: r.Started.UTC(), Finished: r.Finished.UTC(),
		Counts: r.Counts, APICalls: r.APICalls, Failures: fs, Error: r.Error, Causes: r.Causes,
	})
	if err != nil {
		return "", nil, fmt.Errorf("store: encode run %s: %w", r.ID, err)
	}
	sk = r.Started.UTC().Format(runSKTime) + "#" + r.ID
	item := key(runPK(r.Env, r.Job), sk)
	item[attrRun] = str(string(body))
	// Sized with an expiry as wide as the one PutRun writes (ten digits
	// until 2286): num(0) under-counted it by 5 bytes, and a record that
	// close to the limit was refused by DynamoDB instead of here.
	item[attrExpires] = num(9_999_999_999)
	if n := itemSize(item); n > maxItemBytes {
		return "", nil, fmt.Errorf("store: run %s is %d bytes, over the %d-byte item limit: %w", r.ID, n, maxItemBytes, ErrItemTooLarge)
	}
	return sk, body, nil
}

// DecodeRun reads a run record of job in env from the body EncodeRun made.
func DecodeRun(env, job string, body []byte) (RunRecord, error) {
	var b runBody
	if err := json.Unmarshal(body, &b); err != nil {
		return RunRecord{}, fmt.Errorf("store: decode run of %s: %w", job, err)
	}
	return RunRecord{
		Env: env, Job: job, ID: b.ID, Started: b.Started, Finished: b.Finished,
		Counts: b.Counts, APICalls: b.APICalls, Failures: b.Failures, Error: b.Error, Causes: b.Causes,
	}, nil
}

// PrepareDeltas validates deltas for AddActivity and drops event ids already
// carried by an earlier delta of the same call (a delta left without ids that
// way is dropped whole). ErrInvalid names a bad key, day, event id or a delta
// with more than 98 event ids (maxDeltaEventIDs).
func PrepareDeltas(env string, deltas []ActivityDelta) ([]ActivityDelta, error) {
	if err := checkEnv(env); err != nil {
		return nil, err
	}
	seenEvent := map[string]bool{}
	kept := make([]ActivityDelta, 0, len(deltas))
	for _, d := range deltas {
		if err := checkProfileKey(env, d.Kind, d.ID); err != nil {
			return nil, err
		}
		if err := CheckDay(d.Day); err != nil {
			return nil, err
		}
		ids := make([]string, 0, len(d.EventIDs))
		dup := false
		for _, e := range d.EventIDs {
			if err := checkName("event id", e); err != nil {
				return nil, err
			}
			if seenEvent[e] {
				dup = true
				continue
			}
			seenEvent[e] = true
			ids = append(ids, e)
		}
		if dup && len(ids) == 0 {
			continue // every event already in an earlier delta of this call
		}
		if len(ids) > maxDeltaEventIDs {
			return nil, fmt.Errorf("%w: activity delta for %s %s has %d event ids, at most %d", ErrInvalid, d.Kind, d.ID, len(ids), maxDeltaEventIDs)
		}
		d.EventIDs = ids
		kept = append(kept, d)
	}
	return kept, nil
}

// CheckDay validates an activity day ("YYYY-MM-DD").
func CheckDay(day string) error {
	if _, err := time.Parse(dayLayout, day); err != nil {
		return fmt.Errorf("%w: activity day %q", ErrInvalid, day)
	}
	return nil
}

// CheckProfileKey validates a profile key (environment, kind, id).
func CheckProfileKey(env string, kind Kind, id string) error { return checkProfileKey(env, kind, id) }

// CheckEnv validates an environment name.
func CheckEnv(env string) error { return checkEnv(env) }

// CheckKind validates a profile kind.
func CheckKind(kind Kind) error {
	if !kind.valid() {
		return fmt.Errorf("%w: kind %q", ErrInvalid, kind)
	}
	return nil
}

// CheckName validates a non-empty name (cursor, lease, owner, event id,
// problem key); what names it in the error.
func CheckName(what, v string) error { return checkName(what, v) }

// RunRetention is how long run records are kept.
const RunRetention = runRetention

// ActivityRetention and ActivityMarkRetention are how long day aggregates
// and per-event applied marks are kept.
const (
	ActivityRetention     = activityRetention
	ActivityMarkRetention = activityMarkRetention
)
