package linker_test

import (
	"testing"

	"github.com/pilotsync/pilotsync/shared/identity"
	"github.com/pilotsync/pilotsync/shared/identity/linker"
	"github.com/pilotsync/pilotsync/shared/store"
)

// TestSetMarksANewRecordDirty: Set, the one writer of links, reports a
// change only when the link changed, stores the match value normalized, and
// marks a profile with Userpilot values dirty when it moves to a record it
// was not linked to (so the next outbound push sends its values there): not
// when only the match value changes, not when the link is cleared, not for
// a profile without values.
func TestSetMarksANewRecordDirty(t *testing.T) {
	withValues := func() *store.Profile {
		return &store.Profile{ID: "u1", Properties: map[string]store.Property{"plan": {Value: "pro"}}}
	}
	p := withValues()
	steps := []struct {
		name              string
		id, object, match string
		changed, dirty    bool
	}{
		{"first link", "1", "contacts", " A@x.com ", true, true},
		{"the same link again", "1", "contacts", "a@x.com", false, false},
		{"same record, new match value", "1", "contacts", "b@x.com", true, false},
		{"another record, same match value", "2", "contacts", "b@x.com", true, true},
		{"same id on another object", "2", "2-777", "b@x.com", true, true},
		{"cleared through Set", "", "", "", true, false},
	}
	for _, s := range steps {
		p.Dirty = false
		if got := linker.Set(p, s.id, s.object, s.match); got != s.changed || p.Dirty != s.dirty {
			t.Errorf("%s: changed %v dirty %v, want %v and %v", s.name, got, p.Dirty, s.changed, s.dirty)
		}
		if want := (identity.Link{ID: s.id, Object: s.object, Match: identity.Normalize(s.match)}); p.Link() != want {
			t.Errorf("%s: link %+v, want %+v", s.name, p.Link(), want)
		}
	}
	bare := &store.Profile{ID: "u2"}
	if !linker.Set(bare, "1", "contacts", "a@x.com") || bare.Dirty {
		t.Errorf("a profile without values: dirty %v, want linked and not dirty", bare.Dirty)
	}
}

// TestUnlinkReportsAnyPartOfALink: Unlink clears a link and reports
// whether there was one, also a partial one (a legacy link without its
// match value, a record id without its object).
func TestUnlinkReportsAnyPartOfALink(t *testing.T) {
	for _, c := range []struct {
		name string
		p    store.Profile
		had  bool
	}{
		{"none", store.Profile{}, false},
		{"full", store.Profile{HubSpotID: "1", HubSpotObject: "contacts", LinkMatch: "a@x.com"}, true},
		{"id only", store.Profile{HubSpotID: "1"}, true},
		{"object only", store.Profile{HubSpotObject: "contacts"}, true},
		{"match only", store.Profile{LinkMatch: "a@x.com"}, true},
	} {
		p := c.p
		if got := linker.Unlink(&p); got != c.had || p.Link() != (identity.Link{}) {
			t.Errorf("%s: Unlink = %v leaving %+v, want %v and no link", c.name, got, p.Link(), c.had)
		}
	}
}
