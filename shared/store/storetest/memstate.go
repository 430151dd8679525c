package storetest

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/pilotsync/pilotsync/shared/store"
)

type lease struct {
	owner string
	until time.Time
}

type problem struct {
	summary                  string
	opened, notified, seenAt time.Time
}

type day struct {
	events, sessions, spent int64
	first, last             time.Time
	expires                 time.Time // zero: never (an item made by a first/last update only)
}

type runItem struct {
	body    []byte
	expires time.Time
}

// expiredAt reports whether a TTL of exp has passed at now, in whole
// seconds as the expires_at attribute holds it.
func expiredAt(exp, now time.Time) bool { return !exp.IsZero() && exp.Unix() <= now.Unix() }

// ms truncates t to the milliseconds the table stores, in UTC.
func ms(t time.Time) time.Time { return time.UnixMilli(t.UnixMilli()).UTC() }

// GetCursor returns the cursor called name, "" when none was stored.
func (m *Memory) GetCursor(ctx context.Context, env, name string) (string, error) {
	if err := checkCursor(env, name); err != nil {
		return "", err
	}
	if err := m.begin(ctx, "GetCursor"); err != nil {
		return "", err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.cursors[env+"#"+name], nil
}

func checkCursor(env, name string) error {
	if err := store.CheckEnv(env); err != nil {
		return err
	}
	return store.CheckName("cursor name", name)
}

func checkLease(env, name, owner string) error {
	if err := store.CheckEnv(env); err != nil {
		return err
	}
	if err := store.CheckName("lease name", name); err != nil {
		return err
	}
	return store.CheckName("lease owner", owner)
}

// PutCursor stores the cursor called name (last write wins).
func (m *Memory) PutCursor(ctx context.Context, env, name, value string) error {
	if err := checkCursor(env, name); err != nil {
		return err
	}
	if err := m.begin(ctx, "PutCursor"); err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	m.cursors[env+"#"+name] = value
	return nil
}

// PutCursorLeased stores the cursor only while owner holds the live lease
// called lease; store.ErrLeaseLost (nothing stored) otherwise.
func (m *Memory) PutCursorLeased(ctx context.Context, env, name, value, leaseName, owner string) error {
	if err := checkCursor(env, name); err != nil {
		return err
	}
	if err := checkLease(env, leaseName, owner); err != nil {
		return err
	}
	if err := m.begin(ctx, "PutCursorLeased"); err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	l := m.leases[env+"#"+leaseName]
	if !store.HoldsLease(l.owner, l.until, owner, m.now()) {
		return fmt.Errorf("storetest: put cursor %s: lease %s: %w", name, leaseName, store.ErrLeaseLost)
	}
	m.cursors[env+"#"+name] = value
	return nil
}

// AcquireLease takes the lease for owner for ttl when it is free, expired or
// already owner's; store.ErrLeaseHeld otherwise.
func (m *Memory) AcquireLease(ctx context.Context, env, name, owner string, ttl time.Duration) error {
	if err := checkLease(env, name, owner); err != nil {
		return err
	}
	if err := m.begin(ctx, "AcquireLease"); err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	now := m.now()
	l := m.leases[env+"#"+name]
	if !store.CanAcquireLease(l.owner, l.until, owner, now) {
		return fmt.Errorf("storetest: acquire lease %s: %w", name, store.ErrLeaseHeld)
	}
	m.leases[env+"#"+name] = lease{owner: owner, until: ms(now.Add(ttl))}
	return nil
}

// RenewLease extends owner's live lease to now+ttl; store.ErrLeaseLost when
// owner does not hold it.
func (m *Memory) RenewLease(ctx context.Context, env, name, owner string, ttl time.Duration) error {
	if err := checkLease(env, name, owner); err != nil {
		return err
	}
	if err := m.begin(ctx, "RenewLease"); err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	now := m.now()
	l := m.leases[env+"#"+name]
	if !store.HoldsLease(l.owner, l.until, owner, now) {
		return fmt.Errorf("storetest: renew lease %s: %w", name, store.ErrLeaseLost)
	}
	m.leases[env+"#"+name] = lease{owner: owner, until: ms(now.Add(ttl))}
	return nil
}

// ReleaseLease frees owner's lease (live or expired); store.ErrLeaseLost
// when another owner holds it or nobody does.
func (m *Memory) ReleaseLease(ctx context.Context, env, name, owner string) error {
	if err := checkLease(env, name, owner); err != nil {
		return err
	}
	if err := m.begin(ctx, "ReleaseLease"); err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.leases[env+"#"+name].owner != owner {
		return fmt.Errorf("storetest: release lease %s: %w", name, store.ErrLeaseLost)
	}
	delete(m.leases, env+"#"+name)
	return nil
}

// EnabledAt returns when the integration was enabled in env: the first
// caller's now, kept forever.
func (m *Memory) EnabledAt(ctx context.Context, env string, now time.Time) (time.Time, error) {
	if err := store.CheckEnv(env); err != nil {
		return time.Time{}, err
	}
	if err := m.begin(ctx, "EnabledAt"); err != nil {
		return time.Time{}, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if t, ok := m.enabled[env]; ok {
		return t, nil
	}
	m.enabled[env] = now.UTC()
	return now.UTC(), nil
}

func checkProblem(env, key string) error {
	if err := store.CheckEnv(env); err != nil {
		return err
	}
	return store.CheckName("problem key", key)
}

// OpenProblem records that the problem key is open; it reports true when
// the caller should notify (store.ShouldNotify).
func (m *Memory) OpenProblem(ctx context.Context, env, key, summary string, now time.Time, repeatAfter time.Duration) (bool, error) {
	if err := checkProblem(env, key); err != nil {
		return false, err
	}
	if err := m.begin(ctx, "OpenProblem"); err != nil {
		return false, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	p := m.problems[env+"#"+key]
	if p == nil {
		p = &problem{}
		m.problems[env+"#"+key] = p
	}
	p.summary, p.seenAt = summary, ms(now)
	if !store.ShouldNotify(p.notified, now, repeatAfter) {
		return false, nil
	}
	if p.opened.IsZero() {
		p.opened = ms(now)
	}
	p.notified = ms(now)
	return true, nil
}

// CloseProblem marks the problem resolved and reports whether it was open.
func (m *Memory) CloseProblem(ctx context.Context, env, key string) (bool, error) {
	if err := checkProblem(env, key); err != nil {
		return false, err
	}
	if err := m.begin(ctx, "CloseProblem"); err != nil {
		return false, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	_, open := m.problems[env+"#"+key]
	delete(m.problems, env+"#"+key)
	return open, nil
}

// LedgerSeen reports which event ids are recorded and unexpired; every id
// is a key of the result.
func (m *Memory) LedgerSeen(ctx context.Context, env string, ids []string) (map[string]bool, error) {
	if err := checkEvents(env, ids); err != nil {
		return nil, err
	}
	if err := m.begin(ctx, "LedgerSeen"); err != nil {
		return nil, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	now := m.now()
	out := make(map[string]bool, len(ids))
	for _, id := range ids {
		exp, ok := m.ledger[env+"#"+id]
		out[id] = ok && !expiredAt(exp, now)
	}
	return out, nil
}

// LedgerRecord records event ids for ttl (again: the expiry is extended).
func (m *Memory) LedgerRecord(ctx context.Context, env string, ids []string, ttl time.Duration) error {
	if err := checkEvents(env, ids); err != nil {
		return err
	}
	if err := m.begin(ctx, "LedgerRecord"); err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	exp := m.now().Add(ttl)
	for _, id := range ids {
		m.ledger[env+"#"+id] = exp
	}
	return nil
}

func checkEvents(env string, ids []string) error {
	if err := store.CheckEnv(env); err != nil {
		return err
	}
	for _, id := range ids {
		if err := store.CheckName("event id", id); err != nil {
			return err
		}
	}
	return nil
}

// ClearLedger forgets every ledger entry, as if the forwarder had crashed
// before recording them (a test's way to force a redelivery to be resent).
func (m *Memory) ClearLedger() {
	m.mu.Lock()
	defer m.mu.Unlock()
	clear(m.ledger)
}

func dayKeyOf(env string, kind store.Kind, id, d string) string {
	return profileKey(env, kind, id) + "#" + d
}

// AddActivity adds deltas to the daily aggregates, exactly once per event
// id: a delta with an event id applied before (by any call) is skipped
// whole; first and last seen are widened for every delta.
func (m *Memory) AddActivity(ctx context.Context, env string, deltas []store.ActivityDelta) error {
	kept, err := store.PrepareDeltas(env, deltas)
	if err != nil {
		return err
	}
	if err := m.begin(ctx, "AddActivity"); err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	now := m.now()
	for _, d := range kept {
		k := dayKeyOf(env, d.Kind, d.ID, d.Day)
		applied := slices.ContainsFunc(d.EventIDs, func(e string) bool {
			// An expired mark still stands until TTL deletes it, and
			// DynamoDB's condition sees it: keep it for good.
			_, ok := m.marks[env+"#"+e]
			return ok
		})
		if !applied {
			for _, e := range d.EventIDs {
				m.marks[env+"#"+e] = now.Add(store.ActivityMarkRetention)
			}
			a := m.days[k]
			if a == nil {
				a = &day{}
				m.days[k] = a
			}
			a.events += d.Events
			a.sessions += d.Sessions
			a.spent += d.TimeSpentSeconds
			a.expires = now.Add(store.ActivityRetention)
			m.applied = append(m.applied, d)
		}
		if d.FirstSeen.IsZero() && d.LastSeen.IsZero() {
			continue
		}
		a := m.days[k]
		if a == nil {
			a = &day{}
			m.days[k] = a
		}
		if f := ms(d.FirstSeen); !d.FirstSeen.IsZero() && (a.first.IsZero() || f.Before(a.first)) {
			a.first = f
		}
		if l := ms(d.LastSeen); !d.LastSeen.IsZero() && (a.last.IsZero() || l.After(a.last)) {
			a.last = l
		}
	}
	return nil
}

// Applied returns the deltas AddActivity applied (not skipped as already
// applied), in order: what a test asserts was counted.
func (m *Memory) Applied() []store.ActivityDelta {
	m.mu.Lock()
	defer m.mu.Unlock()
	return slices.Clone(m.applied)
}

// Activity returns one profile's unexpired day aggregates from fromDay to
// toDay inclusive, oldest first.
func (m *Memory) Activity(ctx context.Context, env string, kind store.Kind, id string, fromDay, toDay string) ([]store.DayActivity, error) {
	if err := store.CheckProfileKey(env, kind, id); err != nil {
		return nil, err
	}
	for _, d := range []string{fromDay, toDay} {
		if err := store.CheckDay(d); err != nil {
			return nil, err
		}
	}
	if err := m.begin(ctx, "Activity"); err != nil {
		return nil, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	now := m.now()
	prefix := dayKeyOf(env, kind, id, "")
	var out []store.DayActivity
	for k, a := range m.days {
		d, ok := strings.CutPrefix(k, prefix)
		if !ok || strings.Contains(d, "#") || d < fromDay || d > toDay || expiredAt(a.expires, now) {
			continue
		}
		out = append(out, store.DayActivity{
			Day: d, Events: a.events, Sessions: a.sessions, TimeSpentSeconds: a.spent,
			FirstSeen: a.first, LastSeen: a.last,
		})
	}
	slices.SortFunc(out, func(a, b store.DayActivity) int { return strings.Compare(a.Day, b.Day) })
	return out, nil
}

// PutRun stores a run record for 90 days (the same Job, Started and ID
// replace it).
func (m *Memory) PutRun(ctx context.Context, r store.RunRecord) error {
	sk, body, err := store.EncodeRun(r)
	if err != nil {
		return err
	}
	if err := m.begin(ctx, "PutRun"); err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	pk := r.Env + "#" + r.Job
	if m.runs[pk] == nil {
		m.runs[pk] = map[string]runItem{}
	}
	m.runs[pk][sk] = runItem{body: body, expires: m.now().Add(store.RunRetention)}
	return nil
}

// ListRuns returns up to limit (all when limit <= 0) unexpired runs of job,
// newest first by Started.
func (m *Memory) ListRuns(ctx context.Context, env, job string, limit int) ([]store.RunRecord, error) {
	if err := store.CheckEnv(env); err != nil {
		return nil, err
	}
	if err := store.CheckName("run job", job); err != nil {
		return nil, err
	}
	if err := m.begin(ctx, "ListRuns"); err != nil {
		return nil, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	now := m.now()
	items := m.runs[env+"#"+job]
	sks := make([]string, 0, len(items))
	for sk := range items {
		sks = append(sks, sk)
	}
	slices.Sort(sks)
	slices.Reverse(sks)
	var out []store.RunRecord
	for _, sk := range sks {
		if expiredAt(items[sk].expires, now) {
			continue
		}
		r, err := store.DecodeRun(env, job, items[sk].body)
		if err != nil {
			return nil, err
		}
		out = append(out, r)
		if limit > 0 && len(out) == limit {
			break
		}
	}
	return out, nil
}
