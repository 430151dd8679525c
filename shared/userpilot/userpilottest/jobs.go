package userpilottest

import "time"

// Bulk job statuses (https://docs.userpilot.com/api-references/endpoints/jobs/job-id).
// The sandbox goes queued → validating →
// processing → completed (or failed); pending_refresh is not used.
const (
	statusQueued     = "queued"
	statusValidating = "validating"
	statusProcessing = "processing"
	statusCompleted  = "completed"
	statusFailed     = "failed"
)

type job struct {
	id, typ, kind string // kind: "users" or "companies"
	created       time.Time
	finished      time.Time
	rows          []bulkRow
	fail          bool
	status        string
	completed     int
}

// jobView is the JSON shape of a job in responses.
type jobView struct {
	JobID         string `json:"job_id"`
	Status        string `json:"status"`
	Type          string `json:"type"`
	TotalRows     int    `json:"total_rows"`
	CompletedRows int    `json:"completed_rows"`
	StartTime     string `json:"start_time"`
	EndTime       string `json:"end_time,omitempty"`
}

func (j *job) view() jobView {
	v := jobView{
		JobID: j.id, Status: j.status, Type: j.typ, TotalRows: len(j.rows), CompletedRows: j.completed,
		StartTime: j.created.UTC().Format(time.RFC3339Nano),
	}
	if !j.finished.IsZero() {
		v.EndTime = j.finished.UTC().Format(time.RFC3339Nano)
	}
	return v
}

func (j *job) done() bool { return j.status == statusCompleted || j.status == statusFailed }

// advanceLocked moves every unfinished job to the status its age implies
// and writes the records of jobs that finish. Callers hold s.mu.
func (s *Server) advanceLocked(now time.Time) {
	for _, id := range s.jobOrder {
		j := s.jobs[id]
		if j.done() {
			continue
		}
		d := s.opts.JobDuration
		elapsed := now.Sub(j.created)
		total := len(j.rows)
		switch {
		case d <= 0 || elapsed >= d:
			s.finishLocked(j, now)
		case elapsed < d/10:
			j.status = statusQueued
		case elapsed < d/5:
			j.status = statusValidating
		default:
			j.status = statusProcessing
			frac := float64(elapsed-d/5) / float64(d-d/5)
			j.completed = min(int(frac*float64(total)), total-1)
		}
	}
}

// finishLocked writes the job's rows (half of them for a job made to fail:
// a partial write, as a failure midway would leave) and marks it done.
func (s *Server) finishLocked(j *job, now time.Time) {
	n := len(j.rows)
	if j.fail {
		n = len(j.rows) / 2
	}
	at := j.created.Add(max(s.opts.JobDuration, 0))
	for _, r := range j.rows[:n] {
		if j.kind == "users" {
			s.upsertUser(r.id, r.companyID, r.metadata, at)
			if r.companyID != "" {
				if _, ok := s.companies[r.companyID]; !ok {
					s.upsertCompany(r.companyID, nil, at)
				}
			}
		} else {
			s.upsertCompany(r.id, r.metadata, at)
		}
	}
	j.completed = n
	j.finished = now
	j.status = statusCompleted
	if j.fail {
		j.status = statusFailed
	}
}

// runningLocked returns the unfinished job, if any.
func (s *Server) runningLocked() *job {
	for _, id := range s.jobOrder {
		if j := s.jobs[id]; !j.done() {
			return j
		}
	}
	return nil
}
