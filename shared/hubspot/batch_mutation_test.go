package hubspot

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
)

// The tests in this file pin what BatchUpdate reports for each answer HubSpot can give
// (https://developers.hubspot.com/docs/api-reference/2026-03/crm/objects/batch-update),
// through canned answers where the sandbox has no switch for them: every input ends in
// exactly one of Updated and Failed, with the category, property and reason a user sees.

// outcome is the result of one BatchUpdate, keyed by record id.
type outcome struct {
	updated []string
	failed  map[string]RecordError
}

func outcomeOf(t *testing.T, in []UpdateInput, res *BatchUpdateResult) outcome {
	t.Helper()
	o := outcome{failed: map[string]RecordError{}}
	seen := map[string]int{}
	for _, r := range res.Updated {
		o.updated = append(o.updated, r.ID)
		seen[r.ID]++
	}
	for _, f := range res.Failed {
		o.failed[f.ID] = f
		seen[f.ID]++
	}
	slices.Sort(o.updated)
	want := map[string]bool{}
	for _, u := range in {
		want[u.ID] = true
	}
	for id := range want {
		if seen[id] != 1 {
			t.Errorf("record %s is in %d of updated/failed, want exactly 1", id, seen[id])
		}
	}
	for id := range seen {
		if !want[id] {
			t.Errorf("record %s is in the result but was not sent", id)
		}
	}
	return o
}

// okResults answers a batch update by returning every input as written.
func okResults(u updateBody) string {
	var rs []string
	for _, in := range u.Inputs {
		rs = append(rs, fmt.Sprintf(`{"id":%q,"properties":{}}`, in.ID))
	}
	return `{"status":"COMPLETE","results":[` + strings.Join(rs, ",") + `]}`
}

// updateVia sends n inputs in one BatchUpdate through f and returns their
// outcome.
func updateVia(t *testing.T, f *fakeHubSpot, n int) outcome {
	t.Helper()
	in := inputs(n)
	res, err := f.client(t, newFakeClock()).BatchUpdate(context.Background(), "contacts", in)
	if err != nil {
		t.Fatal(err)
	}
	return outcomeOf(t, in, res)
}

func inputs(n int) []UpdateInput {
	var in []UpdateInput
	for i := range n {
		in = append(in, UpdateInput{ID: fmt.Sprint(i + 1), Properties: map[string]string{"n": fmt.Sprint(i)}})
	}
	return in
}

func sentIDs(t *testing.T, f *fakeHubSpot) [][]string {
	t.Helper()
	var out [][]string
	for _, r := range f.requests() {
		var ids []string
		for _, in := range decodeUpdate(t, r.Body).Inputs {
			ids = append(ids, in.ID)
		}
		out = append(out, ids)
	}
	return out
}

// TestBatchUpdateFailureText: a failed record's error names the record, HubSpot's category,
// the property when there is one and HubSpot's reason, as alerts and logs show it.
func TestBatchUpdateFailureText(t *testing.T) {
	f := newFake(t, reply{status: 207, body: `{"status":"COMPLETE","results":[],"numErrors":1,
		"errors":[{"status":"error","category":"VALIDATION_ERROR","message":"Property values were not valid","context":{"ids":["1"],"propertyName":["score"]}}]}`})
	c := f.client(t, newFakeClock())
	res, err := c.BatchUpdate(context.Background(), "contacts", inputs(2))
	if err != nil {
		t.Fatal(err)
	}
	o := outcomeOf(t, inputs(2), res)
	if got, want := o.failed["1"].Error(), "hubspot: record 1: VALIDATION_ERROR (score): Property values were not valid"; got != want {
		t.Errorf("record 1: %q, want %q", got, want)
	}
	if got, want := o.failed["2"].Error(), "hubspot: record 2: NOT_WRITTEN: hubspot answered 2xx without this record"; got != want {
		t.Errorf("record 2: %q, want %q", got, want)
	}
	if got, want := (RecordError{ID: "3", Category: "ERROR"}).Error(), "hubspot: record 3: ERROR"; got != want {
		t.Errorf("bare failure: %q, want %q", got, want)
	}
	if got, want := (RecordError{ID: "4", Category: "VALIDATION_ERROR", Property: "score"}).Error(), "hubspot: record 4: VALIDATION_ERROR (score)"; got != want {
		t.Errorf("failure without a reason: %q, want %q", got, want)
	}
}

