package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/pilotsync/pilotsync/shared/awstest"
	"github.com/pilotsync/pilotsync/shared/forward"
	"github.com/pilotsync/pilotsync/shared/hubspot/hubspottest"
	"github.com/pilotsync/pilotsync/shared/status"
	"github.com/pilotsync/pilotsync/shared/store"
	"github.com/pilotsync/pilotsync/shared/userpilot/userpilottest"
)

// opsStack is one test's own table and queues on the emulators, with the
// environment pointing the commands at them.
type opsStack struct {
	table, queue, dlq string
	store             *store.Store
	sqs               *sqs.Client
	cfgPath           string
}

func newOpsStack(t *testing.T) *opsStack {
	t.Helper()
	ctx := t.Context()
	db, table := awstest.Table(t, store.CreateTable)
	q := awstest.SQS(t)
	s := &opsStack{table: table, sqs: q}
	s.store = store.New(db, s.table)
	for _, u := range []*string{&s.queue, &s.dlq} {
		out, err := q.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String(awstest.UniqueName("ops-q"))})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _, _ = q.DeleteQueue(context.Background(), &sqs.DeleteQueueInput{QueueUrl: out.QueueUrl}) })
		*u = aws.ToString(out.QueueUrl)
	}
	s.cfgPath = filepath.Join(t.TempDir(), "integration.yaml")
	if err := os.WriteFile(s.cfgPath, []byte(syncTestConfig), 0o600); err != nil {
		t.Fatal(err)
	}
	for k, v := range map[string]string{
		"PILOTSYNC_TABLE": s.table, "PILOTSYNC_QUEUE_URL": s.queue, "PILOTSYNC_DLQ_URL": s.dlq, "PILOTSYNC_STACK": "",
		"AWS_ACCESS_KEY_ID": "test", "AWS_SECRET_ACCESS_KEY": "test", "AWS_REGION": awstest.Region,
		"HUBSPOT_SECRET_ARN": "", "USERPILOT_SECRET_ARN": "",
	} {
		t.Setenv(k, v)
	}
	return s
}

func (s *opsStack) deadLetter(t *testing.T, body, reason string) {
	t.Helper()
	in := &sqs.SendMessageInput{QueueUrl: aws.String(s.dlq), MessageBody: aws.String(body)}
	if reason != "" {
		in.MessageAttributes = map[string]sqstypes.MessageAttributeValue{
			forward.AttrReason: {DataType: aws.String("String"), StringValue: aws.String(reason)},
		}
	}
	if _, err := s.sqs.SendMessage(t.Context(), in); err != nil {
		t.Fatal(err)
	}
}

func (s *opsStack) depth(t *testing.T, url string) int {
	t.Helper()
	out, err := s.sqs.GetQueueAttributes(t.Context(), &sqs.GetQueueAttributesInput{QueueUrl: aws.String(url),
		AttributeNames: []sqstypes.QueueAttributeName{sqstypes.QueueAttributeNameApproximateNumberOfMessages}})
	if err != nil {
		t.Fatal(err)
	}
	n, _ := strconv.Atoi(out.Attributes[string(sqstypes.QueueAttributeNameApproximateNumberOfMessages)])
	return n
}

func runCLI(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	code := dispatch(t.Context(), args, &stdout, &stderr)
	return code, stdout.String(), stderr.String()
}

