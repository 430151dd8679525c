package wire

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"sync"
	"testing"
	"time"

	"github.com/pilotsync/pilotsync/shared/handler"

	"github.com/pilotsync/pilotsync/shared/alert"
	"github.com/pilotsync/pilotsync/shared/awstest"
	"github.com/pilotsync/pilotsync/shared/hubspot/hubspottest"
	"github.com/pilotsync/pilotsync/shared/notify"
)

// TestPollAnswersBeforeDeadlineWhenDynamoDBHangs: DynamoDB hangs (a stalled
// proxy in front of DynamoDB Local) from the poll's first HubSpot call on,
// after the lease was taken: the page's checkpoint, the run record, the lease
// release and the alerts' reads all hang. The handler still answers before
// the invocation's deadline, with an error (it used to return after three
// fresh 10 s cleanup timeouts).
func TestPollAnswersBeforeDeadlineWhenDynamoDBHangs(t *testing.T) {
	t.Parallel()
	db, proxy := awstest.DynamoDBVia(t)
	w := newPollWorld(t, db)
	target, err := url.Parse(w.hs.URL)
	if err != nil {
		t.Fatal(err)
	}
	var once sync.Once
	rp := httputil.NewSingleHostReverseProxy(target)
	front := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		once.Do(proxy.Stall)
		rp.ServeHTTP(rw, r)
	}))
	t.Cleanup(front.Close)
	w.hs.URL = front.URL
	n := notify.New(awstest.SES(t), w.st, awstest.UniqueName("pilotsync-deadline")+"@example.com", []string{"admin@example.com"})
	h := w.pollHandler(t, hubspottest.DefaultToken, handler.WithPollAlerts(alert.New(n, w.st, w.cfg.Userpilot.Environment)))

	const invocation = 9 * time.Second
	ctx, cancel := context.WithTimeout(context.Background(), invocation)
	defer cancel()
	start := time.Now()
	res, err := h.Handle(ctx, handler.PollInput{Action: handler.PollActionPoll})
	took := time.Since(start)
	t.Logf("answered after %s: %s %v", took.Round(time.Millisecond), res.Status, err)
	if took >= invocation-500*time.Millisecond {
		t.Errorf("poll answered after %s of a %s invocation, want before the deadline", took.Round(time.Millisecond), invocation)
	}
	if err == nil {
		t.Errorf("poll with DynamoDB hanging: status %q without an error, want an error", res.Status)
	}
}
