package inbound

import (
	"context"
	"fmt"
	"sync"

	"github.com/pilotsync/pilotsync/shared/hubspot"
)

// PropertyTypeReader is the part of the HubSpot client that tells the
// properties' types, so inbound values reach Userpilot typed. A
// HubSpotReader that also implements it (the real client does) gets typed
// values; one that does not (test fakes) has values written as HubSpot's
// strings.
type PropertyTypeReader interface {
	ListProperties(ctx context.Context, objectType string) ([]hubspot.Property, error)
}

var _ PropertyTypeReader = (*hubspot.Client)(nil)

// propertyTypes caches each object type's property types for one run: a
// type changed in HubSpot is seen by the next run.
type propertyTypes struct {
	mu     sync.Mutex
	byType map[string]map[string]string // HubSpot object -> property -> type
}

// types returns obj's property types, reading them on first use in the run.
func (r *run) types(ctx context.Context, obj Object) (map[string]string, error) {
	lister, ok := r.hs.(PropertyTypeReader)
	if !ok {
		return nil, nil
	}
	r.valueTypes.mu.Lock()
	defer r.valueTypes.mu.Unlock()
	if t, ok := r.valueTypes.byType[obj.HubSpotObject]; ok {
		return t, nil
	}
	props, err := lister.ListProperties(ctx, obj.HubSpotObject)
	if err != nil {
		return nil, fmt.Errorf("read %s property types: %w", obj.HubSpotObject, err)
	}
	r.count("hubspot.properties", 1)
	t := make(map[string]string, len(props))
	for _, p := range props {
		t[p.Name] = p.Type
	}
	if r.valueTypes.byType == nil {
		r.valueTypes.byType = map[string]map[string]string{}
	}
	r.valueTypes.byType[obj.HubSpotObject] = t
	return t, nil
}

// typeValues turns the HubSpot strings in the changes' metadata into the
// JSON values their HubSpot property types stand for (hubspot.JSONValue):
// numbers as numbers, bools as true/false, dates as YYYY-MM-DD, date-times
// as ISO 8601 UTC, enumerations and strings as strings, and an empty value
// as a clear (nil), never "" or 0. The link keys stay strings. A value that
// does not read as its type (HubSpot would not hold one) is sent as the
// string it is, with a warning naming the property. When the types cannot
// be read the page fails and is retried: writing untyped values would mark
// them sent.
func (r *run) typeValues(ctx context.Context, obj Object, changes []*change) error {
	if len(changes) == 0 {
		return nil
	}
	types, err := r.types(ctx, obj)
	if err != nil || types == nil {
		return err
	}
	for _, c := range changes {
		for _, p := range TypeMeta(obj, types, c.meta) {
			r.log.WarnContext(ctx, "inbound: value does not read as its hubspot type, sent as text",
				"object", obj.name(), "property", p, "type", types[p])
		}
	}
	return nil
}

// TypeMeta types the HubSpot strings of meta (Userpilot key -> value, as
// planned for one profile) in place with hubspot.JSONValue, by the HubSpot
// property type in types of the inbound mapping each key comes from. It
// returns the HubSpot properties whose value does not read as its type (left
// as text). The link keys and clears (nil) are left as they are. It is pure:
// the run and the preview type values the same way.
func TypeMeta(obj Object, types map[string]string, meta map[string]any) (untyped []string) {
	hsProp := make(map[string]string, len(obj.Inbound))
	for _, m := range obj.Inbound {
		hsProp[m.Userpilot] = m.HubSpot
	}
	for k, v := range meta {
		s, ok := v.(string)
		p, mapped := hsProp[k]
		if !ok || !mapped {
			continue // a clear already, or a link key
		}
		typed, err := hubspot.JSONValue(types[p], s)
		if err != nil {
			untyped = append(untyped, p)
			continue
		}
		meta[k] = typed
	}
	return untyped
}
