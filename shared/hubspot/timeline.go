package hubspot

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/pilotsync/pilotsync/shared/internal/bisect"
)

// MaxTimelineBatch is the most timeline or app events one batch call carries. HubSpot's
// OpenAPI descriptions of /integrators/timeline/v3/events/batch/create and
// /integrators/timeline/2026-03/events/batch state no limit; its timeline batch documentation
// allows up to 100 events per batch
// (https://developers.hubspot.com/docs/methods/timeline/batch-create-or-update-events).
const MaxTimelineBatch = 100

// TimelineEvent is a v3 timeline event (partner public apps with templates only).
type TimelineEvent struct {
	TemplateID string
	ObjectID   string
	// ID is unique per event; HubSpot rejects a repeat with 409.
	ID        string
	Timestamp time.Time
	// Tokens are the template's token values; HubSpot requires the field, so none sends {}.
	Tokens map[string]string
}

// AppEvent is a 2026-03 app event occurrence (needs HubSpot's approval for the app).
type AppEvent struct {
	// EventTypeName is the fully qualified name of the app event type.
	EventTypeName string
	ObjectID      string
	// ID is unique per occurrence; HubSpot rejects a batch holding a known id with 409.
	ID        string
	Timestamp time.Time
	// Properties are required by HubSpot; none sends {}.
	Properties map[string]string
}

// ItemError is one event of a batch that HubSpot did not write.
type ItemError struct {
	// Index is the event's position in the slice given to the send call.
	Index int
	// ID is the event's id.
	ID       string
	Category string
	Message  string
	// Retryable is true when sending the event again may succeed; false when HubSpot
	// refused the event itself (validation).
	Retryable bool
}

// ItemsError reports the events of a send that HubSpot did not write; every other event of
// the call was written. Match it with errors.As.
type ItemsError struct {
	Endpoint string
	Items    []ItemError
}

// Error names how many events failed and the first reason.
func (e *ItemsError) Error() string {
	if len(e.Items) == 0 {
		return "hubspot: " + e.Endpoint + ": no failed events"
	}
	f := e.Items[0]
	return fmt.Sprintf("hubspot: %s: %d events not written, first %s: %s: %s", e.Endpoint, len(e.Items), f.ID, f.Category, f.Message)
}

// SendTimelineEvents sends timeline events with POST /integrators/timeline/v3/events/batch/create
// (always the v3 path: timeline events have no date-based version). A 409 for an id that
// already exists counts as delivered. Events the answer lists in errors[] are not written:
// they come back in an *ItemsError.
func (c *Client) SendTimelineEvents(ctx context.Context, events []TimelineEvent) error {
	type in struct {
		EventTemplateID string            `json:"eventTemplateId"`
		ObjectID        string            `json:"objectId"`
		ID              string            `json:"id"`
		Timestamp       string            `json:"timestamp,omitempty"`
		Tokens          map[string]string `json:"tokens"`
	}
	inputs := make([]dedupInput, len(events))
	for i, e := range events {
		if e.ID == "" || e.ObjectID == "" || e.TemplateID == "" {
			return fmt.Errorf("hubspot: send timeline events: event %d needs template id, object id and id", i)
		}
		j := in{EventTemplateID: e.TemplateID, ObjectID: e.ObjectID, ID: e.ID, Tokens: e.Tokens}
		if j.Tokens == nil {
			j.Tokens = map[string]string{}
		}
		if !e.Timestamp.IsZero() {
			j.Timestamp = formatDateTime(e.Timestamp)
		}
		inputs[i] = dedupInput{index: i, id: e.ID, body: j}
	}
	path := apiPath(APIVersionV3, "timeline", "events", "batch", "create")
	if err := c.sendDeduplicated(ctx, "timeline_events", path, inputs); err != nil {
		return fmt.Errorf("hubspot: send %d timeline events: %w", len(events), err)
	}
	return nil
}

// SendAppEvents sends app events with POST /integrators/timeline/2026-03/events/batch (always
// the 2026-03 path). A 409 means an id was already delivered: the batch is split so the others
// still go out, and a single event's 409 counts as delivered. Events the answer lists in
// errors[] come back in an *ItemsError.
func (c *Client) SendAppEvents(ctx context.Context, events []AppEvent) error {
	type in struct {
		EventTypeName string            `json:"eventTypeName"`
		ObjectID      string            `json:"objectId"`
		ID            string            `json:"id"`
		Timestamp     string            `json:"timestamp,omitempty"`
		Properties    map[string]string `json:"properties"`
	}
	inputs := make([]dedupInput, len(events))
	for i, e := range events {
		if e.ID == "" || e.ObjectID == "" || e.EventTypeName == "" {
			return fmt.Errorf("hubspot: send app events: event %d needs event type name, object id and id", i)
		}
		j := in{EventTypeName: e.EventTypeName, ObjectID: e.ObjectID, ID: e.ID, Properties: e.Properties}
		if j.Properties == nil {
			j.Properties = map[string]string{}
		}
		if !e.Timestamp.IsZero() {
			j.Timestamp = formatDateTime(e.Timestamp)
		}
		inputs[i] = dedupInput{index: i, id: e.ID, body: j}
	}
	path := apiPath(APIVersion202603, "timeline", "events", "batch")
	if err := c.sendDeduplicated(ctx, "app_events", path, inputs); err != nil {
		return fmt.Errorf("hubspot: send %d app events: %w", len(events), err)
	}
	return nil
}

