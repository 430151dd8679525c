package forward

import (
	"sync"

	"github.com/pilotsync/pilotsync/shared/activity"
)

// pending is one valid, de-duplicated event of the batch.
type pending struct {
	ev    activity.Event
	class activity.Class
}

// batch is the state of one Process call.
type batch struct {
	mu      sync.Mutex // guards msgs' retry and problems
	f       *Forwarder
	c       *counts
	msgs    []msgState
	events  []*pending
	holders map[string][]int // event id → indexes of the messages holding it
	// sinkErr is the error of the sink's last failing call (Prepare, or a
	// Send whose items are retried), for Report.SinkErr; guarded by mu.
	sinkErr error
}

// sinkFailed keeps err as the batch's latest sink error.
func (b *batch) sinkFailed(err error) {
	b.mu.Lock()
	b.sinkErr = err
	b.mu.Unlock()
}

type msgState struct {
	msg      Message
	problems []*activity.Error // permanent: the message goes to the DLQ
	retry    bool
}

// retry marks every message holding p for redelivery.
func (b *batch) retry(p *pending) {
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, i := range b.holders[p.ev.InternalEventID] {
		b.msgs[i].retry = true
	}
}

// reject records a permanent problem with p on every message holding it.
func (b *batch) reject(p *pending, code, problem string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, i := range b.holders[p.ev.InternalEventID] {
		b.msgs[i].problems = append(b.msgs[i].problems, &activity.Error{
			MessageID: b.msgs[i].msg.ID, Record: p.ev.Index, Code: code, Problem: problem})
	}
}
