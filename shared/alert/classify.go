package alert

import (
	"net/http"
	"regexp"
	"strconv"
	"strings"

	"github.com/pilotsync/pilotsync/shared/cause"
	"github.com/pilotsync/pilotsync/shared/inbound"
)

// Cause is why a job (or one object type of it) stopped (shared/cause).
type Cause = cause.Cause

// Causes of a stopped job (shared/cause). The first four need an admin at
// once; CauseOther becomes a problem only when it lasts (an outage), since
// the next run retries from its checkpoint.
const (
	CauseHubSpotAuth        = cause.HubSpotAuth
	CauseHubSpotDailyLimit  = cause.HubSpotDailyLimit
	CauseEnterpriseRequired = cause.EnterpriseRequired
	CauseUserpilotAuth      = cause.UserpilotAuth
	CauseStoreUnreachable   = cause.StoreUnreachable
	CauseOther              = cause.Other
)

// userpilotStatusRE finds the status in a per-record failure reason (the
// Userpilot client's error text) for ClassifyRecordFailure.
var userpilotStatusRE = regexp.MustCompile(`userpilot: [^:]*: status (\d{3})`)

// ClassifyError returns why err stopped a job (cause.Of).
func ClassifyError(err error) Cause { return cause.Of(err) }

// classifyObject returns why an inbound object type stopped: the cause the
// engine recorded where the error was made (ObjectReport.Cause, kept in the
// JSON report and the run record), or its error value; an error known by
// its text alone is CauseOther: its wording is never matched.
func classifyObject(o inbound.ObjectReport) Cause {
	switch {
	case o.Cause != "":
		return Cause(o.Cause)
	case o.Err != nil:
		return cause.Of(o.Err)
	case o.Error != "":
		return CauseOther
	}
	return ""
}

// RecordCategory groups permanent per-record failures into one problem each.
type RecordCategory string

// Record failure categories (the last part of a record problem key).
const (
	RecordInvalid   RecordCategory = "invalid"   // a value Userpilot refuses (400, 422, client-side validation)
	RecordForbidden RecordCategory = "forbidden" // 403 for this record
	RecordNotFound  RecordCategory = "not_found" // 404
	RecordTooLarge  RecordCategory = "too_large" // 413
	RecordBulkJob   RecordCategory = "bulk_job"  // a bulk identify job that failed
	RecordOther     RecordCategory = "other"
)

// recordCategories lists every category, so a clean run can resolve them all.
var recordCategories = []RecordCategory{RecordInvalid, RecordForbidden, RecordNotFound, RecordTooLarge, RecordBulkJob, RecordOther}

// ClassifyRecordFailure returns the category of a per-record failure reason
// (inbound.Failure.Reason, the Userpilot client's error text).
func ClassifyRecordFailure(reason string) RecordCategory {
	if strings.Contains(reason, "userpilot: invalid ") {
		return RecordInvalid
	}
	if strings.Contains(reason, "bulk job") {
		return RecordBulkJob
	}
	if m := userpilotStatusRE.FindStringSubmatch(reason); m != nil {
		switch status, _ := strconv.Atoi(m[1]); status {
		case http.StatusBadRequest, http.StatusUnprocessableEntity:
			return RecordInvalid
		case http.StatusForbidden:
			return RecordForbidden
		case http.StatusNotFound:
			return RecordNotFound
		case http.StatusRequestEntityTooLarge:
			return RecordTooLarge
		}
	}
	return RecordOther
}
