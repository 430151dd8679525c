package forward

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"

	"github.com/pilotsync/pilotsync/shared/activity"
	"github.com/pilotsync/pilotsync/shared/config"
	"github.com/pilotsync/pilotsync/shared/hubspot"
	"github.com/pilotsync/pilotsync/shared/identity"
)

// permanentAPIError reports a HubSpot answer that a retry cannot change:
// the request itself is wrong (validation).
func permanentAPIError(err error) bool {
	var ae *hubspot.APIError
	return errors.As(err, &ae) && (ae.Status == http.StatusBadRequest || ae.Status == http.StatusUnprocessableEntity)
}

// PrimaryObject is the event definition primaryObject for a HubSpot object
// type: CONTACT, COMPANY, DEAL, TICKET, or a custom object's type id as is.
func PrimaryObject(objectType string) string {
	switch strings.ToLower(objectType) {
	case "contacts", "contact", "0-1":
		return "CONTACT"
	case "companies", "company", "0-2":
		return "COMPANY"
	case "deals", "deal", "0-3":
		return "DEAL"
	case "tickets", "ticket", "0-5":
		return "TICKET"
	}
	return objectType
}

// EventsAPI is what the custom events sink uses from the HubSpot client.
type EventsAPI interface {
	ListEventDefinitions(ctx context.Context) ([]hubspot.EventDefinition, error)
	CreateEventDefinition(ctx context.Context, d hubspot.EventDefinition) (*hubspot.EventDefinition, error)
	SendEvents(ctx context.Context, events []hubspot.EventOccurrence) error
}

// CustomEvents sends activity as HubSpot custom (behavioral) events, the
// default sink. It creates missing event definitions (one per category and
// status, typed properties) and caches their fully qualified names, so the
// definitions API is called once per name per cold start at most.
type CustomEvents struct {
	api           EventsAPI
	primaryObject string
	prefix        string
	log           *slog.Logger

	mu     sync.Mutex
	listed bool
	fqn    map[string]string // event name → fully qualified name
	wrong  map[string]string // event name → the other primary object it was defined on
	// props: fully qualified name → the properties the definition declares.
	// A definition made by an older version may lack some: HubSpot rejects an
	// occurrence with an undeclared property, so Send leaves those out.
	props map[string]map[string]bool
}

var _ Sink = (*CustomEvents)(nil)

// NewCustomEvents returns the custom events sink for events attached to
// objectType (config mapping.users.hubspot_object). prefix is the config's
// event name prefix (labels only mention it when it is not the default).
func NewCustomEvents(api EventsAPI, objectType, prefix string, log *slog.Logger) *CustomEvents {
	if log == nil {
		log = slog.Default()
	}
	return &CustomEvents{api: api, primaryObject: PrimaryObject(objectType), prefix: prefix, log: log,
		fqn: map[string]string{}, wrong: map[string]string{}, props: map[string]map[string]bool{}}
}

// Name implements Sink.
func (s *CustomEvents) Name() string { return "custom_events" }

// MaxBatch implements Sink: HubSpot's send batch limit.
func (s *CustomEvents) MaxBatch() int { return hubspot.MaxEventBatch }

// Permanent implements Sink.
func (s *CustomEvents) Permanent(err error) bool { return permanentAPIError(err) }

// Prepare implements Sink: it lists the account's definitions once, creates
// the missing ones, and returns their fully qualified names.
func (s *CustomEvents) Prepare(ctx context.Context, names map[string]activity.Pair) (map[string]string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make(map[string]string, len(names))
	var missing []string
	for n := range names {
		if f, ok := s.fqn[n]; ok {
			out[n] = f
		} else if _, bad := s.wrong[n]; !bad {
			missing = append(missing, n)
		}
	}
	if len(missing) == 0 {
		return out, nil
	}
	if !s.listed {
		defs, err := s.api.ListEventDefinitions(ctx)
		if err != nil {
			return nil, fmt.Errorf("forward: custom events: %w", err)
		}
		for _, d := range defs {
			if d.PrimaryObject != "" && !strings.EqualFold(d.PrimaryObject, s.primaryObject) {
				s.wrong[d.Name] = d.PrimaryObject
				continue
			}
			s.keep(d)
		}
		s.listed = true
	}
	for _, n := range missing {
		if f, ok := s.fqn[n]; ok {
			out[n] = f
			continue
		}
		if obj, bad := s.wrong[n]; bad {
			s.log.ErrorContext(ctx, "activity: event definition exists on another object: its events are dropped; delete it or change event_name_prefix",
				"event", n, "defined_on", obj, "want", s.primaryObject)
			continue
		}
		d, err := s.api.CreateEventDefinition(ctx, s.definition(n, names[n]))
		if err != nil {
			return nil, fmt.Errorf("forward: custom events: %w", err)
		}
		s.keep(*d)
		out[n] = d.FullyQualifiedName
		s.log.InfoContext(ctx, "activity: created event definition", "event", n, "fully_qualified_name", d.FullyQualifiedName)
	}
	return out, nil
}

