package notify_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/ses"

	"github.com/pilotsync/pilotsync/shared/awstest"
	"github.com/pilotsync/pilotsync/shared/notify"
)

// fakeState is an in-memory State with the store's semantics: notify when
// newly open or last notified at or before now-repeatAfter.
type fakeState struct {
	mu       sync.Mutex
	notified map[string]time.Time
	summary  map[string]string
	openErr  error
}

func newFakeState() *fakeState {
	return &fakeState{notified: map[string]time.Time{}, summary: map[string]string{}}
}

func (f *fakeState) OpenProblem(ctx context.Context, env, key, summary string, now time.Time, repeatAfter time.Duration) (bool, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.openErr != nil {
		return false, f.openErr
	}
	k := env + "#" + key
	f.summary[k] = summary
	last, open := f.notified[k]
	if open && last.After(now.Add(-repeatAfter)) {
		return false, nil
	}
	f.notified[k] = now
	return true, nil
}

func (f *fakeState) CloseProblem(ctx context.Context, env, key string) (bool, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	k := env + "#" + key
	_, open := f.notified[k]
	delete(f.notified, k)
	return open, nil
}

// sentMail is one email in aws-ses-v2-local's store.
type sentMail struct {
	From        string `json:"from"`
	Destination struct {
		To []string `json:"to"`
	} `json:"destination"`
	Subject string `json:"subject"`
	Body    struct {
		Text string `json:"text"`
	} `json:"body"`
}

