package inbound

import (
	"context"
	"errors"
	"iter"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pilotsync/pilotsync/shared/hubspot"
	"github.com/pilotsync/pilotsync/shared/store"
)

// lookupFirstStore holds the first save of a run until the second page's
// by-HubSpot-id lookup has read the store (at most a second), so that the
// second page is always prepared from the store as it was before the first
// page's save: the order the page pipeline allows, made certain.
type lookupFirstStore struct {
	*fakeStore
	mu      sync.Mutex
	lookups int
	readyCh chan struct{}
}

func newLookupFirstStore(st *fakeStore) *lookupFirstStore {
	return &lookupFirstStore{fakeStore: st, readyCh: make(chan struct{})}
}

func (s *lookupFirstStore) LookupByHubSpotID(ctx context.Context, env string, kind store.Kind, ids []string) (map[string][]string, error) {
	m, err := s.fakeStore.LookupByHubSpotID(ctx, env, kind, ids)
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.lookups++; s.lookups == 2 {
		close(s.readyCh)
	}
	return m, err
}

func (s *lookupFirstStore) PutProfiles(ctx context.Context, ps []*store.Profile) error {
	select {
	case <-s.readyCh:
	case <-time.After(time.Second):
	}
	return s.fakeStore.PutProfiles(ctx, ps)
}

// scriptedWalk is the fake HubSpot whose walk yields the given pages, as a
// search does when a record is modified again while the walk runs (it is
// found again at its new modification time).
type scriptedWalk struct {
	*fakeHubSpot
	pages []*hubspot.WalkPage
}

func (h *scriptedWalk) WalkModified(context.Context, string, hubspot.WalkCursor, []string) iter.Seq2[*hubspot.WalkPage, error] {
	return func(yield func(*hubspot.WalkPage, error) bool) {
		for _, p := range h.pages {
			if !yield(p, nil) {
				return
			}
		}
	}
}

// linkedProfile is a stored user profile linked to contact id under email,
// with the link keys already written to Userpilot.
func linkedProfile(id, email, contact string) *store.Profile {
	return &store.Profile{Kind: store.KindUser, ID: id, MatchValue: email, HubSpotID: contact, HubSpotObject: "contacts",
		LinkMatch: email, InboundHashes: linkedHashes(usersObject(), contact, nil)}
}

// TestLinksOfThePreviousPageAreFollowed (issue 14 item 4): the next page is
// looked up while the previous one is saved, so it follows what the store
// said before that save plus the links the previous page made: a contact
// merged into another on the next page moves the profile the previous page
// linked to it, a profile the previous page unlinked is not followed, and a
// link found by the next page's own by-id lookup (a contact whose email
// changed) is still followed.
func TestLinksOfThePreviousPageAreFollowed(t *testing.T) {
	e := newEnv(t)
	e.hs.pageSize = 2
	// Page 1: 1001's email changed (ua, linked to it, is unlinked); 1002
	// links ub by email.
	e.st.add(linkedProfile("ua", "a@example.com", "1001"))
	e.hs.put("contacts", "1001", now0.Add(-time.Hour), map[string]string{"email": "z1@example.com"})
	e.st.add(&store.Profile{Kind: store.KindUser, ID: "ub", MatchValue: "b@example.com"})
	e.hs.put("contacts", "1002", now0.Add(-time.Hour), map[string]string{"email": "b@example.com"})
	// Page 2: 1002 was merged into 1003; 1004's email changed (ud, linked
	// to it, is unlinked).
	e.hs.put("contacts", "1003", now0.Add(-time.Hour), map[string]string{"email": "c@example.com", "hs_merged_object_ids": "1002"})
	e.st.add(linkedProfile("ud", "d@example.com", "1004"))
	e.hs.put("contacts", "1004", now0.Add(-time.Hour), map[string]string{"email": "z4@example.com"})
	e.in.store = newLookupFirstStore(e.st)

	rep := e.run(t, ModeFull)
	if !rep.Complete || rep.Totals.Pages != 2 {
		t.Fatalf("report %s %q %+v, want two pages complete", rep.Status, rep.Error, rep.Totals)
	}
	for id, want := range map[string]string{"ua": "", "ub": "1003", "ud": ""} {
		if got := e.st.get(store.KindUser, id).HubSpotID; got != want {
			t.Errorf("%s linked to %q, want %q", id, got, want)
		}
	}
	if want := (Counts{Read: 4, Linked: 1, Relinked: 1, Unlinked: 2, Unmatched: 2, Written: 4, Pages: 2}); rep.Totals != want {
		t.Errorf("totals\n got %+v\nwant %+v", rep.Totals, want)
	}
	if w := e.up.written()["ub"]; len(w) != 2 || w[1][KeyUserID] != "1003" {
		t.Errorf("ub writes %v, want linked to 1002, then to 1003", w)
	}
}

