package alert

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pilotsync/pilotsync/shared/forward"
	"github.com/pilotsync/pilotsync/shared/hubspot"
	"github.com/pilotsync/pilotsync/shared/inbound"
	"github.com/pilotsync/pilotsync/shared/notify"
	"github.com/pilotsync/pilotsync/shared/runreport"
	"github.com/pilotsync/pilotsync/shared/store"
	"github.com/pilotsync/pilotsync/shared/userpilot"
)

var t0 = time.Date(2026, 11, 27, 10, 0, 0, 0, time.UTC)

func keys(ps []notify.Problem) []string {
	var out []string
	for _, p := range ps {
		out = append(out, p.Key)
	}
	return out
}

// runs returns n inbound run records 5 minutes apart before t0, newest first,
// each with runErr and failures.
func runs(n int, runErr string, failures ...store.Failure) []store.RunRecord {
	var out []store.RunRecord
	for i := 1; i <= n; i++ {
		at := t0.Add(-time.Duration(i) * 5 * time.Minute)
		out = append(out, store.RunRecord{ID: fmt.Sprintf("r%d", i), Started: at, Finished: at.Add(time.Minute), Error: runErr, Failures: failures})
	}
	return out
}

// TestClassifyObjectUsesRecordedCause: an object type's cause is the one
// the engine recorded from the error value (it survives JSON and run
// records); error text alone is never matched (issue 8: classify at the
// source), so a "401" in a message without a recorded cause is an outage.
func TestClassifyObjectUsesRecordedCause(t *testing.T) {
	tests := []struct {
		name string
		o    inbound.ObjectReport
		want Cause
	}{
		{"recorded cause", inbound.ObjectReport{Error: "walk contacts: something", Cause: string(CauseHubSpotAuth)}, CauseHubSpotAuth},
		{"error value", inbound.ObjectReport{Error: "x", Err: fmt.Errorf("walk: %w", hubspot.ErrDailyLimit)}, CauseHubSpotDailyLimit},
		{"text only is not matched", inbound.ObjectReport{Error: "walk contacts: hubspot: search: status 401: Authentication credentials not found"}, CauseOther},
		{"no error", inbound.ObjectReport{}, ""},
	}
	for _, tt := range tests {
		if got := classifyObject(tt.o); got != tt.want {
			t.Errorf("%s: classifyObject = %q, want %q", tt.name, got, tt.want)
		}
	}
	// Through JSON, as the poll function's report and the CLI see it.
	var decoded inbound.ObjectReport
	b, _ := json.Marshal(inbound.ObjectReport{Object: "users", Error: "e", Cause: string(CauseUserpilotAuth)})
	if err := json.Unmarshal(b, &decoded); err != nil || classifyObject(decoded) != CauseUserpilotAuth {
		t.Errorf("decoded report %s classifies as %q, want %q", b, classifyObject(decoded), CauseUserpilotAuth)
	}
}

