package store

import (
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// TestLeaseItemOutlivesItsLeaseByADay: a lease item's TTL is a day after
// the lease ends, when it is taken and when it is renewed, so an expired
// lease's last owner stays visible (pilotsync status) before DynamoDB may
// delete the item.
func TestLeaseItemOutlivesItsLeaseByADay(t *testing.T) {
	t.Parallel()
	s := newStore(t)
	ctx := t.Context()
	now := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	s.now = func() time.Time { return now }
	expires := func() int64 { return storedExpiry(t, s, key(leasePK("production", "poll"), skLease)) }
	if err := s.AcquireLease(ctx, "production", "poll", "a", 5*time.Minute); err != nil {
		t.Fatal(err)
	}
	if got, want := expires(), now.Add(5*time.Minute+24*time.Hour).Unix(); got != want {
		t.Errorf("after AcquireLease: expires_at %d, want %d (the lease's end plus a day)", got, want)
	}
	if err := s.RenewLease(ctx, "production", "poll", "a", 10*time.Minute); err != nil {
		t.Fatal(err)
	}
	if got, want := expires(), now.Add(10*time.Minute+24*time.Hour).Unix(); got != want {
		t.Errorf("after RenewLease: expires_at %d, want %d", got, want)
	}
}

// storedExpiry is the expires_at (TTL, epoch seconds) of the stored item at k.
func storedExpiry(t *testing.T, s *Store, k map[string]types.AttributeValue) int64 {
	t.Helper()
	out, err := s.db.GetItem(t.Context(), &dynamodb.GetItemInput{TableName: aws.String(s.table), Key: k})
	if err != nil || out.Item == nil {
		t.Fatalf("item %v: %v (%v)", k, out, err)
	}
	return getN(out.Item, attrExpires)
}
