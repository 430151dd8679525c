package forward

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/pilotsync/pilotsync/shared/store"
)

// TestRecheckFailureRetriesTheRefusedEvents: HubSpot refuses an event
// attached to a record, and the linker cannot look the user up again (a
// 429): the event may be fine, so its message is retried, not
// dead-lettered, and the report keeps the cause.
func TestRecheckFailureRetriesTheRefusedEvents(t *testing.T) {
	e := newEnv(t, testConfig())
	e.link("u1", "101")
	e.sink.deadObjects = map[string]bool{"101": true}
	e.finder.err = errors.New("fake: 429")
	rep, err := e.f.Process(t.Context(), msgs(rec("track", "a", "u1", "event_name", "x")))
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(rep.Failed, ",") != "m0" || len(rep.DeadLettered) != 0 || !errors.Is(rep.SinkErr, e.finder.err) {
		t.Errorf("failed %v dead-lettered %v sink error %v; want m0 retried with the lookup's error", rep.Failed, rep.DeadLettered, rep.SinkErr)
	}
	if p := e.st.profile("production", store.KindUser, "u1"); p.HubSpotID != "101" {
		t.Errorf("link %q, want 101 kept until the re-check can tell", p.HubSpotID)
	}
}

// ledgerDown is a store whose ledger writes fail.
type ledgerDown struct{ *memStore }

func (s ledgerDown) LedgerRecord(context.Context, string, []string, time.Duration) error {
	return errors.New("fake: throttled")
}

// TestLedgerWriteFailureKeepsTheDelivery: events HubSpot took are
// delivered even when the ledger write fails: their messages are done (not
// retried), the failed writes counted; a redelivery resends them with the
// same ids, which HubSpot keeps once.
func TestLedgerWriteFailureKeepsTheDelivery(t *testing.T) {
	e := newEnv(t, testConfig(), func(o *Options) { o.Store = ledgerDown{o.Store.(*memStore)} })
	e.link("u1", "101")
	batch := msgs(rec("track", "a", "u1", "event_name", "x"), rec("track", "b", "u1", "event_name", "y"))
	rep, err := e.f.Process(t.Context(), batch)
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Failed) != 0 || rep.Counts[CountSent] != 2 || rep.Counts[CountLedgerErrors] != 2 {
		t.Errorf("failed %v counts %v, want both done, 2 sent and 2 ledger errors", rep.Failed, rep.Counts)
	}
	if _, err := e.f.Process(t.Context(), batch); err != nil {
		t.Fatal(err)
	}
	if len(e.sink.got) != 2 || e.sink.repeats != 2 {
		t.Errorf("HubSpot kept %d with %d repeats dropped, want 2 and 2", len(e.sink.got), e.sink.repeats)
	}
}

// TestStaleLinkToAnUnknownValueIsUnlinked: a user whose email moved to one
// HubSpot does not know is unlinked (counted), and its event is not sent
// to the record of its old email.
func TestStaleLinkToAnUnknownValueIsUnlinked(t *testing.T) {
	e := newEnv(t, noGrace(testConfig()))
	e.st.seed(&store.Profile{Env: "production", Kind: store.KindUser, ID: "u1",
		MatchValue: "new@x.com", HubSpotID: "101", HubSpotObject: "contacts", LinkMatch: "old@x.com"})
	e.finder.ids["old@x.com"] = "101"
	rep, err := e.f.Process(t.Context(), msgs(rec("track", "a", "u1", "event_name", "x")))
	if err != nil {
		t.Fatal(err)
	}
	if rep.Counts[CountUnlinked] != 1 || rep.Counts[CountUnmatched] != 1 || len(e.sink.got) != 0 {
		t.Errorf("counts %v, sent %v; want unlinked, unmatched and nothing sent", rep.Counts, e.sink.order)
	}
	if p := e.st.profile("production", store.KindUser, "u1"); p.HubSpotID != "" {
		t.Errorf("link %q still stored", p.HubSpotID)
	}
}

// profilesDown is a store whose profile reads fail.
type profilesDown struct{ *memStore }

func (s profilesDown) GetProfiles(context.Context, string, store.Kind, []string) (map[string]*store.Profile, error) {
	return nil, errors.New("fake: throttled")
}

