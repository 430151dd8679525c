package hubspot

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

type updateBody struct {
	Inputs []struct {
		ID         string            `json:"id"`
		Properties map[string]string `json:"properties"`
	} `json:"inputs"`
}

func decodeUpdate(t *testing.T, b []byte) updateBody {
	t.Helper()
	var u updateBody
	if err := json.Unmarshal(b, &u); err != nil {
		t.Errorf("bad update body: %v", err)
	}
	return u
}

func TestBatchUpdate207(t *testing.T) {
	f := newFake(t, reply{status: 207, body: `{"status":"COMPLETE","results":[{"id":"1","properties":{"n":"5"}}],"numErrors":1,
		"errors":[{"status":"error","category":"VALIDATION_ERROR","message":"bad","context":{"ids":["2"],"propertyName":["n"]}}]}`})
	c := f.client(t, newFakeClock())
	res, err := c.BatchUpdate(context.Background(), "contacts", []UpdateInput{
		{ID: "1", Properties: map[string]string{"n": "5"}}, {ID: "2", Properties: map[string]string{"n": "x"}}, {ID: "3", Properties: map[string]string{"n": "6"}}})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Updated) != 1 || res.Updated[0].ID != "1" {
		t.Errorf("updated = %+v", res.Updated)
	}
	want := []RecordError{
		{ID: "2", Category: "VALIDATION_ERROR", Message: "bad", Property: "n"},
		{ID: "3", Category: CategoryNotWritten, Message: "hubspot answered 2xx without this record", Retryable: true},
	}
	if !slices.Equal(res.Failed, want) {
		t.Errorf("failed = %+v\nwant %+v", res.Failed, want)
	}
}

func TestBatchUpdateEmpty2xxIsFailure(t *testing.T) {
	f := newFake(t, reply{body: `{"status":"COMPLETE","results":[]}`})
	c := f.client(t, newFakeClock())
	res, err := c.BatchUpdate(context.Background(), "contacts", []UpdateInput{{ID: "1", Properties: map[string]string{"a": "b"}}})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Updated) != 0 || len(res.Failed) != 1 || res.Failed[0].Category != CategoryNotWritten || !res.Failed[0].Retryable {
		t.Errorf("result = %+v, want one retryable NOT_WRITTEN", res)
	}
}

func TestBatchUpdate400Bisects(t *testing.T) {
	f := newFake(t)
	f.handler = func(r seenRequest) reply {
		u := decodeUpdate(t, r.Body)
		var results []string
		for _, in := range u.Inputs {
			if in.Properties["n"] == "bad" {
				return reply{status: 400, body: `{"status":"error","category":"VALIDATION_ERROR","message":"n is not a number",
					"errors":[{"message":"n is not a number","code":"INVALID_INTEGER","context":{"propertyName":["n"]}}]}`}
			}
			results = append(results, fmt.Sprintf(`{"id":%q}`, in.ID))
		}
		return reply{body: `{"status":"COMPLETE","results":[` + strings.Join(results, ",") + `]}`}
	}
	c := f.client(t, newFakeClock())
	var in []UpdateInput
	for i := range 250 {
		v := "1"
		if i == 37 || i == 160 {
			v = "bad"
		}
		in = append(in, UpdateInput{ID: fmt.Sprint(i + 1), Properties: map[string]string{"n": v}})
	}
	res, err := c.BatchUpdate(context.Background(), "contacts", in)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Updated) != 248 {
		t.Errorf("updated %d, want 248", len(res.Updated))
	}
	var failed []string
	for _, f := range res.Failed {
		failed = append(failed, f.ID)
		if f.Category != "VALIDATION_ERROR" || f.Property != "n" || f.Retryable {
			t.Errorf("failure = %+v", f)
		}
	}
	if !slices.Equal(failed, []string{"38", "161"}) {
		t.Errorf("failed ids = %v, want [38 161]", failed)
	}
	// 3 chunks; each bad record costs about 2*log2(100) extra calls.
	if n := len(f.requests()); n > 3+2*2*7 {
		t.Errorf("%d requests, want <= %d", n, 3+2*2*7)
	}
	for _, r := range f.requests() {
		if n := len(decodeUpdate(t, r.Body).Inputs); n > MaxBatchInputs {
			t.Errorf("a batch of %d inputs", n)
		}
	}
}

