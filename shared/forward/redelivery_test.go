package forward

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/pilotsync/pilotsync/shared/activity"
	"github.com/pilotsync/pilotsync/shared/config"
	"github.com/pilotsync/pilotsync/shared/hubspot"
	"github.com/pilotsync/pilotsync/shared/store"
)

// clock is a test clock the forwarder reads through Options.Now; tests move
// it only between Process calls.
type clock struct{ t time.Time }

func (c *clock) now() time.Time { return c.t }

func withClock(c *clock) func(*Options) { return func(o *Options) { o.Now = c.now } }

// recAt is rec with inserted_at set to at.
func recAt(typ, id, user string, at time.Time, kv ...string) string {
	return rec(typ, id, user, append([]string{"inserted_at", at.Format("2006-01-02T15:04:05.000000Z")}, kv...)...)
}

func TestResolveErrorIsReportedAsSinkErr(t *testing.T) {
	// A revoked token shows first on the batch read that resolves users: the
	// alert must be able to name it (401) rather than see an unexplained stall.
	cfg := testConfig()
	cfg.Mapping.Users.Match.Userpilot = "user_id"
	e := newEnv(t, cfg)
	e.finder.err = fmt.Errorf("hubspot: batch read 1 contacts: %w", &hubspot.APIError{Status: http.StatusUnauthorized, Endpoint: "batch_read"})
	rep, err := e.f.Process(context.Background(), msgs(rec("track", "a", "u9", "event_name", "x")))
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(rep.Failed, ","); got != "m0" {
		t.Errorf("got failed %q, want m0", got)
	}
	var ae *hubspot.APIError
	if !errors.As(rep.SinkErr, &ae) || ae.Status != http.StatusUnauthorized {
		t.Errorf("got sink error %v, want the finder's 401 *hubspot.APIError", rep.SinkErr)
	}
}

func TestLedgerOutlivesEveryRedeliveryPath(t *testing.T) {
	// Queue retention 4 days, DLQ 14 days, and a DLQ redrive puts a message
	// back with a fresh retention, any number of times: no fixed TTL covers
	// that, so the ledger keeps ids as long as HubSpot keeps uuids (a year)
	// and events older than the ledger can vouch for are not sent at all.
	if DefaultLedgerTTL < 365*24*time.Hour {
		t.Errorf("got DefaultLedgerTTL %v, want at least a year (HubSpot's uuid memory)", DefaultLedgerTTL)
	}
	cfg := testConfig()
	long := t0.Add(-2 * 365 * 24 * time.Hour)
	cfg.Activity.EnabledAt = &long
	clk := &clock{t: t0}
	e := newEnv(t, cfg, withClock(clk))
	e.link("u1", "101")

	// Delivered today, recorded for the ledger's TTL.
	fresh := recAt("track", "a", "u1", t0.Add(-time.Minute), "event_name", "x")
	if rep, err := e.f.Process(context.Background(), msgs(fresh)); err != nil || len(rep.Failed) != 0 {
		t.Fatalf("first delivery: %v %v", err, rep)
	}
	if len(e.st.ttls) != 1 || e.st.ttls[0] < 365*24*time.Hour {
		t.Fatalf("got ledger ttls %v, want one of at least a year", e.st.ttls)
	}

	// Redriven 40 days later (two DLQ round trips): still recognised, and
	// not counted twice in the daily aggregates.
	clk.t = t0.Add(40 * 24 * time.Hour)
	rep, err := e.f.Process(context.Background(), msgs(fresh))
	if err != nil || len(rep.Failed) != 0 {
		t.Fatalf("redrive: %v %v", err, rep)
	}
	if rep.Counts[CountDuplicateLedger] != 1 || rep.Counts[CountSent] != 0 {
		t.Errorf("redrive: got counts %v, want 1 ledger duplicate and nothing sent", rep.Counts)
	}
	if got := len(e.st.deltas); got != 2 {
		t.Errorf("redrive: got %d aggregate deltas, want 2 (the first delivery's, user and company)", got)
	}

	// An event older than the ledger can vouch for is dropped, counted, and
	// its message deleted (not retried, not dead-lettered).
	ancient := recAt("track", "b", "u1", clk.t.Add(-DefaultLedgerTTL), "event_name", "x")
	rep, err = e.f.Process(context.Background(), msgs(ancient))
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Failed) != 0 || len(rep.DeadLettered) != 0 || rep.Counts[CountTooOld] != 1 || rep.Counts[CountSent] != 0 {
		t.Errorf("ancient: got failed %v dead %v counts %v, want deleted, 1 too old, nothing sent", rep.Failed, rep.DeadLettered, rep.Counts)
	}
}

