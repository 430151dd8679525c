package forward

import (
	"context"
	"errors"
	"log/slog"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/pilotsync/pilotsync/shared/awstest"
	"github.com/pilotsync/pilotsync/shared/hubspot"
	"github.com/pilotsync/pilotsync/shared/hubspot/hubspottest"
	"github.com/pilotsync/pilotsync/shared/identity"
	"github.com/pilotsync/pilotsync/shared/userpilot"
	"github.com/pilotsync/pilotsync/shared/userpilot/userpilottest"
)

// sandboxClient is a HubSpot client for a fresh sandbox.
func sandboxClient(t *testing.T) (*hubspot.Client, *hubspottest.Server) {
	t.Helper()
	hs := hubspottest.NewTestServer(t, hubspottest.Options{Logger: slog.New(slog.DiscardHandler)})
	c, err := hubspot.NewClient(hubspot.WithBaseURL(hs.URL), hubspot.WithToken(hs.Token()), hubspot.WithLogger(slog.New(slog.DiscardHandler)))
	if err != nil {
		t.Fatal(err)
	}
	return c, hs
}

// testQueue creates a queue on the SQS emulator, deleted when the test ends.
func testQueue(t *testing.T, q *sqs.Client) string {
	t.Helper()
	out, err := q.CreateQueue(t.Context(), &sqs.CreateQueueInput{QueueName: aws.String(awstest.UniqueName("fwd-dlq"))})
	if err != nil {
		t.Fatal(err)
	}
	url := aws.ToString(out.QueueUrl)
	t.Cleanup(func() { _, _ = q.DeleteQueue(context.Background(), &sqs.DeleteQueueInput{QueueUrl: aws.String(url)}) })
	return url
}

