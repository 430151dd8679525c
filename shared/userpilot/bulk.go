package userpilot

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/pilotsync/pilotsync/shared/internal/sleep"
)

// Bulk job statuses (https://docs.userpilot.com/api-references/endpoints/jobs/job-id).
const (
	JobQueued         = "queued"
	JobValidating     = "validating"
	JobProcessing     = "processing"
	JobPendingRefresh = "pending_refresh"
	JobCompleted      = "completed"
	JobFailed         = "failed"
)

// Job is a Userpilot bulk identify job.
type Job struct {
	// ID is Userpilot's job id, e.g. "bulk:jobs:...".
	ID string `json:"job_id"`
	// Status is one of the Job* statuses.
	Status string `json:"status"`
	// Type is Userpilot's job type, when it sends one.
	Type string `json:"type,omitempty"`
	// TotalRows is the number of records submitted.
	TotalRows int `json:"total_rows"`
	// CompletedRows is the number of records processed so far.
	CompletedRows int `json:"completed_rows"`
}

// Done reports whether the job has finished, successfully or not.
// pending_refresh is not finished: Userpilot lists it before completed.
func (j Job) Done() bool { return j.Status == JobCompleted || j.Status == JobFailed }

// BulkIdentifyUsers creates or updates any number of users with bulk jobs
// (POST /v1/users/bulk_identify): MaxBulkRecords per job, one job at a time,
// each polled until it finishes. Every record is validated before anything
// is sent. When Userpilot answers 409 (another job of this token is
// running) it waits and resubmits. It returns the finished jobs in order;
// on error, the jobs finished so far and the error. A job that ends
// "failed" stops the run with a *JobError naming it.
func (c *Client) BulkIdentifyUsers(ctx context.Context, users []User) ([]Job, error) {
	records := make([]map[string]any, len(users))
	for i, u := range users {
		where := fmt.Sprintf("users[%d].", i)
		if strings.TrimSpace(u.UserID) == "" {
			return nil, &ValidationError{Field: where + "user_id", Reason: "required"}
		}
		md, err := encodeMetadata(where, u.Metadata, c.clear)
		if err != nil {
			return nil, err
		}
		r := map[string]any{"user_id": u.UserID}
		if u.CompanyID != "" {
			r["company_id"] = u.CompanyID
		}
		if md != nil {
			r["metadata"] = md
		}
		records[i] = r
	}
	return c.bulk(ctx, EndpointUsersBulk, "/v1/users/bulk_identify", "users", records)
}

// BulkIdentifyCompanies is BulkIdentifyUsers for companies
// (POST /v1/companies/bulk_identify).
func (c *Client) BulkIdentifyCompanies(ctx context.Context, cos []Company) ([]Job, error) {
	records := make([]map[string]any, len(cos))
	for i, co := range cos {
		where := fmt.Sprintf("companies[%d].", i)
		if strings.TrimSpace(co.CompanyID) == "" {
			return nil, &ValidationError{Field: where + "company_id", Reason: "required"}
		}
		md, err := encodeMetadata(where, co.Metadata, c.clear)
		if err != nil {
			return nil, err
		}
		r := map[string]any{"company_id": co.CompanyID}
		if md != nil {
			r["metadata"] = md
		}
		records[i] = r
	}
	return c.bulk(ctx, EndpointCompaniesBulk, "/v1/companies/bulk_identify", "companies", records)
}

// Job fetches a bulk job's status (GET /v1/background_jobs/{job_id}, the id
// URL-encoded).
func (c *Client) Job(ctx context.Context, id string) (*Job, error) {
	if id == "" {
		return nil, &ValidationError{Field: "job_id", Reason: "required"}
	}
	var j Job
	err := c.do(ctx, call{endpoint: EndpointBackgroundJobs, method: http.MethodGet, path: "/v1/background_jobs/" + escapeSegment(id)}, &j)
	if err != nil {
		return nil, err
	}
	if j.ID == "" {
		j.ID = id
	}
	return &j, nil
}

// escapeSegment encodes a path segment the way encodeURIComponent does, so
// ids such as "bulk:jobs:..." travel as "bulk%3Ajobs%3A...".
func escapeSegment(s string) string {
	return strings.ReplaceAll(url.QueryEscape(s), "+", "%20")
}

