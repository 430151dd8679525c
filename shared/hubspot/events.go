package hubspot

import (
	"context"
	"crypto/sha1"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"time"
	"unicode/utf8"
)

// Custom event limits (HUBSPOT.md "Custom (behavioral) events").
const (
	// MaxEventBatch is the most occurrences one send/batch call takes.
	MaxEventBatch = 500
	// MaxEventProperties is the most properties one occurrence carries.
	MaxEventProperties = 50
	// MaxEventValueLen is the longest property value, in characters.
	MaxEventValueLen = 256
	// MaxTimelineBatch is our batch size for timeline and app events; HubSpot's own cap is not
	// in HUBSPOT.md, so this stays at the conservative CRM batch size.
	MaxTimelineBatch = 100
)

// EventProperty is one property of a custom event definition.
type EventProperty struct {
	Name  string `json:"name"`
	Label string `json:"label"`
	Type  string `json:"type"`
}

// EventDefinition is a custom (behavioral) event definition.
type EventDefinition struct {
	Name  string
	Label string
	// FullyQualifiedName ("pe<portalId>_<name>") is what SendEvents needs as EventName.
	FullyQualifiedName string
	// PrimaryObject is CONTACT, COMPANY, DEAL, TICKET or a custom object; it cannot change.
	PrimaryObject string
	Description   string
	Properties    []EventProperty
}

type eventDefinitionJSON struct {
	Name                     string          `json:"name"`
	Label                    string          `json:"label"`
	FullyQualifiedName       string          `json:"fullyQualifiedName,omitempty"`
	PrimaryObject            string          `json:"primaryObject"`
	Description              string          `json:"description,omitempty"`
	IncludeDefaultProperties *bool           `json:"includeDefaultProperties,omitempty"`
	PropertyDefinitions      []EventProperty `json:"propertyDefinitions,omitempty"`
	Properties               []EventProperty `json:"properties,omitempty"`
}

func (d eventDefinitionJSON) definition() EventDefinition {
	props := d.Properties
	if len(props) == 0 {
		props = d.PropertyDefinitions
	}
	return EventDefinition{Name: d.Name, Label: d.Label, FullyQualifiedName: d.FullyQualifiedName,
		PrimaryObject: d.PrimaryObject, Description: d.Description, Properties: props}
}

// ListEventDefinitions lists the account's custom event definitions (all pages).
func (c *Client) ListEventDefinitions(ctx context.Context) ([]EventDefinition, error) {
	var defs []EventDefinition
	after := ""
	for {
		var out struct {
			Results []eventDefinitionJSON `json:"results"`
			Paging  *paging               `json:"paging"`
		}
		r := &request{endpoint: "event_definitions", method: http.MethodGet, path: apiPath(c.version, "events", "event-definitions")}
		if after != "" {
			r.query = map[string][]string{"after": {after}}
		}
		if _, err := c.do(ctx, r, &out); err != nil {
			return nil, fmt.Errorf("hubspot: list event definitions: %w", enterpriseHint(err))
		}
		for _, d := range out.Results {
			defs = append(defs, d.definition())
		}
		if after = out.Paging.after(); after == "" {
			return defs, nil
		}
	}
}

// CreateEventDefinition creates a custom event definition (without HubSpot's default
// properties) and returns it with its FullyQualifiedName.
func (c *Client) CreateEventDefinition(ctx context.Context, d EventDefinition) (*EventDefinition, error) {
	no := false
	in := eventDefinitionJSON{Name: d.Name, Label: d.Label, PrimaryObject: d.PrimaryObject, Description: d.Description,
		IncludeDefaultProperties: &no, PropertyDefinitions: d.Properties}
	var out eventDefinitionJSON
	if _, err := c.do(ctx, &request{endpoint: "event_definitions", method: http.MethodPost, path: apiPath(c.version, "events", "event-definitions"), body: in}, &out); err != nil {
		return nil, fmt.Errorf("hubspot: create event definition %s: %w", d.Name, enterpriseHint(err))
	}
	got := out.definition()
	if got.FullyQualifiedName == "" {
		return nil, fmt.Errorf("hubspot: create event definition %s: response has no fullyQualifiedName", d.Name)
	}
	return &got, nil
}