func TestAggregatesSkipEventsOlderThanTheirMarks(t *testing.T) {
	// The store keeps per-event aggregate marks for 35 days: an event older
	// than that could be counted twice, so it is forwarded (the ledger and
	// HubSpot's uuid still guard it) but not added to the aggregates again.
	e := enabledLongAgo(t)
	old := recAt("track", "a", "u1", t0.Add(-AggregateMaxAge-time.Hour), "event_name", "x")
	recent := recAt("track", "b", "u1", t0.Add(-time.Hour), "event_name", "x")
	rep, err := e.f.Process(context.Background(), msgs(old, recent))
	if err != nil || len(rep.Failed) != 0 {
		t.Fatalf("%v %v", err, rep)
	}
	if rep.Counts[CountSent] != 2 || rep.Counts[CountAggregated] != 1 || rep.Counts[CountAggregateTooOld] != 1 {
		t.Errorf("got counts %v, want 2 sent, 1 aggregated, 1 too old to aggregate", rep.Counts)
	}
	var got []string
	for _, d := range e.st.deltas {
		got = append(got, d.EventIDs...)
	}
	slices.Sort(got)
	if want := "company:b,user:b"; strings.Join(got, ",") != want {
		t.Errorf("got aggregated %v, want %s (event b only)", got, want)
	}
}

func TestCachedLinkFollowsAReLink(t *testing.T) {
	// The inbound poll re-links a user after a HubSpot merge (new record id).
	// A warm process must not send to the dead pre-merge id even once: no
	// per-process link outlives the store's.
	clk := &clock{t: t0}
	e := newEnv(t, testConfig(), withClock(clk))
	e.link("u1", "101")
	if _, err := e.f.Process(context.Background(), msgs(rec("track", "a", "u1", "event_name", "x"))); err != nil {
		t.Fatal(err)
	}
	e.link("u1", "202")
	e.sink.deadObjects = map[string]bool{"101": true}
	clk.t = clk.t.Add(time.Second)
	rep, err := e.f.Process(context.Background(), msgs(rec("track", "b", "u1", "event_name", "x")))
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Failed) != 0 || len(rep.DeadLettered) != 0 || rep.Counts[CountSent] != 1 {
		t.Fatalf("got failed %v dead %v counts %v, want b sent", rep.Failed, rep.DeadLettered, rep.Counts)
	}
	if it := e.sink.got["pe1_userpilot_tracked_event_occurred/b"]; it.ObjectID != "202" {
		t.Errorf("got event b on %q, want the surviving record 202 (sink has %v)", it.ObjectID, e.sink.order)
	}
}

