package linker_test

import (
	"context"
	"errors"
	"log/slog"
	"maps"
	"reflect"
	"strings"
	"testing"

	"github.com/pilotsync/pilotsync/shared/config"
	"github.com/pilotsync/pilotsync/shared/hubspot"
	"github.com/pilotsync/pilotsync/shared/hubspot/hubspottest"
	"github.com/pilotsync/pilotsync/shared/identity"
	"github.com/pilotsync/pilotsync/shared/identity/linker"
	"github.com/pilotsync/pilotsync/shared/store"
)

// link stores a user profile matched on email, linked to record id under
// linkMatch (the match value the link was made under).
func (r *rig) link(id, email, record, linkMatch string) {
	r.t.Helper()
	p := &store.Profile{Env: env, Kind: store.KindUser, ID: id, MatchValue: email,
		HubSpotID: record, HubSpotObject: "contacts", LinkMatch: linkMatch}
	if err := r.st.PutProfile(r.ctx, p); err != nil {
		r.t.Fatal(err)
	}
}

// TestAuditReportCounts: the counts the daily run record shows for the
// link audit, one profile per outcome: a valid link; a link whose record
// was archived while another record now has the user's email (relinked);
// one archived with no other record (unlinked_deleted); one merged
// (relinked_merged); a stale link made under an old email (relinked to the
// new email's record); and a legacy link without its match value whose
// record still has the email (valid). Six profiles make one partial chunk
// of the 100 a batch read checks.
func TestAuditReportCounts(t *testing.T) {
	r := newRig(t, emailUsers, hubspottest.Options{})
	a := r.contact(map[string]string{"email": "a@x.com"})
	gone := r.contact(map[string]string{"email": "b@x.com"})
	deleted := r.contact(map[string]string{"email": "c@x.com"})
	m1 := r.contact(map[string]string{"email": "d@x.com"})
	m2 := r.contact(map[string]string{"email": "d2@x.com"})
	oldRec := r.contact(map[string]string{"email": "old@x.com"})
	newRec := r.contact(map[string]string{"email": "new@x.com"})
	legacy := r.contact(map[string]string{"email": "f@x.com"})
	r.link("ua", "a@x.com", a, "a@x.com")
	r.link("ub", "b@x.com", gone, "b@x.com")
	r.link("uc", "c@x.com", deleted, "c@x.com")
	r.link("ud", "d@x.com", m1, "d@x.com")
	r.link("ue", "new@x.com", oldRec, "old@x.com")
	r.link("uf", "f@x.com", legacy, "")
	r.hs.Archive("contacts", gone)
	again := r.contact(map[string]string{"email": "b@x.com"})
	r.hs.Archive("contacts", deleted)
	merged := r.hs.Merge("contacts", m2, m1)

	rep, err := r.lk.Audit(r.ctx, store.KindUser)
	if err != nil {
		t.Fatal(err)
	}
	want := linker.AuditReport{Kind: store.KindUser, Checked: 6, Valid: 2, RelinkedMerged: 1, UnlinkedDeleted: 1, Relinked: 2, BatchReads: 1, Lookups: 2}
	if rep != want {
		t.Errorf("report %+v\nwant   %+v", rep, want)
	}
	wantCounts := map[string]int64{"links_checked": 6, "links_valid": 2, "relinked_merged": 1, "unlinked_deleted": 1,
		"relinked": 2, "audit_batch_reads": 1, "audit_lookups": 2}
	if got := rep.Counts(); !maps.Equal(got, wantCounts) {
		t.Errorf("run record counts %v\nwant %v", got, wantCounts)
	}
	for id, want := range map[string]string{"ua": a, "ub": again, "uc": "", "ud": merged, "ue": newRec, "uf": legacy} {
		if got := r.stored(id).HubSpotID; got != want {
			t.Errorf("%s linked to %q, want %q", id, got, want)
		}
	}
}

// failingHubSpot answers every read with err.
type failingHubSpot struct{ err error }

