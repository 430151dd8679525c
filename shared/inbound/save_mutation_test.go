package inbound

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pilotsync/pilotsync/shared/store"
)

// deletingStore is the test store with profile deletion, which the store
// itself does not offer (an operator deleting an item in the table, say):
// a profile named in deleteOnSave is deleted just before the first save that
// includes it, so that save finds it gone (a conditional put on a version
// fails, as DynamoDB's does) and a re-read does not find it. A profile put
// again as new (version 0) is stored anew.
type deletingStore struct {
	*fakeStore
	mu           sync.Mutex
	deleteOnSave map[string]bool
	gone         map[string]*store.Profile // deleted id -> nil, or the profile stored anew
}

func newDeletingStore(st *fakeStore, ids ...string) *deletingStore {
	s := &deletingStore{fakeStore: st, deleteOnSave: map[string]bool{}, gone: map[string]*store.Profile{}}
	for _, id := range ids {
		s.deleteOnSave[id] = true
	}
	return s
}

func (s *deletingStore) GetProfiles(ctx context.Context, env string, kind store.Kind, ids []string) (map[string]*store.Profile, error) {
	ps, err := s.fakeStore.GetProfiles(ctx, env, kind, ids)
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for id, again := range s.gone {
		delete(ps, id)
		if again != nil {
			ps[id] = store.CloneProfile(again)
		}
	}
	return ps, nil
}

func (s *deletingStore) PutProfiles(ctx context.Context, ps []*store.Profile) error {
	s.mu.Lock()
	var rest []*store.Profile
	var failed []store.ProfileError
	for _, p := range ps {
		if s.deleteOnSave[p.ID] {
			delete(s.deleteOnSave, p.ID)
			s.gone[p.ID] = nil
		}
		again, deleted := s.gone[p.ID]
		switch {
		case !deleted:
			rest = append(rest, p)
		case (again == nil && p.Version == 0) || (again != nil && again.Version == p.Version):
			p.Version++
			s.gone[p.ID] = store.CloneProfile(p)
		default:
			failed = append(failed, store.ProfileError{Env: p.Env, Kind: p.Kind, ID: p.ID, Err: store.ErrConflict})
		}
	}
	s.mu.Unlock()
	if len(rest) > 0 {
		err := s.fakeStore.PutProfiles(ctx, rest)
		var be *store.BatchError
		if err != nil && !errors.As(err, &be) {
			return err
		}
		if be != nil {
			failed = append(failed, be.Failed...)
		}
	}
	if len(failed) > 0 {
		return &store.BatchError{Failed: failed}
	}
	return nil
}

// profile returns the stored profile id, as the deleting store holds it.
func (s *deletingStore) profile(id string) *store.Profile {
	ps, err := s.GetProfiles(context.Background(), "production", store.KindUser, []string{id})
	if err != nil {
		return nil
	}
	return ps[id]
}

// identifyOnSave makes an identify event update profile id (setting plan)
// just before each of the first n saves that include it: those saves
// conflict, as when the activity function writes meanwhile.
func identifyOnSave(t *testing.T, st *fakeStore, kind store.Kind, id string, n int) *int {
	t.Helper()
	saves := 0
	st.putProfiles = func(ps []*store.Profile) error {
		for _, p := range ps {
			if p.ID != id || saves >= n {
				continue
			}
			saves++
			if _, err := st.MergeIdentify(context.Background(), "production", kind, id,
				store.IdentifyInput{Properties: map[string]any{"plan": fmt.Sprint("pro-", saves)}, At: now0.Add(time.Duration(saves) * time.Second)}); err != nil {
				return err
			}
		}
		return nil
	}
	return &saves
}

// TestConflictingProfileDeletedMeanwhile: a profile deleted between a
// page's lookup and its save is stored anew with its link and what was
// written, alongside another profile of the page whose save conflicted with
// an identify event; neither is written to Userpilot again by the next run.
func TestConflictingProfileDeletedMeanwhile(t *testing.T) {
	e := newEnv(t)
	e.seed(4) // page 1: u0 (1001) and u2 (1003)
	ds := newDeletingStore(e.st, "u0")
	e.in.store = ds
	identifyOnSave(t, e.st, store.KindUser, "u2", 1)
	rep := e.run(t, ModeFull)
	if rep.Status != StatusComplete || rep.Totals.Written != 2 {
		t.Fatalf("report %s %q %+v, want complete with both users written", rep.Status, rep.Error, rep.Totals)
	}
	u0 := ds.profile("u0")
	if u0 == nil || u0.HubSpotID != "1001" || u0.InboundHashes["first_name"] != ValueHash("F1001") {
		t.Errorf("u0 after its deletion %+v, want stored anew, linked to 1001 with first_name's hash", u0)
	}
	u2 := ds.profile("u2")
	if u2.HubSpotID != "1003" || u2.Properties["plan"].Value != "pro-1" || u2.InboundHashes["first_name"] != ValueHash("F1003") {
		t.Errorf("u2 after its conflict %+v, want linked to 1003, the identify's plan kept, first_name's hash", u2)
	}
	// What the profile knows of its Userpilot values includes the write.
	if u0.Properties["first_name"].Value != "F1001" || u2.Properties["first_name"].Value != "F1003" {
		t.Errorf("known first names %v / %v, want the values written", u0.Properties["first_name"], u2.Properties["first_name"])
	}
	e.up.reset()
	e.clock.advance(5 * time.Minute)
	if rep := e.run(t, ModeFull); rep.Status != StatusComplete || len(e.up.written()) != 0 {
		t.Errorf("sync now after: %s, wrote %v; want nothing new written", rep.Status, e.up.written())
	}
}

