package outbound

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/pilotsync/pilotsync/shared/config"
	"github.com/pilotsync/pilotsync/shared/hubspot"
)

// Property group setup creates properties in.
const (
	GroupName  = "pilotsync"
	GroupLabel = "pilotsync (Userpilot)"
)

// fieldTypes is the fieldType setup creates for each property type
// (https://developers.hubspot.com/docs/api-reference/crm-properties-v3/guide#property-type-and-fieldtype-values).
var fieldTypes = map[string]string{
	hubspot.TypeString:   "text",
	hubspot.TypeNumber:   "number",
	hubspot.TypeBool:     "booleancheckbox",
	hubspot.TypeDate:     "date",
	hubspot.TypeDateTime: "date",
}

// boolOptions are the options HubSpot's bool properties carry.
var boolOptions = []hubspot.PropertyOption{{Label: "Yes", Value: "true", DisplayOrder: 0}, {Label: "No", Value: "false", DisplayOrder: 1}}

// PropertyAdmin is the part of the HubSpot client setup uses: the
// properties and property groups endpoints
// (https://developers.hubspot.com/docs/api-reference/crm-properties-v3/guide).
type PropertyAdmin interface {
	ListProperties(ctx context.Context, objectType string) ([]hubspot.Property, error)
	CreateProperty(ctx context.Context, objectType string, p hubspot.Property) (*hubspot.Property, error)
	ListPropertyGroups(ctx context.Context, objectType string) ([]hubspot.PropertyGroup, error)
	CreatePropertyGroup(ctx context.Context, objectType string, g hubspot.PropertyGroup) (*hubspot.PropertyGroup, error)
}

var _ PropertyAdmin = (*hubspot.Client)(nil)

// SetupProperty is one property the config writes.
type SetupProperty struct {
	Object    string `json:"object"`
	Name      string `json:"name"`
	Type      string `json:"type"`
	FieldType string `json:"field_type,omitempty"`
	// Source is the config field that maps it ("mapping.users.outbound[0]").
	Source string `json:"source"`
	// Action is "exists", "create" (dry run) or "created".
	Action string `json:"action"`
}

// SetupReport is what setup found and did.
type SetupReport struct {
	DryRun     bool            `json:"dry_run"`
	Properties []SetupProperty `json:"properties"`
	// Groups lists the "<object>/pilotsync" groups created (or to create).
	Groups []string `json:"groups,omitempty"`
	// Problems are the mappings refused; when there is one nothing is created.
	Problems []string `json:"problems,omitempty"`
}

// ErrSetupRefused: a mapping names an existing property whose type does not
// fit (or one setup cannot create); nothing was created.
var ErrSetupRefused = errors.New("outbound: setup refused")

// want is one property the config needs.
type want struct {
	object, field, name, label, create, fieldType string
	// mismatch says why an existing property of a type does not fit.
	mismatch func(hsType string) string
}

// wanted lists the properties the config writes, per HubSpot object type.
func wanted(cfg *config.Config) ([]string, map[string][]want) {
	var objects []string
	out := map[string][]want{}
	for _, k := range []struct {
		name string
		m    config.ObjectMapping
	}{{"users", cfg.Mapping.Users}, {"companies", cfg.Mapping.Companies}} {
		if !k.m.IsEnabled() {
			continue
		}
		obj := k.m.HubSpotObject
		add := func(w want) {
			if _, ok := out[obj]; !ok {
				objects = append(objects, obj)
			}
			out[obj] = append(out[obj], w)
		}
		for i, pm := range k.m.Outbound {
			create, _ := config.OutboundTypes(pm.Type)
			add(want{object: obj, field: fmt.Sprintf("mapping.%s.outbound[%d]", k.name, i), name: pm.HubSpot,
				label: "Userpilot " + pm.Userpilot, create: create, fieldType: fieldTypes[create],
				mismatch: func(t string) string { return config.OutboundMismatch(pm, t) }})
		}
		for i, mm := range k.m.Measured {
			spec, _ := config.Metric(mm.Metric) // the measured job's table
			add(want{object: obj, field: fmt.Sprintf("mapping.%s.measured[%d]", k.name, i), name: mm.HubSpot,
				label: "Userpilot " + strings.ReplaceAll(mm.Metric, "_", " "), create: spec.Type, fieldType: spec.FieldType,
				mismatch: func(t string) string { return config.MeasuredMismatch(mm, t) }})
		}
	}
	return objects, out
}