// TestLinkMadeOnThePreviousPageIsFollowedByID (issue 14 item 4): a contact
// linked on one page whose email changes while the walk runs is found again
// on a later page of the same walk; the profile linked to it one page
// earlier is found through that link and unlinked.
func TestLinkMadeOnThePreviousPageIsFollowedByID(t *testing.T) {
	e := newEnv(t)
	e.run(t, ModeFull) // nothing yet: the next run walks
	e.st.add(&store.Profile{Kind: store.KindUser, ID: "u1", MatchValue: "a@example.com"})
	t1, t2 := now0.Add(time.Minute), now0.Add(2*time.Minute)
	e.in.hs = &scriptedWalk{fakeHubSpot: e.hs, pages: []*hubspot.WalkPage{
		{Records: []hubspot.Record{{ID: "1001", UpdatedAt: t1, Properties: map[string]string{"email": "a@example.com", "firstname": "Ann"}}},
			Next: hubspot.WalkCursor{Since: t1, AfterID: "1001"}},
		{Records: []hubspot.Record{{ID: "1001", UpdatedAt: t2, Properties: map[string]string{"email": "z@example.com", "firstname": "Ann"}}},
			Next: hubspot.WalkCursor{Since: t2, AfterID: "1001"}},
	}}
	e.in.store = newLookupFirstStore(e.st)
	e.clock.advance(10 * time.Minute)
	rep := e.run(t, ModeIncremental)
	if !rep.Complete || rep.Totals.Linked != 1 || rep.Totals.Unlinked != 1 || rep.Totals.Pages != 2 {
		t.Fatalf("report %s %q %+v, want u1 linked on page 1 and unlinked on page 2", rep.Status, rep.Error, rep.Totals)
	}
	if p := e.st.get(store.KindUser, "u1"); p.HubSpotID != "" {
		t.Errorf("u1 linked to %q, want unlinked: its contact's email changed", p.HubSpotID)
	}
	w := e.up.written()["u1"]
	if len(w) != 2 || w[0][KeyUserID] != "1001" || w[1][KeyUserID] != nil {
		t.Errorf("u1 writes %v, want the link written, then removed", w)
	}
	if _, ok := w[len(w)-1][KeyUserID]; !ok {
		t.Errorf("u1 writes %v, want the link key removed last", w)
	}
}

// TestPageOfArchivedRecordsAfterLinks: a page holding only archived records
// (nothing to look up) after a page that made links is read through.
func TestPageOfArchivedRecordsAfterLinks(t *testing.T) {
	e := newEnv(t)
	e.hs.pageSize = 2
	for _, id := range []string{"1001", "1002", "1003", "1004"} {
		e.contact(id, now0.Add(-time.Hour))
	}
	e.hs.mu.Lock()
	e.hs.recs["contacts"]["1003"].Archived = true
	e.hs.recs["contacts"]["1004"].Archived = true
	e.hs.mu.Unlock()
	rep := e.run(t, ModeFull)
	if !rep.Complete || rep.Totals.Pages != 2 || rep.Totals.Written != 2 || rep.Totals.Read != 2 {
		t.Errorf("report %s %q %+v, want both pages, the two live contacts written", rep.Status, rep.Error, rep.Totals)
	}
}

