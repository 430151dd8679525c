// Package linker resolves Userpilot profiles to the HubSpot records they
// belong to and is the one place that writes a profile's link (Set, Unlink).
// Inbound, the activity forwarder, the outbound push and the daily audit all
// go through it, so they follow one set of rules (shared/identity):
//
//   - a link is used only while the profile's match value is the one it was
//     made under (identity.Link.ValidFor); otherwise it is stale;
//   - a stale or missing link is resolved by one batch read on the match
//     value (plus HubSpot's additional emails when enabled), and the profile
//     is linked, re-linked or unlinked in the store at once;
//   - a record HubSpot says is gone unlinks the profile, which is then
//     resolved again by match value; a merged record moves the link to the
//     surviving id.
package linker

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"log/slog"
	"strings"

	"github.com/pilotsync/pilotsync/shared/config"
	"github.com/pilotsync/pilotsync/shared/hubspot"
	"github.com/pilotsync/pilotsync/shared/identity"
	"github.com/pilotsync/pilotsync/shared/store"
)

// Store is the part of shared/store the linker uses.
type Store interface {
	GetProfiles(ctx context.Context, env string, kind store.Kind, ids []string) (map[string]*store.Profile, error)
	PutProfiles(ctx context.Context, ps []*store.Profile) error
	// LinkedProfiles lists every profile of kind that has a HubSpot link.
	LinkedProfiles(ctx context.Context, env string, kind store.Kind) iter.Seq2[*store.Profile, error]
}

var _ Store = (*store.Store)(nil)

// HubSpot is the part of the HubSpot client the linker uses.
type HubSpot interface {
	BatchRead(ctx context.Context, objectType string, ids []string, idProperty string, properties []string) (*hubspot.BatchReadResult, error)
	FindByEmails(ctx context.Context, objectType string, emails []string, properties []string) (map[string]hubspot.Record, error)
}

var _ HubSpot = (*hubspot.Client)(nil)

// Object is how profiles of one kind link to HubSpot records.
type Object struct {
	// HubSpotObject is "contacts", "companies" or a custom object type id.
	HubSpotObject string
	// MatchHubSpot is the HubSpot property holding the match value.
	MatchHubSpot string
	// MatchUserpilot is the Userpilot property it is compared with; "id",
	// "user_id" (users) or "company_id" (companies) is the profile id itself.
	MatchUserpilot string
	// AdditionalEmails also matches hs_additional_emails (email matches only).
	AdditionalEmails bool
	// Inbound are the inbound property mappings: a new link writes them to
	// Userpilot from the new record.
	Inbound []config.PropertyMapping
	// ClearOnUnlink also removes the Inbound properties in Userpilot on an
	// unlink (config mapping.<kind>.clear_on_unlink).
	ClearOnUnlink bool
}

// IDMatch reports whether the Userpilot side of the match is the profile id
// itself (so any profile, stored or not, has a match value).
func (o Object) IDMatch(kind store.Kind) bool {
	switch o.MatchUserpilot {
	case "id":
		return true
	case "user_id":
		return kind == store.KindUser
	case "company_id":
		return kind == store.KindCompany
	}
	return false
}

// ObjectsFromConfig returns the link configuration of every enabled kind of
// integration.yaml as config.Load gives it (its defaults applied). A kind
// without a HubSpot match property is left out.
func ObjectsFromConfig(cfg *config.Config) map[store.Kind]Object {
	out := map[store.Kind]Object{}
	for kind, m := range map[store.Kind]config.ObjectMapping{store.KindUser: cfg.Mapping.Users, store.KindCompany: cfg.Mapping.Companies} {
		if !m.IsEnabled() || m.Match.HubSpot == "" {
			continue
		}
		o := Object{
			HubSpotObject:    m.HubSpotObject,
			MatchHubSpot:     m.Match.HubSpot,
			MatchUserpilot:   m.Match.Userpilot,
			ClearOnUnlink:    m.ClearsOnUnlink(),
			AdditionalEmails: m.MatchesAdditionalEmails(),
		}
		for _, pm := range m.Inbound {
			if pm.HubSpot != "" && !strings.HasPrefix(pm.Userpilot, "__hubspot__") {
				o.Inbound = append(o.Inbound, config.PropertyMapping{HubSpot: pm.HubSpot, Userpilot: pm.Userpilot})
			}
		}
		out[kind] = o
	}
	return out
}

// Options configures a Linker.
type Options struct {
	// Env is the Userpilot environment the profiles belong to (required:
	// userpilot.environment as config.Load gives it).
	Env     string
	Store   Store
	HubSpot HubSpot
	// Objects is the link configuration per kind (ObjectsFromConfig).
	Objects map[store.Kind]Object
	// Userpilot, when set, gets every link change the linker makes: a new
	// link writes the link keys and the new record's inbound properties, an
	// unlink removes them.
	Userpilot Userpilot
	Logger    *slog.Logger
}

// Linker resolves and writes links. It is safe for concurrent use.
type Linker struct {
	env     string
	st      Store
	hs      HubSpot
	objects map[store.Kind]Object
	up      Userpilot
	log     *slog.Logger
}

// New validates the options and returns a Linker.
func New(o Options) (*Linker, error) {
	if o.Store == nil || o.HubSpot == nil {
		return nil, errors.New("linker: store and HubSpot client are required")
	}
	if o.Env == "" {
		return nil, errors.New("linker: no Userpilot environment (userpilot.environment)")
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	return &Linker{env: o.Env, st: o.Store, hs: o.HubSpot, objects: o.Objects, up: o.Userpilot, log: o.Logger}, nil
}

// Object returns the link configuration of kind.
func (l *Linker) Object(kind store.Kind) (Object, bool) {
	o, ok := l.objects[kind]
	return o, ok
}

// MatchValue is the normalized value profile p of kind is matched on: the
// id itself for id matches, else its stored match value.
func (l *Linker) MatchValue(kind store.Kind, p *store.Profile) string {
	return l.objects[kind].matchValue(kind, p)
}

func (o Object) matchValue(kind store.Kind, p *store.Profile) string {
	if p == nil {
		return ""
	}
	if o.IDMatch(kind) {
		return identity.Normalize(p.ID)
	}
	return identity.Normalize(p.MatchValue)
}

// Set links p to HubSpot record id of object, made under match value match.
// It is the one function that writes a profile's link (with Unlink): every
// flow that links a profile calls it. It reports whether the link changed.
func Set(p *store.Profile, id, object, match string) bool {
	match = identity.Normalize(match)
	if p.HubSpotID == id && p.HubSpotObject == object && p.LinkMatch == match {
		return false
	}
	if id != "" && (id != p.HubSpotID || object != p.HubSpotObject) {
		newRecord(p) // sent.go
	}
	p.HubSpotID, p.HubSpotObject, p.LinkMatch = id, object, match
	return true
}

// Unlink removes p's link. It reports whether there was one.
func Unlink(p *store.Profile) bool {
	had := p.HubSpotID != "" || p.HubSpotObject != "" || p.LinkMatch != ""
	p.HubSpotID, p.HubSpotObject, p.LinkMatch = "", "", ""
	return had
}

func (l *Linker) object(kind store.Kind) (Object, error) {
	o, ok := l.objects[kind]
	if !ok {
		return Object{}, fmt.Errorf("linker: %s profiles are not mapped to HubSpot", kind)
	}
	return o, nil
}