func TestBatchUpdateStopsOnFatalError(t *testing.T) {
	f := newFake(t, reply{body: `{"results":[{"id":"1"}]}`}, reply{status: 401, body: `{"status":"error","category":"INVALID_AUTHENTICATION","message":"bad token"}`})
	c := f.client(t, newFakeClock())
	var in []UpdateInput
	for i := range 150 {
		in = append(in, UpdateInput{ID: fmt.Sprint(i + 1), Properties: map[string]string{"a": "b"}})
	}
	res, err := c.BatchUpdate(context.Background(), "contacts", in)
	if err == nil {
		t.Fatal("want the 401 returned")
	}
	if len(res.Updated)+len(res.Failed) != 100+50 {
		t.Errorf("updated %d + failed %d, want every input accounted for", len(res.Updated), len(res.Failed))
	}
}

func TestBatchReadMergedAndNotFound(t *testing.T) {
	f := newFake(t, reply{status: 207, body: `{"status":"COMPLETE","results":[
		{"id":"9","properties":{"hs_merged_object_ids":"1;5","email":"x"}},
		{"id":"2","properties":{}}],
		"numErrors":1,"errors":[{"status":"error","category":"OBJECT_NOT_FOUND","message":"gone","context":{"ids":["3"]}}]}`})
	c := f.client(t, newFakeClock())
	res, err := c.BatchRead(context.Background(), "contacts", []string{"1", "2", "3", "2"}, "", []string{"email"})
	if err != nil {
		t.Fatal(err)
	}
	if res.Merged["1"] != "9" || len(res.Merged) != 1 {
		t.Errorf("merged = %v, want 1->9", res.Merged)
	}
	if !slices.Equal(res.NotFound, []string{"3"}) {
		t.Errorf("not found = %v", res.NotFound)
	}
	if res.ByRequest["2"] != "2" || res.ByRequest["1"] != "9" {
		t.Errorf("by request = %v", res.ByRequest)
	}
	body := f.requests()[0].JSON(t)
	if got := fmt.Sprint(body["properties"]); got != "[email hs_merged_object_ids]" {
		t.Errorf("properties = %s", got)
	}
	if got := len(body["inputs"].([]any)); got != 3 {
		t.Errorf("%d inputs, want 3 (deduplicated)", got)
	}
}

// TestBatchReadAccountsForEveryID: each requested id ends in exactly one of
// ByRequest and NotFound, also the ones HubSpot's answer leaves out without
// an error (the link audit reads "not in ByRequest" as deleted).
func TestBatchReadAccountsForEveryID(t *testing.T) {
	f := newFake(t, reply{status: 207, body: `{"status":"COMPLETE","results":[{"id":"1","properties":{}}],
		"numErrors":1,"errors":[{"status":"error","category":"OBJECT_NOT_FOUND","message":"gone","context":{"ids":["3"]}}]}`})
	c := f.client(t, newFakeClock())
	req := []string{"1", "3", "4", "5"}
	res, err := c.BatchRead(context.Background(), "contacts", req, "", nil)
	if err != nil {
		t.Fatal(err)
	}
	notFound := map[string]int{}
	for _, id := range res.NotFound {
		notFound[id]++
	}
	for _, id := range req {
		_, found := res.ByRequest[id]
		if n := notFound[id]; found && n != 0 || !found && n != 1 {
			t.Errorf("id %s: in ByRequest %v, %d times in NotFound; want exactly one of them", id, found, n)
		}
	}
	if len(res.ByRequest) != 1 || res.ByRequest["1"] != "1" {
		t.Errorf("by request = %v, want 1 -> 1", res.ByRequest)
	}
}

func TestBatchReadChunks(t *testing.T) {
	f := newFake(t, reply{body: `{"results":[]}`})
	c := f.client(t, newFakeClock())
	var ids []string
	for i := range 230 {
		ids = append(ids, fmt.Sprint(i))
	}
	res, err := c.BatchRead(context.Background(), "companies", ids, "", nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.NotFound) != 230 {
		t.Errorf("not found %d, want 230", len(res.NotFound))
	}
	var sizes []int
	for _, r := range f.requests() {
		sizes = append(sizes, len(r.JSON(t)["inputs"].([]any)))
	}
	if !slices.Equal(sizes, []int{100, 100, 30}) {
		t.Errorf("chunks = %v", sizes)
	}
}

