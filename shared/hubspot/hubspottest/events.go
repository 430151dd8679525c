package hubspottest

import (
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Event is a custom event occurrence the server kept.
type Event struct {
	EventName  string // fully qualified (pe<portal>_<name>)
	ObjectID   string // the record it was attributed to (after merges)
	ObjectType string
	OccurredAt time.Time
	UUID       string
	Email      string
	Properties map[string]string
	ReceivedAt time.Time
}

// EventDefinition is a custom event definition as tests see it.
type EventDefinition struct {
	ID                 string
	Name               string
	Label              string
	Description        string
	FullyQualifiedName string
	PrimaryObject      string
	Properties         []EventProperty
	CreatedAt          time.Time
}

// EventProperty is one property of an event definition.
type EventProperty struct {
	Name    string           `json:"name"`
	Label   string           `json:"label"`
	Type    string           `json:"type"`
	Options []PropertyOption `json:"options"`
}

// TimelineEvent is a timeline (v3) or app (2026-03) event the server kept.
type TimelineEvent struct {
	TemplateID string
	ObjectID   string
	ID         string
	Timestamp  time.Time
	Tokens     map[string]string
	ReceivedAt time.Time
}

type eventDef struct {
	EventDefinition
	objType           string
	includeDefaultsOK bool
}

var (
	eventNamePattern  = regexp.MustCompile(`^[a-z0-9_]{1,100}$`)
	eventPropTypes    = map[string]bool{"string": true, "number": true, "enumeration": true, "datetime": true, "bool": true}
	primaryObjectType = map[string]string{"CONTACT": "contacts", "COMPANY": "companies", "DEAL": "deals", "TICKET": "tickets"}
)

// definitionJSON is an event definition in HubSpot's wire form.
type definitionJSON struct {
	ID                 string            `json:"id"`
	Name               string            `json:"name"`
	Labels             map[string]any    `json:"labels"`
	Description        string            `json:"description"`
	FullyQualifiedName string            `json:"fullyQualifiedName"`
	PrimaryObject      string            `json:"primaryObject"`
	PrimaryObjectID    string            `json:"primaryObjectId"`
	ObjectTypeID       string            `json:"objectTypeId"`
	TrackingType       string            `json:"trackingType"`
	Archived           bool              `json:"archived"`
	CreatedAt          string            `json:"createdAt"`
	Properties         []eventPropJSON   `json:"properties"`
	Associations       []json.RawMessage `json:"associations"`
}

type eventPropJSON struct {
	EventProperty
	Archived       bool `json:"archived"`
	HubspotDefined bool `json:"hubspotDefined"`
}

func (s *Server) definitionWire(d *eventDef) definitionJSON {
	// HubSpot answers the label as labels.singular; there is no label field.
	out := definitionJSON{ID: d.ID, Name: d.Name, Labels: map[string]any{"singular": d.Label, "plural": nil},
		Description: d.Description, FullyQualifiedName: d.FullyQualifiedName, PrimaryObject: d.PrimaryObject,
		TrackingType: "MANUAL", CreatedAt: isoMillis(d.CreatedAt), Properties: []eventPropJSON{}, Associations: []json.RawMessage{},
		ObjectTypeID: "6-" + d.ID}
	if o := s.types[d.objType]; o != nil {
		out.PrimaryObjectID = o.typeID
	}
	for _, p := range d.Properties {
		if p.Options == nil {
			p.Options = []PropertyOption{}
		}
		out.Properties = append(out.Properties, eventPropJSON{EventProperty: p})
	}
	return out
}

// eventsAllowed answers 403 for accounts without an Enterprise hub.
func (s *Server) eventsAllowed(w http.ResponseWriter) bool {
	if !s.opts.CustomEventsForbidden {
		return true
	}
	s.writeError(w, http.StatusForbidden, "MISSING_SCOPES",
		"This account does not have access to custom behavioral events; an Enterprise edition of a HubSpot hub is required.", nil)
	return false
}

// findDef finds a definition by name or fully qualified name (caller holds mu).
func (s *Server) findDef(name string) *eventDef {
	if d := s.defs[name]; d != nil {
		return d
	}
	prefix := fmt.Sprintf("pe%d_", s.opts.PortalID)
	if short, ok := strings.CutPrefix(name, prefix); ok {
		return s.defs[short]
	}
	return nil
}

func (s *Server) handleListDefinitions(w http.ResponseWriter, r *http.Request) {
	if !s.eventsAllowed(w) {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]definitionJSON, 0, len(s.defOrder))
	for _, n := range s.defOrder {
		out = append(out, s.definitionWire(s.defs[n]))
	}
	writeJSON(w, http.StatusOK, map[string]any{"total": len(out), "results": out})
}

