package main

// The local runner's event endpoint: POST a Userpilot event record, or a JSON
// array of them, and each goes onto the local activity queue as one message,
// the way a producer sends them to the deployed queue. The activity handler
// picks them up at the next queue check (--queue-every).

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"
)

const (
	// defaultEventsAddr is where the endpoint listens (loopback only).
	defaultEventsAddr = "127.0.0.1:8788"
	// eventsPath is the endpoint's path.
	eventsPath = "/events"
	// maxEventsBody bounds a POST: a demo endpoint, not a bulk loader.
	maxEventsBody = 4 << 20
	// sqsMaxMessageBytes is SQS's message size limit (256 KiB;
	// https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/quotas-messages.html).
	sqsMaxMessageBytes = 256 << 10
	// sqsMaxSendBatch is SendMessageBatch's entry limit.
	sqsMaxSendBatch = 10
)

// messageSender is the SQS call the endpoint makes.
type messageSender interface {
	SendMessageBatch(ctx context.Context, in *sqs.SendMessageBatchInput, opts ...func(*sqs.Options)) (*sqs.SendMessageBatchOutput, error)
}

// eventsHandler serves POST /events onto the queue at queueURL and calls
// queued with the number of records queued by each request.
type eventsHandler struct {
	sqs      messageSender
	queueURL string
	queued   func(n int)
}

// eventsResponse is the endpoint's answer.
type eventsResponse struct {
	Queued int    `json:"queued"`
	Error  string `json:"error,omitempty"`
}

func (h *eventsHandler) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	if req.URL.Path != eventsPath {
		http.NotFound(w, req)
		return
	}
	if req.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		answer(w, http.StatusMethodNotAllowed, eventsResponse{Error: "POST a Userpilot event record or a JSON array of them"})
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, req.Body, maxEventsBody))
	if err != nil {
		answer(w, http.StatusRequestEntityTooLarge, eventsResponse{Error: fmt.Sprintf("body over %d bytes", maxEventsBody)})
		return
	}
	records, err := splitRecords(body)
	if err != nil {
		answer(w, http.StatusBadRequest, eventsResponse{Error: err.Error()})
		return
	}
	n, err := h.send(req.Context(), records)
	if n > 0 && h.queued != nil {
		h.queued(n)
	}
	if err != nil {
		answer(w, http.StatusBadGateway, eventsResponse{Queued: n, Error: err.Error()})
		return
	}
	answer(w, http.StatusAccepted, eventsResponse{Queued: n})
}

// splitRecords accepts one JSON object or an array of objects and returns
// each object's bytes. Only the shape is checked: the activity handler
// validates records as it does in Lambda (a bad one is dead-lettered).
func splitRecords(body []byte) ([]json.RawMessage, error) {
	body = bytes.TrimSpace(body)
	var records []json.RawMessage
	switch {
	case len(body) == 0:
		return nil, errors.New("empty body: POST an event record or an array of them")
	case body[0] == '[':
		if err := json.Unmarshal(body, &records); err != nil {
			return nil, fmt.Errorf("not a JSON array: %v", err)
		}
	default:
		if !json.Valid(body) {
			return nil, errors.New("not JSON: POST an event record or an array of them")
		}
		records = []json.RawMessage{body}
	}
	for i, r := range records {
		if r = bytes.TrimSpace(r); len(r) == 0 || r[0] != '{' {
			return nil, fmt.Errorf("record %d is not a JSON object", i)
		}
		if len(r) > sqsMaxMessageBytes {
			return nil, fmt.Errorf("record %d is over the %d-byte SQS message limit", i, sqsMaxMessageBytes)
		}
	}
	if len(records) == 0 {
		return nil, errors.New("empty array")
	}
	return records, nil
}

// send queues records ten at a time and returns how many SQS accepted.
func (h *eventsHandler) send(ctx context.Context, records []json.RawMessage) (int, error) {
	sent := 0
	for start := 0; start < len(records); start += sqsMaxSendBatch {
		var entries []sqstypes.SendMessageBatchRequestEntry
		for j, r := range records[start:min(start+sqsMaxSendBatch, len(records))] {
			entries = append(entries, sqstypes.SendMessageBatchRequestEntry{Id: aws.String(fmt.Sprint(j)), MessageBody: aws.String(string(r))})
		}
		out, err := h.sqs.SendMessageBatch(ctx, &sqs.SendMessageBatchInput{QueueUrl: aws.String(h.queueURL), Entries: entries})
		if err != nil {
			return sent, fmt.Errorf("queue %d records: %w", len(entries), err)
		}
		sent += len(out.Successful)
		if len(out.Failed) > 0 {
			return sent, fmt.Errorf("the queue refused %d records: %s", len(out.Failed), aws.ToString(out.Failed[0].Message))
		}
	}
	return sent, nil
}

func answer(w http.ResponseWriter, code int, v eventsResponse) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(v)
}

// startEvents serves the endpoint on addr until ctx ends and returns its URL.
func (r *runner) startEvents(ctx context.Context, addr string) (string, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return "", fmt.Errorf("event endpoint on %s: %w (pick another with --events-addr, or --events-addr off)", addr, err)
	}
	srv := &http.Server{
		Handler:           &eventsHandler{sqs: r.sqs, queueURL: r.queueURL, queued: func(n int) { r.posted.Add(int64(n)) }},
		ReadHeaderTimeout: 5 * time.Second,
	}
	go func() { _ = srv.Serve(ln) }()
	go func() {
		<-ctx.Done()
		sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Second)
		defer cancel()
		_ = srv.Shutdown(sctx)
	}()
	return "http://" + ln.Addr().String() + eventsPath, nil
}