// TestProfilesUnreadableRetriesTheEvents: when the users' profiles cannot
// be read, their events are retried (counted resolve_failed) with the cause
// kept, not dropped as unmatched.
func TestProfilesUnreadableRetriesTheEvents(t *testing.T) {
	e := newEnv(t, noGrace(testConfig()), func(o *Options) { o.Store = profilesDown{o.Store.(*memStore)} })
	rep, err := e.f.Process(t.Context(), msgs(rec("track", "a", "u1", "event_name", "x")))
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(rep.Failed, ",") != "m0" || rep.Counts[CountResolveFailed] != 1 || rep.Counts[CountUnmatched] != 0 || rep.SinkErr == nil {
		t.Errorf("failed %v counts %v sink error %v; want m0 retried as resolve_failed", rep.Failed, rep.Counts, rep.SinkErr)
	}
}

// TestMissCacheNeverExceedsItsBound: the per-process memory of users
// HubSpot did not know holds at most its bound at any time (a warm Lambda
// sees many users), not one more before it is cleared.
func TestMissCacheNeverExceedsItsBound(t *testing.T) {
	c := newMissCache(10)
	for i := range 100 {
		c.put("production", strconv.Itoa(i), "v", t0.Add(time.Minute))
		if n := c.len(); n > 10 {
			t.Fatalf("after %d misses the cache holds %d, want at most 10", i+1, n)
		}
	}
}

// TestDefaultMissCacheRemembersManyUsers: with the default cache size
// (Options.CacheSize unset), every user HubSpot did not know is remembered
// for the minute, not only the last one: a redelivery looks none of them up
// again.
func TestDefaultMissCacheRemembersManyUsers(t *testing.T) {
	e := newEnv(t, noGrace(testConfig()))
	var batch []string
	for i := range 3 {
		u := "u" + strconv.Itoa(i)
		e.st.seed(&store.Profile{Env: "production", Kind: store.KindUser, ID: u, MatchValue: u + "@x.com"})
		batch = append(batch, rec("track", "e"+u, u, "event_name", "x"))
	}
	for range 2 {
		if rep, err := e.f.Process(t.Context(), msgs(batch...)); err != nil || rep.Counts[CountUnmatched] != 3 {
			t.Fatalf("%v %v", err, rep)
		}
	}
	if e.finder.calls != 1 {
		t.Errorf("%d HubSpot lookups, want 1 (the three misses remembered)", e.finder.calls)
	}
}

// TestUsersAfterAnUnresolvableOneStillResolve: in one lookup, a user with
// no profile yet (no identify: nothing to match on) or one HubSpot did not
// know a moment ago does not stop the users after it from getting their
// events.
func TestUsersAfterAnUnresolvableOneStillResolve(t *testing.T) {
	e := newEnv(t, noGrace(testConfig()))
	e.st.seed(&store.Profile{Env: "production", Kind: store.KindUser, ID: "missed", MatchValue: "missed@x.com"})
	e.link("u1", "101")
	e.finder.ids["u2@x.com"] = "202"
	e.st.seed(&store.Profile{Env: "production", Kind: store.KindUser, ID: "u2", MatchValue: "u2@x.com"})
	if _, err := e.f.Process(t.Context(), msgs(rec("track", "m0", "missed", "event_name", "x"))); err != nil {
		t.Fatal(err)
	}
	rep, err := e.f.Process(t.Context(), msgs(rec("track", "a", "ghost", "event_name", "x"), rec("track", "b", "missed", "event_name", "x"),
		rec("track", "c", "u1", "event_name", "x"), rec("track", "d", "u2", "event_name", "x")))
	if err != nil {
		t.Fatal(err)
	}
	for k, obj := range map[string]string{"pe1_userpilot_tracked_event_occurred/c": "101", "pe1_userpilot_tracked_event_occurred/d": "202"} {
		if it, ok := e.sink.got[k]; !ok || it.ObjectID != obj {
			t.Errorf("%s: got %+v, want it sent to %s", k, it, obj)
		}
	}
	if rep.Counts[CountUnmatched] != 2 || len(e.sink.got) != 2 {
		t.Errorf("counts %v, sent %v; want ghost and missed unmatched, c and d sent", rep.Counts, e.sink.order)
	}
}

// TestAggregateAgeLimitIsInclusive: an event exactly AggregateMaxAge old is
// still added to the daily aggregates (its marks are still kept); a
// microsecond older it is not.
func TestAggregateAgeLimitIsInclusive(t *testing.T) {
	e := enabledLongAgo(t)
	rep, err := e.f.Process(t.Context(), msgs(recAt("session_start", "at", "u1", t0.Add(-AggregateMaxAge)),
		recAt("session_start", "over", "u1", t0.Add(-AggregateMaxAge-time.Microsecond))))
	if err != nil {
		t.Fatal(err)
	}
	if rep.Counts[CountAggregated] != 1 || rep.Counts[CountAggregateTooOld] != 1 {
		t.Errorf("counts %v, want the event at the limit aggregated and the older one not", rep.Counts)
	}
}
