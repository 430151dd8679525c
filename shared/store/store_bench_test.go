package store

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// The benchmarks here pair each store path with the plain DynamoDB calls that
// move the same items, on the same DynamoDB Local table, in the same run:
// scripts/benchratio (make bench) prints pilotsync's cost as a ratio to the
// "baseline_..." sub-benchmark, because absolute times on a shared machine
// and an emulator mean little. Table setup happens only when -bench selects
// them, never under `go test`.

// benchProfiles returns batch new user profiles with ids unique per round.
func benchProfiles(prefix string, round, batch int) []*Profile {
	ps := make([]*Profile, batch)
	at := time.Now()
	for j := range ps {
		id := fmt.Sprintf("%s%d-%d", prefix, round, j)
		ps[j] = &Profile{Env: "production", Kind: KindUser, ID: id, MatchValue: id + "@example.com",
			Properties: map[string]Property{"plan": {Value: "pro", At: at}, "seats": {Value: float64(j), At: at}}}
	}
	return ps
}

// rawItems is what PutProfiles writes for ps, as unconditional puts: each
// profile item as encoded, and each lookup entry as the item its ADD would
// leave.
func rawItems(b *testing.B, s *Store, ps []*Profile) []types.WriteRequest {
	b.Helper()
	var reqs []types.WriteRequest
	now := time.Now()
	for _, p := range ps {
		w, err := s.planWrite(p, now)
		if err != nil {
			b.Fatal(err)
		}
		for _, a := range w.actions {
			switch {
			case a.Put != nil:
				reqs = append(reqs, types.WriteRequest{PutRequest: &types.PutRequest{Item: a.Put.Item}})
			case a.Update != nil:
				item := map[string]types.AttributeValue{attrIDs: a.Update.ExpressionAttributeValues[":id"]}
				for k, v := range a.Update.Key {
					item[k] = v
				}
				reqs = append(reqs, types.WriteRequest{PutRequest: &types.PutRequest{Item: item}})
			}
		}
	}
	return reqs
}

// rawBatchWrite sends reqs with plain BatchWriteItem calls, 25 a call
// (DynamoDB's limit), as many at once as the store runs, re-sending
// unprocessed items at once (the emulator rarely returns any).
func rawBatchWrite(ctx context.Context, db dynamoAPI, table string, reqs []types.WriteRequest) error {
	chunks := (len(reqs) + maxBatchWrite - 1) / maxBatchWrite
	return parallel(ctx, chunks, func(ctx context.Context, c int) error {
		pending := reqs[c*maxBatchWrite : min((c+1)*maxBatchWrite, len(reqs))]
		for len(pending) > 0 {
			res, err := db.BatchWriteItem(ctx, &dynamodb.BatchWriteItemInput{RequestItems: map[string][]types.WriteRequest{table: pending}})
			if err != nil {
				return err
			}
			pending = res.UnprocessedItems[table]
		}
		return nil
	})
}

// rawBatchGet reads keys with plain consistent BatchGetItem calls, 100 a call
// (DynamoDB's limit), as many at once as the store runs.
func rawBatchGet(ctx context.Context, db dynamoAPI, table string, keys []map[string]types.AttributeValue) (int, error) {
	chunks := (len(keys) + maxBatchGet - 1) / maxBatchGet
	got := make([]int, chunks)
	err := parallel(ctx, chunks, func(ctx context.Context, c int) error {
		pending := keys[c*maxBatchGet : min((c+1)*maxBatchGet, len(keys))]
		for len(pending) > 0 {
			res, err := db.BatchGetItem(ctx, &dynamodb.BatchGetItemInput{RequestItems: map[string]types.KeysAndAttributes{
				table: {Keys: pending, ConsistentRead: aws.Bool(true)}}})
			if err != nil {
				return err
			}
			got[c] += len(res.Responses[table])
			pending = res.UnprocessedKeys[table].Keys
		}
		return nil
	})
	n := 0
	for _, g := range got {
		n += g
	}
	return n, err
}

// BenchmarkPutProfiles stores 100 new profiles an op: PutProfiles
// (conditional transactions keeping the match lookup in step) against plain
// BatchWriteItem puts of the same profile and lookup items. Both sides encode
// the items (a raw write needs them too), so the ratio is the price of the
// transactions and conditions.
func BenchmarkPutProfiles(b *testing.B) {
	s := newStore(b)
	const batch = 100
	round := 0
	b.Run("pilotsync", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			round++
			if err := s.PutProfiles(b.Context(), benchProfiles("p", round, batch)); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(b.N*batch)/b.Elapsed().Seconds(), "profiles/s")
	})
	b.Run("baseline_BatchWriteItem", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			round++
			if err := rawBatchWrite(b.Context(), s.db, s.table, rawItems(b, s, benchProfiles("r", round, batch))); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(b.N*batch)/b.Elapsed().Seconds(), "profiles/s")
	})
}

// BenchmarkLookupByMatch resolves 500 match values an op: LookupByMatch
// (normalize, batch, decode the id sets) against plain BatchGetItem calls for
// the same lookup keys.
func BenchmarkLookupByMatch(b *testing.B) {
	s := newStore(b)
	ctx := b.Context()
	const n = 500
	ps := make([]*Profile, n)
	values := make([]string, n)
	keys := make([]map[string]types.AttributeValue, n)
	for j := range ps {
		values[j] = fmt.Sprintf("u%d@example.com", j)
		ps[j] = &Profile{Env: "production", Kind: KindUser, ID: fmt.Sprint(j), MatchValue: values[j]}
		keys[j] = key(matchPK("production", KindUser, values[j]), skLookup)
	}
	if err := s.PutProfiles(ctx, ps); err != nil {
		b.Fatal(err)
	}
	b.Run("pilotsync", func(b *testing.B) {
		for b.Loop() {
			got, err := s.LookupByMatch(b.Context(), "production", KindUser, values)
			if err != nil || len(got) != n {
				b.Fatalf("got %d, %v", len(got), err)
			}
		}
		b.ReportMetric(float64(b.N*n)/b.Elapsed().Seconds(), "lookups/s")
	})
	b.Run("baseline_BatchGetItem", func(b *testing.B) {
		for b.Loop() {
			got, err := rawBatchGet(b.Context(), s.db, s.table, keys)
			if err != nil || got != n {
				b.Fatalf("got %d, %v", got, err)
			}
		}
		b.ReportMetric(float64(b.N*n)/b.Elapsed().Seconds(), "lookups/s")
	})
}