func TestRejectedForADeadRecordIsReResolved(t *testing.T) {
	// The store still links the user to a record HubSpot merged away; the
	// send is refused. That is not the message's fault: look the user up
	// again by match value, re-link, and retry rather than dead-letter.
	e := newEnv(t, testConfig())
	e.st.seed(&store.Profile{Env: "production", Kind: store.KindUser, ID: "u1",
		MatchValue: "a@b.c", HubSpotID: "101", HubSpotObject: "contacts", LinkMatch: "a@b.c"})
	e.sink.deadObjects = map[string]bool{"101": true}
	e.finder.ids["a@b.c"] = "202"
	batch := msgs(rec("track", "a", "u1", "event_name", "x"), rec("track", "ok", "u2", "event_name", "x"))
	e.link("u2", "303")
	rep, err := e.f.Process(context.Background(), batch)
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(rep.Failed, ","); got != "m0" || len(rep.DeadLettered) != 0 {
		t.Fatalf("got failed %q dead %v, want m0 retried, nothing dead-lettered", got, rep.DeadLettered)
	}
	if got := e.st.profile("production", store.KindUser, "u1").HubSpotID; got != "202" {
		t.Errorf("got link %q, want re-linked to 202", got)
	}
	if rep.Counts[CountRelinkedMerged] != 1 || rep.Counts[CountUnmatched] != 0 {
		t.Errorf("got counts %v, want the repair counted relinked_merged", rep.Counts)
	}
	rep, err = e.f.Process(context.Background(), batch)
	if err != nil || len(rep.Failed) != 0 || len(rep.DeadLettered) != 0 {
		t.Fatalf("redelivery: %v failed %v dead %v", err, rep.Failed, rep.DeadLettered)
	}
	if it := e.sink.got["pe1_userpilot_tracked_event_occurred/a"]; it.ObjectID != "202" {
		t.Errorf("got event a on %q, want 202", it.ObjectID)
	}
	if len(e.sink.got) != 2 || e.sink.repeats != 0 {
		t.Errorf("got %d delivered %d repeats, want 2 and 0", len(e.sink.got), e.sink.repeats)
	}
}

func TestRejectedForADeletedRecordIsUnmatched(t *testing.T) {
	// The linked record is gone and no record has the user's email: the
	// user is no longer in HubSpot, so it is unlinked, the event dropped and
	// counted unlinked_deleted (not unmatched), and the message deleted, not
	// dead-lettered as if it were malformed.
	e := newEnv(t, testConfig())
	e.st.seed(&store.Profile{Env: "production", Kind: store.KindUser, ID: "u1",
		MatchValue: "a@b.c", HubSpotID: "101", HubSpotObject: "contacts", LinkMatch: "a@b.c"})
	e.sink.deadObjects = map[string]bool{"101": true}
	rep, err := e.f.Process(context.Background(), msgs(rec("track", "a", "u1", "event_name", "x")))
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Failed) != 0 || len(rep.DeadLettered) != 0 || rep.Counts[CountUnlinkedDeleted] != 1 || rep.Counts[CountUnmatched] != 0 || rep.Counts[CountRejected] != 0 {
		t.Errorf("got failed %v dead %v counts %v, want deleted, counted unlinked_deleted", rep.Failed, rep.DeadLettered, rep.Counts)
	}
	if p := e.st.profile("production", store.KindUser, "u1"); p.HubSpotID != "" {
		t.Errorf("the dead link %q is still stored", p.HubSpotID)
	}
}

func TestUnmatchedMissForgottenWhenTheMatchValueChanges(t *testing.T) {
	// u5 was not in HubSpot under x@y.z. Another instance then processes an
	// identify giving u5 an email HubSpot knows: this instance must look the
	// new value up at once, not drop u5's events for the rest of the minute.
	e := newEnv(t, noGrace(testConfig()))
	e.st.seed(&store.Profile{Env: "production", Kind: store.KindUser, ID: "u5", MatchValue: "x@y.z"})
	rep, err := e.f.Process(context.Background(), msgs(rec("track", "a", "u5", "event_name", "x")))
	if err != nil || rep.Counts[CountUnmatched] != 1 {
		t.Fatalf("%v %v", err, rep.Counts)
	}
	u5 := e.st.profile("production", store.KindUser, "u5")
	u5.MatchValue = "a@b.c"
	e.st.seed(u5)
	e.finder.ids["a@b.c"] = "505"
	rep, err = e.f.Process(context.Background(), msgs(rec("track", "b", "u5", "event_name", "x")))
	if err != nil {
		t.Fatal(err)
	}
	if rep.Counts[CountSent] != 1 || rep.Counts[CountUnmatched] != 0 {
		t.Errorf("got counts %v, want b sent", rep.Counts)
	}
}