func TestClassifyError(t *testing.T) {
	// Wrapped as the clients and inbound wrap them: the cause is found
	// anywhere in the chain.
	wrap := func(err error) error {
		return fmt.Errorf("walk contacts: %w", fmt.Errorf("hubspot: search contacts: %w", err))
	}
	enterprise := fmt.Errorf("hubspot: send 3 events: %w", fmt.Errorf("%w: %w", hubspot.ErrEnterpriseRequired,
		&hubspot.APIError{Status: 403, Category: "MISSING_SCOPES", Endpoint: "send_events"}))
	tests := []struct {
		name string
		err  error
		want Cause
	}{
		{"daily limit", fmt.Errorf("walk: %w", &hubspot.RateLimitError{Policy: hubspot.PolicyDaily}), CauseHubSpotDailyLimit},
		{"daily limit refused locally, wrapped twice", wrap(&hubspot.RateLimitError{Policy: hubspot.PolicyDaily, Local: true}), CauseHubSpotDailyLimit},
		{"daily limit sentinel", wrap(hubspot.ErrDailyLimit), CauseHubSpotDailyLimit},
		{"enterprise", fmt.Errorf("%w: %w", hubspot.ErrEnterpriseRequired, &hubspot.APIError{Status: 403}), CauseEnterpriseRequired},
		{"enterprise wins over the 403 it wraps", enterprise, CauseEnterpriseRequired},
		{"enterprise wrapped by the sink", fmt.Errorf("forward: custom events: %w", enterprise), CauseEnterpriseRequired},
		{"hubspot 401", &hubspot.APIError{Status: 401, Endpoint: "search"}, CauseHubSpotAuth},
		{"hubspot 401 wrapped", wrap(&hubspot.APIError{Status: 401, Endpoint: "search"}), CauseHubSpotAuth},
		{"hubspot 403 missing scope wrapped", wrap(&hubspot.APIError{Status: 403, Category: "MISSING_SCOPES", Endpoint: "batch_read"}), CauseHubSpotAuth},
		{"hubspot oauth refresh refused", fmt.Errorf("hubspot: oauth refresh: %w", &hubspot.APIError{Status: 400, Category: "BAD_REFRESH_TOKEN", Endpoint: "oauth_token"}), CauseHubSpotAuth},
		{"hubspot 400 elsewhere", wrap(&hubspot.APIError{Status: 400, Endpoint: "search"}), CauseOther},
		{"hubspot 502 wrapped", wrap(&hubspot.APIError{Status: 502, Endpoint: "search"}), CauseOther},
		{"secondly limit is no problem of its own", &hubspot.RateLimitError{Policy: hubspot.PolicySecondly}, CauseOther},
		{"ten-secondly limit wrapped", wrap(&hubspot.RateLimitError{Policy: hubspot.PolicyTenSecondly, RetryAfter: time.Second}), CauseOther},
		{"userpilot 401", &userpilot.APIError{Status: 401, Endpoint: "identify_user"}, CauseUserpilotAuth},
		{"userpilot 401 wrapped", fmt.Errorf("userpilot write (retried next run): %w", &userpilot.APIError{Status: 401, Endpoint: "identify_user"}), CauseUserpilotAuth},
		{"userpilot unauthorized sentinel wrapped", fmt.Errorf("bulk identify 3 users: %w", userpilot.ErrUnauthorized), CauseUserpilotAuth},
		{"userpilot 403 wrapped", fmt.Errorf("bulk identify 3 users: %w", &userpilot.APIError{Status: 403, Endpoint: "users_bulk"}), CauseUserpilotAuth},
		{"userpilot rate limit", fmt.Errorf("identify: %w", &userpilot.RateLimitError{APIError: userpilot.APIError{Status: 429, Endpoint: "identify_user"}}), CauseOther},
		{"userpilot 503", &userpilot.APIError{Status: 503, Endpoint: "identify_user"}, CauseOther},
		{"joined with an untyped error", errors.Join(errors.New("save cursor: conflict"), wrap(&hubspot.APIError{Status: 401})), CauseHubSpotAuth},
		// An error value is classified by type only: wording that reads like
		// a cause is not matched (only run-record text is).
		{"untyped error worded like a 401", errors.New("hubspot: search: status 401"), CauseOther},
		{"untyped error worded like enterprise", errors.New("custom events need an Enterprise edition"), CauseOther},
		{"nil", nil, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := ClassifyError(tt.err); got != tt.want {
				t.Errorf("ClassifyError(%v) = %q, want %q", tt.err, got, tt.want)
			}
		})
	}
}

func TestClassifyRecordFailure(t *testing.T) {
	tests := []struct {
		reason string
		want   RecordCategory
	}{
		{"userpilot: identify_user: status 400: invalid_metadata: plan must be a string", RecordInvalid},
		{"userpilot: identify_company: status 422", RecordInvalid},
		{"userpilot: invalid user_id: empty", RecordInvalid},
		{"userpilot: identify_user: status 404", RecordNotFound},
		{"userpilot: identify_user: status 413", RecordTooLarge},
		{"userpilot: bulk job j1 failed after 3 of 10 rows", RecordBulkJob},
		{"something else", RecordOther},
	}
	for _, tt := range tests {
		if got := ClassifyRecordFailure(tt.reason); got != tt.want {
			t.Errorf("ClassifyRecordFailure(%q) = %q, want %q", tt.reason, got, tt.want)
		}
	}
}

