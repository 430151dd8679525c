package main

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/pilotsync/pilotsync/shared/forward"
	"github.com/pilotsync/pilotsync/shared/handler"
	"github.com/pilotsync/pilotsync/shared/hubspot/hubspottest"
	"github.com/pilotsync/pilotsync/shared/store"
)

// linkWorld adds a warm activity handler (one forwarder for the whole test,
// as one Lambda process keeps it) to the poll stack: both real handlers over
// one DynamoDB Local table and the two sandboxes.
type linkWorld struct {
	*stack
	act  *handler.Activity
	seq  int
	last map[string]int64 // the counts of the last activity batch
}

func newLinkWorld(t *testing.T) *linkWorld {
	t.Helper()
	s := newStack(t, 0)
	// Events are stamped with the wall clock (the forwarder's clock).
	at := time.Now().Add(-time.Hour)
	s.cfg.Activity.EnabledAt = &at
	s.h = s.handler(s.st)
	w := &linkWorld{stack: s}
	fw, err := forward.NewFromDeps(forward.Deps{Config: s.cfg, Store: s.st, HubSpot: s.hsc, Userpilot: s.upc, Logger: discard})
	if err != nil {
		t.Fatal(err)
	}
	w.act = handler.NewActivity(&countingEngine{fw: fw, w: w}, discard)
	return w
}

type countingEngine struct {
	fw *forward.Forwarder
	w  *linkWorld
}

func (c *countingEngine) Process(ctx context.Context, msgs []forward.Message) (*forward.Report, error) {
	rep, err := c.fw.Process(ctx, msgs)
	if rep != nil {
		c.w.last = rep.Counts
	}
	return rep, err
}

// send invokes the activity handler with one message per body and returns
// the ids of the messages to be retried.
func (w *linkWorld) send(bodies ...string) []string {
	w.t.Helper()
	var ev events.SQSEvent
	for _, b := range bodies {
		w.seq++
		ev.Records = append(ev.Records, events.SQSMessage{MessageId: fmt.Sprint("m", w.seq), Body: b})
	}
	resp, err := w.act.Handle(w.t.Context(), ev)
	if err != nil {
		w.t.Fatal(err)
	}
	var failed []string
	for _, f := range resp.BatchItemFailures {
		failed = append(failed, f.ItemIdentifier)
	}
	return failed
}

func identify(user, email string) string {
	return fmt.Sprintf(`{"app_token":"NX-1","event_type":"identify_user","user_id":%q,"inserted_at":%q,"internal_event_id":"i-%s-%d","metadata":{"email":%q}}`,
		user, time.Now().UTC().Format(time.RFC3339Nano), user, time.Now().UnixNano(), email)
}

func track(user, id string) string {
	return fmt.Sprintf(`{"app_token":"NX-1","event_type":"track","event_name":"clicked","user_id":%q,"inserted_at":%q,"internal_event_id":%q}`,
		user, time.Now().UTC().Format(time.RFC3339Nano), id)
}

func (w *linkWorld) wantEventOn(id, record string) {
	w.t.Helper()
	var got []string
	for _, e := range w.hs.Events() {
		if e.Properties["userpilot_event_id"] == id {
			got = append(got, e.ObjectID)
		}
	}
	if len(got) != 1 || got[0] != record {
		w.t.Errorf("event %s on records %q, want exactly %q", id, got, record)
	}
}

func (w *linkWorld) link(user string) string {
	w.t.Helper()
	p, err := w.st.GetProfile(w.t.Context(), "production", store.KindUser, user)
	if err != nil {
		w.t.Fatal(err)
	}
	return p.HubSpotID
}

func (w *linkWorld) userpilot(user string) map[string]any {
	w.t.Helper()
	u, ok := w.up.User(user)
	if !ok {
		w.t.Fatalf("user %s not in Userpilot", user)
	}
	return u.Metadata
}

func (w *linkWorld) contacts(emails ...string) []string {
	w.t.Helper()
	var recs []hubspottest.SeedRecord
	for i, e := range emails {
		recs = append(recs, hubspottest.SeedRecord{Properties: map[string]string{"email": e, "firstname": fmt.Sprint("First", i)},
			ModifiedAt: w.clk.Now().Add(-time.Hour)})
	}
	return w.hs.AddRecords("contacts", recs)
}