func TestGraceDoesNotHoldFutureEventsForever(t *testing.T) {
	// An event stamped a day ahead (a bad client clock) is never "within the
	// grace period": retrying it would loop until the queue gives up. Since
	// issue 13.7 it is refused at parse time (dead-lettered with its reason,
	// neither aggregated nor sent).
	cfg := testConfig()
	cfg.Activity.UnmatchedGrace = config.Duration(10 * time.Minute)
	e := newEnv(t, cfg)
	rep, err := e.f.Process(context.Background(), msgs(recAt("track", "a", "u7", t0.Add(24*time.Hour), "event_name", "x")))
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Failed) != 0 || len(rep.DeadLettered) != 1 || rep.Counts[CountAggregated] != 0 || rep.Counts[CountSent] != 0 {
		t.Errorf("got failed %v dead %v counts %v, want dead-lettered, nothing aggregated or sent", rep.Failed, rep.DeadLettered, rep.Counts)
	}
	if !strings.Contains(e.dlq.reasons["m0"], activity.CodeFutureTime) {
		t.Errorf("dead-letter reason %q, want %s", e.dlq.reasons["m0"], activity.CodeFutureTime)
	}
}

// TestLedgerTTLNoLongerThanItsSlackStillForwards: a ledger TTL of exactly
// the slack kept below it (so no event would be young enough) falls back to
// the TTL itself: an hour-old event is forwarded, not dropped as too old.
func TestLedgerTTLNoLongerThanItsSlackStillForwards(t *testing.T) {
	e := enabledLongAgo(t, func(o *Options) { o.LedgerTTL = ledgerSlack })
	rep, err := e.f.Process(context.Background(), msgs(recAt("track", "a", "u1", t0.Add(-time.Hour), "event_name", "x")))
	if err != nil || len(rep.Failed) != 0 {
		t.Fatalf("%v %v", err, rep)
	}
	if rep.Counts[CountSent] != 1 || rep.Counts[CountTooOld] != 0 {
		t.Errorf("counts %v, want the event sent, none too old", rep.Counts)
	}
}

// TestEventAgeLimitIsTheLedgerTTLLessADay: with the default ledger TTL (366
// days) an event is sent while it is younger than 365 days (the TTL less a
// day of slack for clock skew), and refused as too old from 365 days on.
func TestEventAgeLimitIsTheLedgerTTLLessADay(t *testing.T) {
	cfg := testConfig()
	long := t0.Add(-400 * 24 * time.Hour) // enabled before every event here
	cfg.Activity.EnabledAt = &long
	e := newEnv(t, cfg, withClock(&clock{t: t0}))
	e.link("u1", "101")
	limit := t0.Add(-365 * 24 * time.Hour)
	rep, err := e.f.Process(context.Background(), msgs(
		recAt("track", "at-limit", "u1", limit, "event_name", "x"),
		recAt("track", "inside", "u1", limit.Add(time.Millisecond), "event_name", "x")))
	if err != nil || len(rep.Failed) != 0 {
		t.Fatalf("%v %v", err, rep)
	}
	if rep.Counts[CountSent] != 1 || rep.Counts[CountTooOld] != 1 {
		t.Errorf("counts %v, want the event a millisecond inside 365 days sent and the one at 365 days too old", rep.Counts)
	}
}