// TestStatusEndToEnd runs a real inbound sync (poll handler, DynamoDB Local,
// sandboxes), adds what the other jobs leave (a run of a job this code does
// not know, an open problem, dead-lettered messages, quarantined records),
// and checks what `pilotsync status` shows, as JSON and as text.
func TestStatusEndToEnd(t *testing.T) {
	s := newOpsStack(t)
	ctx := t.Context()
	hs := hubspottest.NewTestServer(t, hubspottest.Options{})
	up := userpilottest.NewTestServer(t, userpilottest.Options{})
	t.Setenv("HUBSPOT_TOKEN", hubspottest.DefaultToken)
	t.Setenv("HUBSPOT_BASE_URL", hs.URL)
	t.Setenv("USERPILOT_API_KEY", userpilottest.DefaultAPIKey)
	t.Setenv("USERPILOT_BASE_URL", up.URL)
	if code, out, errOut := runCLI(t, "import", writeUsers(t), "--kind", "users", "--config", s.cfgPath, "--as-of", "2026-11-01T00:00:00Z"); code != exitOK {
		t.Fatalf("import: %d %s %s", code, out, errOut)
	}
	hs.SeedContacts(1, func(int) hubspottest.SeedRecord {
		return hubspottest.SeedRecord{Properties: map[string]string{"email": "ann@example.com", "firstname": "Ann"}, ModifiedAt: time.Now().Add(-time.Hour)}
	})
	if code, out, errOut := runCLI(t, "sync", "--config", s.cfgPath); code != exitOK {
		t.Fatalf("sync: %d %s %s", code, out, errOut)
	}
	if code, out, errOut := runCLI(t, "sync", "--incremental", "--config", s.cfgPath); code != exitOK {
		t.Fatalf("incremental sync: %d %s %s", code, out, errOut)
	}

	now := time.Now()
	if err := s.store.PutRun(ctx, store.RunRecord{Env: "production", Job: "nightly_export", ID: "x1", Started: now.Add(-2 * time.Second), Finished: now,
		Counts: map[string]int64{"exported": 7}, APICalls: map[string]int64{"hubspot.export": 2}, Error: "hubspot: 401"}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.store.OpenProblem(ctx, "production", "activity/dead_lettered/rejected", "HubSpot refused 2 events", now, time.Hour); err != nil {
		t.Fatal(err)
	}
	if err := s.store.AcquireLease(ctx, "production", "outbound", "push-7", time.Minute); err != nil {
		t.Fatal(err)
	}
	s.deadLetter(t, `{"a":1}`, "rejected: HubSpot rejected the event: x")
	s.deadLetter(t, `{"a":2}`, "rejected: HubSpot rejected the event: y")
	s.deadLetter(t, `{"a":3}`, "")
	for i, q := range []map[string]string{{"plan": "type mismatch: number"}, {"plan": "type mismatch: number", "tier": "read-only property"}} {
		if err := s.store.PutProfile(ctx, &store.Profile{Env: "production", Kind: store.KindUser, ID: "q" + strconv.Itoa(i), Quarantined: q}); err != nil {
			t.Fatal(err)
		}
	}

	code, out, errOut := runCLI(t, "status", "--json", "--config", s.cfgPath, "--age", "sample")
	if code != exitOK {
		t.Fatalf("status: exit %d\n%s\n%s", code, out, errOut)
	}
	var rep status.Report
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatalf("status output %q: %v", out, err)
	}
	jobs := map[string]status.Job{}
	for _, j := range rep.Jobs {
		jobs[j.Job] = j
	}
	in := jobs["inbound"]
	if len(in.Runs) != 2 || in.Runs[0].Outcome != status.OutcomeOK || in.Runs[1].APICalls["hubspot.list"] != 1 || in.Runs[1].APICallsTotal < 2 ||
		in.Runs[1].Counts["written"] != 1 || !in.Runs[0].Started.After(in.Runs[1].Started) {
		t.Errorf("inbound runs = %+v; want the incremental then the full sync (1 list call, 1 written)", in.Runs)
	}
	if x := jobs["nightly_export"]; len(x.Runs) != 1 || x.Runs[0].Outcome != status.OutcomeFailed || x.Runs[0].Counts["exported"] != 7 ||
		x.Runs[0].APICallsTotal != 2 || x.Runs[0].DurationMS != 2000 {
		t.Errorf("a job status does not know = %+v; want its failed run shown as stored", x)
	}
	if len(rep.Cursors) != 1 || rep.Cursors[0].Name != "inbound:users:contacts" || rep.Cursors[0].LagFrom != "position" || rep.Cursors[0].LagSeconds <= 0 {
		t.Errorf("cursors = %+v; want the users cursor with its position lag", rep.Cursors)
	}
	if len(rep.Leases) != 1 || rep.Leases[0].Name != "outbound" || !rep.Leases[0].Held || rep.Leases[0].Owner != "push-7" {
		t.Errorf("leases = %+v; want outbound held by push-7 (inbound released its own)", rep.Leases)
	}
	if len(rep.Problems) != 1 || rep.Problems[0].Key != "activity/dead_lettered/rejected" || rep.Problems[0].Summary != "HubSpot refused 2 events" {
		t.Errorf("problems = %+v", rep.Problems)
	}
	if len(rep.Queues) != 2 || rep.Queues[0].Visible != 0 || rep.Queues[1].Visible != 3 || rep.Queues[1].Reasons["rejected"] != 2 ||
		rep.Queues[1].Reasons[status.ReasonMaxReceives] != 1 || rep.Queues[1].OldestAgeSeconds == nil || rep.Queues[1].AgeFrom != "sample" {
		t.Errorf("queues = %+v; want an empty queue and a DLQ of 3 (2 rejected, 1 by the redrive policy) with an age", rep.Queues)
	}
	if q := rep.Quarantine; q == nil || !q.Complete || q.Profiles != 2 || q.ByReason["user"]["type mismatch: number"] != 2 || q.ByReason["user"]["read-only property"] != 1 {
		t.Errorf("quarantine = %+v", rep.Quarantine)
	}
	if d := s.depth(t, s.dlq); d != 3 {
		t.Errorf("after status the DLQ shows %d visible, want 3: the sample must leave messages visible", d)
	}

	code, out, errOut = runCLI(t, "status", "--config", s.cfgPath, "--age", "sample")
	if code != exitOK {
		t.Fatalf("status text: exit %d\n%s\n%s", code, out, errOut)
	}
	for _, want := range []string{
		"environment production", "Runs (newest first)", "nightly_export", "FAILED", "error: hubspot: 401",
		"inbound:users:contacts", "outbound  held by push-7", "activity/dead_lettered/rejected",
		"dead-letter", "3 waiting", "reasons in the sample: max_receives 1, rejected 2",
		"type mismatch: number",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("status text lacks %q:\n%s", want, out)
		}
	}
}