// mailFrom returns the mail aws-ses-v2-local holds from sender. Every test
// uses its own sender, so parallel tests never see each other's mail.
func mailFrom(t *testing.T, sender string) []sentMail {
	t.Helper()
	resp, err := http.Get(awstest.Endpoint(t, "SES") + "/store")
	if err != nil {
		t.Fatalf("read SES store: %v", err)
	}
	defer resp.Body.Close()
	var store struct {
		Emails []sentMail `json:"emails"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&store); err != nil {
		t.Fatalf("decode SES store: %v", err)
	}
	var out []sentMail
	for _, m := range store.Emails {
		if m.From == sender {
			out = append(out, m)
		}
	}
	return out
}

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// recordingSES forwards to the emulator and keeps every request, because
// aws-ses-v2-local's v1 SendEmail stores only the first recipient.
type recordingSES struct {
	next *ses.Client
	mu   sync.Mutex
	ins  []*ses.SendEmailInput
}

func (r *recordingSES) SendEmail(ctx context.Context, in *ses.SendEmailInput, opts ...func(*ses.Options)) (*ses.SendEmailOutput, error) {
	r.mu.Lock()
	r.ins = append(r.ins, in)
	r.mu.Unlock()
	return r.next.SendEmail(ctx, in, opts...)
}

func newNotifier(t *testing.T, state notify.State, clk *clock) (*notify.Notifier, string, *recordingSES) {
	t.Helper()
	sender := awstest.UniqueName("pilotsync-notify") + "@example.com"
	rec := &recordingSES{next: awstest.SES(t)}
	n := notify.New(rec, state, sender, []string{"admin@example.com", "ops@example.com"},
		notify.WithRepeatAfter(24*time.Hour), notify.WithClock(clk.now))
	return n, sender, rec
}

func TestProblemOneEmailPerProblemNotPerRecord(t *testing.T) {
	clk := &clock{t: time.Date(2026, 11, 27, 10, 0, 0, 0, time.UTC)}
	n, sender, rec := newNotifier(t, newFakeState(), clk)
	ctx := t.Context()

	records := make([]string, 250)
	for i := range records {
		records[i] = fmt.Sprintf("contact-%d", i)
	}
	p := notify.Problem{
		Key:     "outbound/contacts/INVALID_OPTION/industry",
		Title:   "HubSpot rejected values for industry",
		Detail:  "The value is not one of the property's options.",
		Count:   len(records),
		Records: records,
	}
	// The same problem reported by many records and many runs within RepeatAfter.
	for range 5 {
		if err := n.Problem(ctx, "production", p); err != nil {
			t.Fatalf("Problem: %v", err)
		}
		clk.add(time.Hour)
	}
	got := mailFrom(t, sender)
	if len(got) != 1 {
		t.Fatalf("emails = %d, want 1 for one problem", len(got))
	}
	m := got[0]
	if want := "[pilotsync] production: HubSpot rejected values for industry"; m.Subject != want {
		t.Errorf("subject = %q, want %q", m.Subject, want)
	}
	if len(rec.ins) != 1 || strings.Join(rec.ins[0].Destination.ToAddresses, ",") != "admin@example.com,ops@example.com" {
		t.Errorf("requests = %d, to = %v, want one email to both admins", len(rec.ins), rec.ins[0].Destination.ToAddresses)
	}
	for _, want := range []string{"Records affected: 250", "contact-0", "contact-19", "… and 230 more", "not one of the property's options"} {
		if !strings.Contains(m.Body.Text, want) {
			t.Errorf("body lacks %q:\n%s", want, m.Body.Text)
		}
	}
	if strings.Contains(m.Body.Text, "contact-20\n") {
		t.Errorf("body lists more than 20 records:\n%s", m.Body.Text)
	}
}

func TestProblemRepeatsAfterRepeatAfterAndDistinctProblemsEachMail(t *testing.T) {
	clk := &clock{t: time.Date(2026, 11, 27, 10, 0, 0, 0, time.UTC)}
	n, sender, _ := newNotifier(t, newFakeState(), clk)
	ctx := t.Context()

	a := notify.Problem{Key: "inbound/auth", Title: "HubSpot token rejected"}
	b := notify.Problem{Key: "activity/dlq", Title: "Events moved to the dead-letter queue", Count: 3}
	steps := []struct {
		advance time.Duration
		p       notify.Problem
		want    int // total emails after the step
	}{
		{0, a, 1},
		{0, b, 2},              // another problem: its own email
		{23 * time.Hour, a, 2}, // within RepeatAfter: nothing
		{time.Hour, a, 3},      // 24 h after the first: reminder
		{time.Minute, a, 3},
		{0, b, 4}, // b's first email was 24 h and 1 min ago
	}
	for i, s := range steps {
		clk.add(s.advance)
		if err := n.Problem(ctx, "production", s.p); err != nil {
			t.Fatalf("step %d: Problem: %v", i, err)
		}
		if got := len(mailFrom(t, sender)); got != s.want {
			t.Fatalf("step %d (%s): emails = %d, want %d", i, s.p.Key, got, s.want)
		}
	}
}

func TestResolvedSendsRecoveryOnlyWhenOpen(t *testing.T) {
	clk := &clock{t: time.Date(2026, 11, 27, 10, 0, 0, 0, time.UTC)}
	n, sender, _ := newNotifier(t, newFakeState(), clk)
	ctx := t.Context()

	if err := n.Resolved(ctx, "staging", "inbound/auth"); err != nil {
		t.Fatalf("Resolved: %v", err)
	}
	if got := len(mailFrom(t, sender)); got != 0 {
		t.Fatalf("emails after resolving a problem that was never open = %d, want 0", got)
	}
	if err := n.Problem(ctx, "staging", notify.Problem{Key: "inbound/auth", Title: "HubSpot token rejected"}); err != nil {
		t.Fatal(err)
	}
	if err := n.Resolved(ctx, "staging", "inbound/auth"); err != nil {
		t.Fatal(err)
	}
	if err := n.Resolved(ctx, "staging", "inbound/auth"); err != nil {
		t.Fatal(err)
	}
	got := mailFrom(t, sender)
	if len(got) != 2 {
		t.Fatalf("emails = %d, want problem + one recovery", len(got))
	}
	if want := "[pilotsync] staging: resolved: inbound/auth"; got[1].Subject != want {
		t.Errorf("recovery subject = %q, want %q", got[1].Subject, want)
	}
	// Open again after recovery: a new email at once.
	if err := n.Problem(ctx, "staging", notify.Problem{Key: "inbound/auth", Title: "HubSpot token rejected"}); err != nil {
		t.Fatal(err)
	}
	if got := len(mailFrom(t, sender)); got != 3 {
		t.Errorf("emails after the problem came back = %d, want 3", got)
	}
}

func TestProblemNeverMailsRawEmails(t *testing.T) {
	clk := &clock{t: time.Now()}
	n, sender, _ := newNotifier(t, newFakeState(), clk)
	p := notify.Problem{
		Key:     "outbound/contacts/no-match",
		Title:   "No HubSpot contact for Jane.Doe@Example.com",
		Detail:  "jane.doe@example.com and bob@corp.example.org have no HubSpot contact.",
		Count:   2,
		Records: []string{"jane.doe@example.com", "u-42"},
	}
	if err := n.Problem(t.Context(), "production", p); err != nil {
		t.Fatal(err)
	}
	got := mailFrom(t, sender)
	if len(got) != 1 {
		t.Fatalf("emails = %d, want 1", len(got))
	}
	all := strings.ToLower(got[0].Subject + "\n" + got[0].Body.Text)
	for _, raw := range []string{"jane.doe@example.com", "bob@corp.example.org"} {
		if strings.Contains(all, raw) {
			t.Errorf("mail contains the raw address %s:\n%s", raw, all)
		}
	}
	if !strings.Contains(all, "u-42") {
		t.Errorf("mail lost the record id u-42:\n%s", all)
	}
	// The same address hashes the same everywhere, so admins can correlate.
	if c := strings.Count(all, "email#"); c != 5 {
		t.Errorf("hashed addresses = %d, want 5 (subject, title in body, detail x2, record)\n%s", c, all)
	}
}

// failingSES fails every send.
type failingSES struct{ calls int }

func (f *failingSES) SendEmail(ctx context.Context, in *ses.SendEmailInput, _ ...func(*ses.Options)) (*ses.SendEmailOutput, error) {
	f.calls++
	return nil, errors.New("ses down")
}

func TestProblemRetriesEmailAfterSendFailure(t *testing.T) {
	st := newFakeState()
	f := &failingSES{}
	n := notify.New(f, st, "pilotsync@example.com", []string{"admin@example.com"})
	p := notify.Problem{Key: "k", Title: "t"}
	if err := n.Problem(t.Context(), "production", p); err == nil {
		t.Fatal("Problem: got nil error, want the send failure")
	}
	if err := n.Problem(t.Context(), "production", p); err == nil {
		t.Fatal("second Problem: got nil error, want the send failure")
	}
	if f.calls != 2 {
		t.Errorf("send attempts = %d, want 2: a failed email is retried on the next report, not after RepeatAfter", f.calls)
	}
}

func TestDisabledNotifierTracksStateButSendsNothing(t *testing.T) {
	st := newFakeState()
	f := &failingSES{}
	for _, n := range []*notify.Notifier{
		notify.New(f, st, "", []string{"admin@example.com"}),
		notify.New(f, st, "pilotsync@example.com", nil),
	} {
		if n.Enabled() {
			t.Error("Enabled() = true, want false without sender or recipients")
		}
		if err := n.Problem(t.Context(), "production", notify.Problem{Key: "k", Title: "t"}); err != nil {
			t.Errorf("Problem: %v", err)
		}
		if err := n.Resolved(t.Context(), "production", "k"); err != nil {
			t.Errorf("Resolved: %v", err)
		}
	}
	if f.calls != 0 {
		t.Errorf("send attempts = %d, want 0", f.calls)
	}
}

func TestProblemErrors(t *testing.T) {
	st := newFakeState()
	st.openErr = errors.New("table gone")
	n := notify.New(&failingSES{}, st, "s@example.com", []string{"a@example.com"})
	tests := []struct {
		name string
		p    notify.Problem
		want string
	}{
		{"no key", notify.Problem{Title: "x"}, "notify: problem has no key"},
		// The store is down: the email is tried anyway (issue 13), and here fails too.
		{"state and email fail", notify.Problem{Key: "k"}, "notify: email problem k (problem store unreachable: table gone): ses down"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := n.Problem(t.Context(), "production", tt.p)
			if err == nil || err.Error() != tt.want {
				t.Errorf("err = %v, want %q", err, tt.want)
			}
		})
	}
}