func TestInboundOutcome(t *testing.T) {
	ok := func(object string) inbound.ObjectReport {
		return inbound.ObjectReport{Object: object, Complete: true, Counts: inbound.Counts{Read: 2, Written: 2, Pages: 1}}
	}
	failed := func(object, err string) inbound.ObjectReport {
		return inbound.ObjectReport{Object: object, Error: err}
	}
	// failedCause is an object type whose report (JSON, a run record) keeps
	// the text and the cause the engine recorded from the error value.
	failedCause := func(object, text string, c Cause) inbound.ObjectReport {
		return inbound.ObjectReport{Object: object, Error: text, Cause: string(c)}
	}
	// failedErr is an object type stopped by err in this process: the value
	// is kept, and the text may be worded any way.
	failedErr := func(object, text string, err error) inbound.ObjectReport {
		return inbound.ObjectReport{Object: object, Error: text, Err: err}
	}
	badRecords := func(object string, n int, reason string) inbound.ObjectReport {
		o := ok(object)
		for i := range n {
			o.Failures = append(o.Failures, inbound.Failure{Profile: fmt.Sprintf("u%d", i), HubSpotID: fmt.Sprint(100 + i), Reason: reason, Permanent: true})
		}
		return o
	}
	const invalid = "userpilot: identify_user: status 400: invalid_metadata"
	tests := []struct {
		name         string
		rep          inbound.Report
		history      []store.RunRecord
		wantProblems []string
		wantClean    []string // must be among the clean keys
		wantNotClean []string // must not be
	}{
		{
			name:         "hubspot 401 is a problem at once",
			rep:          inbound.Report{Header: runreport.Header{Status: inbound.StatusFailed}, Objects: []inbound.ObjectReport{failedCause("users", "walk contacts: hubspot: search: status 401", CauseHubSpotAuth), ok("companies")}},
			wantProblems: []string{"inbound/users/hubspot_auth"},
			wantClean:    []string{"inbound/companies/hubspot_auth", KeyLeaseStuck},
			wantNotClean: []string{"inbound/users/hubspot_auth", "inbound/users/outage"},
		},
		{
			name:         "daily limit",
			rep:          inbound.Report{Header: runreport.Header{Status: inbound.StatusFailed}, Objects: []inbound.ObjectReport{failedCause("users", "walk contacts: hubspot: rate limited (DAILY)", CauseHubSpotDailyLimit)}},
			wantProblems: []string{"inbound/users/hubspot_daily_limit"},
		},
		{
			name:         "userpilot unauthorized",
			rep:          inbound.Report{Header: runreport.Header{Status: inbound.StatusFailed}, Objects: []inbound.ObjectReport{failedCause("companies", "userpilot write (retried next run): userpilot: identify_company: status 401", CauseUserpilotAuth)}},
			wantProblems: []string{"inbound/companies/userpilot_auth"},
		},
		{
			name: "typed hubspot 401 is classified whatever the wording",
			rep: inbound.Report{Header: runreport.Header{Status: inbound.StatusFailed}, Objects: []inbound.ObjectReport{
				failedErr("users", "contacts could not be read", fmt.Errorf("walk contacts: %w", &hubspot.APIError{Status: 401, Endpoint: "search"})), ok("companies")}},
			wantProblems: []string{"inbound/users/hubspot_auth"},
			wantClean:    []string{"inbound/companies/hubspot_auth"},
			wantNotClean: []string{"inbound/users/hubspot_auth", "inbound/users/outage"},
		},
		{
			name: "typed daily limit",
			rep: inbound.Report{Header: runreport.Header{Status: inbound.StatusFailed}, Objects: []inbound.ObjectReport{
				failedErr("companies", "stopped", fmt.Errorf("list companies: %w", &hubspot.RateLimitError{Policy: hubspot.PolicyDaily, Local: true}))}},
			wantProblems: []string{"inbound/companies/hubspot_daily_limit"},
		},
		{
			name: "typed userpilot 401",
			rep: inbound.Report{Header: runreport.Header{Status: inbound.StatusFailed}, Objects: []inbound.ObjectReport{
				failedErr("users", "stopped", fmt.Errorf("bulk identify 2 users: %w", &userpilot.APIError{Status: 401, Endpoint: "users_bulk"}))}},
			wantProblems: []string{"inbound/users/userpilot_auth"},
		},
		{
			name: "the value wins over wording that reads like a cause",
			rep: inbound.Report{Header: runreport.Header{Status: inbound.StatusFailed, Started: t0}, Objects: []inbound.ObjectReport{
				failedErr("users", "hubspot: search: status 401", &hubspot.APIError{Status: 502, Endpoint: "search"})}},
			history: runs(6, ""),
		},
		{
			name: "an error value without text still counts",
			rep: inbound.Report{Header: runreport.Header{Status: inbound.StatusFailed}, Objects: []inbound.ObjectReport{
				{Object: "users", Err: &hubspot.APIError{Status: 403, Endpoint: "search"}}}},
			wantProblems: []string{"inbound/users/hubspot_auth"},
			wantNotClean: []string{"inbound/users/hubspot_auth"},
		},
		{
			name:    "a single 5xx run is a blip",
			rep:     inbound.Report{Header: runreport.Header{Status: inbound.StatusFailed, Started: t0}, Objects: []inbound.ObjectReport{failed("users", "hubspot: search: status 502")}},
			history: runs(6, ""),
		},
		{
			name:         "a 5xx lasting 15 minutes is an outage",
			rep:          inbound.Report{Header: runreport.Header{RunID: "now", Status: inbound.StatusFailed, Started: t0}, Objects: []inbound.ObjectReport{failed("users", "hubspot: search: status 502")}},
			history:      append(runs(3, "users: hubspot: search: status 503"), runs(6, "")[3:]...),
			wantProblems: []string{"inbound/users/outage"},
		},
		{
			name:    "another object's outage is not this one's",
			rep:     inbound.Report{Header: runreport.Header{Status: inbound.StatusFailed, Started: t0}, Objects: []inbound.ObjectReport{failed("users", "hubspot: search: status 502")}},
			history: runs(6, "companies: hubspot: list: status 503"),
		},
		{
			name:         "permanent record failures: one problem per object and category",
			rep:          inbound.Report{Header: runreport.Header{Status: inbound.StatusComplete}, Objects: []inbound.ObjectReport{badRecords("users", 30, invalid), ok("companies")}},
			history:      runs(6, ""),
			wantProblems: []string{"inbound/users/records/invalid"},
			wantClean:    []string{"inbound/users/hubspot_auth", "inbound/companies/records/invalid", "inbound/users/records/not_found"},
			wantNotClean: []string{"inbound/users/records/invalid"},
		},
		{
			name:         "record failures resolve only after a quiet half hour",
			rep:          inbound.Report{Header: runreport.Header{Status: inbound.StatusComplete}, Objects: []inbound.ObjectReport{ok("users")}},
			history:      runs(6, "", store.Failure{Record: "users/u1", Reason: invalid}),
			wantClean:    []string{"inbound/users/records/not_found"},
			wantNotClean: []string{"inbound/users/records/invalid"},
		},
		{
			name:         "record failures need history to resolve",
			rep:          inbound.Report{Header: runreport.Header{Status: inbound.StatusComplete}, Objects: []inbound.ObjectReport{ok("users")}},
			history:      runs(2, ""),
			wantClean:    []string{"inbound/users/userpilot_auth"},
			wantNotClean: []string{"inbound/users/records/invalid"},
		},
		{
			name:         "retryable record failures are not record problems",
			rep:          inbound.Report{Header: runreport.Header{Status: inbound.StatusFailed}, Objects: []inbound.ObjectReport{{Object: "users", Error: "userpilot write (retried next run): userpilot: identify_user: status 503", Failures: []inbound.Failure{{Profile: "u1", Reason: "userpilot: identify_user: status 503"}}}}},
			wantNotClean: []string{"inbound/users/userpilot_auth"},
		},
		{
			name:         "an object type the budget never started proves nothing",
			rep:          inbound.Report{Header: runreport.Header{Status: inbound.StatusPartial}, Objects: []inbound.ObjectReport{ok("users"), {Object: "companies", Message: "not started: time budget spent"}}},
			wantClean:    []string{"inbound/users/hubspot_auth"},
			wantNotClean: []string{"inbound/companies/hubspot_auth"},
		},
		{
			name:    "lease held briefly is overlap",
			rep:     inbound.Report{Header: runreport.Header{Status: inbound.StatusLeaseHeld}},
			history: runs(2, ""),
		},
		{
			name:         "lease held with no run finished for 30 minutes is stuck",
			rep:          inbound.Report{Header: runreport.Header{Status: inbound.StatusLeaseHeld}},
			history:      runs(8, "")[6:],
			wantProblems: []string{KeyLeaseStuck},
			wantNotClean: []string{KeyLeaseStuck},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := InboundOutcome(&tt.rep, tt.history, t0, Thresholds{})
			if gotKeys := keys(got.Problems); !slices.Equal(gotKeys, tt.wantProblems) {
				t.Errorf("problems = %v, want %v", gotKeys, tt.wantProblems)
			}
			for _, k := range tt.wantClean {
				if !slices.Contains(got.Clean, k) {
					t.Errorf("clean %v lacks %s", got.Clean, k)
				}
			}
			for _, k := range tt.wantNotClean {
				if slices.Contains(got.Clean, k) {
					t.Errorf("clean %v has %s", got.Clean, k)
				}
			}
		})
	}
}

