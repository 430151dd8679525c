package forward

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/pilotsync/pilotsync/shared/identity"
	"github.com/pilotsync/pilotsync/shared/store"
)

// The forwarder keeps no links of its own: every invocation reads the
// profiles of its batch from the store (one batched read) and uses a link only
// while it is valid for the profile's current match value
// (shared/identity/linker). So once a re-link or unlink is committed in the
// store, by the inbound poll or another process, no later invocation of any
// warm process sends to the old record. What a process does remember is only
// a miss: a user HubSpot did not know under a given match value, not looked
// up again for unmatchedRecheck. A miss is keyed by the match value, so a
// user whose value changed is looked up at once.
type missCache struct {
	mu  sync.Mutex
	max int
	m   map[string]cachedMiss
}

type cachedMiss struct {
	value string // the match value HubSpot did not know
	until time.Time
}

// unmatchedRecheck is how long a user HubSpot did not know is not looked up
// again (per process) under the same match value. Short: contacts are
// created in HubSpot all the time, and the inbound poll links them in the
// store meanwhile (a stored valid link is used at once, miss or not).
const unmatchedRecheck = time.Minute

func newMissCache(max int) *missCache {
	if max <= 0 {
		max = DefaultCacheSize
	}
	return &missCache{max: max, m: map[string]cachedMiss{}}
}

// missed reports whether HubSpot did not know user id under value a moment
// ago. A different value (an identify changed the user's email, perhaps in
// another process) is looked up at once.
func (c *missCache) missed(env, id, value string, now time.Time) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	m, ok := c.m[cacheKey(env, id)]
	return ok && m.value == value && now.Before(m.until)
}

func (c *missCache) put(env, id, value string, until time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.m) >= c.max {
		clear(c.m)
	}
	c.m[cacheKey(env, id)] = cachedMiss{value: value, until: until}
}

func (c *missCache) forget(env, id string) {
	c.mu.Lock()
	delete(c.m, cacheKey(env, id))
	c.mu.Unlock()
}

func (c *missCache) len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.m)
}

func cacheKey(env, id string) string { return env + "\x00" + id }

// resolve returns user id → HubSpot record id for the users it can link: the
// stored profiles' valid links, then the linker's one batch read by match
// value for stale and missing links (stored at once). Users absent from the
// result are not in HubSpot, or could not be looked up when err is set.
func (f *Forwarder) resolve(ctx context.Context, c *counts, users []string) (map[string]string, error) {
	out := make(map[string]string, len(users))
	profiles, err := f.st.GetProfiles(ctx, f.env, store.KindUser, users)
	if err != nil {
		return out, fmt.Errorf("forward: read %d profiles: %w", len(users), err)
	}
	now := f.now()
	var todo []*store.Profile
	for _, u := range users {
		p := profiles[u]
		if p == nil {
			if !f.idMatch {
				continue // no identify yet: nothing to match on
			}
			// An id match needs no stored profile: the linker creates it.
			p = &store.Profile{Env: f.env, Kind: store.KindUser, ID: u, MatchValue: identity.Normalize(u)}
		}
		m := f.linker.MatchValue(store.KindUser, p)
		if m != "" && p.Link().ValidFor(m, f.usersObject) {
			out[u] = p.HubSpotID
			c.add(CountResolvedStore, 1)
			continue
		}
		if m != "" && f.misses.missed(f.env, u, m, now) {
			continue // not in HubSpot a moment ago: unmatched
		}
		todo = append(todo, p)
	}
	if len(todo) == 0 {
		return out, nil
	}
	res, err := f.linker.Resolve(ctx, store.KindUser, todo)
	if err != nil {
		// Links the linker could not store are not used: only a committed
		// link decides where events go.
		return out, fmt.Errorf("forward: resolve %d users: %w", len(todo), err)
	}
	for _, p := range todo {
		r, ok := res[p.ID]
		if !ok {
			continue
		}
		switch {
		case r.Outcome == identity.Linked:
			out[p.ID] = r.HubSpotID
			c.add(CountResolvedHubSpot, 1)
			if r.Relinked {
				c.add(CountRelinked, 1)
			}
		case r.Outcome == identity.NotFound:
			if r.Unlinked {
				c.add(CountUnlinked, 1)
			}
			f.misses.put(f.env, p.ID, f.linker.MatchValue(store.KindUser, p), now.Add(unmatchedRecheck))
		}
	}
	return out, nil
}
