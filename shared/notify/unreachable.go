package notify

import (
	"context"
	"fmt"
	"sync"
	"time"
)

// stateTimeout bounds each problem-store call, so an unreachable store still
// leaves the invocation time to send the email.
const stateTimeout = 3 * time.Second

// unstatedNote ends an email sent without the problem store.
const unstatedNote = "Note: pilotsync could not reach its problem store (DynamoDB) to record this problem, so it could not check whether the admins were already told. It sent this email anyway; each running instance sends it at most once while the store stays unreachable, so you may get a few copies, and no recovery notice follows until the store is back."

// unstated remembers, per process, the problems emailed while the problem
// store was unreachable.
type unstated struct {
	mu   sync.Mutex
	sent map[string]bool // env + "\x00" + key
}

// first reports whether env/key was not emailed without state before, and
// marks it.
func (u *unstated) first(env, key string) bool {
	u.mu.Lock()
	defer u.mu.Unlock()
	k := env + "\x00" + key
	if u.sent[k] {
		return false
	}
	if u.sent == nil {
		u.sent = map[string]bool{}
	}
	u.sent[k] = true
	return true
}

// forget unmarks env/key, so a failed send is tried again.
func (u *unstated) forget(env, key string) {
	u.mu.Lock()
	defer u.mu.Unlock()
	delete(u.sent, env+"\x00"+key)
}

// problemWithoutState emails p although the problem store failed with
// stateErr: a DynamoDB outage must not silence the emails about it. At most
// once per process and problem; the email says it was sent without the store.
func (n *Notifier) problemWithoutState(ctx context.Context, env string, p Problem, title string, stateErr error) error {
	if !n.Enabled() {
		return fmt.Errorf("notify: open problem %s: %w", p.Key, stateErr)
	}
	if !n.unstated.first(env, p.Key) {
		n.log.WarnContext(ctx, "notify: problem store unreachable; problem already emailed by this process", "env", env, "problem", p.Key, "err", stateErr)
		return nil
	}
	subject := fmt.Sprintf("%s %s: %s", n.prefix, env, title)
	body := problemBody(env, p, title, n.repeatAfter) + "\n" + unstatedNote + "\n"
	if err := n.send(ctx, subject, body); err != nil {
		n.unstated.forget(env, p.Key)
		return fmt.Errorf("notify: email problem %s (problem store unreachable: %v): %w", p.Key, stateErr, err)
	}
	n.log.WarnContext(ctx, "notify: problem emailed without the problem store", "env", env, "problem", p.Key, "recipients", len(n.recipients), "err", stateErr)
	return nil
}