// Setup checks every property the config maps outbound or measured against
// the account and creates the missing ones in the pilotsync group (created
// first when missing), with the type the mapping needs. Existing properties
// are kept; one whose type does not fit, or that is read-only, is refused
// with the property, its type and the type needed, and then nothing is
// created (ErrSetupRefused, with the report). dryRun creates nothing and
// reports what would be created.
func Setup(ctx context.Context, cfg *config.Config, admin PropertyAdmin, dryRun bool) (*SetupReport, error) {
	rep := &SetupReport{DryRun: dryRun, Properties: []SetupProperty{}}
	objects, byObject := wanted(cfg)
	var creates []SetupProperty
	problem := func(w want, format string, args ...any) {
		loc := w.field
		if l := cfg.Line(w.field + ".hubspot"); l > 0 {
			loc = fmt.Sprintf("%s:%d: %s", cfg.File(), l, w.field+".hubspot")
		}
		rep.Problems = append(rep.Problems, loc+": "+fmt.Sprintf(format, args...))
	}
	for _, obj := range objects {
		props, err := admin.ListProperties(ctx, obj)
		if err != nil {
			return nil, fmt.Errorf("outbound: setup: %w", err)
		}
		have := map[string]hubspot.Property{}
		for _, p := range props {
			have[p.Name] = p
		}
		for _, w := range byObject[obj] {
			sp := SetupProperty{Object: obj, Name: w.name, Source: w.field}
			if p, ok := have[w.name]; ok {
				sp.Type, sp.FieldType, sp.Action = p.Type, p.FieldType, "exists"
				switch {
				case !p.Writable():
					problem(w, "property %q is read-only in HubSpot and cannot be written", w.name)
				case w.mismatch(p.Type) != "":
					problem(w, "%s", w.mismatch(p.Type))
				}
				rep.Properties = append(rep.Properties, sp)
				continue
			}
			// fieldTypes has none for enumeration: its options are the
			// admin's to make in HubSpot.
			ft := w.fieldType
			if ft == "" {
				problem(w, "property %q does not exist and setup cannot create a %s property: create it in HubSpot (with its options) first", w.name, w.create)
				continue
			}
			sp.Type, sp.FieldType, sp.Action = w.create, ft, "create"
			creates = append(creates, sp)
			have[w.name] = hubspot.Property{Name: w.name, Type: w.create} // one creation per name
		}
	}
	if len(rep.Problems) > 0 {
		rep.Properties = append(rep.Properties, creates...)
		return rep, fmt.Errorf("%w: %s", ErrSetupRefused, strings.Join(rep.Problems, "; "))
	}
	labels := map[string]string{}
	for _, obj := range objects {
		for _, w := range byObject[obj] {
			labels[obj+"/"+w.name] = w.label
		}
	}
	groupsDone := map[string]bool{}
	for i, sp := range creates {
		if !groupsDone[sp.Object] {
			groupsDone[sp.Object] = true
			created, err := ensureGroup(ctx, admin, sp.Object, dryRun)
			if err != nil {
				rep.Properties = append(rep.Properties, creates[i:]...)
				return rep, err
			}
			if created {
				rep.Groups = append(rep.Groups, sp.Object+"/"+GroupName)
			}
		}
		if !dryRun {
			p := hubspot.Property{Name: sp.Name, Label: labels[sp.Object+"/"+sp.Name], Type: sp.Type, FieldType: sp.FieldType, GroupName: GroupName,
				Description: "Written by pilotsync from Userpilot (" + sp.Source + ")."}
			if sp.Type == hubspot.TypeBool {
				p.Options = boolOptions
			}
			if _, err := admin.CreateProperty(ctx, sp.Object, p); err != nil {
				rep.Properties = append(rep.Properties, creates[i:]...)
				return rep, fmt.Errorf("outbound: setup: %w", err)
			}
			creates[i].Action = "created"
		}
		rep.Properties = append(rep.Properties, creates[i])
	}
	return rep, nil
}

// ensureGroup creates the pilotsync group of objectType unless it exists,
// and reports whether it was (or, dry, would be) created.
func ensureGroup(ctx context.Context, admin PropertyAdmin, objectType string, dryRun bool) (bool, error) {
	groups, err := admin.ListPropertyGroups(ctx, objectType)
	if err != nil {
		return false, fmt.Errorf("outbound: setup: %w", err)
	}
	for _, g := range groups {
		if g.Name == GroupName {
			return false, nil
		}
	}
	if dryRun {
		return true, nil
	}
	if _, err := admin.CreatePropertyGroup(ctx, objectType, hubspot.PropertyGroup{Name: GroupName, Label: GroupLabel}); err != nil {
		return false, fmt.Errorf("outbound: setup: %w", err)
	}
	return true, nil
}