// ErrEnterpriseRequired wraps a 403 from the custom event API: it needs an Enterprise hub.
var ErrEnterpriseRequired = errors.New("hubspot: custom events need an Enterprise edition of a HubSpot hub")

func enterpriseHint(err error) error {
	var ae *APIError
	if errors.As(err, &ae) && ae.Status == http.StatusForbidden {
		return fmt.Errorf("%w: %w", ErrEnterpriseRequired, err)
	}
	return err
}

// EventOccurrence is one custom event to send.
type EventOccurrence struct {
	// EventName is the definition's FullyQualifiedName.
	EventName string
	// ObjectID is the HubSpot record id (never an email: that could create contacts).
	ObjectID   string
	OccurredAt time.Time
	// UUID makes a redelivery harmless: HubSpot keeps the first occurrence per uuid. Derive it
	// with EventUUID; it is required.
	UUID       string
	Properties map[string]string
}

type eventJSON struct {
	EventName  string            `json:"eventName"`
	ObjectID   string            `json:"objectId"`
	OccurredAt string            `json:"occurredAt,omitempty"`
	UUID       string            `json:"uuid"`
	Properties map[string]string `json:"properties,omitempty"`
}

// SendEvents sends custom event occurrences in batches of MaxEventBatch (204, no per-item
// result). On a date-based version, the send path that answers is remembered: the configured
// one is tried first and the other on a 404, once.
func (c *Client) SendEvents(ctx context.Context, events []EventOccurrence) error {
	for i, e := range events {
		if err := validateEvent(e); err != nil {
			return fmt.Errorf("hubspot: send events: event %d: %w", i, err)
		}
	}
	for chunk := range slices.Chunk(events, MaxEventBatch) {
		body := struct {
			Inputs []eventJSON `json:"inputs"`
		}{}
		for _, e := range chunk {
			ej := eventJSON{EventName: e.EventName, ObjectID: e.ObjectID, UUID: e.UUID, Properties: e.Properties}
			if !e.OccurredAt.IsZero() {
				ej.OccurredAt = formatDateTime(e.OccurredAt)
			}
			body.Inputs = append(body.Inputs, ej)
		}
		if err := c.sendEventBatch(ctx, body); err != nil {
			return fmt.Errorf("hubspot: send %d events: %w", len(chunk), enterpriseHint(err))
		}
	}
	return nil
}

func validateEvent(e EventOccurrence) error {
	switch {
	case e.EventName == "":
		return errors.New("no event name")
	case e.ObjectID == "":
		return errors.New("no object id")
	case e.UUID == "":
		return errors.New("no uuid (use EventUUID)")
	case len(e.Properties) > MaxEventProperties:
		return fmt.Errorf("%d properties, hubspot allows %d", len(e.Properties), MaxEventProperties)
	}
	for k, v := range e.Properties {
		if utf8.RuneCountInString(v) > MaxEventValueLen {
			return fmt.Errorf("property %s is %d characters, hubspot allows %d", k, utf8.RuneCountInString(v), MaxEventValueLen)
		}
	}
	return nil
}

