package alert

import (
	"context"
	"fmt"

	"github.com/pilotsync/pilotsync/shared/deadline"
	"github.com/pilotsync/pilotsync/shared/notify"
)

// The email of a job that DynamoDB stopped (shared/cause.StoreUnreachable).
const (
	storeTitle  = "DynamoDB unreachable"
	storeDetail = "pilotsync could not reach its DynamoDB table (no answer in time, a refused connection or a server fault), so it could not take its lease, read its checkpoint or record what it did. Nothing was synced and nothing is lost: the next run starts from the last checkpoint once DynamoDB answers. Check the AWS Health Dashboard for DynamoDB in the stack's region, the table's status, and the function's network access to DynamoDB."
)

// UnstartedKey is the problem key of job runs that could not start because
// DynamoDB was unreachable.
func UnstartedKey(job string) string { return job + "/" + string(CauseStoreUnreachable) }

// Unstarted reports a run of job that could not start because of err (the
// run returned no report: its lease or checkpoint could not be read). A
// DynamoDB outage is told at once, without reading any run record (that
// would hang too); the notifier sends it without its problem store, at most
// once per process (shared/notify). Other errors only fail the invocation
// (the function-errors alarm). It never fails the caller.
func (a *Alerter) Unstarted(ctx context.Context, job string, err error) {
	if a == nil || err == nil || ClassifyError(err) != CauseStoreUnreachable {
		return
	}
	ctx, cancel := deadline.Cleanup(ctx, sendTimeout)
	defer cancel()
	a.send(ctx, job, Outcome{Problems: []notify.Problem{{Key: UnstartedKey(job),
		Title:  fmt.Sprintf("%s: the %s job could not start", storeTitle, job),
		Detail: storeDetail + "\nError: " + err.Error()}}})
}