func (f failingHubSpot) BatchRead(context.Context, string, []string, string, []string) (*hubspot.BatchReadResult, error) {
	return nil, f.err
}

func (f failingHubSpot) FindByEmails(context.Context, string, []string, []string) (map[string]hubspot.Record, error) {
	return nil, f.err
}

// TestAuditFailsWhenHubSpotCannotBeRead: an audit whose batch read fails
// (the last, partial chunk, and a stale link's lookup) reports the error
// rather than a clean audit; a kind that is not mapped is an error too.
func TestAuditFailsWhenHubSpotCannotBeRead(t *testing.T) {
	boom := errors.New("fake: HubSpot is down")
	for name, linkMatch := range map[string]string{"valid link": "a@x.com", "stale link": "old@x.com"} {
		t.Run(name, func(t *testing.T) {
			r := newRig(t, emailUsers, hubspottest.Options{})
			lk, err := linker.New(linker.Options{Env: env, Store: r.st, HubSpot: failingHubSpot{boom},
				Objects: map[store.Kind]linker.Object{store.KindUser: emailUsers}, Logger: slog.New(slog.DiscardHandler)})
			if err != nil {
				t.Fatal(err)
			}
			r.link("ua", "a@x.com", "1", linkMatch)
			if _, err := lk.Audit(r.ctx, store.KindUser); !errors.Is(err, boom) {
				t.Errorf("got %v, want HubSpot's error", err)
			}
			if _, err := lk.Audit(r.ctx, store.KindCompany); err == nil || !strings.Contains(err.Error(), "not mapped") {
				t.Errorf("companies: got %v, want not mapped", err)
			}
		})
	}
}

// TestFindLooksUpWithoutWriting: the read-only preview finds records by
// match value exactly as Resolve does (additional emails included) and
// links nothing; no values cost no call; an unmapped kind is an error.
func TestFindLooksUpWithoutWriting(t *testing.T) {
	r := newRig(t, emailUsers, hubspottest.Options{})
	c := r.contact(map[string]string{"email": "c@x.com", "hs_additional_emails": "alias@x.com"})
	p := r.profile("u1", "alias@x.com")
	got, err := r.lk.Find(r.ctx, store.KindUser, []string{"alias@x.com", "nobody@x.com"})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got["alias@x.com"].ID != c {
		t.Errorf("found %+v, want alias@x.com on %s only", got, c)
	}
	if s := r.stored("u1"); s.HubSpotID != "" || s.Version != p.Version {
		t.Errorf("stored %+v, want u1 untouched", s)
	}
	r.hs.ResetRequests()
	if got, err := r.lk.Find(r.ctx, store.KindUser, nil); err != nil || got == nil || len(got) != 0 || len(r.hs.Requests()) != 0 {
		t.Errorf("no values: got %v, %v with %d requests; want an empty answer and none", got, err, len(r.hs.Requests()))
	}
	if _, err := r.lk.Find(r.ctx, store.KindCompany, []string{"x.com"}); err == nil || !strings.Contains(err.Error(), "not mapped") {
		t.Errorf("companies: got %v, want not mapped", err)
	}
}

