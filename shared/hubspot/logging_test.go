package hubspot

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestLogsHoldNoSecrets logs at debug level through retries and errors that mention an email,
// and checks neither the token nor the email reaches the log or the error.
func TestLogsHoldNoSecrets(t *testing.T) {
	var buf bytes.Buffer
	var mu sync.Mutex
	logger := slog.New(slog.NewJSONHandler(&lockedWriter{w: &buf, mu: &mu}, &slog.HandlerOptions{Level: slog.LevelDebug}))
	f := newFake(t,
		reply{status: 503, body: `{"status":"error","message":"busy for ann@example.com"}`},
		reply{status: 200, body: `{"status":"COMPLETE","results":[{"id":"1","properties":{"email":"ann@example.com"}}]}`},
		reply{status: 400, body: `{"status":"error","category":"VALIDATION_ERROR","message":"Contact ann@example.com is invalid"}`})
	c := f.client(t, newFakeClock(), WithLogger(logger))
	ctx := context.Background()
	if _, err := c.FindByEmails(ctx, "contacts", []string{"ann@example.com"}, nil); err != nil {
		t.Fatal(err)
	}
	_, err := c.ListProperties(ctx, "contacts")
	if err == nil || strings.Contains(err.Error(), "ann@example.com") {
		t.Errorf("error %v: want one without the raw email", err)
	}
	mu.Lock()
	out := buf.String()
	mu.Unlock()
	if out == "" {
		t.Fatal("nothing logged at debug level")
	}
	for _, secret := range []string{"secret-token", "ann@example.com"} {
		if strings.Contains(out, secret) {
			t.Errorf("log holds %q:\n%s", secret, out)
		}
	}
}

type lockedWriter struct {
	w  *bytes.Buffer
	mu *sync.Mutex
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

func TestWindowFreesFromSendLog(t *testing.T) {
	clock := newFakeClock()
	p := newPacer(Limits{PerWindow: 4, Window: 10 * time.Second}, clock)
	if d := p.windowFrees(); d != 10*time.Second {
		t.Errorf("with an empty log: %s, want the whole window", d)
	}
	start := clock.Now()
	p.mu.Lock()
	for _, at := range []time.Duration{0, 1, 3, 4, 5} { // seconds; the first falls out of the ring
		p.logSendLocked(start.Add(at * time.Second))
	}
	p.mu.Unlock()
	clock.Advance(6 * time.Second)
	// Oldest kept send at start+1s leaves the window at start+11s: 5 s from now.
	if got := p.windowFrees(); got != 5*time.Second {
		t.Errorf("window frees in %s, want 5s", got)
	}
	clock.Advance(10 * time.Second)
	if got := p.windowFrees(); got != time.Second {
		t.Errorf("after the log aged out: %s, want the 1 s floor", got)
	}
}

func TestStatsConcurrent(t *testing.T) {
	f := newFake(t, reply{body: ok200})
	c := f.client(t, nil, WithLimits(Limits{PerWindow: 10_000}))
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for range 10 {
				if _, err := c.ListProperties(context.Background(), "contacts"); err != nil {
					t.Error(err)
				}
				_ = c.Stats()
			}
		})
	}
	wg.Wait()
	if st := c.Stats(); st.Calls["properties"] != 80 || st.Requests != 80 || st.Errors != 0 {
		t.Errorf("stats = %+v", st)
	}
}
