package linker_test

import (
	"context"
	"errors"
	"log/slog"
	"testing"

	"github.com/pilotsync/pilotsync/shared/hubspot/hubspottest"
	"github.com/pilotsync/pilotsync/shared/identity"
	"github.com/pilotsync/pilotsync/shared/identity/linker"
	"github.com/pilotsync/pilotsync/shared/internal/logtest"
	"github.com/pilotsync/pilotsync/shared/store"
	"github.com/pilotsync/pilotsync/shared/userpilot"
)

// fakeUserpilot takes identify calls, or fails them with err.
type fakeUserpilot struct {
	err   error
	users []userpilot.User
}

func (f *fakeUserpilot) IdentifyUser(_ context.Context, u userpilot.User) error {
	f.users = append(f.users, u)
	return f.err
}

func (f *fakeUserpilot) IdentifyCompany(context.Context, userpilot.Company) error { return f.err }

// TestUserpilotWriteOfALink: a new link is written to the user in
// Userpilot and remembered in the profile's inbound hashes, without a
// warning; when Userpilot refuses the write, the warning says so and the
// hashes are forgotten, so the inbound poll writes the values again.
func TestUserpilotWriteOfALink(t *testing.T) {
	for _, fail := range []bool{false, true} {
		r := newRig(t, emailUsers, hubspottest.Options{})
		a := r.contact(map[string]string{"email": "a@x.com"})
		up, w := &fakeUserpilot{}, &logtest.Recorder{Min: slog.LevelWarn}
		if fail {
			up.err = errors.New("fake: Userpilot is down")
		}
		lk, err := linker.New(linker.Options{Env: env, Store: r.st, HubSpot: r.hsc, Userpilot: up,
			Objects: map[store.Kind]linker.Object{store.KindUser: emailUsers}, Logger: slog.New(w)})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := lk.Resolve(r.ctx, store.KindUser, []*store.Profile{r.profile("u1", "a@x.com")}); err != nil {
			t.Fatal(err)
		}
		if len(up.users) != 1 || up.users[0].UserID != "u1" || up.users[0].Metadata[identity.KeyUserID] != a {
			t.Fatalf("fail=%v: Userpilot got %+v, want u1 with %s = %s", fail, up.users, identity.KeyUserID, a)
		}
		h, ok := r.stored("u1").InboundHashes[identity.KeyUserID]
		if !fail && (len(w.Messages()) != 0 || h != identity.ValueHash(a)) {
			t.Errorf("written: warnings %q, hash %q; want none and the hash of %s", w.Messages(), h, a)
		}
		if fail && (len(w.Messages()) != 1 || ok) {
			t.Errorf("refused: warnings %q, hash %q; want one warning and no hash", w.Messages(), h)
		}
	}
}