// TestBatchUpdateFatalErrorFailsEveryLaterChunk: a call that fails for a reason not about the
// records (here the token) stops the batch: the chunks already written stay updated, the
// failing chunk and every later one are failed with HubSpot's category, and nothing more is
// sent.
func TestBatchUpdateFatalErrorFailsEveryLaterChunk(t *testing.T) {
	for _, okChunks := range []int{0, 1} {
		t.Run(fmt.Sprint(okChunks, " chunks written first"), func(t *testing.T) {
			f := newFake(t)
			calls := 0
			f.handler = func(r seenRequest) reply {
				calls++
				if calls <= okChunks {
					return reply{body: okResults(decodeUpdate(t, r.Body))}
				}
				return reply{status: 401, body: `{"status":"error","category":"INVALID_AUTHENTICATION","message":"Authentication credentials not found"}`}
			}
			c := f.client(t, newFakeClock())
			in := inputs(250)
			res, err := c.BatchUpdate(context.Background(), "contacts", in)
			var ae *APIError
			if !errors.As(err, &ae) || ae.Status != 401 {
				t.Fatalf("err = %v, want the 401", err)
			}
			o := outcomeOf(t, in, res)
			if got, want := len(o.updated), 100*okChunks; got != want {
				t.Errorf("updated %d, want %d", got, want)
			}
			if got, want := len(o.failed), 250-100*okChunks; got != want {
				t.Errorf("failed %d, want %d", got, want)
			}
			for _, fe := range o.failed {
				if fe.Category != "INVALID_AUTHENTICATION" || fe.Retryable || !strings.Contains(fe.Message, "401") {
					t.Errorf("failure %+v, want INVALID_AUTHENTICATION, not retryable, naming the 401", fe)
					break
				}
			}
			if n := len(f.requests()); n != okChunks+1 {
				t.Errorf("%d requests, want %d (none after the failure)", n, okChunks+1)
			}
		})
	}
}

// TestBatchUpdateStopCategories: the records a stopped batch leaves unwritten carry why: a
// rate limit says RATE_LIMIT (retryable unless it is the daily limit), an error without a
// category says ERROR, and a server error that outlived its retries stays retryable.
func TestBatchUpdateStopCategories(t *testing.T) {
	tests := []struct {
		name      string
		reply     reply
		category  string
		retryable bool
	}{
		{"daily limit", reply{status: 429, body: `{"status":"error","errorType":"RATE_LIMIT","policyName":"DAILY","message":"You have reached your daily limit."}`}, "RATE_LIMIT", false},
		{"ten-secondly limit", reply{status: 429, body: `{"status":"error","errorType":"RATE_LIMIT","policyName":"TEN_SECONDLY_ROLLING","message":"You have reached your ten_secondly_rolling limit."}`}, "RATE_LIMIT", true},
		{"forbidden without a body", reply{status: 403}, "ERROR", false},
		{"server error", reply{status: 502, body: `{"status":"error","category":"BAD_GATEWAY","message":"upstream"}`}, "BAD_GATEWAY", true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := newFake(t, tc.reply)
			c := f.client(t, newFakeClock(), WithMaxRetries(1))
			in := inputs(3)
			res, err := c.BatchUpdate(context.Background(), "contacts", in)
			if err == nil {
				t.Fatal("want the failure returned")
			}
			o := outcomeOf(t, in, res)
			for _, id := range []string{"1", "2", "3"} {
				if fe := o.failed[id]; fe.Category != tc.category || fe.Retryable != tc.retryable || fe.Message == "" {
					t.Errorf("record %s: %+v, want category %s, retryable %v, with a reason", id, fe, tc.category, tc.retryable)
				}
			}
		})
	}
}