func TestInboundRecordProblemListsAFewIDs(t *testing.T) {
	o := inbound.ObjectReport{Object: "users", Complete: true}
	for i := range 30 {
		o.Failures = append(o.Failures, inbound.Failure{Profile: fmt.Sprintf("u%d@example.com", i), HubSpotID: fmt.Sprint(i), Reason: "userpilot: identify_user: status 400", Permanent: true})
	}
	got := InboundOutcome(&inbound.Report{Objects: []inbound.ObjectReport{o}}, nil, t0, Thresholds{})
	if len(got.Problems) != 1 {
		t.Fatalf("problems = %v, want one", keys(got.Problems))
	}
	p := got.Problems[0]
	if p.Count != 30 || len(p.Records) != maxListed || !strings.HasPrefix(p.Records[0], "u0@example.com (HubSpot 0)") {
		t.Errorf("problem count %d records %v, want 30 and the first %d", p.Count, p.Records, maxListed)
	}
}

func TestActivityOutcome(t *testing.T) {
	stalled := map[string]int64{forward.CountMessages: 10, forward.CountFailedMessages: 10, forward.CountSendFailed: 40}
	stalledRuns := func(n int, every time.Duration) []store.RunRecord {
		var out []store.RunRecord
		for i := 1; i <= n; i++ {
			out = append(out, store.RunRecord{ID: fmt.Sprint("m", i), Started: t0.Add(-time.Duration(i) * every), Counts: stalled})
		}
		return out
	}
	tests := []struct {
		name         string
		run          ActivityRun
		history      []store.RunRecord
		wantProblems []string
		wantClean    bool
	}{
		{
			name:      "delivered batch resolves the forwarding keys",
			run:       ActivityRun{Report: &forward.Report{Counts: map[string]int64{forward.CountSent: 5}}},
			wantClean: true,
		},
		{
			name:         "enterprise required",
			run:          ActivityRun{Report: &forward.Report{Counts: stalled}, SinkErr: fmt.Errorf("%w: status 403", hubspot.ErrEnterpriseRequired)},
			wantProblems: []string{"activity/hubspot_enterprise_required"},
		},
		{
			name: "enterprise required on the report, wrapped by the sink",
			run: ActivityRun{Report: &forward.Report{Counts: stalled, SinkErr: fmt.Errorf("forward: custom events: %w",
				fmt.Errorf("hubspot: list event definitions: %w: %w", hubspot.ErrEnterpriseRequired, &hubspot.APIError{Status: 403, Endpoint: "event_definitions"}))}},
			wantProblems: []string{"activity/hubspot_enterprise_required"},
		},
		{
			name:         "enterprise named at once is not also an outage",
			run:          ActivityRun{ID: "now", Started: t0, Report: &forward.Report{Counts: stalled}, SinkErr: fmt.Errorf("%w: status 403", hubspot.ErrEnterpriseRequired)},
			history:      stalledRuns(4, 5*time.Minute),
			wantProblems: []string{"activity/hubspot_enterprise_required"},
		},
		{
			name:         "daily limit on a send",
			run:          ActivityRun{Report: &forward.Report{Counts: stalled}, SinkErr: fmt.Errorf("hubspot: send 5 events: %w", &hubspot.RateLimitError{Policy: hubspot.PolicyDaily})},
			wantProblems: []string{"activity/hubspot_daily_limit"},
		},
		{
			name: "a 5xx send is no named problem",
			run:  ActivityRun{Report: &forward.Report{Counts: stalled}, SinkErr: fmt.Errorf("hubspot: send 5 events: %w", &hubspot.APIError{Status: 502, Endpoint: "send_events"})},
		},
		{
			name:         "a 5xx send lasting 15 minutes is an outage",
			run:          ActivityRun{ID: "now", Started: t0, Report: &forward.Report{Counts: stalled}, SinkErr: &hubspot.APIError{Status: 502, Endpoint: "send_events"}},
			history:      stalledRuns(4, 5*time.Minute),
			wantProblems: []string{"activity/outage"},
		},
		{
			name:         "hubspot 403 other than enterprise",
			run:          ActivityRun{Report: &forward.Report{Counts: stalled}, SinkErr: &hubspot.APIError{Status: 403, Endpoint: "send_events"}},
			wantProblems: []string{"activity/hubspot_auth"},
		},
		{
			name:         "invalid messages dead-lettered",
			run:          ActivityRun{Report: &forward.Report{DeadLettered: []string{"m1", "m2"}, Counts: map[string]int64{forward.CountInvalidMessages: 2, forward.CountSent: 3}}},
			wantProblems: []string{KeyActivityInvalid},
			wantClean:    true,
		},
		{
			name:         "rejected events dead-lettered",
			run:          ActivityRun{Report: &forward.Report{DeadLettered: []string{"m1"}, Counts: map[string]int64{forward.CountRejected: 1}}},
			wantProblems: []string{KeyActivityRejected},
		},
		{
			name: "unmatched users are no problem",
			run:  ActivityRun{Report: &forward.Report{Counts: map[string]int64{forward.CountUnmatched: 5000, forward.CountMessages: 10}}},
		},
		{
			name:    "a stalled batch is a blip",
			run:     ActivityRun{ID: "now", Started: t0, Report: &forward.Report{Counts: stalled}},
			history: stalledRuns(3, time.Minute),
		},
		{
			name:         "stalled for 15 minutes is an outage",
			run:          ActivityRun{ID: "now", Started: t0, Report: &forward.Report{Counts: stalled}},
			history:      stalledRuns(4, 5*time.Minute),
			wantProblems: []string{"activity/outage"},
		},
		{
			name:    "a delivered batch in between breaks the outage",
			run:     ActivityRun{ID: "now", Started: t0, Report: &forward.Report{Counts: stalled}},
			history: append(stalledRuns(1, time.Minute), append([]store.RunRecord{{Started: t0.Add(-2 * time.Minute), Counts: map[string]int64{forward.CountSent: 1}}}, stalledRuns(5, 10*time.Minute)...)...),
		},
		{
			name: "without history (not read this minute) no outage is called",
			run:  ActivityRun{ID: "now", Started: t0, Report: &forward.Report{Counts: stalled}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := ActivityOutcome(tt.run, tt.history, t0, Thresholds{})
			if gotKeys := keys(got.Problems); !slices.Equal(gotKeys, tt.wantProblems) {
				t.Errorf("problems = %v, want %v", gotKeys, tt.wantProblems)
			}
			if clean := slices.Contains(got.Clean, "activity/outage"); clean != tt.wantClean {
				t.Errorf("clean = %v, want outage clean %v", got.Clean, tt.wantClean)
			}
			if slices.Contains(got.Clean, KeyActivityInvalid) || slices.Contains(got.Clean, KeyActivityRejected) {
				t.Errorf("clean %v resolves dead-letter problems, which never resolve", got.Clean)
			}
		})
	}
}