// TestSendEventsAlwaysSendsProperties: properties is required by the send spec, so an
// occurrence without any carries {} and the one documented path is used (no fallback).
func TestSendEventsAlwaysSendsProperties(t *testing.T) {
	f := newFake(t, reply{status: 204})
	c := f.client(t, newFakeClock())
	if err := c.SendEvents(context.Background(), []EventOccurrence{{EventName: "e", ObjectID: "1", UUID: "u"}}); err != nil {
		t.Fatal(err)
	}
	r := f.requests()[0]
	if r.Path != "/events/2026-03/send/batch" {
		t.Errorf("path = %s, want /events/2026-03/send/batch", r.Path)
	}
	if got, want := string(r.Body), `{"inputs":[{"eventName":"e","objectId":"1","uuid":"u","properties":{}}]}`; got != want {
		t.Errorf("body = %s\nwant %s", got, want)
	}
}

func TestSendEventsChunksAndValidates(t *testing.T) {
	f := newFake(t, reply{status: 204})
	c := f.client(t, newFakeClock())
	var evs []EventOccurrence
	for i := range 1100 {
		evs = append(evs, EventOccurrence{EventName: "e", ObjectID: "1", UUID: EventUUID(fmt.Sprint(i), "e")})
	}
	if err := c.SendEvents(context.Background(), evs); err != nil {
		t.Fatal(err)
	}
	var sizes []int
	for _, r := range f.requests() {
		sizes = append(sizes, len(r.JSON(t)["inputs"].([]any)))
	}
	if !slices.Equal(sizes, []int{500, 500, 100}) {
		t.Errorf("chunks = %v", sizes)
	}
	for _, bad := range []EventOccurrence{{EventName: "e", ObjectID: "1"}, {EventName: "e", UUID: "u"},
		{EventName: "e", ObjectID: "1", UUID: "u", Properties: map[string]string{"p": strings.Repeat("x", 257)}}} {
		if err := c.SendEvents(context.Background(), []EventOccurrence{bad}); err == nil {
			t.Errorf("%+v accepted", bad)
		}
	}
}

func TestSendEventsForbiddenSaysEnterprise(t *testing.T) {
	f := newFake(t, reply{status: 403, body: `{"status":"error","message":"forbidden"}`})
	c := f.client(t, newFakeClock(), WithAPIVersion(APIVersionV3))
	err := c.SendEvents(context.Background(), []EventOccurrence{{EventName: "e", ObjectID: "1", UUID: "u"}})
	if !errorsIs(err, ErrEnterpriseRequired) {
		t.Errorf("got %v, want ErrEnterpriseRequired", err)
	}
}

func TestEventUUID(t *testing.T) {
	a, b := EventUUID("evt-1", "pe1_flow"), EventUUID("evt-1", "pe1_flow")
	if a != b {
		t.Errorf("not deterministic: %s %s", a, b)
	}
	if a == EventUUID("evt-2", "pe1_flow") || a == EventUUID("evt-1", "pe1_other") || EventUUID("a", "bc") == EventUUID("ab", "c") {
		t.Error("different inputs share a uuid")
	}
	if len(a) != 36 || a[14] != '5' || !strings.ContainsRune("89ab", rune(a[19])) {
		t.Errorf("%s is not an RFC 4122 version 5 uuid", a)
	}
	// Golden: the value must never change, or redelivered events would be counted twice.
	if got, want := EventUUID("evt-1", "pe1_flow"), goldenUUID; got != want {
		t.Errorf("EventUUID = %s, want %s", got, want)
	}
}

const goldenUUID = "4d7e081c-9806-502a-9574-20d6b61c4338"