func writeUsers(t *testing.T) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "users.csv")
	if err := os.WriteFile(p, []byte("user_id,email\nu1,ann@example.com\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestRedriveEndToEnd dead-letters messages as the forwarder and the redrive
// policy do and quarantines outbound properties, then checks that a dry run
// changes nothing and that redrive by reason moves exactly those messages and
// marks exactly those profiles for the next push.
func TestRedriveEndToEnd(t *testing.T) {
	s := newOpsStack(t)
	ctx := t.Context()
	s.deadLetter(t, `{"e":1}`, "rejected: HubSpot rejected the event: x")
	s.deadLetter(t, `{"e":2}`, "invalid_json: not JSON")
	s.deadLetter(t, `{"e":3}`, "")
	put := func(id string, q map[string]string) {
		if err := s.store.PutProfile(ctx, &store.Profile{Env: "production", Kind: store.KindUser, ID: id, Quarantined: q}); err != nil {
			t.Fatal(err)
		}
	}
	put("u1", map[string]string{"plan": "rejected: INVALID_OPTION"})
	put("u2", map[string]string{"plan": "read-only property"})

	code, out, errOut := runCLI(t, "redrive", "--dry-run", "--reason", "rejected", "--config", s.cfgPath)
	if code != exitOK || !strings.Contains(out, "would move 1 of 3 message(s)") || !strings.Contains(out, "would release 1 propert(ies) of 1 profile(s)") {
		t.Errorf("dry run: exit %d\n%s\n%s", code, out, errOut)
	}
	if d, q := s.depth(t, s.dlq), s.depth(t, s.queue); d != 3 || q != 0 {
		t.Errorf("after the dry run: DLQ %d, queue %d; want 3 and 0", d, q)
	}
	if p, _ := s.store.GetProfile(ctx, "production", store.KindUser, "u1"); p.Dirty || len(p.Quarantined) != 1 {
		t.Errorf("after the dry run u1 = dirty %v quarantined %v; want unchanged", p.Dirty, p.Quarantined)
	}

	code, out, errOut = runCLI(t, "redrive", "--reason", "rejected", "--json", "--config", s.cfgPath)
	if code != exitOK {
		t.Fatalf("redrive: exit %d\n%s\n%s", code, out, errOut)
	}
	var rep redriveReport
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatalf("redrive output %q: %v", out, err)
	}
	if rep.DLQ == nil || rep.DLQ.Moved != 1 || rep.Quarantine["user"].Profiles != 1 {
		t.Errorf("redrive report = %+v", rep)
	}
	msgs, err := s.sqs.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: aws.String(s.queue), MaxNumberOfMessages: 10, WaitTimeSeconds: 1})
	if err != nil {
		t.Fatal(err)
	}
	var bodies []string
	for _, m := range msgs.Messages {
		bodies = append(bodies, aws.ToString(m.Body))
	}
	if !slices.Equal(bodies, []string{`{"e":1}`}) {
		t.Errorf("queue holds %v, want the rejected message only", bodies)
	}
	if d := s.depth(t, s.dlq); d != 2 {
		t.Errorf("DLQ holds %d, want the 2 others", d)
	}
	var dirty []string
	for p, err := range s.store.DirtyProfiles(ctx, "production", store.KindUser) {
		if err != nil {
			t.Fatal(err)
		}
		dirty = append(dirty, p.ID)
	}
	if !slices.Equal(dirty, []string{"u1"}) {
		t.Errorf("dirty users = %v, want u1 (its rejected property is retried by the next push)", dirty)
	}

	code, out, _ = runCLI(t, "redrive", "--only", "dlq", "--reason", status.ReasonMaxReceives, "--config", s.cfgPath)
	if code != exitOK || !strings.Contains(out, "moved 1 of 2") {
		t.Errorf("redrive max_receives: exit %d\n%s", code, out)
	}
	if code, _, errOut = runCLI(t, "redrive", "--only", "nope"); code != exitUsage || !strings.Contains(errOut, "want dlq or quarantine") {
		t.Errorf("bad --only: exit %d, %s", code, errOut)
	}
}