// TestEmailSwapWarmForwarder: A and B swap emails in HubSpot; the poll
// re-links both users, and the warm forwarder that linked them first sends
// every later event to the new record at once.
func TestEmailSwapWarmForwarder(t *testing.T) {
	w := newLinkWorld(t)
	ids := w.contacts("a@x.com", "b@x.com")
	a, b := ids[0], ids[1]
	if f := w.send(identify("ua", "a@x.com"), identify("ub", "b@x.com"), track("ua", "e1"), track("ub", "e2")); len(f) != 0 {
		t.Fatalf("failed %v", f)
	}
	w.wantEventOn("e1", a)
	w.wantEventOn("e2", b)
	w.poll()
	w.clk.Advance(time.Minute)
	w.hs.Update("contacts", a, map[string]string{"email": "tmp@x.com"})
	w.hs.Update("contacts", b, map[string]string{"email": "a@x.com"})
	w.hs.Update("contacts", a, map[string]string{"email": "b@x.com"})
	w.clk.Advance(time.Minute)
	w.poll()
	if w.link("ua") != b || w.link("ub") != a {
		t.Fatalf("links ua=%s ub=%s, want ua=%s ub=%s", w.link("ua"), w.link("ub"), b, a)
	}
	if f := w.send(track("ua", "e3"), track("ub", "e4")); len(f) != 0 {
		t.Fatalf("failed %v", f)
	}
	w.wantEventOn("e3", b)
	w.wantEventOn("e4", a)
	if got := w.userpilot("ua")["__hubspot__user_id"]; got != b {
		t.Errorf("Userpilot ua __hubspot__user_id = %v, want %s", got, b)
	}
	if got := w.userpilot("ub")["__hubspot__user_id"]; got != a {
		t.Errorf("Userpilot ub __hubspot__user_id = %v, want %s", got, a)
	}
}

// TestUserpilotEmailChangeWarmForwarder: an identify gives a linked user the
// email of another contact; its next event goes to that contact at once,
// with no poll in between.
func TestUserpilotEmailChangeWarmForwarder(t *testing.T) {
	w := newLinkWorld(t)
	ids := w.contacts("a@x.com", "c@x.com")
	w.send(identify("u1", "a@x.com"), track("u1", "e1"))
	w.wantEventOn("e1", ids[0])
	if f := w.send(identify("u1", "c@x.com")); len(f) != 0 {
		t.Fatalf("failed %v", f)
	}
	if f := w.send(track("u1", "e2")); len(f) != 0 {
		t.Fatalf("failed %v", f)
	}
	w.wantEventOn("e2", ids[1])
	if w.link("u1") != ids[1] || w.last[forward.CountRelinked] != 1 {
		t.Errorf("link %s counts %v, want %s and relinked 1", w.link("u1"), w.last, ids[1])
	}
	// Userpilot follows the new link at once: its id and the new record's
	// values (the poll never sees this change: no contact changed).
	md := w.userpilot("u1")
	if md["__hubspot__user_id"] != ids[1] || md["first_name"] != "First1" {
		t.Errorf("Userpilot u1 = %v, want linked to %s with first_name First1", md, ids[1])
	}
}