func TestAppEvents409(t *testing.T) {
	f := newFake(t)
	f.handler = func(r seenRequest) reply {
		if strings.Contains(string(r.Body), `"id":"dup"`) {
			return reply{status: 409, body: `{"status":"error","category":"CONFLICT","message":"An event with id dup already exists."}`}
		}
		return reply{status: 201, body: `{"status":"COMPLETE","results":[]}`}
	}
	c := f.client(t, newFakeClock())
	var evs []AppEvent
	for _, id := range []string{"a", "b", "dup", "c"} {
		evs = append(evs, AppEvent{EventTypeName: "t", ObjectID: "1", ID: id})
	}
	if err := c.SendAppEvents(context.Background(), evs); err != nil {
		t.Fatalf("got %v, want a duplicate treated as delivered", err)
	}
	sent := map[string]int{}
	for _, r := range f.requests() {
		if strings.Contains(string(r.Body), "dup") {
			continue
		}
		for _, id := range []string{"a", "b", "c"} {
			if strings.Contains(string(r.Body), `"id":"`+id+`"`) {
				sent[id]++
			}
		}
	}
	for _, id := range []string{"a", "b", "c"} {
		if sent[id] != 1 {
			t.Errorf("event %s delivered %d times, want 1", id, sent[id])
		}
	}
}

func TestOAuthRefresh(t *testing.T) {
	var refreshes atomic.Int32
	var mu sync.Mutex
	var forms []url.Values
	current := ""
	f := newFake(t)
	f.handler = func(r seenRequest) reply {
		if r.Path == "/oauth/2026-03/token" { // the default token endpoint
			n := refreshes.Add(1)
			form, _ := url.ParseQuery(string(r.Body))
			mu.Lock()
			forms = append(forms, form)
			current = fmt.Sprintf("access-%d", n)
			mu.Unlock()
			time.Sleep(20 * time.Millisecond) // let concurrent callers pile up
			if r.Header.Get("Content-Type") != "application/x-www-form-urlencoded" {
				t.Errorf("token Content-Type = %q", r.Header.Get("Content-Type"))
			}
			return reply{body: fmt.Sprintf(`{"access_token":"access-%d","refresh_token":"refresh-%d","expires_in":1800}`, n, n)}
		}
		mu.Lock()
		defer mu.Unlock()
		if r.Header.Get("Authorization") != "Bearer "+current {
			return reply{status: 401, body: `{"status":"error","category":"EXPIRED_AUTHENTICATION","message":"expired"}`}
		}
		return reply{body: ok200}
	}
	clock := newFakeClock()
	c, err := NewClient(WithBaseURL(f.srv.URL), WithOAuth(OAuthConfig{ClientID: "cid", ClientSecret: "csecret", RefreshToken: "refresh-0"}), WithClock(clock))
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for range 20 {
		wg.Go(func() {
			if _, err := c.ListProperties(context.Background(), "contacts"); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if n := refreshes.Load(); n != 1 {
		t.Errorf("%d refreshes for 20 concurrent callers, want 1", n)
	}
	want := url.Values{"grant_type": {"refresh_token"}, "client_id": {"cid"}, "client_secret": {"csecret"}, "refresh_token": {"refresh-0"}}
	if fmt.Sprint(forms[0]) != fmt.Sprint(want) {
		t.Errorf("token form = %v, want %v", forms[0], want)
	}
	// Near expiry the client refreshes before the token dies, with the rotated refresh token.
	clock.Advance(26 * time.Minute)
	if _, err := c.ListProperties(context.Background(), "contacts"); err != nil {
		t.Fatal(err)
	}
	if n := refreshes.Load(); n != 2 || forms[1].Get("refresh_token") != "refresh-1" {
		t.Errorf("refreshes = %d, second form %v", n, forms[1])
	}
	// A 401 (token revoked early) refreshes once and retries.
	mu.Lock()
	current = "something-else"
	mu.Unlock()
	if _, err := c.ListProperties(context.Background(), "contacts"); err != nil {
		t.Fatalf("after a 401: %v", err)
	}
	if n := refreshes.Load(); n != 3 {
		t.Errorf("refreshes = %d, want 3", n)
	}
	if st := c.Stats(); st.Calls["oauth_token"] != 3 {
		t.Errorf("stats oauth calls = %d", st.Calls["oauth_token"])
	}
}

func errorsIs(err, target error) bool { return err != nil && errors.Is(err, target) }