func (s *Server) handleGetDefinition(w http.ResponseWriter, r *http.Request) {
	if !s.eventsAllowed(w) {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	d := s.findDef(r.PathValue("name"))
	if d == nil {
		s.writeError(w, http.StatusNotFound, "OBJECT_NOT_FOUND", fmt.Sprintf("Event definition %s not found", r.PathValue("name")), nil)
		return
	}
	writeJSON(w, http.StatusOK, s.definitionWire(d))
}

// validateEventProperty checks a property definition.
func validateEventProperty(p EventProperty) error {
	if !eventNamePattern.MatchString(p.Name) {
		return fmt.Errorf("property name %q must be lower-case letters, digits and underscores", p.Name)
	}
	if !eventPropTypes[p.Type] {
		return fmt.Errorf("property %s has type %q; use string, number, enumeration, datetime or bool", p.Name, p.Type)
	}
	if p.Type == "enumeration" && len(p.Options) == 0 {
		return fmt.Errorf("enumeration property %s needs options", p.Name)
	}
	return nil
}

func (s *Server) handleCreateDefinition(w http.ResponseWriter, r *http.Request) {
	if !s.eventsAllowed(w) {
		return
	}
	var req struct {
		Name                     string          `json:"name"`
		Label                    string          `json:"label"`
		Description              string          `json:"description"`
		PrimaryObject            string          `json:"primaryObject"`
		IncludeDefaultProperties *bool           `json:"includeDefaultProperties"`
		PropertyDefinitions      []EventProperty `json:"propertyDefinitions"`
	}
	if !s.decodeBody(w, r, &req) {
		return
	}
	// label, includeDefaultProperties and propertyDefinitions are required
	// (ExternalBehavioralEventTypeDefinitionEgg).
	switch {
	case req.Label == "":
		s.badRequest(w, "label is required")
		return
	case req.IncludeDefaultProperties == nil:
		s.badRequest(w, "includeDefaultProperties is required")
		return
	case req.PropertyDefinitions == nil:
		s.badRequest(w, "propertyDefinitions is required (send [] for none)")
		return
	}
	if req.Name == "" {
		req.Name = strings.Trim(regexp.MustCompile(`[^a-z0-9]+`).ReplaceAllString(strings.ToLower(req.Label), "_"), "_")
	}
	if !eventNamePattern.MatchString(req.Name) {
		s.badRequest(w, "name %q must be lower-case letters, digits and underscores", req.Name)
		return
	}
	if req.PrimaryObject == "" {
		req.PrimaryObject = "CONTACT"
	}
	seen := map[string]bool{}
	for _, p := range req.PropertyDefinitions {
		if err := validateEventProperty(p); err != nil {
			s.badRequest(w, "%v", err)
			return
		}
		if seen[p.Name] {
			s.badRequest(w, "duplicate property %s", p.Name)
			return
		}
		seen[p.Name] = true
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	objType, ok := primaryObjectType[strings.ToUpper(req.PrimaryObject)]
	if !ok {
		o := s.lookupType(req.PrimaryObject)
		if o == nil {
			s.badRequest(w, "primaryObject %q is not CONTACT, COMPANY, DEAL, TICKET or a custom object", req.PrimaryObject)
			return
		}
		objType = o.name
	}
	if s.defs[req.Name] != nil {
		s.writeError(w, http.StatusConflict, "OBJECT_ALREADY_EXISTS", fmt.Sprintf("An event definition named %s already exists.", req.Name), nil)
		return
	}
	if len(s.defs) >= maxEventDefinitions {
		s.badRequest(w, "This account has reached its limit of %d event definitions.", maxEventDefinitions)
		return
	}
	d := &eventDef{EventDefinition: EventDefinition{ID: strconv.FormatInt(s.nextDefID, 10), Name: req.Name, Label: req.Label,
		Description: req.Description, FullyQualifiedName: fmt.Sprintf("pe%d_%s", s.opts.PortalID, req.Name),
		PrimaryObject: strings.ToUpper(req.PrimaryObject), Properties: slices.Clone(req.PropertyDefinitions), CreatedAt: s.now()},
		objType: objType, includeDefaultsOK: *req.IncludeDefaultProperties}
	s.nextDefID++
	s.defs[d.Name] = d
	s.defOrder = append(s.defOrder, d.Name)
	writeJSON(w, http.StatusCreated, s.definitionWire(d))
}

func (s *Server) handleAddDefinitionProperty(w http.ResponseWriter, r *http.Request) {
	if !s.eventsAllowed(w) {
		return
	}
	var p EventProperty
	if !s.decodeBody(w, r, &p) {
		return
	}
	if err := validateEventProperty(p); err != nil {
		s.badRequest(w, "%v", err)
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	d := s.findDef(r.PathValue("name"))
	if d == nil {
		s.writeError(w, http.StatusNotFound, "OBJECT_NOT_FOUND", fmt.Sprintf("Event definition %s not found", r.PathValue("name")), nil)
		return
	}
	if slices.ContainsFunc(d.Properties, func(x EventProperty) bool { return x.Name == p.Name }) {
		s.writeError(w, http.StatusConflict, "OBJECT_ALREADY_EXISTS", fmt.Sprintf("Property %s already exists on %s.", p.Name, d.Name), nil)
		return
	}
	d.Properties = append(d.Properties, p)
	if p.Options == nil {
		p.Options = []PropertyOption{}
	}
	writeJSON(w, http.StatusCreated, eventPropJSON{EventProperty: p})
}

// EventDefinitions returns the stored definitions.
func (s *Server) EventDefinitions() []EventDefinition {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]EventDefinition, 0, len(s.defOrder))
	for _, n := range s.defOrder {
		d := s.defs[n].EventDefinition
		d.Properties = slices.Clone(d.Properties)
		out = append(out, d)
	}
	return out
}

type occurrenceJSON struct {
	EventName  string                     `json:"eventName"`
	ObjectID   json.RawMessage            `json:"objectId"`
	Email      string                     `json:"email"`
	UTK        string                     `json:"utk"`
	OccurredAt json.RawMessage            `json:"occurredAt"`
	UUID       string                     `json:"uuid"`
	Properties map[string]json.RawMessage `json:"properties"`
}

// checkOccurrence validates one occurrence (caller holds mu). It creates no record.
func (s *Server) checkOccurrence(in occurrenceJSON, now time.Time) (*Event, *eventDef, error) {
	if in.Properties == nil {
		return nil, nil, fmt.Errorf("properties is required (send {} for none)")
	}
	d := s.findDef(in.EventName)
	if d == nil || in.EventName != d.FullyQualifiedName {
		return nil, nil, fmt.Errorf("event %q not found: use the fully qualified name of an existing definition", in.EventName)
	}
	ev := &Event{EventName: d.FullyQualifiedName, ObjectType: d.objType, UUID: in.UUID, Email: in.Email, ReceivedAt: now, OccurredAt: now,
		Properties: map[string]string{}}
	if v, ok := scalarString(in.OccurredAt); ok && v != "" {
		ms, ok := parseTimeMS(v)
		if !ok {
			return nil, nil, fmt.Errorf("occurredAt %q is not a valid timestamp", v)
		}
		ev.OccurredAt = time.UnixMilli(ms).UTC()
	}
	id, _ := scalarString(in.ObjectID)
	o := s.types[d.objType]
	switch {
	case id != "":
		rec := o.resolve(id)
		if rec == nil || rec.archived {
			return nil, nil, fmt.Errorf("objectId %s is not an existing %s", id, strings.ToLower(d.PrimaryObject))
		}
		ev.ObjectID = rec.id
	case in.Email != "" && o.name == "contacts":
	case in.UTK != "":
	default:
		return nil, nil, fmt.Errorf("an occurrence needs objectId, email or utk")
	}
	if len(in.Properties) > maxEventProperties {
		return nil, nil, fmt.Errorf("%d properties; the limit is %d", len(in.Properties), maxEventProperties)
	}
	for name, raw := range in.Properties {
		v, _ := scalarString(raw)
		if n := len([]rune(v)); n > maxEventValueChars {
			return nil, nil, fmt.Errorf("property %s is %d characters; the limit is %d", name, n, maxEventValueChars)
		}
		i := slices.IndexFunc(d.Properties, func(p EventProperty) bool { return p.Name == name })
		if i < 0 {
			if strings.HasPrefix(name, "hs_") {
				ev.Properties[name] = v
				continue
			}
			return nil, nil, fmt.Errorf("property %s is not defined on %s", name, d.Name)
		}
		p := d.Properties[i]
		if e := validateValue(&Property{Name: name, Type: p.Type, Options: p.Options}, name, v); e != nil && v != "" {
			return nil, nil, fmt.Errorf("property %s: %s", name, e.message)
		}
		ev.Properties[name] = v
	}
	return ev, d, nil
}

// storeEvents keeps events, dropping repeats of a uuid per event type within a year
// (caller holds mu).
func (s *Server) storeEvents(evs []*Event, now time.Time) {
	for _, ev := range evs {
		if ev.ObjectID == "" && ev.Email != "" {
			// HubSpot creates a contact for an unknown email: the integration must never cause this.
			o := s.types["contacts"]
			rec := o.byEmail[strings.ToLower(ev.Email)]
			if rec == nil {
				rec = &record{num: s.nextID, props: map[string]string{propEmail: ev.Email}, created: now, updated: now}
				s.nextID++
				rec.id = strconv.FormatInt(rec.num, 10)
				o.recs[rec.id] = rec
				o.order = append(o.order, rec)
				o.indexEmail(rec, nil)
				s.publish(o, rec, now, false)
				s.createdByEml++
			}
			ev.ObjectID = rec.id
		}
		if ev.UUID == "" {
			ev.UUID = fmt.Sprintf("generated-%d-%d", now.UnixNano(), len(s.events))
		}
		key := ev.EventName + "|" + ev.UUID
		if first, ok := s.seenUUIDs[key]; ok && now.Sub(first) < uuidDedupeWindow {
			s.dropped++
			continue
		}
		s.seenUUIDs[key] = now
		s.events = append(s.events, *ev)
	}
}

func (s *Server) handleSendEvent(w http.ResponseWriter, r *http.Request) {
	if !s.eventsAllowed(w) {
		return
	}
	var in occurrenceJSON
	if !s.decodeBody(w, r, &in) {
		return
	}
	s.sendEvents(w, r, []occurrenceJSON{in})
}

func (s *Server) handleSendEventBatch(w http.ResponseWriter, r *http.Request) {
	if !s.eventsAllowed(w) {
		return
	}
	var req struct {
		Inputs []occurrenceJSON `json:"inputs"`
	}
	if !s.decodeBody(w, r, &req) {
		return
	}
	if len(req.Inputs) == 0 {
		s.badRequest(w, "inputs must not be empty")
		return
	}
	if len(req.Inputs) > maxEventBatch {
		s.badRequest(w, "Batch input limit exceeded: %d inputs, the limit is %d", len(req.Inputs), maxEventBatch)
		return
	}
	s.sendEvents(w, r, req.Inputs)
}

// sendEvents validates every occurrence (one bad one rejects the call) and keeps them.
func (s *Server) sendEvents(w http.ResponseWriter, r *http.Request, ins []occurrenceJSON) {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	evs := make([]*Event, 0, len(ins))
	var errs []fieldError
	for i, in := range ins {
		ev, _, err := s.checkOccurrence(in, now)
		if err != nil {
			errs = append(errs, fieldError{Message: err.Error(), Code: "INVALID_EVENT", Context: map[string][]string{"index": {strconv.Itoa(i)}}})
			continue
		}
		evs = append(evs, ev)
	}
	if len(errs) > 0 {
		s.writeError(w, http.StatusBadRequest, "VALIDATION_ERROR", errs[0].Message, errs)
		return
	}
	if s.opts.DuplicateEventUUID == DuplicateReject400 {
		for i, ev := range evs {
			if ev.UUID == "" {
				continue
			}
			if first, ok := s.seenUUIDs[ev.EventName+"|"+ev.UUID]; ok && now.Sub(first) < uuidDedupeWindow {
				s.dropped++
				s.writeError(w, http.StatusBadRequest, "VALIDATION_ERROR",
					fmt.Sprintf("An occurrence with uuid %s was already received for %s.", ev.UUID, ev.EventName),
					[]fieldError{{Message: "duplicate uuid", Code: "DUPLICATE_UUID", Context: map[string][]string{"index": {strconv.Itoa(i)}}}})
				return
			}
		}
	}
	if !stateOf(r).emptyWrite {
		s.storeEvents(evs, now)
	}
	w.WriteHeader(http.StatusNoContent)
}

// Events returns the kept custom event occurrences, in arrival order.
func (s *Server) Events() []Event {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Event, len(s.events))
	for i, ev := range s.events {
		ev.Properties = maps.Clone(ev.Properties)
		out[i] = ev
	}
	return out
}

// DroppedDuplicates counts occurrences dropped as repeats of a kept uuid.
func (s *Server) DroppedDuplicates() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.dropped
}
