package hubspottest

import (
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"time"
)

type timelineJSON struct {
	EventTemplateID json.RawMessage            `json:"eventTemplateId"`
	EventTypeName   json.RawMessage            `json:"eventTypeName"`
	EventTypeID     json.RawMessage            `json:"eventTypeId"`
	ObjectID        json.RawMessage            `json:"objectId"`
	Email           string                     `json:"email"`
	ID              string                     `json:"id"`
	Timestamp       json.RawMessage            `json:"timestamp"`
	Tokens          map[string]json.RawMessage `json:"tokens"`
	Properties      map[string]json.RawMessage `json:"properties"`
}

// checkTimeline validates one timeline (v3: eventTemplateId and tokens required) or app
// event (2026-03 AppEventOccurrence: eventTypeName, id and properties required; there is
// no eventTypeId) (caller holds mu).
func (s *Server) checkTimeline(in timelineJSON, now time.Time, app bool) (TimelineEvent, error) {
	ev := TimelineEvent{ID: in.ID, Timestamp: now, ReceivedAt: now, Tokens: map[string]string{}}
	var tpl string
	var ok bool
	if app {
		if len(in.EventTypeID) > 0 {
			return ev, fmt.Errorf("unrecognized field eventTypeId: name the app event type by eventTypeName")
		}
		if tpl, ok = scalarString(in.EventTypeName); !ok || tpl == "" {
			return ev, fmt.Errorf("eventTypeName is required")
		}
		if in.Properties == nil {
			return ev, fmt.Errorf("properties is required (send {} for none)")
		}
	} else {
		if tpl, ok = scalarString(in.EventTemplateID); !ok || tpl == "" {
			return ev, fmt.Errorf("eventTemplateId is required")
		}
		if in.Tokens == nil {
			return ev, fmt.Errorf("tokens is required (send {} for none)")
		}
	}
	ev.TemplateID = tpl
	if ev.ID == "" {
		return ev, fmt.Errorf("id is required")
	}
	if in.Email != "" {
		return ev, fmt.Errorf("identify the record by objectId: an email can create a contact")
	}
	id, _ := scalarString(in.ObjectID)
	var found *record
	for _, name := range s.typeOrder {
		if rec := s.types[name].resolve(id); rec != nil && !rec.archived {
			found = rec
			break
		}
	}
	if found == nil {
		return ev, fmt.Errorf("objectId %q is not an existing record", id)
	}
	ev.ObjectID = found.id
	if v, ok := scalarString(in.Timestamp); ok && v != "" {
		ms, ok := parseTimeMS(v)
		if !ok {
			return ev, fmt.Errorf("timestamp %q is not valid", v)
		}
		ev.Timestamp = time.UnixMilli(ms).UTC()
	}
	for _, m := range []map[string]json.RawMessage{in.Tokens, in.Properties} {
		for k, raw := range m {
			v, _ := scalarString(raw)
			ev.Tokens[k] = v
		}
	}
	return ev, nil
}

// acceptTimeline validates a batch; any duplicate id (stored or within the batch)
// rejects the whole batch with 409.
func (s *Server) acceptTimeline(w http.ResponseWriter, r *http.Request, ins []timelineJSON, app, single bool) {
	if !stateOf(r).oauth && !s.opts.AppEventsAllowStaticToken {
		s.writeError(w, http.StatusForbidden, "MISSING_SCOPES", "Timeline and app events need an OAuth access token of an installed app.", nil)
		return
	}
	if len(ins) == 0 || len(ins) > maxTimelineBatch {
		s.badRequest(w, "a batch holds 1 to %d events, got %d", maxTimelineBatch, len(ins))
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	ids, store := s.timelineIDs, &s.timeline
	if app {
		ids, store = s.appEventIDs, &s.appEvents
	}
	evs := make([]TimelineEvent, 0, len(ins))
	batch := map[string]bool{}
	var itemErrs []batchError
	for _, in := range ins {
		ev, err := s.checkTimeline(in, now, app)
		if err != nil && s.opts.TimelineItemErrors && !single {
			itemErrs = append(itemErrs, batchError{Status: "error", Category: "VALIDATION_ERROR", Message: err.Error(),
				Context: map[string][]string{"id": {in.ID}}})
			continue
		}
		if err != nil {
			s.badRequest(w, "%v", err)
			return
		}
		key := ev.TemplateID + "|" + ev.ID
		if ids[key] || batch[key] {
			s.writeError(w, http.StatusConflict, "CONFLICT", fmt.Sprintf("An event with id %s already exists.", ev.ID), nil)
			return
		}
		batch[key] = true
		evs = append(evs, ev)
	}
	results := make([]map[string]any, 0, len(evs))
	for _, ev := range evs {
		if !stateOf(r).emptyWrite {
			ids[ev.TemplateID+"|"+ev.ID] = true
			*store = append(*store, ev)
		}
		results = append(results, map[string]any{"id": ev.ID, "eventTemplateId": ev.TemplateID, "objectId": ev.ObjectID,
			"timestamp": isoMillis(ev.Timestamp), "tokens": ev.Tokens})
	}
	if single {
		writeJSON(w, http.StatusCreated, results[0])
		return
	}
	body := map[string]any{"status": "COMPLETE", "results": results, "startedAt": isoMillis(now), "completedAt": isoMillis(now)}
	status := http.StatusCreated // timeline v3 batch/create
	if app {
		status = http.StatusOK // app events batch
	}
	if len(itemErrs) > 0 {
		body["numErrors"], body["errors"] = len(itemErrs), itemErrs
		if !app {
			status = http.StatusMultiStatus
		}
	}
	writeJSON(w, status, body)
}

func (s *Server) handleTimelineOne(w http.ResponseWriter, r *http.Request) {
	var in timelineJSON
	if s.decodeBody(w, r, &in) {
		s.acceptTimeline(w, r, []timelineJSON{in}, false, true)
	}
}

func (s *Server) handleTimelineBatch(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Inputs []timelineJSON `json:"inputs"`
	}
	if s.decodeBody(w, r, &req) {
		s.acceptTimeline(w, r, req.Inputs, false, false)
	}
}

func (s *Server) handleAppEventOne(w http.ResponseWriter, r *http.Request) {
	var in timelineJSON
	if s.decodeBody(w, r, &in) {
		s.acceptTimeline(w, r, []timelineJSON{in}, true, true)
	}
}

func (s *Server) handleAppEventBatch(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Inputs []timelineJSON `json:"inputs"`
	}
	if s.decodeBody(w, r, &req) {
		s.acceptTimeline(w, r, req.Inputs, true, false)
	}
}

// TimelineEvents returns the kept v3 timeline events.
func (s *Server) TimelineEvents() []TimelineEvent {
	s.mu.Lock()
	defer s.mu.Unlock()
	return cloneTimeline(s.timeline)
}

// AppEvents returns the kept 2026-03 app events.
func (s *Server) AppEvents() []TimelineEvent {
	s.mu.Lock()
	defer s.mu.Unlock()
	return cloneTimeline(s.appEvents)
}

func cloneTimeline(in []TimelineEvent) []TimelineEvent {
	out := make([]TimelineEvent, len(in))
	for i, ev := range in {
		ev.Tokens = maps.Clone(ev.Tokens)
		out[i] = ev
	}
	return out
}