// fakeNotifier records calls; err fails every call.
type fakeNotifier struct {
	mu       sync.Mutex
	problems []string
	resolved []string
	err      error
}

func (f *fakeNotifier) Problem(_ context.Context, _ string, p notify.Problem) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.problems = append(f.problems, p.Key)
	return f.err
}

func (f *fakeNotifier) Resolved(_ context.Context, _, key string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.resolved = append(f.resolved, key)
	return f.err
}

// fakeRuns serves fixed run records and counts reads.
type fakeRuns struct {
	recs  []store.RunRecord
	reads int
	err   error
}

func (f *fakeRuns) ListRuns(context.Context, string, string, int) ([]store.RunRecord, error) {
	f.reads++
	return f.recs, f.err
}

func TestAlerterNilAndDisabled(t *testing.T) {
	var nilNotifier *notify.Notifier
	for name, n := range map[string]Notifier{
		"nil interface": nil,
		"nil notifier":  nilNotifier,
		"no recipients": notify.New(nil, nil, "", nil),
	} {
		a := New(n, &fakeRuns{}, "production")
		if a != nil {
			t.Errorf("%s: New = %v, want nil (alerting off)", name, a)
		}
		// A nil alerter is safe to call.
		a.Inbound(context.Background(), &inbound.Report{Objects: []inbound.ObjectReport{{Object: "users", Error: "hubspot: search: status 401", Cause: string(CauseHubSpotAuth)}}})
		a.Activity(context.Background(), ActivityRun{Report: &forward.Report{}})
	}
}