// TestEventBeforeAnyIdentifyLooksNothingUp: with users matched by email, an
// event of a user pilotsync has no profile for (no identify yet) has nothing
// to match on: no HubSpot lookup is made for it, by its user id or anything.
func TestEventBeforeAnyIdentifyLooksNothingUp(t *testing.T) {
	e := newEnv(t, noGrace(testConfig()))
	rep, err := e.f.Process(context.Background(), msgs(rec("track", "a", "ghost", "event_name", "x")))
	if err != nil {
		t.Fatal(err)
	}
	if e.finder.calls != 0 || rep.Counts[CountSent] != 0 {
		t.Errorf("%d lookups (values %v), counts %v; want no lookup and nothing sent", e.finder.calls, e.finder.values, rep.Counts)
	}
}

// TestFailedIdentifyDoesNotDropTheUsersNextOne: when merging one identify
// of a user fails, that message is retried and the user's later identify in
// the same batch is still merged (not skipped with it).
func TestFailedIdentifyDoesNotDropTheUsersNextOne(t *testing.T) {
	e := newEnv(t, noGrace(testConfig()))
	e.st.failMerges = 1
	rep, err := e.f.Process(context.Background(), msgs(
		rec("identify_user", "a", "u1", "metadata", `{"email":"a@example.com"}`),
		rec("identify_user", "b", "u1", "metadata", `{"plan":"pro"}`)))
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(rep.Failed, ","); got != "m0" {
		t.Errorf("failed %q, want m0 (its merge failed) retried alone", got)
	}
	if p := e.st.profile("production", store.KindUser, "u1"); p == nil || p.Properties["plan"].Value != "pro" {
		t.Errorf("u1 %+v, want the second identify's plan merged", p)
	}
}

// TestProfilesChangedCountsOnlyChanges: an identify that creates a profile
// or changes a value counts one changed profile; one repeating the stored
// values counts none.
func TestProfilesChangedCountsOnlyChanges(t *testing.T) {
	e := newEnv(t, noGrace(testConfig()))
	for i, tt := range []struct {
		body string
		want int64
	}{
		{rec("identify_user", "a", "u1", "metadata", `{"email":"a@example.com"}`), 1}, // created
		{rec("identify_user", "b", "u1", "metadata", `{"email":"a@example.com"}`), 0}, // the same again
		{rec("identify_user", "c", "u1", "metadata", `{"plan":"pro"}`), 1},            // a new value
	} {
		rep, err := e.f.Process(context.Background(), msgs(tt.body))
		if err != nil {
			t.Fatal(err)
		}
		if got := rep.Counts[CountProfilesChanged]; got != tt.want {
			t.Errorf("identify %d: %d profiles changed, want %d", i, got, tt.want)
		}
	}
}

// TestEnabledTimeIsTheFirstBatchWithActivity: without activity.enabled_at,
// the enabled time is recorded by the first batch with activity in it; a
// batch of only invalid messages before it records nothing, so activity
// from between the two is still before the enabled time and not sent.
func TestEnabledTimeIsTheFirstBatchWithActivity(t *testing.T) {
	cfg := testConfig()
	cfg.Activity.EnabledAt = nil
	clk := &clock{t: t0}
	e := newEnv(t, cfg, withClock(clk))
	e.link("u1", "101")
	if _, err := e.f.Process(context.Background(), msgs(`nope`)); err != nil {
		t.Fatal(err)
	}
	clk.t = t0.Add(time.Hour)
	rep, err := e.f.Process(context.Background(), msgs(recAt("track", "a", "u1", t0.Add(30*time.Minute), "event_name", "x")))
	if err != nil {
		t.Fatal(err)
	}
	if rep.Counts[CountBeforeEnabled] != 1 || rep.Counts[CountSent] != 0 {
		t.Errorf("counts %v, want the event before the enabled time (recorded now), not sent", rep.Counts)
	}
}

