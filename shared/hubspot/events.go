package hubspot

import (
	"context"
	"crypto/sha1"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"time"
	"unicode/utf8"
)

// Custom event limits, from HubSpot's custom events guide
// (https://developers.hubspot.com/docs/api-reference/latest/events/send-event-data/batch-send-occurrences
// and https://developers.hubspot.com/docs/guides/api/analytics-and-events/custom-events/custom-event-definitions).
const (
	// MaxEventBatch is the most occurrences one send/batch call takes.
	MaxEventBatch = 500
	// MaxEventProperties is the most properties one occurrence carries.
	MaxEventProperties = 50
	// MaxEventValueLen is the longest property value, in characters.
	MaxEventValueLen = 256
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

// eventDefinitionCreate is the body of a definition create: propertyDefinitions is
// required by HubSpot's spec, so it is always sent (an empty list when there are none).
type eventDefinitionCreate struct {
	Name                     string          `json:"name"`
	Label                    string          `json:"label"`
	PrimaryObject            string          `json:"primaryObject"`
	Description              string          `json:"description,omitempty"`
	IncludeDefaultProperties bool            `json:"includeDefaultProperties"`
	PropertyDefinitions      []EventProperty `json:"propertyDefinitions"`
}

// eventDefinitionJSON is a definition as HubSpot answers it: the label comes as
// labels.singular (and labels.plural), not as label.
type eventDefinitionJSON struct {
	Name               string `json:"name"`
	FullyQualifiedName string `json:"fullyQualifiedName"`
	PrimaryObject      string `json:"primaryObject"`
	Description        string `json:"description"`
	Labels             struct {
		Singular string `json:"singular"`
		Plural   string `json:"plural"`
	} `json:"labels"`
	Properties []EventProperty `json:"properties"`
}

func (d eventDefinitionJSON) definition() EventDefinition {
	return EventDefinition{Name: d.Name, Label: d.Labels.Singular, FullyQualifiedName: d.FullyQualifiedName,
		PrimaryObject: d.PrimaryObject, Description: d.Description, Properties: d.Properties}
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
	in := eventDefinitionCreate{Name: d.Name, Label: d.Label, PrimaryObject: d.PrimaryObject, Description: d.Description,
		PropertyDefinitions: d.Properties}
	if in.PropertyDefinitions == nil {
		in.PropertyDefinitions = []EventProperty{}
	}
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
	Properties map[string]string `json:"properties"`
}

// SendEvents sends custom event occurrences with POST /events/<version>/send/batch in batches
// of MaxEventBatch (204, no per-item result). properties is required by the spec, so an
// occurrence without any sends {}.
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
			if ej.Properties == nil {
				ej.Properties = map[string]string{}
			}
			if !e.OccurredAt.IsZero() {
				ej.OccurredAt = formatDateTime(e.OccurredAt)
			}
			body.Inputs = append(body.Inputs, ej)
		}
		r := &request{endpoint: "events_send", method: http.MethodPost, path: apiPath(c.version, "events", "send", "batch"), body: body}
		if _, err := c.do(ctx, r, nil); err != nil {
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
