package hubspot

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strconv"

	"github.com/pilotsync/pilotsync/shared/internal/bisect"
)

// UpdateInput is one record's update: HubSpot-encoded values ("" clears a value).
type UpdateInput struct {
	ID         string
	Properties map[string]string
}

// RecordError is one record's failure in a batch.
type RecordError struct {
	ID       string
	Category string // HubSpot's category, or NOT_WRITTEN, or the error's kind
	Message  string
	Property string
	// Retryable is true when sending the same update again may succeed.
	Retryable bool
}

// Error names the record and why HubSpot refused it.
func (e RecordError) Error() string {
	s := fmt.Sprintf("hubspot: record %s: %s", e.ID, e.Category)
	if e.Property != "" {
		s += " (" + e.Property + ")"
	}
	if e.Message != "" {
		s += ": " + e.Message
	}
	return s
}

// CategoryNotWritten marks records a 2xx answer did not return: nothing was written for them.
const CategoryNotWritten = "NOT_WRITTEN"

// BatchUpdateResult is the per-record outcome of BatchUpdate. Every input is in exactly one
// of Updated and Failed.
type BatchUpdateResult struct {
	Updated []Record
	Failed  []RecordError
}

// BatchUpdate writes properties by record id in chunks of MaxBatchInputs. A 207 gives
// per-record errors; a whole-batch 400 is bisected to find the bad records; records a 2xx
// answer leaves out count as not written (retryable). If a call fails for a reason that is
// not about the records (auth, daily limit, retries exhausted), the remaining records are
// marked failed with that reason and the error is returned too.
func (c *Client) BatchUpdate(ctx context.Context, objectType string, inputs []UpdateInput) (*BatchUpdateResult, error) {
	res := &BatchUpdateResult{}
	chunks := slices.Collect(slices.Chunk(mergeDuplicateIDs(inputs), MaxBatchInputs))
	for i, chunk := range chunks {
		if err := c.updateChunk(ctx, objectType, chunk, res); err != nil {
			for _, rest := range chunks[i+1:] {
				failAll(res, rest, err)
			}
			return res, fmt.Errorf("hubspot: batch update %d %s: %w", len(inputs), objectType, err)
		}
	}
	return res, nil
}

// mergeDuplicateIDs folds inputs naming one id into the first of them, later values winning
// as two writes in order would: HubSpot rejects a whole batch holding an id twice ("Duplicate
// IDs found in batch input"), which would otherwise be split to single records at a 400 each.
func mergeDuplicateIDs(inputs []UpdateInput) []UpdateInput {
	at := make(map[string]int, len(inputs))
	var out []UpdateInput
	for _, u := range inputs {
		i, dup := at[u.ID]
		if !dup {
			at[u.ID] = len(out)
			out = append(out, u)
			continue
		}
		merged := maps.Clone(out[i].Properties)
		if merged == nil {
			merged = map[string]string{}
		}
		maps.Copy(merged, u.Properties)
		out[i].Properties = merged
	}
	if len(out) == len(inputs) {
		return inputs
	}
	return out
}

// propertyLevelCodes are HubSpot error codes about a property itself, not a value: every
// record setting the property fails with it.
var propertyLevelCodes = map[string]bool{"PROPERTY_DOESNT_EXIST": true, "READ_ONLY_VALUE": true}

func failAll(res *BatchUpdateResult, in []UpdateInput, err error) {
	cat := "ERROR"
	var ae *APIError
	var rl *RateLimitError
	switch {
	case errors.As(err, &rl):
		cat = "RATE_LIMIT"
	case errors.As(err, &ae) && ae.Category != "":
		cat = ae.Category
	}
	for _, u := range in {
		res.Failed = append(res.Failed, RecordError{ID: u.ID, Category: cat, Message: err.Error(), Retryable: IsRetryable(err)})
	}
}