func (c *Client) sendEventBatch(ctx context.Context, body any) error {
	if c.version == APIVersionV3 {
		_, err := c.do(ctx, &request{endpoint: "events_send", method: http.MethodPost, path: apiPath(c.version, "events", "send", "batch"), body: body}, nil)
		return err
	}
	c.eventsMu.Lock()
	family, confirmed := c.eventsPath, c.eventsConfirmed
	c.eventsMu.Unlock()
	_, err := c.do(ctx, &request{endpoint: "events_send", method: http.MethodPost, path: apiPath(c.version, family, "send", "batch"), body: body}, nil)
	if errors.Is(err, ErrNotFound) && !confirmed {
		other := EventsPathCustom
		if family == EventsPathCustom {
			other = EventsPathPlain
		}
		c.log.LogAttrs(ctx, slog.LevelWarn, "hubspot events path answered 404, trying the other",
			slog.String("tried", apiPath(c.version, family, "send", "batch")), slog.String("next", apiPath(c.version, other, "send", "batch")))
		_, err2 := c.do(ctx, &request{endpoint: "events_send", method: http.MethodPost, path: apiPath(c.version, other, "send", "batch"), body: body}, nil)
		if err2 == nil {
			c.eventsMu.Lock()
			c.eventsPath, c.eventsConfirmed = other, true
			c.eventsMu.Unlock()
			return nil
		}
		if errors.Is(err2, ErrNotFound) {
			return fmt.Errorf("neither events path answered: %w", err)
		}
		return err2
	}
	if err == nil && !confirmed {
		c.eventsMu.Lock()
		if c.eventsPath == family {
			c.eventsConfirmed = true
		}
		c.eventsMu.Unlock()
	}
	return err
}

// EventsPath reports the custom-event send path family in use and whether HubSpot has
// confirmed it (by a successful send).
func (c *Client) EventsPath() (family string, confirmed bool) {
	c.eventsMu.Lock()
	defer c.eventsMu.Unlock()
	return c.eventsPath, c.eventsConfirmed
}

// eventUUIDNamespace is pilotsync's UUID v5 namespace (itself a v5 UUID of "pilotsync" in the
// URL namespace), fixed forever: changing it would re-send every event.
var eventUUIDNamespace = [16]byte{0x5b, 0x1e, 0x3a, 0x44, 0x0c, 0x2d, 0x5f, 0x8e, 0x9a, 0x61, 0x27, 0x1f, 0x4c, 0x8d, 0x90, 0x3e}

// EventUUID derives an occurrence uuid from the source event's id and the event name (RFC 4122
// version 5: SHA-1 over a fixed namespace), so a redelivered event gets the same uuid and
// HubSpot drops the repeat.
func EventUUID(sourceEventID, eventName string) string {
	h := sha1.New()
	h.Write(eventUUIDNamespace[:])
	h.Write([]byte(eventName))
	h.Write([]byte{0})
	h.Write([]byte(sourceEventID))
	var u [16]byte
	copy(u[:], h.Sum(nil))
	u[6] = (u[6] & 0x0f) | 0x50 // version 5
	u[8] = (u[8] & 0x3f) | 0x80 // RFC 4122 variant
	return fmt.Sprintf("%x-%x-%x-%x-%x", u[0:4], u[4:6], u[6:8], u[8:10], u[10:16])
}

// TimelineEvent is a v3 timeline event (partner public apps with templates only).
type TimelineEvent struct {
	TemplateID string
	ObjectID   string
	// ID is unique per event; HubSpot rejects a repeat with 409.
	ID        string
	Timestamp time.Time
	Tokens    map[string]string
}

// SendTimelineEvents sends timeline events with POST /integrators/timeline/v3/events/batch/create
// (always the v3 path: timeline events have no date-based version). A 409 for an id that
// already exists counts as delivered.
func (c *Client) SendTimelineEvents(ctx context.Context, events []TimelineEvent) error {
	type in struct {
		EventTemplateID string            `json:"eventTemplateId"`
		ObjectID        string            `json:"objectId"`
		ID              string            `json:"id"`
		Timestamp       string            `json:"timestamp,omitempty"`
		Tokens          map[string]string `json:"tokens,omitempty"`
	}
	inputs := make([]dedupInput, len(events))
	for i, e := range events {
		if e.ID == "" || e.ObjectID == "" || e.TemplateID == "" {
			return fmt.Errorf("hubspot: send timeline events: event %d needs template id, object id and id", i)
		}
		j := in{EventTemplateID: e.TemplateID, ObjectID: e.ObjectID, ID: e.ID, Tokens: e.Tokens}
		if !e.Timestamp.IsZero() {
			j.Timestamp = formatDateTime(e.Timestamp)
		}
		inputs[i] = dedupInput{id: e.ID, body: j}
	}
	path := apiPath(APIVersionV3, "timeline", "events", "batch", "create")
	if err := c.sendDeduplicated(ctx, "timeline_events", path, inputs); err != nil {
		return fmt.Errorf("hubspot: send %d timeline events: %w", len(events), err)
	}
	return nil
}

