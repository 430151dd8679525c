package store

import (
	"context"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

const (
	// runRetention is how long run records are kept (TTL).
	runRetention = 90 * 24 * time.Hour
	// maxRunFailures caps the failures stored with a run, so a run with
	// thousands of failed records stays well under the 400 KB item limit; the
	// last entry then says how many were left out.
	maxRunFailures = 500
	// runSKTime is a fixed-width UTC layout, so run sort keys order by time.
	runSKTime = "2006-01-02T15:04:05.000000000Z"

	attrRun = "run"
)

// RunRecord is what one job run did.
type RunRecord struct {
	Env, Job, ID      string
	Started, Finished time.Time
	Counts            map[string]int64
	APICalls          map[string]int64
	Failures          []Failure
	Error             string
	// Causes names why object types stopped ("users" → "hubspot_auth"),
	// recorded from the error value where it was made (shared/cause).
	Causes map[string]string
}

// Failure is one record that failed in a run. Record is an id, never a raw
// email.
type Failure struct {
	Record, Field, Reason string
}

// runBody is the stored form of a run record (one JSON string attribute:
// run records are written once and read whole, never queried by field).
type runBody struct {
	ID       string            `json:"id"`
	Started  time.Time         `json:"started"`
	Finished time.Time         `json:"finished"`
	Counts   map[string]int64  `json:"counts,omitempty"`
	APICalls map[string]int64  `json:"api_calls,omitempty"`
	Failures []Failure         `json:"failures,omitempty"`
	Error    string            `json:"error,omitempty"`
	Causes   map[string]string `json:"causes,omitempty"`
}

func runPK(env, job string) string { return env + "#run#" + job }

// PutRun stores a run record for 90 days. A second PutRun with the same Job,
// Started and ID replaces the first (a run may be saved as it progresses).
// Failures beyond 500 are summarised in one last entry.
func (s *Store) PutRun(ctx context.Context, r RunRecord) error {
	sk, body, err := EncodeRun(r)
	if err != nil {
		return err
	}
	if err := s.noteName(ctx, r.Env, NamesJob, r.Job, true); err != nil {
		return err
	}
	item := key(runPK(r.Env, r.Job), sk)
	item[attrRun] = str(string(body))
	item[attrExpires] = expiresAt(s.now().Add(runRetention))
	if _, err := s.db.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(s.table), Item: item}); err != nil {
		return fmt.Errorf("store: put run %s: %w", r.ID, err)
	}
	return nil
}

// ListRuns returns up to limit (all when limit <= 0) unexpired runs of job,
// newest first by Started.
func (s *Store) ListRuns(ctx context.Context, env, job string, limit int) ([]RunRecord, error) {
	if err := checkEnv(env); err != nil {
		return nil, err
	}
	if err := checkName("run job", job); err != nil {
		return nil, err
	}
	now := s.now()
	in := &dynamodb.QueryInput{
		TableName:                 aws.String(s.table),
		KeyConditionExpression:    aws.String("#pk = :pk"),
		ExpressionAttributeNames:  map[string]string{"#pk": attrPK},
		ExpressionAttributeValues: map[string]types.AttributeValue{":pk": str(runPK(env, job))},
		ScanIndexForward:          aws.Bool(false),
	}
	if limit > 0 {
		in.Limit = aws.Int32(int32(min(limit, 1000)))
	}
	p := dynamodb.NewQueryPaginator(s.db, in)
	var out []RunRecord
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("store: list runs of %s: %w", job, err)
		}
		for _, item := range page.Items {
			if expired(item, now) {
				continue
			}
			r, err := DecodeRun(env, job, []byte(getS(item, attrRun)))
			if err != nil {
				return nil, err
			}
			out = append(out, r)
			if limit > 0 && len(out) == limit {
				return out, nil
			}
		}
	}
	return out, nil
}