// TestNewNeedsStoreAndHubSpot: a linker without a store, a HubSpot client
// or an environment cannot be built; with them it works on that
// environment's profiles.
func TestNewNeedsStoreAndHubSpot(t *testing.T) {
	r := newRig(t, emailUsers, hubspottest.Options{})
	for name, o := range map[string]linker.Options{"no store": {Env: config.EnvProduction, HubSpot: r.hsc}, "no hubspot": {Env: config.EnvProduction, Store: r.st},
		"no environment": {Store: r.st, HubSpot: r.hsc}} {
		if lk, err := linker.New(o); err == nil || lk != nil {
			t.Errorf("%s: got %v, %v; want an error", name, lk, err)
		}
	}
	a := r.contact(map[string]string{"email": "a@x.com"})
	r.link("ua", "a@x.com", a, "a@x.com")
	lk, err := linker.New(linker.Options{Env: config.EnvProduction, Store: r.st, HubSpot: r.hsc, Objects: map[store.Kind]linker.Object{store.KindUser: emailUsers}})
	if err != nil {
		t.Fatal(err)
	}
	if rep, err := lk.Audit(r.ctx, store.KindUser); err != nil || rep.Checked != 1 || rep.Valid != 1 {
		t.Errorf("audit %+v, %v; want production's one valid link", rep, err)
	}
	if o, ok := lk.Object(store.KindUser); !ok || !reflect.DeepEqual(o, emailUsers) {
		t.Errorf("Object(user) = %+v, %v; want %+v", o, ok, emailUsers)
	}
	if _, ok := lk.Object(store.KindCompany); ok {
		t.Error("companies are not mapped, but Object says they are")
	}
}

// TestAuditOfOnlyStaleLinksReadsNoIDs: a chunk whose links are all stale
// costs no batch read by id: its profiles are resolved by match value
// (one lookup) and the report says so.
func TestAuditOfOnlyStaleLinksReadsNoIDs(t *testing.T) {
	r := newRig(t, emailUsers, hubspottest.Options{})
	old := r.contact(map[string]string{"email": "old@x.com"})
	cur := r.contact(map[string]string{"email": "new@x.com"})
	r.link("ua", "new@x.com", old, "old@x.com")
	rep, err := r.lk.Audit(r.ctx, store.KindUser)
	if err != nil {
		t.Fatal(err)
	}
	want := linker.AuditReport{Kind: store.KindUser, Checked: 1, Relinked: 1, Lookups: 1}
	if rep != want || r.stored("ua").HubSpotID != cur {
		t.Errorf("report %+v (ua on %s)\nwant   %+v (ua on %s)", rep, r.stored("ua").HubSpotID, want, cur)
	}
}

// TestResolveWithoutMatchValueUnlinks: a linked profile that lost its
// match value (an identify cleared the email) is unlinked and reported so;
// a partial link (a match value recorded without a record) is cleared
// without reporting an unlink.
func TestResolveWithoutMatchValueUnlinks(t *testing.T) {
	r := newRig(t, emailUsers, hubspottest.Options{})
	a := r.contact(map[string]string{"email": "a@x.com"})
	r.link("ua", "", a, "a@x.com")
	partial := &store.Profile{Env: env, Kind: store.KindUser, ID: "ub", LinkMatch: "b@x.com"}
	if err := r.st.PutProfile(r.ctx, partial); err != nil {
		t.Fatal(err)
	}
	res := r.resolve(r.stored("ua"), r.stored("ub"))
	if got := res["ua"]; got.Outcome != identity.NoMatchValue || !got.Unlinked {
		t.Errorf("ua = %+v, want no match value and unlinked", got)
	}
	if got := res["ub"]; got.Outcome != identity.NoMatchValue || got.Unlinked {
		t.Errorf("ub = %+v, want no match value, not reported unlinked", got)
	}
	for _, id := range []string{"ua", "ub"} {
		if l := r.stored(id).Link(); l != (identity.Link{}) {
			t.Errorf("%s still stores the link %+v", id, l)
		}
	}
}

// TestAuditOfValidLinksMakesNoLookup: links HubSpot confirms as they are
// cost one batch read by id and no lookup by match value.
func TestAuditOfValidLinksMakesNoLookup(t *testing.T) {
	r := newRig(t, emailUsers, hubspottest.Options{})
	a := r.contact(map[string]string{"email": "a@x.com"})
	r.link("ua", "a@x.com", a, "a@x.com")
	rep, err := r.lk.Audit(r.ctx, store.KindUser)
	if want := (linker.AuditReport{Kind: store.KindUser, Checked: 1, Valid: 1, BatchReads: 1}); err != nil || rep != want {
		t.Errorf("report %+v, %v\nwant   %+v", rep, err, want)
	}
}
