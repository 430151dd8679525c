package handler

import "time"

// Reserves kept between the end of a handler's work and Lambda's deadline
// (shared/deadline.Work; at most a third of the invocation's time): the
// cleanup (lease release, run record, alerts) runs in them, and the handler
// answers before Lambda cuts it off.
const (
	// PollReserve: the poll's run record, lease release and alerts.
	PollReserve = 20 * time.Second
	// ActivityReserve: the activity handler stops 5 s before its deadline
	// (every message it did not finish is retried by SQS).
	ActivityReserve = 5 * time.Second
)