func (c *Client) bulk(ctx context.Context, endpoint, path, field string, records []map[string]any) ([]Job, error) {
	if len(records) == 0 {
		return nil, nil
	}
	// One bulk job per token at a time: callers sharing this client queue
	// here instead of racing each other into 409s.
	select {
	case c.bulkSem <- struct{}{}:
	case <-ctx.Done():
		return nil, fmt.Errorf("userpilot: %s: waiting for another bulk run: %w", endpoint, ctx.Err())
	}
	defer func() { <-c.bulkSem }()

	chunks := (len(records) + MaxBulkRecords - 1) / MaxBulkRecords
	var jobs []Job
	for i := 0; i < chunks; i++ {
		lo, hi := i*MaxBulkRecords, min((i+1)*MaxBulkRecords, len(records))
		job, err := c.submit(ctx, endpoint, path, map[string]any{field: records[lo:hi]})
		if err == nil {
			job, err = c.waitJob(ctx, job)
		}
		if err != nil {
			return jobs, fmt.Errorf("userpilot: %s: records %d-%d (chunk %d of %d): %w", endpoint, lo, hi-1, i+1, chunks, err)
		}
		jobs = append(jobs, *job)
		c.logger.LogAttrs(ctx, slog.LevelInfo, "userpilot: bulk job finished",
			slog.String("endpoint", endpoint), slog.String("job_id", job.ID), slog.String("status", job.Status),
			slog.Int("total_rows", job.TotalRows), slog.Int("completed_rows", job.CompletedRows))
		if job.Status == JobFailed {
			return jobs, &JobError{Job: *job}
		}
	}
	return jobs, nil
}

// submit posts one bulk request. On 409 it waits (growing intervals, up to
// the conflict wait) and posts again; resubmitting is safe because
// identify is an upsert.
func (c *Client) submit(ctx context.Context, endpoint, path string, body any) (*Job, error) {
	start := time.Now()
	interval := c.pollMin
	noJob := 0
	for {
		var j Job
		err := c.do(ctx, call{endpoint: endpoint, method: http.MethodPost, path: path, body: body, noRetryStatus: http.StatusConflict}, &j)
		var ae *APIError
		switch {
		case err == nil && j.ID != "":
			return &j, nil
		case err == nil:
			// 2xx without a job: nothing to poll. Try again; if a job was
			// created after all, the next attempt waits for it via 409.
			if noJob >= c.maxRetries {
				return nil, fmt.Errorf("userpilot: %s: %w", endpoint, errNoJob)
			}
			noJob++
			d := c.backoff(noJob)
			c.stats.retry(d)
			if err := sleep.For(ctx, d); err != nil {
				return nil, fmt.Errorf("userpilot: %s: %w", endpoint, err)
			}
			continue
		case errors.As(err, &ae) && ae.Status == http.StatusConflict:
			c.stats.conflict()
			if time.Since(start) >= c.conflictWait {
				return nil, fmt.Errorf("userpilot: %s: another bulk job still running after %s: %w", endpoint, c.conflictWait, err)
			}
			c.logger.LogAttrs(ctx, slog.LevelInfo, "userpilot: another bulk job is running, waiting",
				slog.String("endpoint", endpoint), slog.Duration("delay", interval))
			t0 := time.Now()
			if err := sleep.For(ctx, interval); err != nil {
				return nil, fmt.Errorf("userpilot: %s: waiting for another bulk job: %w", endpoint, err)
			}
			c.stats.jobWait(time.Since(t0))
			interval = c.nextPoll(interval)
			continue
		default:
			return nil, err
		}
	}
}

// waitJob polls until the job is completed or failed.
func (c *Client) waitJob(ctx context.Context, j *Job) (*Job, error) {
	interval := c.pollMin
	for !j.Done() {
		t0 := time.Now()
		if err := sleep.For(ctx, interval); err != nil {
			return nil, fmt.Errorf("userpilot: waiting for bulk job %s: %w", j.ID, err)
		}
		c.stats.jobWait(time.Since(t0))
		next, err := c.Job(ctx, j.ID)
		if err != nil {
			return nil, fmt.Errorf("userpilot: poll bulk job %s: %w", j.ID, err)
		}
		j = next
		interval = c.nextPoll(interval)
	}
	return j, nil
}

func (c *Client) nextPoll(d time.Duration) time.Duration {
	return min(d+d/2, c.pollMax)
}
