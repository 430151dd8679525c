// Package preview answers "what would a sync do?" for chosen Userpilot users
// and companies, writing nothing anywhere: how each is matched to HubSpot,
// the inbound values a sync would write to Userpilot, the custom and measured
// values it would send to HubSpot in their converted formats, the problems
// per field, whether the activity sink is ready, and an estimate of a full
// sync's API calls and time at the account's limits.
//
// It runs the engines' own planning functions (inbound.PlanRecord,
// outbound.PlanValues, measured.PlanValues, the linker's Find) over reads
// only: the store is read through an interface with no write method, and
// HubSpot through reads (list properties, batch read, search, list event
// definitions). Userpilot is not called at all.
package preview

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/pilotsync/pilotsync/shared/config"
	"github.com/pilotsync/pilotsync/shared/hubspot"
	"github.com/pilotsync/pilotsync/shared/identity/linker"
	"github.com/pilotsync/pilotsync/shared/inbound"
	"github.com/pilotsync/pilotsync/shared/measured"
	"github.com/pilotsync/pilotsync/shared/outbound"
	"github.com/pilotsync/pilotsync/shared/store"
)

// Store is the read-only part of shared/store the preview uses.
type Store interface {
	GetProfiles(ctx context.Context, env string, kind store.Kind, ids []string) (map[string]*store.Profile, error)
	LookupByMatch(ctx context.Context, env string, kind store.Kind, values []string) (map[string][]string, error)
	GetActivitySummary(ctx context.Context, env string, kind store.Kind, id string) (*store.ActivitySummary, error)
}

var _ Store = (*store.Store)(nil)

// HubSpot is the read-only part of the HubSpot client the preview uses.
type HubSpot interface {
	ListProperties(ctx context.Context, objectType string) ([]hubspot.Property, error)
	BatchRead(ctx context.Context, objectType string, ids []string, idProperty string, properties []string) (*hubspot.BatchReadResult, error)
	Search(ctx context.Context, objectType string, req hubspot.SearchRequest) (*hubspot.SearchPage, error)
	ListEventDefinitions(ctx context.Context) ([]hubspot.EventDefinition, error)
}

var _ HubSpot = (*hubspot.Client)(nil)

// Finder looks match values up in HubSpot without writing
// (linker.Linker.Find).
type Finder interface {
	Find(ctx context.Context, kind store.Kind, values []string) (map[string]hubspot.Record, error)
}

var _ Finder = (*linker.Linker)(nil)

// Preview builds previews. Build it once per cold start.
type Preview struct {
	cfg      *config.Config
	env      string
	st       Store
	hs       HubSpot
	find     Finder
	inbound  map[store.Kind]inbound.Object
	link     map[store.Kind]linker.Object
	outbound map[store.Kind]outbound.Object
	measured map[store.Kind]measured.Target
	limits   hubspot.Limits
	now      func() time.Time
}

// Options are the preview's optional settings.
type Options struct {
	// Limits are the HubSpot client's pacing limits (hubspot.Client.Limits),
	// for the estimate; zero means HubSpot's professional defaults.
	Limits hubspot.Limits
	// Now is the clock (the measured period ends on its day).
	Now func() time.Time
}

// New returns a preview over cfg (defaults applied), the store, the HubSpot
// client and a finder.
func New(cfg *config.Config, st Store, hs HubSpot, find Finder, o Options) (*Preview, error) {
	p := &Preview{cfg: cfg, env: cfg.Userpilot.Environment, st: st, hs: hs, find: find, limits: o.Limits, now: o.Now,
		inbound: map[store.Kind]inbound.Object{}, outbound: map[store.Kind]outbound.Object{}, measured: map[store.Kind]measured.Target{},
		link: linker.ObjectsFromConfig(cfg)}
	if p.env == "" {
		p.env = config.DefaultEnvironment
	}
	if p.now == nil {
		p.now = time.Now
	}
	if p.limits.PerWindow <= 0 {
		p.limits = hubspot.LimitsForTier("professional", 0, false)
	}
	objs, err := inbound.ObjectsFromConfig(cfg)
	if err != nil {
		return nil, fmt.Errorf("preview: %w", err)
	}
	for _, o := range objs {
		p.inbound[o.Kind] = o
	}
	oc, err := outbound.ConfigFrom(cfg)
	if err != nil {
		return nil, fmt.Errorf("preview: %w", err)
	}
	for _, o := range oc.Objects {
		p.outbound[o.Kind] = o
	}
	for _, t := range measured.TargetsFrom(cfg) {
		p.measured[t.Kind] = t
	}
	return p, nil
}

// Run previews the users and companies named by refs (Userpilot ids or
// match values).
func (p *Preview) Run(ctx context.Context, users, companies []string) (*Report, error) {
	rep := &Report{Env: p.env, At: p.now().UTC()}
	props := &propertyCache{hs: p.hs, byObject: map[string][]hubspot.Property{}, errs: map[string]error{}}
	for _, k := range []struct {
		kind store.Kind
		refs []string
	}{{store.KindUser, users}, {store.KindCompany, companies}} {
		for _, ref := range k.refs {
			rp, err := p.record(ctx, k.kind, ref, props)
			if err != nil {
				return nil, fmt.Errorf("preview: %s %q: %w", k.kind, ref, err)
			}
			rep.Records = append(rep.Records, rp)
		}
	}
	rep.Activity = p.activity(ctx)
	rep.Estimate = p.estimate(ctx)
	return rep, nil
}

// propertyCache lists each object type's properties once per preview.
type propertyCache struct {
	hs       HubSpot
	mu       sync.Mutex
	byObject map[string][]hubspot.Property
	errs     map[string]error
}

func (c *propertyCache) get(ctx context.Context, object string) ([]hubspot.Property, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if ps, ok := c.byObject[object]; ok {
		return ps, c.errs[object]
	}
	ps, err := c.hs.ListProperties(ctx, object)
	if err != nil {
		err = fmt.Errorf("list %s properties: %w", object, err)
	}
	c.byObject[object], c.errs[object] = ps, err
	return ps, err
}

func typesOf(ps []hubspot.Property) map[string]string {
	t := make(map[string]string, len(ps))
	for _, p := range ps {
		t[p.Name] = p.Type
	}
	return t
}

// errNotMapped: the kind is not synced (disabled in the config).
var errNotMapped = errors.New("not mapped to hubspot in the config")