// TestConflictWhileUnlinking: a profile unlinked from a contact whose email
// changed, and updated by an identify event meanwhile, ends unlinked with
// the event's values kept.
func TestConflictWhileUnlinking(t *testing.T) {
	e := newEnv(t)
	e.hs.put("contacts", "1001", now0.Add(-time.Hour), map[string]string{"email": "a@example.com", "firstname": "Ann"})
	e.st.add(&store.Profile{Kind: store.KindUser, ID: "u1", MatchValue: "a@example.com"})
	e.run(t, ModeFull)
	e.hs.put("contacts", "1001", now0.Add(time.Minute), map[string]string{"email": "z@example.com", "firstname": "Ann"})
	saves := identifyOnSave(t, e.st, store.KindUser, "u1", 1)
	e.clock.advance(10 * time.Minute)
	rep := e.run(t, ModeIncremental)
	if rep.Status != StatusComplete || rep.Totals.Unlinked != 1 || *saves != 1 {
		t.Fatalf("report %s %+v after %d conflicts, want complete with u1 unlinked after one", rep.Status, rep.Totals, *saves)
	}
	p := e.st.get(store.KindUser, "u1")
	if p.HubSpotID != "" || p.HubSpotObject != "" || p.Properties["plan"].Value != "pro-1" {
		t.Errorf("u1 %+v, want unlinked with the identify's plan", p)
	}
	if _, ok := p.InboundHashes[KeyUserID]; ok {
		t.Errorf("u1 hashes %v, want the link key's hash gone (it was cleared in Userpilot)", p.InboundHashes)
	}
}

// TestFailedWriteWithConflictIsRetried: a profile whose Userpilot write
// failed and whose save conflicted is not recorded as written: the next run
// writes it.
func TestFailedWriteWithConflictIsRetried(t *testing.T) {
	e := newEnv(t)
	e.seed(2) // u0 on 1001
	e.up.fail = func(id string) error {
		if id == "u0" {
			return errRetryable
		}
		return nil
	}
	identifyOnSave(t, e.st, store.KindUser, "u0", 1)
	if rep := e.run(t, ModeFull); rep.Status != StatusFailed || rep.Totals.Failed != 1 {
		t.Fatalf("first run %s %+v, want failed with u0's write", rep.Status, rep.Totals)
	}
	e.up.fail = nil
	rep := e.run(t, ModeIncremental)
	w := e.up.written()["u0"]
	if rep.Status != StatusComplete || len(w) != 1 || w[0]["first_name"] != "F1001" || w[0][KeyUserID] != "1001" {
		t.Errorf("second run %s wrote %v to u0, want first_name and the link written", rep.Status, w)
	}
}

// TestConflictsThatNeverEndFailThePage: a profile that conflicts on every
// save fails the page after saveAttempts saves, instead of retrying
// forever; the checkpoint does not move.
func TestConflictsThatNeverEndFailThePage(t *testing.T) {
	e := newEnv(t)
	e.seed(2)
	saves := identifyOnSave(t, e.st, store.KindUser, "u0", 1000)
	rep := e.run(t, ModeFull)
	o := rep.Objects[0]
	if rep.Status != StatusFailed || !errors.Is(o.Err, store.ErrConflict) || !strings.Contains(o.Error, "save 1 profiles") {
		t.Errorf("report %s %q, want failed with the save's conflict", rep.Status, o.Error)
	}
	if *saves != saveAttempts {
		t.Errorf("%d saves, want %d", *saves, saveAttempts)
	}
	if _, ok := e.st.cursors[cursorName(usersObject())]; ok || o.Pages != 0 {
		t.Error("checkpoint stored after a failed save")
	}
}

// TestSaveFailures: a save refused for another reason than a conflict, and
// a re-read after a conflict that fails, fail the page with that error and
// keep the checkpoint.
func TestSaveFailures(t *testing.T) {
	t.Run("invalid profile", func(t *testing.T) {
		e := newEnv(t)
		e.seed(2)
		once := false
		e.st.putProfiles = func(ps []*store.Profile) error {
			if once {
				return nil
			}
			once = true
			return &store.BatchError{Failed: []store.ProfileError{{Env: "production", Kind: store.KindUser, ID: ps[0].ID, Err: store.ErrInvalid}}}
		}
		rep := e.run(t, ModeFull)
		o := rep.Objects[0]
		if rep.Status != StatusFailed || !errors.Is(o.Err, store.ErrInvalid) || !strings.Contains(o.Error, "save profile") || o.Pages != 0 {
			t.Errorf("report %s %q pages %d, want failed with the invalid profile and no checkpoint", rep.Status, o.Error, o.Pages)
		}
	})
	t.Run("re-read fails", func(t *testing.T) {
		e := newEnv(t)
		e.seed(2)
		down := errors.New("dynamodb: 500")
		var mu sync.Mutex
		armed := false
		e.st.putProfiles = func(ps []*store.Profile) error {
			mu.Lock()
			first := !armed
			mu.Unlock()
			if !first {
				return nil
			}
			_, err := e.st.MergeIdentify(context.Background(), "production", store.KindUser, "u0", store.IdentifyInput{Properties: map[string]any{"plan": "pro"}, At: now0})
			mu.Lock()
			armed = true // from now on the store cannot be read
			mu.Unlock()
			return err
		}
		e.st.Fail(func(op string) error {
			mu.Lock()
			defer mu.Unlock()
			if op == "GetProfiles" && armed {
				return down
			}
			return nil
		})
		rep := e.run(t, ModeFull)
		o := rep.Objects[0]
		if rep.Status != StatusFailed || !errors.Is(o.Err, down) || !strings.Contains(o.Error, "re-read 1 conflicting profiles") || o.Pages != 0 {
			t.Errorf("report %s %q pages %d, want failed re-reading the conflicting profile", rep.Status, o.Error, o.Pages)
		}
	})
}
