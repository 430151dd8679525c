package store

import (
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/smithy-go"
)

// TestProblemsListsEachOpenProblemOnce: status asks for problem keys, some
// repeated; each open one is listed once, sorted by key.
func TestProblemsListsEachOpenProblemOnce(t *testing.T) {
	t.Parallel()
	s := newStore(t)
	ctx := t.Context()
	at := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	for _, k := range []string{"m", "a", "z", "c"} {
		if _, err := s.OpenProblem(ctx, "production", k, "problem "+k, at, time.Hour); err != nil {
			t.Fatal(err)
		}
	}
	got, err := s.Problems(ctx, "production", []string{"z", "m", "z", "closed", "a", "c", "m"})
	if err != nil {
		t.Fatal(err)
	}
	var keys []string
	for _, p := range got {
		keys = append(keys, p.Key+"="+p.Summary)
	}
	if want := []string{"a=problem a", "c=problem c", "m=problem m", "z=problem z"}; !slices.Equal(keys, want) {
		t.Errorf("problems %v, want %v", keys, want)
	}
}

// TestRetryQuarantinedRereadsAProfileWrittenMeanwhile: a profile written
// between redrive's scan and its write is read again and released; one that
// keeps changing fails the redrive with an error naming it, after a few
// tries.
func TestRetryQuarantinedRereadsAProfileWrittenMeanwhile(t *testing.T) {
	t.Parallel()
	s := newStore(t)
	ctx := t.Context()
	for _, id := range []string{"u1", "u2"} {
		p := &Profile{Env: "production", Kind: KindUser, ID: id, Quarantined: map[string]string{"plan": "read-only property", "seats": "read-only property"}}
		if err := s.PutProfile(ctx, p); err != nil {
			t.Fatal(err)
		}
	}
	// u0's only quarantined property has another reason: left alone.
	if err := s.PutProfile(ctx, &Profile{Env: "production", Kind: KindUser, ID: "u0", Quarantined: map[string]string{"phone": "bad number"}}); err != nil {
		t.Fatal(err)
	}
	f := newFlaky(s)
	lost := &types.ConditionalCheckFailedException{Message: aws.String("The conditional request failed")}
	f.fail("PutItem", lost)
	res, err := s.RetryQuarantined(ctx, "production", KindUser, "read-only", false)
	if err != nil || res.Profiles != 2 || res.Properties != 4 || res.ByReason["read-only property"] != 4 {
		t.Fatalf("RetryQuarantined with one write lost to another writer: %+v, %v; want 2 profiles, 4 properties", res, err)
	}
	for _, id := range []string{"u1", "u2"} {
		if p, err := s.GetProfile(ctx, "production", KindUser, id); err != nil || len(p.Quarantined) != 0 || !p.Dirty {
			t.Errorf("%s after redrive: %+v (%v), want released and dirty", id, p, err)
		}
	}
	if p, err := s.GetProfile(ctx, "production", KindUser, "u0"); err != nil || p.Quarantined["phone"] != "bad number" || p.Dirty {
		t.Errorf("u0 after a redrive of another reason: %+v (%v), want unchanged", p, err)
	}
	if _, err := s.db.DeleteItem(ctx, &dynamodb.DeleteItemInput{TableName: aws.String(s.table), Key: key(profilePK("production", KindUser, "u0"), skProfile)}); err != nil {
		t.Fatal(err)
	}
	if err := s.PutProfile(ctx, &Profile{Env: "production", Kind: KindUser, ID: "u3", Quarantined: map[string]string{"plan": "bad"}}); err != nil {
		t.Fatal(err)
	}
	f.fail("PutItem", lost, lost, lost, lost, lost, lost)
	before := f.count("PutItem")
	if _, err := s.RetryQuarantined(ctx, "production", KindUser, "", false); !errors.Is(err, ErrConflict) {
		t.Errorf("RetryQuarantined with every write lost: %v, want ErrConflict", err)
	}
	if got := f.count("PutItem") - before; got != 1+maxRetryConflicts {
		t.Errorf("%d writes of a profile that kept changing, want %d", got, 1+maxRetryConflicts)
	}
	f.fail("GetItem", errFatal)
	f.fail("PutItem", lost)
	if _, err := s.RetryQuarantined(ctx, "production", KindUser, "", false); !errors.Is(err, errFatal) {
		t.Errorf("RetryQuarantined whose re-read fails: %v, want its error", err)
	}
}

