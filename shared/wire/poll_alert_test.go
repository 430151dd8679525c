package wire

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/pilotsync/pilotsync/shared/handler"

	"github.com/pilotsync/pilotsync/shared/alert"
	"github.com/pilotsync/pilotsync/shared/awstest"
	"github.com/pilotsync/pilotsync/shared/config"
	"github.com/pilotsync/pilotsync/shared/hubspot"
	"github.com/pilotsync/pilotsync/shared/hubspot/hubspottest"
	"github.com/pilotsync/pilotsync/shared/inbound"
	"github.com/pilotsync/pilotsync/shared/notify"
	"github.com/pilotsync/pilotsync/shared/store/storetest"
	"github.com/pilotsync/pilotsync/shared/userpilot"
	"github.com/pilotsync/pilotsync/shared/userpilot/userpilottest"
)

// sesMail is one email in aws-ses-v2-local's store (GET /store).
type sesMail struct {
	From    string `json:"from"`
	Subject string `json:"subject"`
	Body    struct {
		Text string `json:"text"`
	} `json:"body"`
}

// mailFrom returns the mail the SES emulator holds from sender; each test
// uses its own sender, so tests running beside it never interfere.
func mailFrom(t *testing.T, sender string) []sesMail {
	t.Helper()
	resp, err := http.Get(awstest.Endpoint(t, "SES") + "/store")
	if err != nil {
		t.Fatalf("read SES store: %v", err)
	}
	defer resp.Body.Close()
	var st struct {
		Emails []sesMail `json:"emails"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&st); err != nil {
		t.Fatalf("decode SES store: %v", err)
	}
	var out []sesMail
	for _, m := range st.Emails {
		if m.From == sender {
			out = append(out, m)
		}
	}
	return out
}

// TestPollAlertsOnceAndRecovers runs the real poll handler against DynamoDB
// Local, the SES emulator and the sandboxes: a revoked HubSpot token fails two
// polls but mails the admins once; the poll after the token is fixed mails
// one recovery notice.
func TestPollAlertsOnceAndRecovers(t *testing.T) {
	ctx := context.Background()
	st := storetest.FreshTable(t)
	hs := hubspottest.NewTestServer(t, hubspottest.Options{})
	up := userpilottest.NewTestServer(t, userpilottest.Options{})
	hs.SeedContacts(2, func(i int) hubspottest.SeedRecord {
		return hubspottest.SeedRecord{Properties: map[string]string{"email": []string{"ann@example.com", "bob@example.com"}[i], "firstname": "X"},
			ModifiedAt: time.Now().Add(-time.Hour)}
	})
	cfg, err := config.Parse("integration.yaml", []byte(`
mapping:
  users:
    inbound:
      - hubspot: firstname
        userpilot: first_name
  companies:
    enabled: false
`))
	if err != nil {
		t.Fatal(err)
	}
	sender := awstest.UniqueName("pilotsync-alert") + "@example.com"
	n := notify.New(awstest.SES(t), st, sender, []string{"admin@example.com"})
	alerts := alert.New(n, st, cfg.Userpilot.Environment)
	upc, err := userpilot.NewClient(userpilottest.DefaultAPIKey, userpilot.WithBaseURL(up.URL))
	if err != nil {
		t.Fatal(err)
	}
	poll := func(token string) handler.PollResult {
		t.Helper()
		hsc, err := hubspot.NewClient(hubspot.WithBaseURL(hs.URL), hubspot.WithToken(token))
		if err != nil {
			t.Fatal(err)
		}
		h, err := NewPoll(&Deps{Config: cfg, Store: st, HubSpot: hsc, Userpilot: upc}, handler.WithPollAlerts(alerts))
		if err != nil {
			t.Fatal(err)
		}
		res, err := h.Handle(ctx, handler.PollInput{Action: handler.PollActionPoll})
		if err != nil && !errors.Is(err, handler.ErrRunFailed) {
			t.Fatalf("poll: %v", err)
		}
		return res
	}

	for run := 1; run <= 2; run++ {
		if res := poll("revoked-token"); res.Status != inbound.StatusFailed {
			t.Fatalf("run %d with a wrong token: status %q, want failed", run, res.Status)
		}
	}
	mails := mailFrom(t, sender)
	if len(mails) != 1 {
		t.Fatalf("after two failed polls: %d mails, want exactly 1: %+v", len(mails), mails)
	}
	if !strings.Contains(mails[0].Subject, "HubSpot refused") || !strings.Contains(mails[0].Body.Text, alert.InboundKey("users", alert.CauseHubSpotAuth)) {
		t.Errorf("problem mail subject %q body %q, want the HubSpot credentials problem", mails[0].Subject, mails[0].Body.Text)
	}
	if strings.Contains(mails[0].Body.Text, "revoked-token") {
		t.Error("problem mail quotes the token")
	}

	if res := poll(hubspottest.DefaultToken); res.Status != inbound.StatusComplete || res.Inbound.Totals.Read != 2 {
		t.Fatalf("run with the right token: status %q, read %d, want complete with 2 read", res.Status, res.Inbound.Totals.Read)
	}
	mails = mailFrom(t, sender)
	if len(mails) != 2 {
		t.Fatalf("after the recovery: %d mails, want 2: %+v", len(mails), mails)
	}
	if !strings.Contains(mails[1].Subject, "resolved") || !strings.Contains(mails[1].Subject, "inbound/users/hubspot_auth") {
		t.Errorf("recovery mail subject %q, want resolved inbound/users/hubspot_auth", mails[1].Subject)
	}
	// A clean run after the recovery mails nothing more.
	poll(hubspottest.DefaultToken)
	if got := len(mailFrom(t, sender)); got != 2 {
		t.Errorf("after another clean poll: %d mails, want still 2", got)
	}
}
