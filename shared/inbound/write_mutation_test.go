package inbound

import (
	"fmt"
	"testing"
	"time"

	"github.com/pilotsync/pilotsync/shared/store"
)

// TestBulkJobFailures: a bulk job refused for a reason that would fail every
// record alike (a 503) fails the whole page without single calls and keeps
// the checkpoint; one refused for good (a 400) falls back to one call per
// record.
func TestBulkJobFailures(t *testing.T) {
	t.Run("retryable", func(t *testing.T) {
		e := newEnv(t)
		e.hs.pageSize = 100
		e.seed(BulkIdentifyThreshold * 2)
		e.up.bulkErr = errRetryable
		rep := e.run(t, ModeFull)
		o := rep.Objects[0]
		if rep.Status != StatusFailed || o.Failed != BulkIdentifyThreshold || o.Written != 0 || o.Pages != 0 || e.up.identify != 0 || e.up.bulk != 1 {
			t.Errorf("report %s %+v, %d bulk %d identify; want one job, every record failed, no single calls, no checkpoint", rep.Status, o.Counts, e.up.bulk, e.up.identify)
		}
		if len(o.Failures) != BulkIdentifyThreshold || o.Failures[0].Permanent {
			t.Errorf("failures %+v, want each record's, retryable", o.Failures)
		}
		e.up.bulkErr = nil
		if rep := e.run(t, ModeIncremental); !rep.Complete || len(e.up.written()) != BulkIdentifyThreshold {
			t.Errorf("next run %s wrote %d users, want all %d", rep.Status, len(e.up.written()), BulkIdentifyThreshold)
		}
	})
	t.Run("refused for good", func(t *testing.T) {
		e := newEnv(t)
		e.hs.pageSize = 100
		e.seed(BulkIdentifyThreshold * 2)
		e.up.bulkErr = errBadInput
		rep := e.run(t, ModeFull)
		if !rep.Complete || rep.Totals.Written != BulkIdentifyThreshold || e.up.identify != BulkIdentifyThreshold || e.up.bulk != 1 {
			t.Errorf("report %s %+v, %d bulk %d identify; want the job, then every record one by one", rep.Status, rep.Totals, e.up.bulk, e.up.identify)
		}
	})
}

// TestBulkCompanies: a page of many companies is written as one bulk
// company job, each with its values.
func TestBulkCompanies(t *testing.T) {
	e := newEnv(t, companiesObject())
	e.hs.pageSize = 100
	for i := range BulkIdentifyThreshold {
		e.company(fmt.Sprint(501+i), now0.Add(-time.Hour))
	}
	rep := e.run(t, ModeFull)
	if !rep.Complete || rep.Totals.Written != BulkIdentifyThreshold || e.up.bulk != 1 || e.up.identify != 0 {
		t.Fatalf("report %s %+v, %d bulk %d identify; want one job", rep.Status, rep.Totals, e.up.bulk, e.up.identify)
	}
	w := e.up.written()
	if len(e.up.users) != 0 || len(w) != BulkIdentifyThreshold {
		t.Fatalf("written %d users and %d companies, want companies only", len(e.up.users), len(w))
	}
	if got := describe(w["co:co510"][0]); got != "__hubspot__company_id=510 __hubspot__object_type=companies company_name=Co510 " {
		t.Errorf("co510 written %q", got)
	}
	if p := e.st.get(store.KindCompany, "co510"); p.HubSpotID != "510" || p.InboundHashes["company_name"] != ValueHash("Co510") {
		t.Errorf("co510 stored %+v, want linked with the written value's hash", p)
	}
}

// TestReportedFailuresAreCapped: a run in which more records fail than the
// report lists names maxReportedFailures of them and counts them all.
func TestReportedFailuresAreCapped(t *testing.T) {
	e := newEnv(t)
	e.hs.pageSize = 100
	e.seed(2 * (maxReportedFailures + 10)) // every other contact has a profile
	e.up.fail = func(string) error { return errBadInput }
	rep := e.run(t, ModeFull)
	o := rep.Objects[0]
	if o.Failed != maxReportedFailures+10 || len(o.Failures) != maxReportedFailures {
		t.Errorf("failed %d, listed %d; want %d failed and %d listed", o.Failed, len(o.Failures), maxReportedFailures+10, maxReportedFailures)
	}
}