// TestSendGoesOnPastADuplicateAndAnEventWithoutTarget: an event the ledger
// already holds, or one the sink has no target for, is skipped alone: the
// events after it in the batch are still sent.
func TestSendGoesOnPastADuplicateAndAnEventWithoutTarget(t *testing.T) {
	track := func(id string) string { return rec("track", id, "u1", "event_name", "x") }
	flow := func(id string) string { return rec("interaction", id, "u1", "event_name", "experience:448:COMPLETED") }
	t.Run("ledger duplicate first", func(t *testing.T) {
		e := newEnv(t, testConfig())
		e.link("u1", "101")
		if _, err := e.f.Process(context.Background(), msgs(track("a"))); err != nil {
			t.Fatal(err)
		}
		rep, err := e.f.Process(context.Background(), msgs(track("a"), flow("c")))
		if err != nil {
			t.Fatal(err)
		}
		if rep.Counts[CountDuplicateLedger] != 1 || rep.Counts[CountSent] != 1 || len(e.sink.order) != 2 {
			t.Errorf("counts %v, sent %v; want a skipped as a duplicate and c sent", rep.Counts, e.sink.order)
		}
	})
	t.Run("no target first", func(t *testing.T) {
		e := newEnv(t, testConfig())
		e.link("u1", "101")
		e.sink.noTarget = "userpilot_tracked_event_occurred"
		rep, err := e.f.Process(context.Background(), msgs(track("a"), flow("c")))
		if err != nil {
			t.Fatal(err)
		}
		if rep.Counts[CountNoTarget] != 1 || rep.Counts[CountSent] != 1 || strings.Join(e.sink.order, ",") != "pe1_userpilot_flow_completed/c" {
			t.Errorf("counts %v, sent %v; want a without a target and c sent", rep.Counts, e.sink.order)
		}
	})
}

// TestDeferredNearTheDeadlineCountsEachEventOnce: events left unsent near
// the deadline are counted deferred once each, however many sink batches
// they would have made, and their messages retried.
func TestDeferredNearTheDeadlineCountsEachEventOnce(t *testing.T) {
	e := newEnv(t, testConfig())
	e.link("u1", "101")
	e.sink.max = 1
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second) // inside the 5 s margin
	defer cancel()
	rep, err := e.f.Process(ctx, msgs(rec("track", "a", "u1", "event_name", "x"), rec("track", "b", "u1", "event_name", "x"), rec("track", "c", "u1", "event_name", "x")))
	if err != nil {
		t.Fatal(err)
	}
	if rep.Counts[CountDeferred] != 3 || strings.Join(rep.Failed, ",") != "m0,m1,m2" || e.sink.calls != 0 {
		t.Errorf("counts %v failed %v calls %d, want 3 deferred once each, all retried, nothing sent", rep.Counts, rep.Failed, e.sink.calls)
	}
}

// TestCrashAfterTheLedgerWriteAbortsTheBatch: a crash right after an event
// is recorded in the ledger stops the batch (nothing deleted); the
// redelivery finds the event in the ledger and sends nothing again.
func TestCrashAfterTheLedgerWriteAbortsTheBatch(t *testing.T) {
	e, batch := crashedOnceAt(t, StepRecorded)
	rep, err := e.f.Process(context.Background(), batch)
	if err != nil || rep.Counts[CountDuplicateLedger] != 1 || e.sink.calls != 1 {
		t.Errorf("redelivery: %v counts %v calls %d, want the ledger duplicate and no second send", err, rep.Counts, e.sink.calls)
	}
}

// TestGraceIsOpenAtBothEnds: an unmatched event is waited for while its age
// is strictly inside (-grace, grace): at exactly the grace period, either
// way, it is not.
func TestGraceIsOpenAtBothEnds(t *testing.T) {
	const g = 10 * time.Minute
	for _, tt := range []struct {
		age  time.Duration
		want bool
	}{{0, true}, {g - time.Nanosecond, true}, {g, false}, {-g + time.Nanosecond, true}, {-g, false}} {
		if got := inGrace(tt.age, g); got != tt.want {
			t.Errorf("inGrace(%v, %v) = %v, want %v", tt.age, g, got, tt.want)
		}
	}
}