// TestEnabledAtWithoutTheOldItem: older DynamoDB Local builds do not return
// the stored item when the conditional put fails; the first writer's time is
// then read back.
func TestEnabledAtWithoutTheOldItem(t *testing.T) {
	t.Parallel()
	s := newStore(t)
	ctx := t.Context()
	first := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	if _, err := s.EnabledAt(ctx, "production", first); err != nil {
		t.Fatal(err)
	}
	f := newFlaky(s)
	f.fail("PutItem", &types.ConditionalCheckFailedException{Message: aws.String("The conditional request failed")})
	if got, err := s.EnabledAt(ctx, "production", first.Add(time.Hour)); err != nil || !got.Equal(first) {
		t.Errorf("EnabledAt without the old item: %v, %v; want %v", got, err, first)
	}
	f.fail("PutItem", &types.ConditionalCheckFailedException{Message: aws.String("The conditional request failed")})
	f.fail("GetItem", errFatal)
	if _, err := s.EnabledAt(ctx, "production", first.Add(time.Hour)); !errors.Is(err, errFatal) {
		t.Errorf("EnabledAt whose read fails: %v, want its error", err)
	}
	// Nothing stored under the key: the read finds no time.
	f.fail("PutItem", &types.ConditionalCheckFailedException{Message: aws.String("The conditional request failed")})
	if _, err := s.EnabledAt(ctx, "staging", first); err == nil {
		t.Error("EnabledAt with nothing to read back: no error")
	}
}

// TestBatchFailureStopsTheOtherChunks: when one chunk of a large batch
// fails, the call returns that failure (not a success, not a cancellation)
// and sends no chunk it had not started.
func TestBatchFailureStopsTheOtherChunks(t *testing.T) {
	t.Parallel()
	s := newStore(t)
	ctx := t.Context()
	f := newFlaky(s)
	ids := make([]string, 40*maxBatchWrite)
	for i := range ids {
		ids[i] = fmt.Sprintf("e%04d", i)
	}
	errs := make([]error, 40)
	for i := range errs {
		errs[i] = errFatal
	}
	f.fail("BatchWriteItem", errs...)
	err := s.LedgerRecord(ctx, "production", ids, time.Hour)
	if !errors.Is(err, errFatal) {
		t.Errorf("LedgerRecord with failing chunks: %v, want the chunk's error", err)
	}
	if n := f.count("BatchWriteItem"); n > 2*batchConcurrency {
		t.Errorf("%d chunks sent after the first failed, want at most %d (the ones already running)", n, 2*batchConcurrency)
	}
}

// TestExpiredItemsAreNotRead: day aggregates and activity summaries past
// their TTL are left out of reads even before DynamoDB deletes them.
func TestExpiredItemsAreNotRead(t *testing.T) {
	t.Parallel()
	s := newStore(t).WithActivitySummary(30*time.Minute, 40)
	ctx := t.Context()
	at := time.Now().UTC().Add(-time.Hour).Truncate(time.Millisecond)
	day := at.Format(dayLayout)
	// u2 has two neighbours after it in its summary shard, and three days.
	users := []string{"u1", "u2", "u3"}
	for i := 0; len(users) < 5; i++ {
		if id := fmt.Sprintf("v%03d", i); summaryShard(id) == summaryShard("u2") {
			users = append(users, id)
		}
	}
	var ds []ActivityDelta
	for _, id := range users {
		ds = append(ds, ActivityDelta{Kind: KindUser, ID: id, Day: day, Events: 1, EventIDs: []string{"ev-" + id}, LastSeen: at})
	}
	early := at.Add(-48 * time.Hour)
	for i := range 3 {
		d := early.Add(time.Duration(i) * 24 * time.Hour)
		ds = append(ds, ActivityDelta{Kind: KindUser, ID: "u2", Day: d.Format(dayLayout), Events: 1, EventIDs: []string{fmt.Sprintf("ev-u2-%d", i)}, FirstSeen: d})
	}
	if err := s.AddActivity(ctx, "production", ds); err != nil {
		t.Fatal(err)
	}
	sent := map[string]string{"hs_prop": "1"}
	sum := &ActivitySummary{Kind: KindUser, ID: "u4", Sent: sent, SentTo: "901",
		Days: map[string]*DaySummary{day: {Events: 2, Active: 2, LastMs: at.UnixMilli()}}}
	if err := s.PutActivitySummaries(ctx, "production", []*ActivitySummary{sum}); err != nil {
		t.Fatal(err)
	}
	if got, err := s.GetActivitySummary(ctx, "production", KindUser, "u4"); err != nil || got.SentTo != "901" || got.Sent["hs_prop"] != "1" || got.Days[day].Events != 2 {
		t.Errorf("summary put whole: %+v (%v), want its sent values and days", got, err)
	}
	live := func() []string {
		t.Helper()
		var ids []string
		for shard := range SummaryShards {
			list, _, err := s.ActivitySummaries(ctx, "production", KindUser, shard, "", 0)
			if err != nil {
				t.Fatal(err)
			}
			for _, x := range list {
				ids = append(ids, x.ID)
			}
		}
		slices.Sort(ids)
		return ids
	}
	all := slices.Sorted(slices.Values(append(slices.Clone(users), "u4")))
	if got := live(); !slices.Equal(got, all) {
		t.Errorf("summaries %v, want %v", got, all)
	}
	// u2's summary and earliest day aggregate expire (a TTL in the past).
	for _, k := range []map[string]types.AttributeValue{summaryKey("production", KindUser, "u2"), key(activityPK("production", KindUser, "u2"), early.Format(dayLayout))} {
		if _, err := s.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{TableName: aws.String(s.table), Key: k,
			UpdateExpression: aws.String("SET #x = :x"), ExpressionAttributeNames: map[string]string{"#x": attrExpires},
			ExpressionAttributeValues: map[string]types.AttributeValue{":x": num(time.Now().Add(-time.Minute).Unix())}}); err != nil {
			t.Fatal(err)
		}
	}
	if got, want := live(), slices.DeleteFunc(all, func(id string) bool { return id == "u2" }); !slices.Equal(got, want) {
		t.Errorf("summaries after u2's expired %v, want %v", got, want)
	}
	if _, err := s.GetActivitySummary(ctx, "production", KindUser, "u2"); !errors.Is(err, ErrNotFound) {
		t.Errorf("expired summary read: %v, want ErrNotFound", err)
	}
	for id, want := range map[string]int{"u1": 1, "u2": 2} {
		if got, err := s.Activity(ctx, "production", KindUser, id, early.Format(dayLayout), day); err != nil || len(got) != want {
			t.Errorf("%s day aggregates %+v (%v), want %d", id, got, err, want)
		}
	}
}

