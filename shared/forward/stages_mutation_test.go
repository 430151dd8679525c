package forward

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/pilotsync/pilotsync/shared/activity"
	"github.com/pilotsync/pilotsync/shared/identity"
	"github.com/pilotsync/pilotsync/shared/store"
)

// TestLongDeadLetterReasonIsCut: a message with many invalid records is
// dead-lettered with a reason of at most maxReasonLen characters of
// problems, then "and N more" once, N being exactly the problems left out.
func TestLongDeadLetterReasonIsCut(t *testing.T) {
	e := newEnv(t, testConfig())
	recs := make([]string, 60)
	for i := range recs {
		recs[i] = `{"event_type":"track","internal_event_id":"bad` + strconv.Itoa(i) + `"}`
	}
	body := "[" + strings.Join(recs, ",") + "]"
	_, problems := activity.ParseAt("m0", []byte(body), t0)
	rep, err := e.f.Process(t.Context(), msgs(body))
	if err != nil {
		t.Fatal(err)
	}
	r := e.dlq.reasons["m0"]
	if rep.Counts[CountInvalidEvents] != 60 || rep.Counts[CountInvalidMessages] != 1 {
		t.Errorf("counts %v, want 60 invalid events (records 0 to 59) in 1 invalid message", rep.Counts)
	}
	if strings.Join(rep.DeadLettered, ",") != "m0" || r == "" {
		t.Fatalf("dead-lettered %v, reason %q", rep.DeadLettered, r)
	}
	i := strings.LastIndex(r, "and ")
	if i < 0 || !strings.HasSuffix(r, " more") || strings.Count(r, " more") != 1 {
		t.Fatalf("reason %q, want it to end with one \"and N more\"", r)
	}
	shown := strings.Split(strings.TrimSuffix(r[:i], "; "), "; ")
	left, err := strconv.Atoi(strings.TrimSuffix(r[i+len("and "):], " more"))
	if err != nil || len(shown)+left != len(problems) || i > maxReasonLen+len("; ") {
		t.Errorf("reason shows %d problems in %d characters and %d more, want %d in all within %d characters: %q",
			len(shown), i, left, len(problems), maxReasonLen, r)
	}
}

// failingEnabledAt is a store whose enable time cannot be read; with
// cancel set, the read also ends the invocation's context (a Lambda
// timeout during the read).
type failingEnabledAt struct {
	*memStore
	cancel context.CancelFunc
}

func (s failingEnabledAt) EnabledAt(context.Context, string, time.Time) (time.Time, error) {
	if s.cancel != nil {
		s.cancel()
	}
	return time.Time{}, errors.New("fake: throttled")
}

// TestEnabledTimeUnreadableRetriesTheEvents: with no enabled_at in the
// config and the store's enable time unreadable, no event can be judged "not
// past": every message holding events is retried (none sent, none dropped),
// while an invalid message is still dead-lettered. When the invocation's
// context ended during the read, Process reports the batch cut short.
func TestEnabledTimeUnreadableRetriesTheEvents(t *testing.T) {
	cfg := testConfig()
	cfg.Activity.EnabledAt = nil
	e := newEnv(t, cfg, func(o *Options) { o.Store = failingEnabledAt{memStore: o.Store.(*memStore)} })
	e.link("u1", "101")
	rep, err := e.f.Process(t.Context(), msgs(rec("track", "a", "u1", "event_name", "x"), `nope`, rec("session_start", "s", "u1")))
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(rep.Failed, ",") != "m0,m2" || strings.Join(rep.DeadLettered, ",") != "m1" || len(e.sink.got) != 0 || rep.Counts[CountBeforeEnabled] != 0 {
		t.Errorf("failed %v dead-lettered %v sent %d counts %v; want m0,m2 retried, m1 dead-lettered, nothing sent or dropped",
			rep.Failed, rep.DeadLettered, len(e.sink.got), rep.Counts)
	}

	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	e = newEnv(t, cfg, func(o *Options) { o.Store = failingEnabledAt{memStore: o.Store.(*memStore), cancel: cancel} })
	if rep, err := e.f.Process(ctx, msgs(rec("track", "a", "u1", "event_name", "x"))); err == nil || !errors.Is(err, context.Canceled) {
		t.Errorf("got %+v, %v; want the batch cut short by the ended context", rep, err)
	}
}

// forgetfulLinker answers for every user but one: the Linker contract
// says a user absent from the answer is not in HubSpot.
type forgetfulLinker struct {
	Linker
	omit string
}

func (l forgetfulLinker) Resolve(ctx context.Context, kind store.Kind, ps []*store.Profile) (map[string]identity.Resolution, error) {
	res, err := l.Linker.Resolve(ctx, kind, ps)
	delete(res, l.omit)
	return res, err
}

// TestUserLeftOutByTheLinkerIsUnmatched: a user the linker's answer leaves
// out is unmatched (its event dropped after the grace period), and the
// users after it in the same lookup still get their events.
func TestUserLeftOutByTheLinkerIsUnmatched(t *testing.T) {
	cfg := noGrace(testConfig())
	cfg.Mapping.Users.Match.Userpilot = "user_id"
	e := newEnv(t, cfg)
	e.f.linker = forgetfulLinker{Linker: e.f.linker, omit: "u1"}
	e.finder.ids["u1"], e.finder.ids["u2"], e.finder.ids["u3"] = "101", "202", "303"
	rep, err := e.f.Process(t.Context(), msgs(rec("track", "a", "u1", "event_name", "x"), rec("track", "b", "u2", "event_name", "x"),
		rec("track", "c", "u3", "event_name", "x")))
	if err != nil {
		t.Fatal(err)
	}
	if rep.Counts[CountUnmatched] != 1 || rep.Counts[CountResolvedHubSpot] != 2 || len(rep.Failed) != 0 {
		t.Errorf("counts %v failed %v, want u1 unmatched and u2, u3 resolved", rep.Counts, rep.Failed)
	}
	for k, obj := range map[string]string{"pe1_userpilot_tracked_event_occurred/b": "202", "pe1_userpilot_tracked_event_occurred/c": "303"} {
		if it, ok := e.sink.got[k]; !ok || it.ObjectID != obj {
			t.Errorf("%s: got %+v, want sent to %s", k, it, obj)
		}
	}
	if len(e.sink.got) != 2 {
		t.Errorf("sent %v, want b and c only", e.sink.order)
	}
}

// TestDeadLetterReasonOfExactlyTheLimitIsWhole: a reason of exactly
// maxReasonLen characters is kept whole; one character more and the problem
// is left out ("and 1 more").
func TestDeadLetterReasonOfExactlyTheLimitIsWhole(t *testing.T) {
	body := []byte(`{"event_type":`)
	reason := func(id string) string {
		_, ps := activity.ParseAt(id, body, t0)
		return ps[0].Code + ": " + strings.TrimPrefix(ps[0].Error(), "activity: ")
	}
	id := strings.Repeat("m", 1+maxReasonLen-len(reason("m")))
	for _, c := range []struct {
		id, want string
	}{{id, reason(id)}, {id + "m", "and 1 more"}} {
		e := newEnv(t, testConfig())
		if _, err := e.f.Process(t.Context(), []Message{{ID: c.id, Body: body}}); err != nil {
			t.Fatal(err)
		}
		if got := e.dlq.reasons[c.id]; got != c.want {
			t.Errorf("message id of %d characters: reason %q (%d), want %q", len(c.id), got, len(got), c.want)
		}
	}
}
