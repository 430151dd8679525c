package store

import (
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// TestExpiredAtTheSecond: an item is expired from the second its TTL names
// (DynamoDB may delete it from then on), and live the second before.
func TestExpiredAtTheSecond(t *testing.T) {
	now := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		item map[string]types.AttributeValue
		want bool
	}{
		{map[string]types.AttributeValue{attrExpires: expiresAt(now)}, true},
		{map[string]types.AttributeValue{attrExpires: expiresAt(now.Add(-time.Second))}, true},
		{map[string]types.AttributeValue{attrExpires: expiresAt(now.Add(time.Second))}, false},
		{map[string]types.AttributeValue{}, false},
		{map[string]types.AttributeValue{attrExpires: &types.AttributeValueMemberN{Value: "not a number"}}, false},
	} {
		if got := expired(tc.item, now); got != tc.want {
			t.Errorf("expired(%v) at %d = %v, want %v", tc.item[attrExpires], now.Unix(), got, tc.want)
		}
	}
}