// TestStoreReadFailuresFailThePage: when a page's lookups or profile read
// fail, the object type fails with that error, nothing of the page is
// written and the checkpoint stays.
func TestStoreReadFailuresFailThePage(t *testing.T) {
	for _, tt := range []struct{ op, want string }{
		{"LookupByHubSpotID", "look up 3 hubspot ids"},
		{"LookupByMatch", "look up 3 match values"},
		{"GetProfiles", "read 2 profiles"},
	} {
		t.Run(tt.op, func(t *testing.T) {
			e := newEnv(t)
			e.seed(3)
			down := errors.New("dynamodb: 500")
			e.st.Fail(func(op string) error {
				if op == tt.op {
					return down
				}
				return nil
			})
			rep := e.run(t, ModeFull)
			o := rep.Objects[0]
			if rep.Status != StatusFailed || !errors.Is(o.Err, down) || !strings.Contains(o.Error, tt.want) {
				t.Errorf("report %s %q, want failed: %s", rep.Status, o.Error, tt.want)
			}
			if len(e.up.written()) != 0 || o.Pages != 0 {
				t.Errorf("written %v, %d pages; want nothing", e.up.written(), o.Pages)
			}
		})
	}
}

// TestCursorReadFailure: an object type whose checkpoint cannot be read
// fails without reading HubSpot, and reports no checkpoint position; the
// next object type still runs.
func TestCursorReadFailure(t *testing.T) {
	e := newEnv(t, usersObject(), companiesObject())
	e.seed(2)
	e.company("501", now0.Add(-time.Hour))
	down := errors.New("dynamodb: 500")
	e.st.Fail(func(op string) error {
		if op == "GetCursor" {
			return down
		}
		return nil
	})
	rep := e.run(t, ModeFull)
	for _, o := range rep.Objects {
		if !errors.Is(o.Err, down) || !strings.Contains(o.Error, "read cursor") {
			t.Errorf("%s error %q, want the cursor read's", o.Object, o.Error)
		}
		if !o.CursorAt.IsZero() || o.CursorLagSeconds != 0 || o.Read != 0 {
			t.Errorf("%s cursor at %v lag %v read %d, want no position and nothing read", o.Object, o.CursorAt, o.CursorLagSeconds, o.Read)
		}
	}
	if len(rep.Objects) != 2 || e.hs.lists != 0 {
		t.Errorf("%d object types reported, %d lists; want both tried, HubSpot not read", len(rep.Objects), e.hs.lists)
	}
}

// TestCursorStandingNowhere: a checkpoint that holds no position yet (an
// empty one) is reported as no position, not as one at the Unix epoch.
func TestCursorStandingNowhere(t *testing.T) {
	e := newEnv(t)
	if err := e.st.PutCursor(context.Background(), "production", cursorName(usersObject()), "{}"); err != nil {
		t.Fatal(err)
	}
	rep := e.run(t, ModeIncremental)
	if o := rep.Objects[0]; rep.Status != StatusComplete || o.Mode != ModeIncremental || !o.CursorAt.IsZero() || o.CursorLagSeconds != 0 {
		t.Errorf("report %s, users %s at %v lag %v; want complete with no position", rep.Status, o.Mode, o.CursorAt, o.CursorLagSeconds)
	}
}

