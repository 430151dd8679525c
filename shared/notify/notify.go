// Package notify sends pilotsync's failure notifications by SES email to the
// configured admins: one email per problem (not one per failed record), a
// reminder while the problem stays open longer than RepeatAfter, and a recovery
// notice when it is resolved.
//
// Whether to send is decided by State (implemented by shared/store's
// OpenProblem and CloseProblem), a conditional write, so concurrent Lambda
// invocations reporting the same problem send one email between them.
//
// Mail bodies never carry end users' raw email addresses: anything that looks
// like an address in a title, detail or record id is replaced by a short hash.
package notify

import (
	"context"
	"fmt"
	"log/slog"
	"regexp"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ses"
	"github.com/aws/aws-sdk-go-v2/service/ses/types"
	"github.com/pilotsync/pilotsync/shared/identity"
)

// State records which problems are open and when they were last notified.
// *store.Store implements it.
type State interface {
	// OpenProblem marks key open and reports whether to notify now: newly
	// open, or last notified more than repeatAfter before now.
	OpenProblem(ctx context.Context, env, key, summary string, now time.Time, repeatAfter time.Duration) (notify bool, err error)
	// CloseProblem marks key resolved and reports whether it was open.
	CloseProblem(ctx context.Context, env, key string) (wasOpen bool, err error)
}

// EmailSender is the SES call the notifier uses; *ses.Client implements it.
type EmailSender interface {
	SendEmail(ctx context.Context, in *ses.SendEmailInput, optFns ...func(*ses.Options)) (*ses.SendEmailOutput, error)
}

// DefaultRepeatAfter is how long a still-open problem waits before a reminder
// when the config does not say (config: notifications.repeat_after).
const DefaultRepeatAfter = 24 * time.Hour

// maxRecordsListed caps the record ids listed in one email; the count says how
// many there were in all.
const maxRecordsListed = 20

// maxSubjectChars keeps subjects readable; SES itself accepts much longer.
const maxSubjectChars = 150

// Problem is one thing that went wrong, reported once however many records it hit.
type Problem struct {
	// Key identifies the problem across runs, e.g. "outbound/contacts/INVALID_OPTION/industry".
	// The same key is one problem: reported once, reminded after RepeatAfter.
	Key string
	// Title is the one-line summary used as the subject.
	Title string
	// Detail explains what happened and what to do.
	Detail string
	// Count is the number of records affected (0 when not record-related).
	Count int
	// Records lists affected record ids (Userpilot or HubSpot ids, never raw emails).
	Records []string
}

// Notifier sends problem and recovery emails. It is safe for concurrent use.
type Notifier struct {
	ses         EmailSender
	state       State
	sender      string
	recipients  []string
	repeatAfter time.Duration
	now         func() time.Time
	log         *slog.Logger
	prefix      string
}

// Option configures a Notifier.
type Option func(*Notifier)

// WithRepeatAfter sets how long an open problem waits before a reminder
// (default DefaultRepeatAfter; zero or negative keeps the default).
func WithRepeatAfter(d time.Duration) Option {
	return func(n *Notifier) {
		if d > 0 {
			n.repeatAfter = d
		}
	}
}

// WithClock sets the time source (tests).
func WithClock(now func() time.Time) Option { return func(n *Notifier) { n.now = now } }

// WithLogger sets the logger.
func WithLogger(l *slog.Logger) Option { return func(n *Notifier) { n.log = l } }

// WithSubjectPrefix sets the subject prefix (default "[pilotsync]"), e.g. to
// name the deployment.
func WithSubjectPrefix(p string) Option { return func(n *Notifier) { n.prefix = p } }

// New returns a notifier sending from sender (a verified SES identity) to
// recipients. With no sender or no recipients it is disabled: Problem and
// Resolved still track state but send nothing.
func New(sesClient EmailSender, state State, sender string, recipients []string, opts ...Option) *Notifier {
	n := &Notifier{
		ses:         sesClient,
		state:       state,
		sender:      strings.TrimSpace(sender),
		recipients:  append([]string(nil), recipients...),
		repeatAfter: DefaultRepeatAfter,
		now:         time.Now,
		log:         slog.Default(),
		prefix:      "[pilotsync]",
	}
	for _, o := range opts {
		o(n)
	}
	return n
}

// Enabled reports whether the notifier sends email.
func (n *Notifier) Enabled() bool {
	return n.ses != nil && n.sender != "" && len(n.recipients) > 0
}

