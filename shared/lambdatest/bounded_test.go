package lambdatest_test

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/pilotsync/pilotsync/shared/activity"
	"github.com/pilotsync/pilotsync/shared/awstest"
	"github.com/pilotsync/pilotsync/shared/forward"
	"github.com/pilotsync/pilotsync/shared/hubspot/hubspottest"
	"github.com/pilotsync/pilotsync/shared/lambdatest"
	"github.com/pilotsync/pilotsync/shared/store"
)

// TestBoundedInputUnderEmulator is issue 13.7 through the built activity
// bootstrap under the Lambda runtime emulator: an event stamped in 2099 is
// refused with its reason (neither aggregated nor sent); identify property
// names that are phone numbers or markup never reach the DLQ reason; two
// user ids that differ only in lone surrogate escapes are refused rather than
// collapsed into one event; a valid event beside them is sent.
func TestBoundedInputUnderEmulator(t *testing.T) {
	t.Parallel()
	env := stackEnv(t)
	hs := hubspottest.NewTestServer(t, hubspottest.Options{})
	contact := hs.AddRecords("contacts", []hubspottest.SeedRecord{{Properties: map[string]string{"email": "ok@example.com"}}})[0]
	env["HUBSPOT_BASE_URL"] = hs.URL
	fn := lambdatest.Start(t, lambdatest.Build(t, "activity"), lambdatest.Options{Env: env})

	now := time.Now().UTC().Add(-time.Minute).Format("2006-01-02T15:04:05.000000Z")
	rec := func(typ, user, name, at, id, meta string) string {
		r := fmt.Sprintf(`{"app_token":"NX-bounded","event_type":%q,"user_id":"%s","inserted_at":%q`, typ, user, at)
		if name != "" {
			r += fmt.Sprintf(`,"event_name":%q`, name)
		}
		if id != "" {
			r += fmt.Sprintf(`,"internal_event_id":%q`, id)
		}
		if meta != "" {
			r += `,"metadata":` + meta
		}
		return r + "}"
	}
	bodies := map[string]string{
		"ident":     rec("identify_user", "u-ok", "", now, "b-ident", `{"email":"ok@example.com"}`),
		"valid":     rec("interaction", "u-ok", "experience:7:COMPLETED", now, "b-valid", ""),
		"future":    rec("interaction", "u-ok", "experience:7:COMPLETED", "2099-01-01T00:00:00Z", "b-future", ""),
		"phone":     rec("identify_user", "u-ok", "", now, "b-phone", `{"+15551234567":{"x":1}}`),
		"markup":    rec("identify_user", "u-ok", "", now, "b-markup", `{"<script>alert(1)</script>":[1]}`),
		"surrogate": rec("interaction", `u-x\ud800`, "experience:7:COMPLETED", now, "", ""),
		"other":     rec("interaction", `u-x\udbff`, "experience:7:COMPLETED", now, "", ""),
	}
	order := []string{"ident", "valid", "future", "phone", "markup", "surrogate", "other"}
	var in events.SQSEvent
	for _, k := range order {
		in.Records = append(in.Records, events.SQSMessage{MessageId: k, Body: bodies[k], EventSource: "aws:sqs", AWSRegion: "us-east-1"})
	}
	payload, err := json.Marshal(in)
	if err != nil {
		t.Fatal(err)
	}
	out, err := fn.Invoke(t.Context(), payload)
	if err != nil {
		t.Fatalf("invoke: %v", err)
	}
	var resp events.SQSEventResponse
	if err := decodeStrict(out, &resp); err != nil || len(resp.BatchItemFailures) != 0 {
		t.Fatalf("response %s (%v), want no message left to retry", out, err)
	}

	reasons := deadLetters(t, env["PILOTSYNC_DLQ_URL"])
	for _, k := range []string{"future", "phone", "markup", "surrogate", "other"} {
		if reasons[k] == "" {
			t.Errorf("message %s was not dead-lettered (reasons %v)", k, reasons)
		}
	}
	for _, k := range []string{"ident", "valid"} {
		if _, ok := reasons[k]; ok {
			t.Errorf("valid message %s dead-lettered: %s", k, reasons[k])
		}
	}
	if !strings.Contains(reasons["future"], activity.CodeFutureTime) {
		t.Errorf("future reason %q, want %s", reasons["future"], activity.CodeFutureTime)
	}
	for _, k := range []string{"surrogate", "other"} {
		if !strings.Contains(reasons[k], "user_id") || !strings.Contains(reasons[k], "invalid_field") {
			t.Errorf("%s reason %q, want invalid_field on user_id", k, reasons[k])
		}
	}
	all := strings.Join([]string{reasons["phone"], reasons["markup"], fn.Logs()}, "\n")
	for _, leak := range []string{"5551234567", "<script>", "alert(1)"} {
		if strings.Contains(all, leak) {
			t.Errorf("%q appears in a DLQ reason or the function's logs", leak)
		}
	}

	// Only the valid event reached HubSpot; the 2099 one was not aggregated.
	sent := hs.Events()
	if len(sent) != 1 || sent[0].ObjectID != contact {
		t.Errorf("HubSpot holds %+v, want the one valid event on contact %s", sent, contact)
	}
	st := store.New(awstest.DynamoDB(t), env["PILOTSYNC_TABLE"])
	days, err := st.Activity(t.Context(), "production", store.KindUser, "u-ok", "2026-01-01", "2099-12-31")
	if err != nil {
		t.Fatal(err)
	}
	if len(days) != 1 || days[0].Events != 1 || strings.HasPrefix(days[0].Day, "2099") {
		t.Errorf("aggregates %+v, want one event on today's day only", days)
	}
	for _, u := range []string{"u-x\uFFFD", "u-x"} {
		if d, _ := st.Activity(t.Context(), "production", store.KindUser, u, "2026-01-01", "2099-12-31"); len(d) != 0 {
			t.Errorf("aggregates for %q: %+v, want none", u, d)
		}
	}
}

// deadLetters reads the DLQ: source message id -> reason.
func deadLetters(t *testing.T, url string) map[string]string {
	t.Helper()
	q := awstest.SQS(t)
	out := map[string]string{}
	for range 5 {
		res, err := q.ReceiveMessage(t.Context(), &sqs.ReceiveMessageInput{QueueUrl: aws.String(url), MaxNumberOfMessages: 10,
			MessageAttributeNames: []string{"All"}, WaitTimeSeconds: 1})
		if err != nil {
			t.Fatal(err)
		}
		if len(res.Messages) == 0 {
			break
		}
		for _, m := range res.Messages {
			out[attr(m, forward.AttrSourceMessageID)] = attr(m, forward.AttrReason)
		}
	}
	return out
}

func attr(m sqstypes.Message, name string) string {
	return aws.ToString(m.MessageAttributes[name].StringValue)
}
