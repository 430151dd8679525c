package main

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/pilotsync/pilotsync/shared/awstest"
	"github.com/pilotsync/pilotsync/shared/lambdatest"
)

// TestEventsEndpoint posts records to the endpoint and checks what the queue
// (moto) holds: one message per record, and nothing for a refused request.
func TestEventsEndpoint(t *testing.T) {
	q := awstest.SQS(t)
	ctx := t.Context()
	out, err := q.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String(awstest.UniqueName("ev-q"))})
	if err != nil {
		t.Fatal(err)
	}
	url := aws.ToString(out.QueueUrl)
	t.Cleanup(func() { _, _ = q.DeleteQueue(context.Background(), &sqs.DeleteQueueInput{QueueUrl: out.QueueUrl}) })
	var queued int
	srv := httptest.NewServer(&eventsHandler{sqs: q, queueURL: url, queued: func(n int) { queued += n }})
	defer srv.Close()

	var many []string
	for i := range 12 {
		many = append(many, `{"event_type":"track","event_name":"e`+string(rune('a'+i))+`","user_id":"u1"}`)
	}
	tests := []struct {
		name, method, body string
		wantCode, wantN    int
	}{
		{"one record", http.MethodPost, `{"event_type":"identify_user","user_id":"u1"}`, http.StatusAccepted, 1},
		{"an array over one SQS batch", http.MethodPost, "[" + strings.Join(many, ",") + "]", http.StatusAccepted, 12},
		{"not JSON", http.MethodPost, `{"event_type":`, http.StatusBadRequest, 0},
		{"an array holding a non-object", http.MethodPost, `[{"a":1}, 7]`, http.StatusBadRequest, 0},
		{"empty", http.MethodPost, ``, http.StatusBadRequest, 0},
		{"GET", http.MethodGet, ``, http.StatusMethodNotAllowed, 0},
	}
	total := 0
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, _ := http.NewRequestWithContext(ctx, tt.method, srv.URL+eventsPath, strings.NewReader(tt.body))
			res, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer res.Body.Close()
			var got eventsResponse
			_ = json.NewDecoder(res.Body).Decode(&got)
			if res.StatusCode != tt.wantCode || got.Queued != tt.wantN {
				t.Errorf("got %d %+v, want %d with %d queued", res.StatusCode, got, tt.wantCode, tt.wantN)
			}
			total += tt.wantN
		})
	}
	var bodies []string
	for {
		m, err := q.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: aws.String(url), MaxNumberOfMessages: 10, WaitTimeSeconds: 1})
		if err != nil {
			t.Fatal(err)
		}
		if len(m.Messages) == 0 {
			break
		}
		for _, msg := range m.Messages {
			bodies = append(bodies, aws.ToString(msg.Body))
			_, _ = q.DeleteMessage(ctx, &sqs.DeleteMessageInput{QueueUrl: aws.String(url), ReceiptHandle: msg.ReceiptHandle})
		}
	}
	if len(bodies) != total || queued != total {
		t.Errorf("queue holds %d messages, handler counted %d; want %d", len(bodies), queued, total)
	}
	if !slices.Contains(bodies, many[11]) || !slices.Contains(bodies, `{"event_type":"identify_user","user_id":"u1"}`) {
		t.Errorf("queue bodies %v lack the posted records", bodies)
	}
}

// TestRunAcceptsEvents runs `pilotsync run` as `make run` does (looping), posts
// an event for a demo user to its endpoint, and waits for the cycle summary
// saying it was posted and delivered, with the status command to run.
func TestRunAcceptsEvents(t *testing.T) {
	setRunEnv(t)
	ctx, cancel := context.WithTimeout(t.Context(), 60*time.Second)
	defer cancel()
	var stdout, stderr lambdatest.SyncBuffer
	done := make(chan int, 1)
	go func() {
		done <- dispatch(ctx, []string{"run", "--config", "../../integration.example.yaml", "--demo-users", "2",
			"--every", "1h", "--queue-every", "200ms", "--events-addr", "127.0.0.1:0"}, &stdout, &stderr)
	}()
	endpoint := regexp.MustCompile(`to (http://127\.0\.0\.1:\d+/events)`)
	waitFor := func(what string, ok func(string) bool) {
		t.Helper()
		for !ok(stdout.String()) {
			select {
			case code := <-done:
				t.Fatalf("run exited %d before %s\nstdout:\n%s\nstderr:\n%s", code, what, stdout.String(), stderr.String())
			case <-ctx.Done():
				t.Fatalf("no %s in time\nstdout:\n%s\nstderr:\n%s", what, stdout.String(), stderr.String())
			case <-time.After(100 * time.Millisecond):
			}
		}
	}
	waitFor("event endpoint", func(s string) bool { return endpoint.MatchString(s) })
	waitFor("first cycle", func(s string) bool { return strings.Contains(s, "cycle 1: ") })
	url := endpoint.FindStringSubmatch(stdout.String())[1]
	body := `[{"app_token":"NX-demo","event_type":"track","event_name":"report_exported","user_id":"demo-u-1","source":"web-client",
	  "inserted_at":"` + time.Now().UTC().Format("2006-01-02T15:04:05.000000Z") + `","internal_event_id":"posted-1","metadata":{}}]`
	res, err := http.Post(url, "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusAccepted {
		t.Fatalf("POST %s: %d", url, res.StatusCode)
	}
	// The post lands in one cycle's summary and its delivery in the same or
	// the next one.
	posted := regexp.MustCompile(`cycle \d+: 1 event\(s\) posted[^\n]*; details: pilotsync status --local --table \S+ --queue-url`)
	delivered := regexp.MustCompile(`cycle \d+: [^\n]*activity 1 delivered, 0 failed, DLQ 0;`)
	waitFor("the posted event's cycle", func(s string) bool { return posted.MatchString(s) && delivered.MatchString(s) })
	cancel()
	if code := <-done; code != exitOK {
		t.Errorf("run exit %d\n%s", code, stderr.String())
	}
	if out := stdout.String(); !strings.Contains(out, "run: poll: ") || !strings.Contains(out, "poll complete") {
		t.Errorf("output lacks the poll and its summary:\n%s", out)
	}
}
