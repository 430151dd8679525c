package storetest

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/pilotsync/pilotsync/shared/awstest"
	"github.com/pilotsync/pilotsync/shared/store"
)

// DynamoFaulty returns a DynamoDB store on a fresh DynamoDB Local table
// whose SDK client answers, while a fault is injected, every request with
// that fault's error response instead of sending it: the store sees exactly
// what DynamoDB would have said.
func DynamoFaulty(t testing.TB) Faulty {
	t.Helper()
	_, name := awstest.Table(t, store.CreateTable)
	ft := &faultTransport{next: http.DefaultTransport}
	ep := awstest.Endpoint(t, "DYNAMODB")
	db := dynamodb.NewFromConfig(awstest.Config(), awstest.DynamoDBOptions(ep), func(o *dynamodb.Options) {
		o.HTTPClient = &http.Client{Transport: ft}
	})
	return Faulty{Store: store.New(db, name), Inject: func(f Fault) {
		if f.Code == "" {
			ft.fault.Store(nil)
			return
		}
		ft.fault.Store(&f)
	}}
}

// faultTransport answers requests with the injected fault, or sends them.
type faultTransport struct {
	next  http.RoundTripper
	fault atomic.Pointer[Fault]
}

// RoundTrip implements http.RoundTripper.
func (ft *faultTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	f := ft.fault.Load()
	if f == nil {
		return ft.next.RoundTrip(r)
	}
	if r.Body != nil {
		_, _ = io.Copy(io.Discard, r.Body)
		_ = r.Body.Close()
	}
	const prefix = "com.amazonaws.dynamodb.v20120810#"
	body := map[string]any{"__type": prefix + f.Code, "message": f.Message}
	status := f.Status
	if f.Cancel != "" && strings.HasSuffix(r.Header.Get("X-Amz-Target"), ".TransactWriteItems") {
		body = map[string]any{
			"__type":              prefix + "TransactionCanceledException",
			"Message":             "Transaction cancelled, please refer cancellation reasons for specific reasons [" + f.Cancel + "]",
			"CancellationReasons": []map[string]string{{"Code": f.Cancel, "Message": f.Message}},
		}
		status = 400
	}
	b, _ := json.Marshal(body)
	return &http.Response{
		StatusCode:    status,
		Status:        http.StatusText(status),
		Header:        http.Header{"Content-Type": []string{"application/x-amz-json-1.0"}},
		Body:          io.NopCloser(strings.NewReader(string(b))),
		ContentLength: int64(len(b)),
		Request:       r,
		Proto:         "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
	}, nil
}