// TestBatchUpdateRepeatedIDWithoutPropertiesFirst: an id given first with no properties and
// again with some is sent once with the later values; a record with no properties is sent as
// an empty update, never as null; the other records keep their own values.
func TestBatchUpdateRepeatedIDWithoutPropertiesFirst(t *testing.T) {
	f := newFake(t)
	f.handler = func(r seenRequest) reply { return reply{body: okResults(decodeUpdate(t, r.Body))} }
	c := f.client(t, newFakeClock())
	in := []UpdateInput{
		{ID: "1"},
		{ID: "2", Properties: map[string]string{"n": "two"}},
		{ID: "1", Properties: map[string]string{"n": "one"}},
		{ID: "3"},
	}
	res, err := c.BatchUpdate(context.Background(), "contacts", in)
	if err != nil {
		t.Fatal(err)
	}
	if o := outcomeOf(t, in, res); len(o.updated) != 3 {
		t.Errorf("updated %v, want 1, 2 and 3", o.updated)
	}
	reqs := f.requests()
	if len(reqs) != 1 {
		t.Fatalf("%d requests, want 1", len(reqs))
	}
	want := mustJSON(t, `{"inputs":[{"id":"1","properties":{"n":"one"}},{"id":"2","properties":{"n":"two"}},{"id":"3","properties":{}}]}`)
	got := reqs[0].JSON(t)
	for _, x := range got["inputs"].([]any) {
		delete(x.(map[string]any), "objectWriteTraceId")
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("sent %v\nwant %v", got, want)
	}
}

// TestBatchUpdate207Attribution: per-record errors of a 207 go to the records they name
// (by id or trace id); an error naming a record HubSpot also returned as written, or one not
// in the batch, changes nothing; an error naming no record fails a batch of one with its
// reason, and leaves the records of a larger batch not written (retryable), not failed for
// good.
func TestBatchUpdate207Attribution(t *testing.T) {
	t.Run("named, returned and foreign ids", func(t *testing.T) {
		f := newFake(t, reply{status: 207, body: `{"status":"COMPLETE","results":[{"id":"1","properties":{}}],"numErrors":3,"errors":[
			{"status":"error","category":"OBJECT_NOT_FOUND","message":"no such contact","context":{"ids":["77"]}},
			{"status":"error","category":"VALIDATION_ERROR","message":"not a number","context":{"ids":["1","2"],"propertyName":["n"]}},
			{"status":"error","category":"CONFLICT","message":"later error","context":{"ids":["2","3"]}}]}`})
		o := updateVia(t, f, 3)
		if !slices.Equal(o.updated, []string{"1"}) {
			t.Errorf("updated %v, want [1]", o.updated)
		}
		if fe := o.failed["2"]; fe.Category != "VALIDATION_ERROR" || fe.Property != "n" || fe.Retryable {
			t.Errorf("record 2: %+v, want the first error naming it", fe)
		}
		if fe := o.failed["3"]; fe.Category != "CONFLICT" || fe.Message != "later error" || fe.Retryable {
			t.Errorf("record 3: %+v, want CONFLICT", fe)
		}
	})
	t.Run("unattributed error then a named one", func(t *testing.T) {
		f := newFake(t, reply{status: 207, body: `{"status":"COMPLETE","results":[],"numErrors":2,"errors":[
			{"status":"error","category":"INTERNAL_ERROR","message":"something went wrong"},
			{"status":"error","category":"VALIDATION_ERROR","message":"not a number","context":{"ids":["2"],"propertyName":["n"]}}]}`})
		o := updateVia(t, f, 2)
		if fe := o.failed["2"]; fe.Category != "VALIDATION_ERROR" || fe.Property != "n" {
			t.Errorf("record 2: %+v, want its VALIDATION_ERROR", fe)
		}
		if fe := o.failed["1"]; fe.Category != CategoryNotWritten || !fe.Retryable {
			t.Errorf("record 1: %+v, want NOT_WRITTEN, retryable (the error does not say it is record 1's)", fe)
		}
	})
	t.Run("unattributed error, batch of one", func(t *testing.T) {
		f := newFake(t, reply{status: 207, body: `{"status":"COMPLETE","results":[],"numErrors":1,"errors":[
			{"status":"error","category":"VALIDATION_ERROR","message":"Property values were not valid","errors":[{"message":"not a number","context":{"propertyName":["n"]}}]}]}`})
		o := updateVia(t, f, 1)
		want := RecordError{ID: "1", Category: "VALIDATION_ERROR", Message: "Property values were not valid", Property: "n"}
		if fe := o.failed["1"]; fe != want {
			t.Errorf("record 1: %+v, want %+v", fe, want)
		}
	})
}