// TestArchivedContactWarmForwarder: the linked contact is archived; the
// refused event unlinks the user (unlinked_deleted, not unmatched) and no
// later event is spent on the dead id.
func TestArchivedContactWarmForwarder(t *testing.T) {
	w := newLinkWorld(t)
	ids := w.contacts("a@x.com")
	w.send(identify("u1", "a@x.com"), track("u1", "e1"))
	w.wantEventOn("e1", ids[0])
	w.hs.Archive("contacts", ids[0])
	if f := w.send(track("u1", "e2")); len(f) != 0 {
		t.Fatalf("failed %v", f)
	}
	if w.last[forward.CountUnlinkedDeleted] != 1 || w.last[forward.CountUnmatched] != 0 {
		t.Errorf("counts %v, want unlinked_deleted 1 and no unmatched", w.last)
	}
	if got := w.link("u1"); got != "" {
		t.Errorf("u1 still linked to %s", got)
	}
	for k, v := range w.userpilot("u1") {
		if (k == "__hubspot__user_id" || k == "first_name") && v != nil {
			t.Errorf("Userpilot u1 %s = %v after the record was archived, want removed", k, v)
		}
	}
	w.hs.ResetRequests()
	w.send(track("u1", "e3"))
	if n := w.hs.Count(hubspottest.EndpointEventsSend); n != 0 {
		t.Errorf("%d event sends after the unlink, want none", n)
	}
	if n := len(w.hs.Events()); n != 1 {
		t.Errorf("%d events in HubSpot, want only e1", n)
	}
}

// TestMergedContactWarmForwarder: A is merged into B (a new record id); the
// poll moves the user to the survivor and events follow it.
func TestMergedContactWarmForwarder(t *testing.T) {
	w := newLinkWorld(t)
	ids := w.contacts("a@x.com", "b@x.com")
	w.send(identify("ua", "a@x.com"), identify("ub", "b@x.com"), track("ua", "e1"))
	w.poll()
	w.clk.Advance(time.Minute)
	merged := w.hs.Merge("contacts", ids[1], ids[0])
	w.clk.Advance(time.Minute)
	w.poll()
	if w.link("ua") != merged || w.link("ub") != merged {
		t.Fatalf("links ua=%s ub=%s, want both on %s", w.link("ua"), w.link("ub"), merged)
	}
	if f := w.send(track("ua", "e2"), track("ub", "e3")); len(f) != 0 {
		t.Fatalf("failed %v", f)
	}
	w.wantEventOn("e2", merged)
	w.wantEventOn("e3", merged)
	if got := w.userpilot("ua")["__hubspot__user_id"]; got != merged {
		t.Errorf("Userpilot ua __hubspot__user_id = %v, want %s", got, merged)
	}
}

// TestEventBeforeIdentify: with the default grace an event that arrives
// before its user's identify waits, and is sent once the identify is in.
func TestEventBeforeIdentify(t *testing.T) {
	w := newLinkWorld(t)
	ids := w.contacts("n@x.com")
	failed := w.send(track("un", "e1"))
	if len(failed) != 1 || w.last[forward.CountUnmatchedWaiting] != 1 {
		t.Fatalf("failed %v counts %v, want the message retried as waiting", failed, w.last)
	}
	w.send(identify("un", "n@x.com"))
	if f := w.send(track("un", "e1")); len(f) != 0 { // the redelivery
		t.Fatalf("failed %v", f)
	}
	w.wantEventOn("e1", ids[0])
}

// TestUnlinkClearsInboundValues: the contact's email changes to one no user
// has; the poll unlinks the user and removes, in Userpilot, the ids and the
// values copied from the contact; later events are not sent to it.
func TestUnlinkClearsInboundValues(t *testing.T) {
	w := newLinkWorld(t)
	ids := w.contacts("a@x.com")
	w.send(identify("u1", "a@x.com"))
	w.poll()
	if got := w.userpilot("u1")["first_name"]; got != "First0" {
		t.Fatalf("first_name = %v, want First0 before the unlink", got)
	}
	w.clk.Advance(time.Minute)
	w.hs.Update("contacts", ids[0], map[string]string{"email": "z@x.com"})
	w.clk.Advance(time.Minute)
	c := w.poll()
	if c["users"].Unlinked != 1 {
		t.Fatalf("counts %+v, want one unlinked", c)
	}
	md := w.userpilot("u1")
	for _, k := range []string{"first_name", "__hubspot__user_id", "__hubspot__object_type"} {
		if v, ok := md[k]; ok && v != nil {
			t.Errorf("Userpilot u1 %s = %v after the unlink, want removed", k, v)
		}
	}
	w.send(track("u1", "e1"))
	if n := len(w.hs.Events()); n != 0 {
		t.Errorf("%d events sent after the unlink, want none", n)
	}
}