type dedupInput struct {
	index int // position in the caller's slice
	id    string
	body  any
}

// timelineBatchResponse is the answer of both batch paths (the spec's
// BatchResponseTimelineEventResponseWithErrors and BatchResponseAppEventOccurrence).
type timelineBatchResponse struct {
	Status  string `json:"status"`
	Results []struct {
		ID string `json:"id"`
	} `json:"results"`
	NumErrors int          `json:"numErrors"`
	Errors    []batchError `json:"errors"`
}

// sendDeduplicated posts inputs in batches where HubSpot answers 409 when any id already
// exists, and collects the events the answers list as not written.
func (c *Client) sendDeduplicated(ctx context.Context, endpoint, path string, inputs []dedupInput) error {
	var failed []ItemError
	for chunk := range slices.Chunk(inputs, MaxTimelineBatch) {
		if err := c.sendDedupChunk(ctx, endpoint, path, chunk, &failed); err != nil {
			return err
		}
	}
	if len(failed) > 0 {
		slices.SortFunc(failed, func(a, b ItemError) int { return a.Index - b.Index })
		return &ItemsError{Endpoint: endpoint, Items: failed}
	}
	return nil
}

// sendDedupChunk sends one batch. On a 409 the ids it names (if any) are dropped as delivered
// and the rest resent; otherwise the batch is halved until the duplicates are alone (and
// counted as delivered).
func (c *Client) sendDedupChunk(ctx context.Context, endpoint, path string, chunk []dedupInput, failed *[]ItemError) error {
	if len(chunk) == 0 {
		return nil
	}
	body := struct {
		Inputs []any `json:"inputs"`
	}{}
	for _, in := range chunk {
		body.Inputs = append(body.Inputs, in.body)
	}
	var out timelineBatchResponse
	_, err := c.do(ctx, &request{endpoint: endpoint, method: http.MethodPost, path: path, body: body}, &out)
	var ae *APIError
	if err == nil {
		*failed = append(*failed, itemErrors(chunk, out)...)
		return nil
	}
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
		return c.sendDedupChunk(ctx, endpoint, path, rest, failed)
	}
	_, err = bisect.Halves(chunk, func(part []dedupInput) error { return c.sendDedupChunk(ctx, endpoint, path, part, failed) })
	return err
}

// itemErrors returns the events of chunk that a 2xx answer lists as not written. An error is
// matched to its event by the id in its context (ids, id or eventId) or its own id field;
// when the answer counts more errors than it attributes, every event missing from results
// is taken as not written (retryable: a resend of a written one answers 409, which counts as
// delivered).
func itemErrors(chunk []dedupInput, out timelineBatchResponse) []ItemError {
	if out.NumErrors == 0 && len(out.Errors) == 0 {
		return nil
	}
	byID := make(map[string]dedupInput, len(chunk))
	for _, in := range chunk {
		byID[in.id] = in
	}
	var items []ItemError
	done := map[string]bool{}
	for _, e := range out.Errors {
		if isConflict(e) {
			for _, id := range e.eventIDs() {
				done[id] = true // already written
			}
			continue
		}
		for _, id := range e.eventIDs() {
			in, ok := byID[id]
			if !ok || done[id] {
				continue
			}
			done[id] = true
			items = append(items, ItemError{Index: in.index, ID: id, Category: e.Category, Message: redactEmails(e.Message),
				Retryable: !validationCategory(e.Category)})
		}
	}
	if max(out.NumErrors, len(out.Errors)) > len(done) {
		written := map[string]bool{}
		for _, r := range out.Results {
			written[r.ID] = true
		}
		for _, in := range chunk {
			if !done[in.id] && !written[in.id] {
				done[in.id] = true
				items = append(items, ItemError{Index: in.index, ID: in.id, Category: CategoryNotWritten,
					Message: "hubspot reported errors without naming this event, and did not return it", Retryable: true})
			}
		}
	}
	return items
}

// eventIDs are the event ids a batch error names.
func (e batchError) eventIDs() []string {
	ctx := contextStrings(e.Context)
	ids := append(append(slices.Clone(ctx["ids"]), ctx["id"]...), ctx["eventId"]...)
	if e.ID != "" {
		ids = append(ids, e.ID)
	}
	return ids
}

func isConflict(e batchError) bool {
	return e.Category == "CONFLICT" || e.Category == "OBJECT_ALREADY_EXISTS" || e.Status == strconv.Itoa(http.StatusConflict)
}

// validationCategory reports a category saying the input itself is wrong.
func validationCategory(cat string) bool {
	return strings.HasPrefix(cat, "VALIDATION") || strings.HasPrefix(cat, "INVALID") || cat == "OBJECT_NOT_FOUND"
}
