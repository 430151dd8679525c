package forward

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/pilotsync/pilotsync/shared/identity"
	"github.com/pilotsync/pilotsync/shared/store"
)

// idCache maps (environment, user id) to a HubSpot record id. It is bounded:
// when full, an arbitrary tenth is evicted (map iteration order is random),
// which is cheap and good enough for a cache whose misses cost one store
// read. Entries live cacheTTL: a link the inbound poll changes in the store
// (after a HubSpot merge the surviving record has a new id, and HubSpot
// refuses events for the old one) reaches a warm process that soon.
type idCache struct {
	mu  sync.Mutex
	max int
	m   map[string]cachedID
	// miss remembers users HubSpot did not know under a match value, until
	// the time stored, so their events do not cost a batch read (and
	// secondary-email searches, 5 per second at most) in every batch.
	miss map[string]cachedMiss
}

type cachedID struct {
	hubspotID string
	until     time.Time
}

type cachedMiss struct {
	value string // the match value HubSpot did not know
	until time.Time
}

// unmatchedRecheck is how long a user HubSpot did not know is not looked up
// again (per process) under the same match value. Short: contacts are
// created in HubSpot all the time, and the inbound poll links them in the
// store meanwhile.
const unmatchedRecheck = time.Minute

// cacheTTL is how long a cached link is used before the store is read again:
// one batched store read per user every few minutes, against events sent to
// a record merged away for as long as the process lives.
const cacheTTL = 5 * time.Minute

func newIDCache(max int) *idCache {
	if max <= 0 {
		max = DefaultCacheSize
	}
	return &idCache{max: max, m: map[string]cachedID{}, miss: map[string]cachedMiss{}}
}

// missed reports whether HubSpot did not know user id under value a moment
// ago. A different value (an identify changed the user's email, perhaps in
// another process) is looked up at once.
func (c *idCache) missed(env, id, value string, now time.Time) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	m, ok := c.miss[cacheKey(env, id)]
	return ok && m.value == value && now.Before(m.until)
}

func (c *idCache) putMiss(env, id, value string, until time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.miss) >= c.max {
		clear(c.miss)
	}
	c.miss[cacheKey(env, id)] = cachedMiss{value: value, until: until}
}

func cacheKey(env, id string) string { return env + "\x00" + id }

// get returns the cached link of user id, unless it is older than cacheTTL.
func (c *idCache) get(env, id string, now time.Time) (string, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	v, ok := c.m[cacheKey(env, id)]
	if !ok || !now.Before(v.until) {
		return "", false
	}
	return v.hubspotID, true
}

func (c *idCache) put(env, id, hubspotID string, now time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.m) >= c.max {
		drop := max(c.max/10, 1)
		for k := range c.m {
			delete(c.m, k)
			drop--
			if drop == 0 {
				break
			}
		}
	}
	c.m[cacheKey(env, id)] = cachedID{hubspotID: hubspotID, until: now.Add(cacheTTL)}
	delete(c.miss, cacheKey(env, id))
}

func (c *idCache) forget(env, id string) {
	c.mu.Lock()
	delete(c.m, cacheKey(env, id))
	delete(c.miss, cacheKey(env, id))
	c.mu.Unlock()
}

func (c *idCache) len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.m)
}

// resolve returns user id → HubSpot record id for the users it can link:
// from the cache, then the stored profiles' links, then one batch read by
// match value for the rest (linking what it finds in the store). Users absent
// from the result are not in HubSpot, or could not be looked up when err is
// set.
func (f *Forwarder) resolve(ctx context.Context, c *counts, users []string) (map[string]string, error) {
	out := make(map[string]string, len(users))
	var misses []string
	now := f.now()
	for _, u := range users {
		if id, ok := f.cache.get(f.env, u, now); ok {
			out[u] = id
			c.add(CountResolvedCache, 1)
			continue
		}
		misses = append(misses, u)
	}
	if len(misses) == 0 {
		return out, nil
	}
	profiles, err := f.st.GetProfiles(ctx, f.env, store.KindUser, misses)
	if err != nil {
		return out, fmt.Errorf("forward: read %d profiles: %w", len(misses), err)
	}
	byValue := map[string][]string{}
	var values []string
	for _, u := range misses {
		p := profiles[u]
		if p != nil && p.HubSpotID != "" && (p.HubSpotObject == "" || p.HubSpotObject == f.usersObject) {
			out[u] = p.HubSpotID
			f.cache.put(f.env, u, p.HubSpotID, now)
			c.add(CountResolvedStore, 1)
			continue
		}
		v := f.matchValue(p, u)
		if v == "" || f.cache.missed(f.env, u, v, now) {
			continue // nothing to match on, or not in HubSpot a moment ago: unmatched
		}
		if _, ok := byValue[v]; !ok {
			values = append(values, v)
		}
		byValue[v] = append(byValue[v], u)
	}
	if len(values) == 0 {
		return out, nil
	}
	found, err := f.finder.FindByMatch(ctx, f.usersObject, f.matchHS, values)
	if err != nil {
		return out, fmt.Errorf("forward: find %d %s by %s: %w", len(values), f.usersObject, f.matchHS, err)
	}
	type link struct{ u, v, hsID string }
	var links []link
	for v, hsID := range found {
		for _, u := range byValue[identity.Normalize(v)] {
			out[u] = hsID
			f.cache.put(f.env, u, hsID, now)
			c.add(CountResolvedHubSpot, 1)
			links = append(links, link{u, v, hsID})
		}
	}
	sema := make(chan struct{}, maxLinkWriters)
	var wg sync.WaitGroup
	for _, l := range links {
		sema <- struct{}{}
		wg.Go(func() {
			defer func() { <-sema }()
			f.link(ctx, c, profiles[l.u], l.u, l.v, l.hsID)
		})
	}
	wg.Wait()
	for _, v := range values {
		for _, u := range byValue[v] {
			if _, ok := out[u]; !ok {
				f.cache.putMiss(f.env, u, v, now.Add(unmatchedRecheck))
			}
		}
	}
	return out, nil
}

// matchValue is the value user u is matched on: the id itself when the
// match property is the id, else the stored profile's match value.
func (f *Forwarder) matchValue(p *store.Profile, u string) string {
	switch f.matchUP {
	case "user_id", "id":
		return identity.Normalize(u)
	}
	if p == nil {
		return ""
	}
	return p.MatchValue
}

// link stores a found HubSpot id on the user's profile (creating a minimal
// profile when none exists). Linking is an optimisation for later batches:
// a failure is counted and logged, not fatal.
func (f *Forwarder) link(ctx context.Context, c *counts, p *store.Profile, u, value, hsID string) {
	if p == nil {
		p = &store.Profile{Env: f.env, Kind: store.KindUser, ID: u, MatchValue: value}
	}
	p.HubSpotID, p.HubSpotObject = hsID, f.usersObject
	if err := f.st.PutProfile(ctx, p); err != nil {
		c.add(CountLinkErrors, 1)
		f.log.WarnContext(ctx, "activity: link profile", "user", hashID(u), "err", err)
	}
}
