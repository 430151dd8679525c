package store

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// Quarantined records: Profile.Quarantined maps a HubSpot property to the
// permanent reason the outbound push could not write it. No index lists them
// (a quarantine is rare, and an index would cost a transaction on every
// profile write that changes one), so both reads here are filtered Scans:
// QuarantineSummary stops after a bounded number of items for `pilotsync
// status`, and QuarantinedProfiles reads the whole table for the explicit,
// rare `pilotsync redrive`. A Scan reads (and bills) every item it passes,
// matching or not: 1 MB a page, half a read unit per 4 KB.

// DefaultQuarantineScan bounds the items QuarantineSummary reads: about 10
// pages of 1 MB on a table of 1 KB profiles, a few seconds and ~1,300 read
// units; a bigger table gets a partial summary saying how far it read.
const DefaultQuarantineScan = 10000

// QuarantineSummary counts quarantined properties by profile kind and reason.
type QuarantineSummary struct {
	// ByReason maps kind -> reason -> number of profiles with a property
	// quarantined for that reason.
	ByReason map[Kind]map[string]int
	// Profiles is the number of profiles with any quarantined property.
	Profiles int
	// Scanned is the number of items read; Complete is false when the scan
	// stopped at its bound before the end of the table.
	Scanned  int
	Complete bool
}

func quarantineScan(table, env string, kind Kind) *dynamodb.ScanInput {
	in := &dynamodb.ScanInput{
		TableName:                aws.String(table),
		FilterExpression:         aws.String("attribute_exists(#q) AND #sk = :sk AND #env = :env"),
		ExpressionAttributeNames: map[string]string{"#q": attrQuar, "#sk": attrSK, "#env": attrEnv},
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":sk": str(skProfile), ":env": str(env),
		},
	}
	if kind != "" {
		*in.FilterExpression += " AND #kind = :kind"
		in.ExpressionAttributeNames["#kind"] = attrKind
		in.ExpressionAttributeValues[":kind"] = str(string(kind))
	}
	return in
}

// QuarantineSummary scans at most maxItems items (DefaultQuarantineScan when
// maxItems <= 0) for quarantined profiles of env and counts them by reason.
func (s *Store) QuarantineSummary(ctx context.Context, env string, maxItems int) (QuarantineSummary, error) {
	sum := QuarantineSummary{ByReason: map[Kind]map[string]int{}}
	if err := checkEnv(env); err != nil {
		return sum, err
	}
	sc := s.db
	if maxItems <= 0 {
		maxItems = DefaultQuarantineScan
	}
	in := quarantineScan(s.table, env, "")
	in.ProjectionExpression = aws.String("#kind, #q")
	in.ExpressionAttributeNames["#kind"] = attrKind
	for {
		in.Limit = aws.Int32(int32(min(maxItems-sum.Scanned, 1000)))
		out, err := sc.Scan(ctx, in)
		if err != nil {
			return sum, fmt.Errorf("store: scan for quarantined profiles: %w", err)
		}
		sum.Scanned += int(out.ScannedCount)
		for _, item := range out.Items {
			k := Kind(getS(item, attrKind))
			reasons := map[string]bool{}
			for _, r := range getStrMap(item, attrQuar) {
				reasons[r] = true
			}
			if len(reasons) == 0 {
				continue
			}
			sum.Profiles++
			if sum.ByReason[k] == nil {
				sum.ByReason[k] = map[string]int{}
			}
			for r := range reasons {
				sum.ByReason[k][r]++
			}
		}
		if len(out.LastEvaluatedKey) == 0 {
			sum.Complete = true
			return sum, nil
		}
		if sum.Scanned >= maxItems {
			return sum, nil
		}
		in.ExclusiveStartKey = out.LastEvaluatedKey
	}
}

// QuarantinedProfiles yields every profile of kind in env with a quarantined
// property, scanning the whole table.
func (s *Store) QuarantinedProfiles(ctx context.Context, env string, kind Kind) iter.Seq2[*Profile, error] {
	return func(yield func(*Profile, error) bool) {
		if err := checkEnv(env); err != nil {
			yield(nil, err)
			return
		}
		if !kind.valid() {
			yield(nil, fmt.Errorf("%w: kind %q", ErrInvalid, kind))
			return
		}
		p := dynamodb.NewScanPaginator(s.db, quarantineScan(s.table, env, kind))
		yieldProfiles(ctx, p.HasMorePages, scanPages(p), "scan for quarantined "+string(kind)+" profiles", yield)
	}
}

// ReasonMatches reports whether a recorded reason is selected by the filter
// want: every reason when want is empty, else a reason equal to want or
// starting with it (so "rejected" selects "rejected: HubSpot said ...").
func ReasonMatches(reason, want string) bool {
	return want == "" || strings.HasPrefix(reason, want)
}

// QuarantineRetry says what RetryQuarantined did (or, dry, would do).
type QuarantineRetry struct {
	// Profiles released and Properties un-quarantined in them.
	Profiles, Properties int
	// ByReason counts released properties by reason.
	ByReason map[string]int
}

// maxRetryConflicts bounds re-reading a profile that changed while
// RetryQuarantined released it.
const maxRetryConflicts = 5

// RetryQuarantined releases the quarantined properties of kind whose reason
// matches (ReasonMatches) and marks their profiles dirty, so the next
// outbound push sends them again. With dry it only counts. A profile written
// concurrently is re-read and released again (optimistic lock).
func (s *Store) RetryQuarantined(ctx context.Context, env string, kind Kind, reason string, dry bool) (QuarantineRetry, error) {
	res := QuarantineRetry{ByReason: map[string]int{}}
	for p, err := range s.QuarantinedProfiles(ctx, env, kind) {
		if err != nil {
			return res, err
		}
		id := p.ID
		for attempt := 0; ; attempt++ {
			released := release(p, reason)
			if len(released) == 0 {
				break
			}
			if !dry {
				p.Dirty = true
				err := s.PutProfile(ctx, p)
				if errors.Is(err, ErrConflict) && attempt < maxRetryConflicts {
					if p, err = s.GetProfile(ctx, env, kind, id); err != nil {
						return res, fmt.Errorf("store: retry quarantined %s %s: %w", kind, id, err)
					}
					continue
				}
				if err != nil {
					return res, fmt.Errorf("store: retry quarantined %s: %w", kind, err)
				}
			}
			res.Profiles++
			res.Properties += len(released)
			for _, r := range released {
				res.ByReason[r]++
			}
			break
		}
	}
	return res, nil
}

// release removes from p.Quarantined the properties whose reason matches and
// returns their reasons.
func release(p *Profile, want string) []string {
	var out []string
	for prop, r := range p.Quarantined {
		if ReasonMatches(r, want) {
			out = append(out, r)
			delete(p.Quarantined, prop)
		}
	}
	return out
}