// keep caches a definition's fully qualified name and declared properties
// (caller holds mu).
func (s *CustomEvents) keep(d hubspot.EventDefinition) {
	s.fqn[d.Name] = d.FullyQualifiedName
	if len(d.Properties) == 0 {
		return // not listed: send everything
	}
	set := make(map[string]bool, len(d.Properties))
	for _, p := range d.Properties {
		set[p.Name] = true
	}
	s.props[d.FullyQualifiedName] = set
}

// declared returns the properties of it its definition declares.
func (s *CustomEvents) declared(it Item) map[string]string {
	s.mu.Lock()
	set := s.props[it.Target]
	s.mu.Unlock()
	if set == nil {
		return it.Properties
	}
	out := make(map[string]string, len(it.Properties))
	for k, v := range it.Properties {
		if set[k] {
			out[k] = v
		}
	}
	return out
}

// definition is the event definition for name.
func (s *CustomEvents) definition(name string, p activity.Pair) hubspot.EventDefinition {
	label := activity.Label(p.Category, p.Status)
	if s.prefix != "" && s.prefix != activity.DefaultEventNamePrefix {
		label += " (" + s.prefix + ")"
	}
	d := hubspot.EventDefinition{
		Name: name, Label: label, PrimaryObject: s.primaryObject,
		Description: fmt.Sprintf("Userpilot %s events with status %s, forwarded by pilotsync.", p.Category, p.Status),
	}
	for _, ps := range activity.DefinitionProperties(p.Category) {
		d.Properties = append(d.Properties, hubspot.EventProperty{Name: ps.Name, Label: ps.Label, Type: ps.Type})
	}
	return d
}

// Send implements Sink: one send batch call. The uuid is derived from the
// Userpilot event id and the event name, so a redelivery is dropped by HubSpot.
func (s *CustomEvents) Send(ctx context.Context, items []Item) error {
	evs := make([]hubspot.EventOccurrence, len(items))
	for i, it := range items {
		evs[i] = hubspot.EventOccurrence{
			EventName: it.Target, ObjectID: it.ObjectID, OccurredAt: it.OccurredAt,
			UUID: hubspot.EventUUID(it.EventID, it.Name), Properties: s.declared(it),
		}
	}
	return s.api.SendEvents(ctx, evs)
}

// EnsureDefinitions creates the custom event definitions for every category
// and status the configuration forwards (the setup step; the sink also
// creates missing ones on first sight). It returns name → fully qualified name.
func EnsureDefinitions(ctx context.Context, sink *CustomEvents, cl *activity.Classifier) (map[string]string, error) {
	names := map[string]activity.Pair{}
	for _, p := range cl.Pairs() {
		names[cl.EventName(p)] = p
	}
	out, err := sink.Prepare(ctx, names)
	if err != nil {
		return out, err
	}
	var wrong []string
	for n := range names {
		if _, ok := out[n]; !ok {
			wrong = append(wrong, n)
		}
	}
	if len(wrong) > 0 {
		return out, fmt.Errorf("forward: event definitions %s exist on another object than %s", strings.Join(wrong, ", "), sink.primaryObject)
	}
	return out, nil
}

// TimelineAPI is what the timeline sink uses from the HubSpot client.
type TimelineAPI interface {
	SendTimelineEvents(ctx context.Context, events []hubspot.TimelineEvent) error
}

// configuredTargets is the Prepare of the sinks that address HubSpot by ids
// configured per category and status (config Activity.Targets: timeline
// template ids, app event type ids), keyed by config.TargetKey. It calls no
// API; a pair without an id is left out, so its events are dropped and counted
// as without a target (config validation requires an id for every pair sent).
type configuredTargets map[string]string

// Prepare returns the configured id of each name's category and status.
func (t configuredTargets) Prepare(_ context.Context, names map[string]activity.Pair) (map[string]string, error) {
	out := make(map[string]string, len(names))
	for n, p := range names {
		if id := t[config.TargetKey(string(p.Category), p.Status)]; id != "" {
			out[n] = id
		}
	}
	return out, nil
}

// Timeline sends activity as v3 timeline events (partner apps with templates
// only). Template ids come from config activity.timeline_templates.
type Timeline struct {
	api TimelineAPI
	configuredTargets
}

var _ Sink = (*Timeline)(nil)

// NewTimeline returns the timeline sink; templates maps "<category>_<status>"
// to a timeline event template id.
func NewTimeline(api TimelineAPI, templates map[string]string) *Timeline {
	return &Timeline{api: api, configuredTargets: templates}
}

// Name implements Sink.
func (s *Timeline) Name() string { return config.SinkTimeline }

// MaxBatch implements Sink.
func (s *Timeline) MaxBatch() int { return hubspot.MaxTimelineBatch }

// Permanent implements Sink.
func (s *Timeline) Permanent(err error) bool { return permanentAPIError(err) }