// updateChunk updates up to 100 records; it returns an error only for a failure that is not
// about the records (and then has marked this chunk failed).
func (c *Client) updateChunk(ctx context.Context, objectType string, chunk []UpdateInput, res *BatchUpdateResult) error {
	if len(chunk) == 0 {
		return nil
	}
	type input struct {
		ID                 string            `json:"id"`
		ObjectWriteTraceID string            `json:"objectWriteTraceId"`
		Properties         map[string]string `json:"properties"`
	}
	body := struct {
		Inputs []input `json:"inputs"`
	}{}
	// A unique trace id per input makes HubSpot answer 207 with per-record errors naming it
	// (context.objectWriteTraceId) instead of refusing the whole batch for one bad record.
	byTrace := make(map[string]string, len(chunk))
	for _, u := range chunk {
		trace := c.traceID()
		byTrace[trace] = u.ID
		props := u.Properties
		if props == nil {
			props = map[string]string{}
		}
		body.Inputs = append(body.Inputs, input{u.ID, trace, props})
	}
	var out batchResponse
	_, err := c.do(ctx, &request{endpoint: "batch_update", method: http.MethodPost, path: apiPath(c.version, "objects", objectType, "batch", "update"), body: body}, &out)
	var ae *APIError
	if errors.As(err, &ae) && ae.Status == http.StatusBadRequest {
		return c.splitBadBatch(ctx, objectType, chunk, ae, res)
	}
	if err != nil {
		failAll(res, chunk, err)
		return err
	}
	done := map[string]bool{}
	for _, rj := range out.Results {
		res.Updated = append(res.Updated, rj.record())
		done[rj.ID] = true
	}
	var unattributed []batchError
	for _, e := range out.Errors {
		ids := e.ids()
		for _, t := range contextStrings(e.Context)["objectWriteTraceId"] {
			if id, ok := byTrace[t]; ok {
				ids = append(ids, id)
			}
		}
		if len(ids) == 0 {
			unattributed = append(unattributed, e)
			continue
		}
		for _, id := range ids {
			if !done[id] && inChunk(chunk, id) {
				done[id] = true
				res.Failed = append(res.Failed, RecordError{ID: id, Category: e.Category, Message: redactEmails(e.Message), Property: e.property(), Retryable: false})
			}
		}
	}
	for _, u := range chunk {
		if done[u.ID] {
			continue
		}
		done[u.ID] = true
		if len(unattributed) == 1 && len(chunk) == 1 {
			e := unattributed[0]
			res.Failed = append(res.Failed, RecordError{ID: u.ID, Category: e.Category, Message: redactEmails(e.Message), Property: e.property()})
			continue
		}
		// A 2xx that does not return the record wrote nothing for it
		// (https://developers.hubspot.com/docs/api-reference/2026-03/crm/objects/batch-update).
		res.Failed = append(res.Failed, RecordError{ID: u.ID, Category: CategoryNotWritten, Message: "hubspot answered 2xx without this record", Retryable: true})
	}
	return nil
}

// splitBadBatch handles a whole-batch 400: if the error names ids, those fail and the rest is
// resent; otherwise the batch is halved until single bad records are isolated.
func (c *Client) splitBadBatch(ctx context.Context, objectType string, chunk []UpdateInput, ae *APIError, res *BatchUpdateResult) error {
	recErr := func(id string) RecordError {
		re := RecordError{ID: id, Category: ae.Category, Message: ae.Message}
		for _, fe := range ae.Errors {
			if fe.Property != "" {
				re.Property = fe.Property
				if re.Message == "" {
					re.Message = fe.Message
				}
				break
			}
		}
		return re
	}
	if len(chunk) == 1 {
		res.Failed = append(res.Failed, recErr(chunk[0].ID))
		return nil
	}
	named := map[string]bool{}
	for _, fe := range ae.Errors {
		for _, id := range fe.Context["ids"] {
			if inChunk(chunk, id) {
				named[id] = true
			}
		}
	}
	if len(named) > 0 && len(named) < len(chunk) {
		var rest []UpdateInput
		for _, u := range chunk {
			if named[u.ID] {
				res.Failed = append(res.Failed, recErr(u.ID))
			} else {
				rest = append(rest, u)
			}
		}
		return c.updateChunk(ctx, objectType, rest, res)
	}
	// The error names properties: only records setting one of them can be at fault. A
	// property that is missing or read-only fails every record setting it, without a search.
	dead, suspect := map[string]bool{}, map[string]bool{}
	for _, fe := range ae.Errors {
		if fe.Property == "" {
			dead, suspect = nil, nil // an error not tied to a property: no narrowing
			break
		}
		suspect[fe.Property] = true
		if propertyLevelCodes[fe.Code] {
			dead[fe.Property] = true
		}
	}
	if len(suspect) > 0 {
		var innocent, suspects []UpdateInput
		for _, u := range chunk {
			if p := firstSet(u, dead); p != "" {
				re := recErr(u.ID)
				re.Property = p
				for _, fe := range ae.Errors {
					if fe.Property == p {
						re.Message = fe.Message
						break
					}
				}
				res.Failed = append(res.Failed, re)
				continue
			}
			if firstSet(u, suspect) != "" {
				suspects = append(suspects, u)
			} else {
				innocent = append(innocent, u)
			}
		}
		if len(innocent) < len(chunk) && len(suspects) < len(chunk) {
			if err := c.updateChunk(ctx, objectType, innocent, res); err != nil {
				failAll(res, suspects, err)
				return err
			}
			return c.updateChunk(ctx, objectType, suspects, res)
		}
	}
	unsent, err := bisect.Halves(chunk, func(part []UpdateInput) error { return c.updateChunk(ctx, objectType, part, res) })
	failAll(res, unsent, err)
	return err
}

// firstSet returns the first (by name) of props that u sets, or "".
func firstSet(u UpdateInput, props map[string]bool) string {
	var found string
	for p := range props {
		if _, ok := u.Properties[p]; ok && (found == "" || p < found) {
			found = p
		}
	}
	return found
}

func inChunk(chunk []UpdateInput, id string) bool {
	return slices.ContainsFunc(chunk, func(u UpdateInput) bool { return u.ID == id })
}

// traceID returns an objectWriteTraceId unique across clients and calls: a random prefix
// per client and a counter.
func (c *Client) traceID() string {
	return c.tracePrefix + strconv.FormatInt(c.traceSeq.Add(1), 10)
}