// TestUnreadableCursorRunsAFullSync: a checkpoint that does not decode is
// logged and replaced by a full sync, not a failure.
func TestUnreadableCursorRunsAFullSync(t *testing.T) {
	e := newEnv(t)
	logs := e.logTo()
	e.seed(2)
	if err := e.st.PutCursor(context.Background(), "production", cursorName(usersObject()), "{not json"); err != nil {
		t.Fatal(err)
	}
	rep := e.run(t, ModeIncremental)
	if o := rep.Objects[0]; rep.Status != StatusComplete || o.Mode != ModeFull || o.Written != 1 {
		t.Errorf("report %s, users %s written %d; want a complete full sync", rep.Status, o.Mode, o.Written)
	}
	if w := logs.Containing("unreadable cursor"); len(w) != 1 || w[0].Level != slog.LevelWarn || w[0].Attrs["object"] != "users" {
		t.Errorf("log %+v, want one warning naming users", w)
	}
	c, err := decodeCursor(e.st.cursors[cursorName(usersObject())])
	if err != nil || c.Full != nil || c.SinceMS != now0.Add(-2*time.Minute).UnixMilli() {
		t.Errorf("cursor %+v (%v), want the incremental position after the full sync", c, err)
	}
}

// TestRecordWithoutModifiedTime: values of a record HubSpot gives no
// modification time are stored as known at the run's time.
func TestRecordWithoutModifiedTime(t *testing.T) {
	e := newEnv(t)
	e.contact("1001", now0.Add(-time.Hour))
	e.hs.mu.Lock()
	e.hs.recs["contacts"]["1001"].UpdatedAt = time.Time{}
	e.hs.mu.Unlock()
	e.contact("1002", now0.Add(-time.Hour))
	e.clock.advance(time.Minute)
	if rep := e.run(t, ModeFull); !rep.Complete {
		t.Fatalf("report %+v", rep)
	}
	if at := e.st.get(store.KindUser, "u1001").Properties["first_name"].At; !at.Equal(now0.Add(time.Minute)) {
		t.Errorf("u1001 first_name known at %v, want the run's time %v", at, now0.Add(time.Minute))
	}
	if at := e.st.get(store.KindUser, "u1002").Properties["first_name"].At; !at.Equal(now0.Add(-time.Hour)) {
		t.Errorf("u1002 first_name known at %v, want the record's time %v", at, now0.Add(-time.Hour))
	}
}

// TestRepeatedAdditionalEmailLinksOnce: a contact listing one additional
// email twice (in two spellings) links its profile once.
func TestRepeatedAdditionalEmailLinksOnce(t *testing.T) {
	e := newEnv(t)
	e.hs.put("contacts", "1001", now0.Add(-time.Hour), map[string]string{"email": "new@example.com", "hs_additional_emails": "old@example.com;OLD@Example.com"})
	e.st.add(&store.Profile{Kind: store.KindUser, ID: "u1", MatchValue: "old@example.com"})
	rep := e.run(t, ModeFull)
	if rep.Totals.Linked != 1 || rep.Totals.Written != 1 || len(e.up.written()["u1"]) != 1 {
		t.Errorf("totals %+v, writes %v; want u1 linked and written once", rep.Totals, e.up.written())
	}
}

// TestMergeMovesEveryProfileOfTheMergedRecord: every profile linked to a
// contact merged into another moves to the surviving contact, also when
// no email names them.
func TestMergeMovesEveryProfileOfTheMergedRecord(t *testing.T) {
	e := newEnv(t)
	e.st.add(linkedProfile("x1", "x1@example.com", "1001"), linkedProfile("x2", "x2@example.com", "1001"))
	e.hs.put("contacts", "1005", now0.Add(-time.Hour), map[string]string{"email": "y@example.com", "hs_merged_object_ids": "1001"})
	rep := e.run(t, ModeFull)
	if !rep.Complete || rep.Totals.Relinked != 2 {
		t.Fatalf("report %s %+v, want both profiles relinked", rep.Status, rep.Totals)
	}
	for _, id := range []string{"x1", "x2"} {
		if p := e.st.get(store.KindUser, id); p.HubSpotID != "1005" {
			t.Errorf("%s linked to %q, want 1005 (1001 was merged into it)", id, p.HubSpotID)
		}
	}
}