// TestDeadLettersReachTheQueue: the forwarder NewFromDeps builds with an SQS
// client and PILOTSYNC_DLQ_URL moves a message that can never succeed to the
// dead-letter queue: its body unchanged (an empty body, which SQS refuses,
// as "(empty)"), its reason and source message id as attributes, and the
// report lists it as dead-lettered, not failed. The valid message beside it
// is neither.
func TestDeadLettersReachTheQueue(t *testing.T) {
	q := awstest.SQS(t)
	url := testQueue(t, q)
	c, _ := sandboxClient(t)
	f, err := NewFromDeps(Deps{Config: noGrace(testConfig()), Store: newMemStore(), HubSpot: c, SQS: q, DLQURL: url,
		Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	bad := `{"event_type":`
	batch := []Message{{ID: "m-bad", Body: []byte(bad)}, {ID: "m-empty"}, {ID: "m-ok", Body: []byte(rec("track", "e1", "nobody", "event_name", "x"))}}
	rep, err := f.Process(t.Context(), batch)
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(rep.DeadLettered)
	if got := strings.Join(rep.DeadLettered, ","); got != "m-bad,m-empty" || len(rep.Failed) != 0 {
		t.Fatalf("dead-lettered %q, failed %v; want m-bad,m-empty and none failed", got, rep.Failed)
	}
	out, err := q.ReceiveMessage(t.Context(), &sqs.ReceiveMessageInput{QueueUrl: aws.String(url), MaxNumberOfMessages: 10,
		MessageAttributeNames: []string{"All"}})
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]sqstypes.Message{}
	for _, m := range out.Messages {
		got[aws.ToString(m.MessageAttributes[AttrSourceMessageID].StringValue)] = m
	}
	if len(got) != 2 {
		t.Fatalf("dead-letter queue holds %d messages (%v), want m-bad and m-empty", len(out.Messages), got)
	}
	for id, want := range map[string]struct{ body, code string }{"m-bad": {bad, "invalid_json"}, "m-empty": {"(empty)", "empty"}} {
		m, ok := got[id]
		if !ok {
			t.Errorf("%s not in the dead-letter queue", id)
			continue
		}
		if aws.ToString(m.Body) != want.body {
			t.Errorf("%s body %q, want %q", id, aws.ToString(m.Body), want.body)
		}
		if r := aws.ToString(m.MessageAttributes[AttrReason].StringValue); !strings.Contains(r, want.code) {
			t.Errorf("%s reason %q, want it to name %s", id, r, want.code)
		}
	}
}

// TestDeadLetterQueueDownRetriesTheMessage: when the dead-letter queue
// refuses the message (here: it does not exist), the message is reported
// failed so SQS keeps it, instead of being deleted and lost.
func TestDeadLetterQueueDownRetriesTheMessage(t *testing.T) {
	q := awstest.SQS(t)
	url := testQueue(t, q)
	if _, err := q.DeleteQueue(t.Context(), &sqs.DeleteQueueInput{QueueUrl: aws.String(url)}); err != nil {
		t.Fatal(err)
	}
	rep, err := newEnv(t, testConfig(), func(o *Options) { o.DLQ = NewSQSDeadLetters(q, url) }).f.Process(t.Context(), msgs(`nope`))
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(rep.Failed, ",") != "m0" || len(rep.DeadLettered) != 0 {
		t.Errorf("failed %v, dead-lettered %v; want m0 failed (kept in the queue)", rep.Failed, rep.DeadLettered)
	}
}

// TestNoDeadLetterQueueLeavesEveryInvalidMessageToTheRedrive: without a
// dead-letter queue (no PILOTSYNC_DLQ_URL) every invalid message of the
// batch, not only the first, is reported failed for the queue's redrive
// policy, and the messages after them still get their outcome.
func TestNoDeadLetterQueueLeavesEveryInvalidMessageToTheRedrive(t *testing.T) {
	q := awstest.SQS(t)
	c, _ := sandboxClient(t)
	st := newMemStore()
	// An SQS client without a queue URL is no dead-letter queue.
	f, err := NewFromDeps(Deps{Config: testConfig(), Store: st, HubSpot: c, SQS: q, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	st.failAdd = errBoom
	rep, err := f.Process(t.Context(), msgs(`nope`, `{"x":`, rec("session_start", "s1", "u1")))
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(rep.Failed, ","); got != "m0,m1,m2" || len(rep.DeadLettered) != 0 {
		t.Errorf("failed %q, dead-lettered %v; want m0,m1 (invalid, no DLQ) and m2 (aggregate failed)", got, rep.DeadLettered)
	}
}

var errBoom = errors.New("fake: throttled")

// TestNewFromDepsNeedsItsClients: the forwarder cannot be built without a
// config and a HubSpot client, nor over a store that cannot hold links.
func TestNewFromDepsNeedsItsClients(t *testing.T) {
	c, _ := sandboxClient(t)
	for name, d := range map[string]Deps{
		"no config":  {Store: newMemStore(), HubSpot: c},
		"no hubspot": {Config: testConfig(), Store: newMemStore()},
		"no links":   {Config: testConfig(), Store: onlyForwardStore{newMemStore()}, HubSpot: c},
	} {
		if f, err := NewFromDeps(d); err == nil || f != nil {
			t.Errorf("%s: got %v, %v; want an error", name, f, err)
		}
	}
}

// onlyForwardStore is a store with only the forwarder's methods.
type onlyForwardStore struct{ Store }

// TestNewFromDepsWritesLinksToUserpilot: with a Userpilot client the
// forwarder's linker writes a new link to the user in Userpilot.
func TestNewFromDepsWritesLinksToUserpilot(t *testing.T) {
	c, hs := sandboxClient(t)
	up := userpilottest.NewTestServer(t, userpilottest.Options{RateLimit: -1, JobDuration: -1})
	upc, err := userpilot.NewClient(userpilottest.DefaultAPIKey, userpilot.WithBaseURL(up.URL), userpilot.WithLogger(slog.New(slog.DiscardHandler)))
	if err != nil {
		t.Fatal(err)
	}
	st := newMemStore()
	f, err := NewFromDeps(Deps{Config: noGrace(testConfig()), Store: st, HubSpot: c, Userpilot: upc, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	id := hs.AddRecords("contacts", []hubspottest.SeedRecord{{Properties: map[string]string{"email": "a@x.com"}}})[0]
	if _, err := f.Process(t.Context(), msgs(rec("identify_user", "i1", "u1", "metadata", `{"email":"a@x.com"}`), rec("track", "e1", "u1", "event_name", "x"))); err != nil {
		t.Fatal(err)
	}
	u, ok := up.User("u1")
	if !ok || u.Metadata[identity.KeyUserID] != id {
		t.Errorf("Userpilot user %+v, want %s = %s", u, identity.KeyUserID, id)
	}
	if evs := hs.Events(); len(evs) != 1 || evs[0].ObjectID != id {
		t.Errorf("events %+v, want e1 on %s", evs, id)
	}
}

// TestNewNeedsConfigAndStore: a forwarder cannot be built without a
// config or without a store; without a logger it logs to slog's default
// (a batch with warnings to log runs through).
func TestNewNeedsConfigAndStore(t *testing.T) {
	for name, o := range map[string]Options{"no config": {Store: newMemStore()}, "no store": {Config: testConfig()}} {
		if f, err := New(o); err == nil || f != nil {
			t.Errorf("%s: got %v, %v; want an error", name, f, err)
		}
	}
	cfg := testConfig()
	cfg.Activity.Sink = "none"
	f, err := New(Options{Config: cfg, Store: newMemStore(), DLQ: &fakeDLQ{err: errBoom}})
	if err != nil {
		t.Fatal(err)
	}
	rep, err := f.Process(t.Context(), msgs(`nope`))
	if err != nil || strings.Join(rep.Failed, ",") != "m0" {
		t.Errorf("got %+v, %v; want m0 failed (the DLQ refused it)", rep, err)
	}
}

// TestDeadLetterQueueURLWithoutAClientIsNoQueue: a PILOTSYNC_DLQ_URL without
// an SQS client is no dead-letter queue: an invalid message is reported
// failed for the redrive policy (not sent through a missing client).
func TestDeadLetterQueueURLWithoutAClientIsNoQueue(t *testing.T) {
	c, _ := sandboxClient(t)
	f, err := NewFromDeps(Deps{Config: testConfig(), Store: newMemStore(), HubSpot: c, DLQURL: "http://127.0.0.1:1/000000000000/dlq", Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	rep, err := f.Process(t.Context(), msgs(`nope`))
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(rep.Failed, ",") != "m0" || len(rep.DeadLettered) != 0 {
		t.Errorf("failed %v, dead-lettered %v; want m0 failed (kept in the queue)", rep.Failed, rep.DeadLettered)
	}
}