// AppEvent is a 2026-03 app event (needs HubSpot's approval for the app).
type AppEvent struct {
	// EventTypeID is the app event type's id.
	EventTypeID string
	ObjectID    string
	// ID is unique per occurrence; HubSpot rejects a batch holding a known id with 409.
	ID         string
	Timestamp  time.Time
	Properties map[string]string
}

// SendAppEvents sends app events with POST /integrators/timeline/2026-03/events/batch (always
// the 2026-03 path). A 409 means an id was already delivered: the batch is split so the others
// still go out, and a single event's 409 counts as delivered.
func (c *Client) SendAppEvents(ctx context.Context, events []AppEvent) error {
	type in struct {
		EventTypeID string            `json:"eventTypeId"`
		ObjectID    string            `json:"objectId"`
		ID          string            `json:"id"`
		Timestamp   string            `json:"timestamp,omitempty"`
		Properties  map[string]string `json:"properties,omitempty"`
	}
	inputs := make([]dedupInput, len(events))
	for i, e := range events {
		if e.ID == "" || e.ObjectID == "" || e.EventTypeID == "" {
			return fmt.Errorf("hubspot: send app events: event %d needs event type id, object id and id", i)
		}
		j := in{EventTypeID: e.EventTypeID, ObjectID: e.ObjectID, ID: e.ID, Properties: e.Properties}
		if !e.Timestamp.IsZero() {
			j.Timestamp = formatDateTime(e.Timestamp)
		}
		inputs[i] = dedupInput{id: e.ID, body: j}
	}
	path := apiPath(APIVersion202603, "timeline", "events", "batch")
	if err := c.sendDeduplicated(ctx, "app_events", path, inputs); err != nil {
		return fmt.Errorf("hubspot: send %d app events: %w", len(events), err)
	}
	return nil
}

type dedupInput struct {
	id   string
	body any
}

// sendDeduplicated posts inputs in batches where HubSpot answers 409 when any id already
// exists. The 409's context ids (if given) are dropped and the rest resent; otherwise the
// batch is halved until the duplicates are alone (and counted as delivered).
func (c *Client) sendDeduplicated(ctx context.Context, endpoint, path string, inputs []dedupInput) error {
	for chunk := range slices.Chunk(inputs, MaxTimelineBatch) {
		if err := c.sendDedupChunk(ctx, endpoint, path, chunk); err != nil {
			return err
		}
	}
	return nil
}

func (c *Client) sendDedupChunk(ctx context.Context, endpoint, path string, chunk []dedupInput) error {
	if len(chunk) == 0 {
		return nil
	}
	body := struct {
		Inputs []any `json:"inputs"`
	}{}
	for _, in := range chunk {
		body.Inputs = append(body.Inputs, in.body)
	}
	_, err := c.do(ctx, &request{endpoint: endpoint, method: http.MethodPost, path: path, body: body}, nil)
	var ae *APIError
	if !errors.As(err, &ae) || ae.Status != http.StatusConflict {
		return err
	}
	if len(chunk) == 1 {
		return nil // already delivered
	}
	dup := map[string]bool{}
	for _, fe := range ae.Errors {
		for _, id := range fe.Context["ids"] {
			dup[id] = true
		}
	}
	var rest []dedupInput
	for _, in := range chunk {
		if !dup[in.id] {
			rest = append(rest, in)
		}
	}
	if len(rest) < len(chunk) {
		return c.sendDedupChunk(ctx, endpoint, path, rest)
	}
	mid := len(chunk) / 2
	if err := c.sendDedupChunk(ctx, endpoint, path, chunk[:mid]); err != nil {
		return err
	}
	return c.sendDedupChunk(ctx, endpoint, path, chunk[mid:])
}