// badRequest answers a whole-batch 400 with the given errors.
func badRequest(category, message string, errs ...string) reply {
	return reply{status: 400, body: fmt.Sprintf(`{"status":"error","category":%q,"message":%q,"errors":[%s]}`, category, message, strings.Join(errs, ","))}
}

// TestBatchUpdate400Reasons: a record isolated by a whole-batch 400 fails with the reason
// and the first property the error names; when the top-level message is empty the named
// property's message is the reason.
func TestBatchUpdate400Reasons(t *testing.T) {
	tests := []struct {
		name  string
		reply reply
		want  RecordError
	}{
		{"empty message", badRequest("VALIDATION_ERROR", "",
			`{"message":"general problem","code":"INVALID"}`,
			`{"message":"n is not a number","code":"INVALID_INTEGER","context":{"propertyName":["n"]}}`,
			`{"message":"m is not a date","code":"INVALID_DATE","context":{"propertyName":["m"]}}`),
			RecordError{ID: "1", Category: "VALIDATION_ERROR", Message: "n is not a number", Property: "n"}},
		{"with message", badRequest("VALIDATION_ERROR", "Property values were not valid",
			`{"message":"n is not a number","code":"INVALID_INTEGER","context":{"propertyName":["n"]}}`),
			RecordError{ID: "1", Category: "VALIDATION_ERROR", Message: "Property values were not valid", Property: "n"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := newFake(t, tc.reply)
			c := f.client(t, newFakeClock())
			in := inputs(1)
			res, err := c.BatchUpdate(context.Background(), "contacts", in)
			if err != nil {
				t.Fatal(err)
			}
			if o := outcomeOf(t, in, res); o.failed["1"] != tc.want {
				t.Errorf("record 1: %+v, want %+v", o.failed["1"], tc.want)
			}
		})
	}
}

// TestBatchUpdate400NamingIDs: a whole-batch 400 whose errors name record ids fails exactly
// those records and resends the others once; a 400 naming every record of the batch is
// split until each record's own answer is known.
func TestBatchUpdate400NamingIDs(t *testing.T) {
	bad := map[string]bool{"2": true, "4": true}
	handler := func(t *testing.T) func(r seenRequest) reply {
		return func(r seenRequest) reply {
			u := decodeUpdate(t, r.Body)
			var errs []string
			for _, in := range u.Inputs {
				if bad[in.ID] {
					errs = append(errs, fmt.Sprintf(`{"message":"contact %s was not found","code":"OBJECT_NOT_FOUND","context":{"ids":[%q]}}`, in.ID, in.ID))
				}
			}
			if len(errs) > 0 {
				msg := "Could not find some CONTACT objects"
				if len(u.Inputs) == 1 {
					msg = "contact " + u.Inputs[0].ID + " was not found"
				}
				return badRequest("OBJECT_NOT_FOUND", msg, errs...)
			}
			return reply{body: okResults(u)}
		}
	}
	t.Run("some named", func(t *testing.T) {
		f := newFake(t)
		f.handler = handler(t)
		o := updateVia(t, f, 5)
		if !slices.Equal(o.updated, []string{"1", "3", "5"}) {
			t.Errorf("updated %v, want [1 3 5]", o.updated)
		}
		for id := range bad {
			if fe := o.failed[id]; fe.Category != "OBJECT_NOT_FOUND" || fe.Message != "Could not find some CONTACT objects" || fe.Retryable {
				t.Errorf("record %s: %+v, want OBJECT_NOT_FOUND", id, fe)
			}
		}
		if got := sentIDs(t, f); !slices.EqualFunc(got, [][]string{{"1", "2", "3", "4", "5"}, {"1", "3", "5"}}, slices.Equal) {
			t.Errorf("sent %v, want the batch, then the unnamed records once", got)
		}
	})
	t.Run("all named", func(t *testing.T) {
		f := newFake(t)
		f.handler = handler(t)
		c := f.client(t, newFakeClock())
		in := []UpdateInput{{ID: "2", Properties: map[string]string{"n": "x"}}, {ID: "4", Properties: map[string]string{"n": "y"}}}
		res, err := c.BatchUpdate(context.Background(), "contacts", in)
		if err != nil {
			t.Fatal(err)
		}
		o := outcomeOf(t, in, res)
		for id := range bad {
			if fe, want := o.failed[id], "contact "+id+" was not found"; fe.Message != want {
				t.Errorf("record %s: %+v, want its own answer %q", id, fe, want)
			}
		}
	})
}