// Send implements Sink. The event id is the same deterministic uuid as for
// custom events; HubSpot answers 409 for a repeat, which the client counts as
// delivered.
func (s *Timeline) Send(ctx context.Context, items []Item) error {
	evs := make([]hubspot.TimelineEvent, len(items))
	for i, it := range items {
		evs[i] = hubspot.TimelineEvent{TemplateID: it.Target, ObjectID: it.ObjectID, ID: hubspot.EventUUID(it.EventID, it.Name),
			Timestamp: it.OccurredAt, Tokens: it.Properties}
	}
	return s.api.SendTimelineEvents(ctx, evs)
}

// AppEventsAPI is what the app events sink uses from the HubSpot client.
type AppEventsAPI interface {
	SendAppEvents(ctx context.Context, events []hubspot.AppEvent) error
}

// AppEvents sends activity as 2026-03 app events. Event type ids come from
// config activity.app_event_types.
type AppEvents struct {
	api AppEventsAPI
	configuredTargets
}

var _ Sink = (*AppEvents)(nil)

// NewAppEvents returns the app events sink; eventTypes maps
// "<category>_<status>" to an app event type id.
func NewAppEvents(api AppEventsAPI, eventTypes map[string]string) *AppEvents {
	return &AppEvents{api: api, configuredTargets: eventTypes}
}

// Name implements Sink.
func (s *AppEvents) Name() string { return config.SinkAppEvents }

// MaxBatch implements Sink.
func (s *AppEvents) MaxBatch() int { return hubspot.MaxTimelineBatch }

// Permanent implements Sink.
func (s *AppEvents) Permanent(err error) bool { return permanentAPIError(err) }

// Send implements Sink. The occurrence id is the same deterministic uuid as
// for custom events; HubSpot rejects a batch holding a known id with 409,
// which the client resolves and counts as delivered.
func (s *AppEvents) Send(ctx context.Context, items []Item) error {
	evs := make([]hubspot.AppEvent, len(items))
	for i, it := range items {
		evs[i] = hubspot.AppEvent{EventTypeID: it.Target, ObjectID: it.ObjectID, ID: hubspot.EventUUID(it.EventID, it.Name),
			Timestamp: it.OccurredAt, Properties: it.Properties}
	}
	return s.api.SendAppEvents(ctx, evs)
}

// FinderAPI is what the finder uses from the HubSpot client.
type FinderAPI interface {
	FindByEmails(ctx context.Context, objectType string, emails []string, properties []string) (map[string]hubspot.Record, error)
	BatchRead(ctx context.Context, objectType string, ids []string, idProperty string, properties []string) (*hubspot.BatchReadResult, error)
}

// HubSpotFinder resolves match values with one batch read (plus, for emails,
// a search of secondary emails when configured).
type HubSpotFinder struct {
	api              FinderAPI
	additionalEmails bool
}

var _ Finder = (*HubSpotFinder)(nil)

// NewHubSpotFinder returns a Finder over the HubSpot client. additionalEmails
// also matches hs_additional_emails (config match.additional_emails).
func NewHubSpotFinder(api FinderAPI, additionalEmails bool) *HubSpotFinder {
	return &HubSpotFinder{api: api, additionalEmails: additionalEmails}
}

// FindByMatch implements Finder.
func (h *HubSpotFinder) FindByMatch(ctx context.Context, objectType, property string, values []string) (map[string]string, error) {
	out := make(map[string]string, len(values))
	if property == "email" && h.additionalEmails {
		recs, err := h.api.FindByEmails(ctx, objectType, values, nil)
		for v, r := range recs {
			out[identity.Normalize(v)] = r.ID
		}
		return out, err
	}
	res, err := h.api.BatchRead(ctx, objectType, values, property, nil)
	if res != nil {
		for v, id := range res.ByRequest {
			out[identity.Normalize(v)] = id
		}
	}
	return out, err
}

// NewSink builds the sink config names (nil for "none"). targets are the ids
// the timeline and app events sinks address HubSpot by, keyed
// "<category>_<status>": pass config's Activity.Targets(), which picks
// activity.timeline_templates or activity.app_event_types by sink.
func NewSink(sink, objectType, prefix string, targets map[string]string, c *hubspot.Client, log *slog.Logger) (Sink, error) {
	switch sink {
	case "", config.SinkCustomEvents:
		return NewCustomEvents(c, objectType, prefix, log), nil
	case config.SinkTimeline, config.SinkAppEvents:
		if len(targets) == 0 {
			// Every event would be dropped as without a target.
			return nil, fmt.Errorf("forward: sink %s needs an id per category and status (activity.timeline_templates or activity.app_event_types), got none", sink)
		}
		if sink == config.SinkTimeline {
			return NewTimeline(c, targets), nil
		}
		return NewAppEvents(c, targets), nil
	case config.SinkNone:
		return nil, nil
	}
	return nil, fmt.Errorf("forward: unknown sink %q", sink)
}
