package inbound

import (
	"slices"

	"github.com/pilotsync/pilotsync/shared/store"
)

// runRecord converts a report to the store's run record.
func runRecord(env string, rep *Report) store.RunRecord {
	rec := store.RunRecord{
		Env: env, Job: JobInbound, ID: rep.RunID, Started: rep.Started, Finished: rep.Finished,
		Counts: map[string]int64{}, APICalls: rep.APICalls, Error: rep.Error,
	}
	for _, o := range rep.Objects {
		for k, v := range o.Counts.fields() {
			rec.Counts[o.Object+"."+k] = v
		}
		for _, f := range o.Failures {
			rec.Failures = append(rec.Failures, store.Failure{Record: o.Object + "/" + f.Profile, Field: f.HubSpotID, Reason: f.Reason})
		}
		if o.Cause != "" {
			rec.Causes = appendCause(rec.Causes, o.Object, o.Cause) // cause.go
		}
	}
	for k, v := range rep.Totals.fields() {
		rec.Counts[k] = v
	}
	if rep.Complete {
		rec.Counts["complete"] = 1
	} else {
		rec.Counts["complete"] = 0
	}
	return rec
}

// fields lists the counters by name.
func (c Counts) fields() map[string]int64 {
	return map[string]int64{
		"read": c.Read, "linked": c.Linked, "relinked": c.Relinked, "unlinked": c.Unlinked,
		"unmatched": c.Unmatched, "written": c.Written, "skipped": c.Skipped, "echoes": c.Echoes,
		"failed": c.Failed, "pages": c.Pages,
	}
}

func uniq(s []string) []string {
	slices.Sort(s)
	return slices.Compact(s)
}