func TestAlerterLogsNotificationFailures(t *testing.T) {
	n := &fakeNotifier{err: errors.New("ses down")}
	a := New(n, &fakeRuns{err: errors.New("table gone")}, "production")
	a.Inbound(context.Background(), &inbound.Report{Objects: []inbound.ObjectReport{{Object: "users", Error: "hubspot: search: status 401", Cause: string(CauseHubSpotAuth)}}})
	if !slices.Equal(n.problems, []string{"inbound/users/hubspot_auth"}) {
		t.Errorf("problems = %v, want the auth problem despite the history error", n.problems)
	}
}

func TestAlerterSpacesActivityStoreCalls(t *testing.T) {
	n := &fakeNotifier{}
	rs := &fakeRuns{}
	clk := t0
	a := New(n, rs, "production", WithClock(func() time.Time { return clk }))
	delivered := ActivityRun{Report: &forward.Report{Counts: map[string]int64{forward.CountSent: 1}}}
	stalled := ActivityRun{Report: &forward.Report{Counts: map[string]int64{forward.CountFailedMessages: 1}}}
	for range 3 {
		a.Activity(context.Background(), delivered)
		a.Activity(context.Background(), stalled)
	}
	if len(n.resolved) != 4 || rs.reads != 1 {
		t.Errorf("resolved %d keys with %d history reads in one minute, want one round (4 keys) and 1 read", len(n.resolved), rs.reads)
	}
	clk = clk.Add(DefaultActivityInterval)
	a.Activity(context.Background(), delivered)
	a.Activity(context.Background(), stalled)
	if len(n.resolved) != 8 || rs.reads != 2 {
		t.Errorf("after a minute: resolved %d, reads %d, want 8 and 2", len(n.resolved), rs.reads)
	}
}