// TestRememberedMissOutlivesAnIdentifyThatKeepsTheEmail: a user HubSpot did
// not know a moment ago is not looked up again for each event; an identify
// that changes other values (not the email) keeps that memory, one that
// changes the email makes the next event look up the new one.
func TestRememberedMissOutlivesAnIdentifyThatKeepsTheEmail(t *testing.T) {
	e := newEnv(t, noGrace(testConfig()))
	process := func(bodies ...string) *Report {
		t.Helper()
		rep, err := e.f.Process(context.Background(), msgs(bodies...))
		if err != nil {
			t.Fatal(err)
		}
		return rep
	}
	process(rec("identify_user", "i1", "u1", "metadata", `{"email":"a@example.com"}`))
	process(rec("track", "a", "u1", "event_name", "x")) // unmatched: a miss remembered
	calls := e.finder.calls
	process(rec("identify_user", "i2", "u1", "metadata", `{"plan":"pro"}`))
	process(rec("track", "b", "u1", "event_name", "x"))
	if e.finder.calls != calls {
		t.Errorf("%d lookups after an identify that kept the email, want none (%v)", e.finder.calls-calls, e.finder.values)
	}
	e.finder.ids["b@example.com"] = "101"
	process(rec("identify_user", "i3", "u1", "metadata", `{"email":"b@example.com"}`))
	if rep := process(rec("track", "c", "u1", "event_name", "x")); rep.Counts[CountSent] != 1 {
		t.Errorf("after the email changed: counts %v, want the event sent to the new email's contact", rep.Counts)
	}
}

// TestOneSendCallPerSinkBatch: events are sent in calls of the sink's batch
// size, no call more (not even an empty one).
func TestOneSendCallPerSinkBatch(t *testing.T) {
	e := newEnv(t, testConfig())
	e.link("u1", "101")
	e.sink.max = 1
	rep, err := e.f.Process(context.Background(), msgs(rec("track", "a", "u1", "event_name", "x"), rec("track", "b", "u1", "event_name", "x")))
	if err != nil {
		t.Fatal(err)
	}
	if rep.Counts[CountSent] != 2 || e.sink.calls != 2 {
		t.Errorf("counts %v, %d calls; want 2 sent in 2 calls", rep.Counts, e.sink.calls)
	}
}

// crashOnceAt makes the forwarder's first pass through step fail, as if the
// process died there.
// crashedOnceAt delivers one event of a linked user with a forwarder that
// dies at step the first time it gets there, checks the batch was aborted,
// and returns the forwarder and the batch for its redelivery.
func crashedOnceAt(t *testing.T, step string) (*env, []Message) {
	t.Helper()
	e := newEnv(t, testConfig(), crashOnceAt(step))
	e.link("u1", "101")
	batch := msgs(rec("track", "a", "u1", "event_name", "x"))
	if _, err := e.f.Process(context.Background(), batch); !errors.Is(err, ErrAborted) {
		t.Fatalf("crash at %s: got %v, want ErrAborted", step, err)
	}
	return e, batch
}

func crashOnceAt(step string) func(*Options) {
	crash := true
	return func(o *Options) {
		o.StepHook = func(_ context.Context, s string) error {
			if s == step && crash {
				crash = false
				return errors.New("killed")
			}
			return nil
		}
	}
}

// enabledLongAgo is a forwarder enabled a year before t0, on a clock stopped
// at t0 (mods applied after), with u1 linked to contact 101.
func enabledLongAgo(t *testing.T, mods ...func(*Options)) *env {
	t.Helper()
	cfg := testConfig()
	long := t0.Add(-365 * 24 * time.Hour)
	cfg.Activity.EnabledAt = &long
	e := newEnv(t, cfg, append([]func(*Options){withClock(&clock{t: t0})}, mods...)...)
	e.link("u1", "101")
	return e
}
