package forward

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/pilotsync/pilotsync/shared/hubspot"
)

// clock is a test clock the forwarder reads through Options.Now; tests move
// it only between Process calls.
type clock struct{ t time.Time }

func (c *clock) now() time.Time { return c.t }

func withClock(c *clock) func(*Options) { return func(o *Options) { o.Now = c.now } }

// recAt is rec with inserted_at set to at.
func recAt(typ, id, user string, at time.Time, kv ...string) string {
	return rec(typ, id, user, append([]string{"inserted_at", at.Format("2006-01-02T15:04:05.000000Z")}, kv...)...)
}

func TestResolveErrorIsReportedAsSinkErr(t *testing.T) {
	// A revoked token shows first on the batch read that resolves users: the
	// alert must be able to name it (401) rather than see an unexplained stall.
	cfg := testConfig()
	cfg.Mapping.Users.Match.Userpilot = "user_id"
	e := newEnv(t, cfg)
	e.finder.err = fmt.Errorf("hubspot: batch read 1 contacts: %w", &hubspot.APIError{Status: http.StatusUnauthorized, Endpoint: "batch_read"})
	rep, err := e.f.Process(context.Background(), msgs(rec("track", "a", "u9", "event_name", "x")))
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(rep.Failed, ","); got != "m0" {
		t.Errorf("got failed %q, want m0", got)
	}
	var ae *hubspot.APIError
	if !errors.As(rep.SinkErr, &ae) || ae.Status != http.StatusUnauthorized {
		t.Errorf("got sink error %v, want the finder's 401 *hubspot.APIError", rep.SinkErr)
	}
}