// Problem records p as open in env and emails the admins when it is newly open
// or its last email is older than RepeatAfter. When the email cannot be sent
// the problem is closed again, so the next report retries the email.
func (n *Notifier) Problem(ctx context.Context, env string, p Problem) error {
	if p.Key == "" {
		return fmt.Errorf("notify: problem has no key")
	}
	title := redact(p.Title)
	if title == "" {
		title = p.Key
	}
	send, err := n.state.OpenProblem(ctx, env, p.Key, title, n.now(), n.repeatAfter)
	if err != nil {
		return fmt.Errorf("notify: open problem %s: %w", p.Key, err)
	}
	if !send {
		return nil
	}
	if !n.Enabled() {
		n.log.WarnContext(ctx, "notify: problem not emailed: no sender or recipients configured", "env", env, "problem", p.Key, "title", title)
		return nil
	}
	subject := fmt.Sprintf("%s %s: %s", n.prefix, env, title)
	if err := n.send(ctx, subject, problemBody(env, p, title, n.repeatAfter)); err != nil {
		// Closing lets the next report try again instead of waiting RepeatAfter
		// for an email that never went out.
		if _, cerr := n.state.CloseProblem(ctx, env, p.Key); cerr != nil {
			n.log.WarnContext(ctx, "notify: could not reopen problem for a retry", "problem", p.Key, "err", cerr)
		}
		return fmt.Errorf("notify: email problem %s: %w", p.Key, err)
	}
	n.log.InfoContext(ctx, "notify: problem emailed", "env", env, "problem", p.Key, "recipients", len(n.recipients))
	return nil
}

// Resolved closes the problem key in env and, when it was open, emails a
// recovery notice.
func (n *Notifier) Resolved(ctx context.Context, env, key string) error {
	wasOpen, err := n.state.CloseProblem(ctx, env, key)
	if err != nil {
		return fmt.Errorf("notify: close problem %s: %w", key, err)
	}
	if !wasOpen || !n.Enabled() {
		return nil
	}
	subject := fmt.Sprintf("%s %s: resolved: %s", n.prefix, env, redact(key))
	body := fmt.Sprintf("pilotsync (%s): the problem %q is resolved: the last run completed without it.\n", env, redact(key))
	if err := n.send(ctx, subject, body); err != nil {
		return fmt.Errorf("notify: email recovery of %s: %w", key, err)
	}
	n.log.InfoContext(ctx, "notify: recovery emailed", "env", env, "problem", key)
	return nil
}

func (n *Notifier) send(ctx context.Context, subject, body string) error {
	if len(subject) > maxSubjectChars {
		subject = subject[:maxSubjectChars-1] + "…"
	}
	_, err := n.ses.SendEmail(ctx, &ses.SendEmailInput{
		Source:      aws.String(n.sender),
		Destination: &types.Destination{ToAddresses: n.recipients},
		Message: &types.Message{
			Subject: &types.Content{Data: aws.String(subject), Charset: aws.String("UTF-8")},
			Body:    &types.Body{Text: &types.Content{Data: aws.String(body), Charset: aws.String("UTF-8")}},
		},
	})
	return err
}

func problemBody(env string, p Problem, title string, repeatAfter time.Duration) string {
	var b strings.Builder
	fmt.Fprintf(&b, "pilotsync (%s) has a problem: %s\n\n", env, title)
	if d := redact(p.Detail); d != "" {
		b.WriteString(d)
		b.WriteString("\n\n")
	}
	if p.Count > 0 {
		fmt.Fprintf(&b, "Records affected: %d\n", p.Count)
	}
	if len(p.Records) > 0 {
		shown := p.Records
		if len(shown) > maxRecordsListed {
			shown = shown[:maxRecordsListed]
		}
		b.WriteString("Examples:\n")
		for _, r := range shown {
			fmt.Fprintf(&b, "  - %s\n", redact(r))
		}
		if more := len(p.Records) - len(shown); more > 0 {
			fmt.Fprintf(&b, "  … and %d more\n", more)
		}
		b.WriteString("\n")
	}
	fmt.Fprintf(&b, "Problem key: %s\n", redact(p.Key))
	fmt.Fprintf(&b, "This is one email for the whole problem. While it stays open you get a reminder every %s; when it clears you get a recovery notice.\n", human(repeatAfter))
	return b.String()
}

// emailPattern finds things that look like email addresses.
var emailPattern = regexp.MustCompile(`[A-Za-z0-9._%+\-]+@[A-Za-z0-9.\-]+\.[A-Za-z]{2,}`)

// redact replaces email addresses with "email#<hash>", the hash being
// identity.Redact's (the one the logs use), so admins can follow a record
// from an alert to the log lines without the mail carrying personal data.
func redact(s string) string {
	return emailPattern.ReplaceAllStringFunc(s, func(addr string) string {
		return "email#" + identity.Redact(addr)
	})
}

// human formats d without trailing zero units ("24h", "90m").
func human(d time.Duration) string {
	switch {
	case d%time.Hour == 0:
		return fmt.Sprintf("%dh", d/time.Hour)
	case d%time.Minute == 0:
		return fmt.Sprintf("%dm", d/time.Minute)
	}
	return d.String()
}