// TestBatchUpdate400Narrowing: how a whole-batch 400 naming properties is narrowed. Records
// setting a missing or read-only property fail at once, named by the first (by name) such
// property they set, with that property's reason; records setting none of the named
// properties are resent together and written; an error not tied to a property, or naming
// only properties no record sets, is not narrowed but split; and when resending the
// innocent records fails for a reason not about the records, the suspects fail with it too.
func TestBatchUpdate400Narrowing(t *testing.T) {
	doesntExist := func(p string) string {
		return fmt.Sprintf(`{"message":"Property \"%s\" does not exist","code":"PROPERTY_DOESNT_EXIST","context":{"propertyName":[%q]}}`, p, p)
	}
	badValue := func(p string) string {
		return fmt.Sprintf(`{"message":"%s is not valid","code":"INVALID_OPTION","context":{"propertyName":[%q]}}`, p, p)
	}
	t.Run("first dead property by name", func(t *testing.T) {
		f := newFake(t)
		f.handler = func(r seenRequest) reply {
			u := decodeUpdate(t, r.Body)
			for _, in := range u.Inputs {
				if _, ok := in.Properties["zeta"]; ok {
					// A property may be named by several errors (one per record setting it): the first reason is kept.
					return badRequest("VALIDATION_ERROR", "Property values were not valid", doesntExist("zeta"), doesntExist("alpha"),
						`{"message":"alpha again","code":"PROPERTY_DOESNT_EXIST","context":{"propertyName":["alpha"]}}`)
				}
			}
			return reply{body: okResults(u)}
		}
		c := f.client(t, newFakeClock())
		in := []UpdateInput{
			{ID: "1", Properties: map[string]string{"zeta": "x", "alpha": "y", "n": "1"}},
			{ID: "2", Properties: map[string]string{"zeta": "x", "n": "2"}},
			{ID: "3", Properties: map[string]string{"n": "3"}},
		}
		res, err := c.BatchUpdate(context.Background(), "contacts", in)
		if err != nil {
			t.Fatal(err)
		}
		o := outcomeOf(t, in, res)
		if fe := o.failed["1"]; fe.Property != "alpha" || fe.Message != `Property "alpha" does not exist` {
			t.Errorf("record 1: %+v, want alpha and its reason", fe)
		}
		if fe := o.failed["2"]; fe.Property != "zeta" || fe.Message != `Property "zeta" does not exist` {
			t.Errorf("record 2: %+v, want zeta and its reason", fe)
		}
		if !slices.Equal(o.updated, []string{"3"}) {
			t.Errorf("updated %v, want [3]", o.updated)
		}
		if got := sentIDs(t, f); !slices.EqualFunc(got, [][]string{{"1", "2", "3"}, {"3"}}, slices.Equal) {
			t.Errorf("sent %v, want the batch, then record 3 alone", got)
		}
	})
	// flagBad answers 400 naming flag while a record sets flag to "maybe", after the given
	// extra errors.
	flagBad := func(t *testing.T, extra ...string) func(r seenRequest) reply {
		return func(r seenRequest) reply {
			u := decodeUpdate(t, r.Body)
			for _, in := range u.Inputs {
				if in.Properties["flag"] == "maybe" {
					return badRequest("VALIDATION_ERROR", "Property values were not valid", append(slices.Clone(extra), badValue("flag"))...)
				}
			}
			return reply{body: okResults(u)}
		}
	}
	four := func() []UpdateInput {
		return []UpdateInput{
			{ID: "1", Properties: map[string]string{"n": "1"}},
			{ID: "2", Properties: map[string]string{"flag": "maybe"}},
			{ID: "3", Properties: map[string]string{"flag": "true"}},
			{ID: "4", Properties: map[string]string{"n": "4"}},
		}
	}
	for _, tc := range []struct {
		name  string
		extra []string
		sent  [][]string
	}{
		{"narrowed to the suspects", nil, [][]string{{"1", "2", "3", "4"}, {"1", "4"}, {"2", "3"}, {"2"}, {"3"}}},
		{"an error without a property: split", []string{`{"message":"something else","code":"UNKNOWN"}`},
			[][]string{{"1", "2", "3", "4"}, {"1", "2"}, {"1"}, {"2"}, {"3", "4"}}},
		{"one named property no record sets: still narrowed", []string{badValue("other")},
			[][]string{{"1", "2", "3", "4"}, {"1", "4"}, {"2", "3"}, {"2"}, {"3"}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFake(t)
			f.handler = flagBad(t, tc.extra...)
			c := f.client(t, newFakeClock())
			in := four()
			res, err := c.BatchUpdate(context.Background(), "contacts", in)
			if err != nil {
				t.Fatal(err)
			}
			o := outcomeOf(t, in, res)
			if !slices.Equal(o.updated, []string{"1", "3", "4"}) {
				t.Errorf("updated %v, want [1 3 4]", o.updated)
			}
			if fe := o.failed["2"]; fe.Property == "" || fe.Category != "VALIDATION_ERROR" || fe.Retryable {
				t.Errorf("record 2: %+v, want a VALIDATION_ERROR naming a property", fe)
			}
			if got := sentIDs(t, f); !slices.EqualFunc(got, tc.sent, slices.Equal) {
				t.Errorf("sent %v, want %v", got, tc.sent)
			}
		})
	}
	t.Run("every record innocent: split", func(t *testing.T) {
		f := newFake(t)
		f.handler = func(r seenRequest) reply {
			u := decodeUpdate(t, r.Body)
			if slices.ContainsFunc(u.Inputs, func(in struct {
				ID         string            `json:"id"`
				Properties map[string]string `json:"properties"`
			}) bool {
				return in.ID == "2"
			}) {
				return badRequest("VALIDATION_ERROR", "Property values were not valid", badValue("other"))
			}
			return reply{body: okResults(u)}
		}
		o := updateVia(t, f, 3)
		if !slices.Equal(o.updated, []string{"1", "3"}) || o.failed["2"].Category != "VALIDATION_ERROR" {
			t.Errorf("updated %v, failed %+v; want 1 and 3 written, 2 refused", o.updated, o.failed)
		}
	})
	t.Run("innocents' resend stopped", func(t *testing.T) {
		f := newFake(t)
		calls := 0
		f.handler = func(r seenRequest) reply {
			calls++
			if calls == 1 {
				return flagBad(t)(r)
			}
			return reply{status: 401, body: `{"status":"error","category":"INVALID_AUTHENTICATION","message":"expired"}`}
		}
		c := f.client(t, newFakeClock())
		in := four()
		res, err := c.BatchUpdate(context.Background(), "contacts", in)
		if err == nil {
			t.Fatal("want the 401 returned")
		}
		o := outcomeOf(t, in, res)
		for _, id := range []string{"1", "2", "3", "4"} {
			if fe := o.failed[id]; fe.Category != "INVALID_AUTHENTICATION" {
				t.Errorf("record %s: %+v, want INVALID_AUTHENTICATION", id, fe)
			}
		}
		if n := len(f.requests()); n != 2 {
			t.Errorf("%d requests, want 2", n)
		}
	})
}