// TestQuarantineSummarySkipsEmptyQuarantine: a profile item whose quarantine
// map is empty (written by hand or by an older version) is not counted, and
// the profiles after it are.
func TestQuarantineSummarySkipsEmptyQuarantine(t *testing.T) {
	t.Parallel()
	s := newStore(t)
	ctx := t.Context()
	for i := range 20 {
		p := &Profile{Env: "production", Kind: KindUser, ID: fmt.Sprintf("q%02d", i), Quarantined: map[string]string{"plan": "read-only property"}}
		if err := s.PutProfile(ctx, p); err != nil {
			t.Fatal(err)
		}
	}
	for i := range 5 {
		item, err := encodeProfile(&Profile{Env: "production", Kind: KindUser, ID: fmt.Sprintf("empty%d", i)}, 1, time.Now())
		if err != nil {
			t.Fatal(err)
		}
		item[attrQuar] = &types.AttributeValueMemberM{Value: map[string]types.AttributeValue{}}
		if _, err := s.db.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(s.table), Item: item}); err != nil {
			t.Fatal(err)
		}
	}
	sum, err := s.QuarantineSummary(ctx, "production", 0)
	if err != nil || sum.Profiles != 20 || sum.ByReason[KindUser]["read-only property"] != 20 || !sum.Complete {
		t.Errorf("QuarantineSummary = %+v, %v; want the 20 quarantined profiles", sum, err)
	}
}

// TestNoteNameFailureIsReturnedAndNotRemembered: when the names index
// cannot be written, the write that noted the name fails with that error,
// and the name is not remembered as noted: the next write notes it.
func TestNoteNameFailureIsReturnedAndNotRemembered(t *testing.T) {
	t.Parallel()
	s := newStore(t)
	ctx := t.Context()
	f := newFlaky(s)
	denied := &smithy.GenericAPIError{Code: "AccessDeniedException", Message: "not authorized to perform dynamodb:UpdateItem"}
	f.fail("UpdateItem", denied)
	r := RunRecord{Env: "production", Job: "poll", ID: "r1", Started: time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)}
	if err := s.PutRun(ctx, r); !errors.Is(err, denied) {
		t.Fatalf("PutRun with the names index refused: %v, want the refusal", err)
	}
	r.ID = "r2"
	if err := s.PutRun(ctx, r); err != nil {
		t.Fatal(err)
	}
	if names, err := s.Names(ctx, "production", NamesJob); err != nil || !slices.Equal(names, []string{"poll"}) {
		t.Errorf("job names %v (%v), want [poll] noted by the second write", names, err)
	}
}
