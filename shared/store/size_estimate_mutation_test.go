package store

import (
	"fmt"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// TestItemSizeEstimate: each attribute type is sized by the store's reading
// of DynamoDB's rules (https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/CapacityUnitCalculations.html):
// strings and binaries by their bytes, numbers by one byte per two digits
// plus two (rounded up from DynamoDB's one), sets by the sum of their
// members, lists and maps by 3 bytes plus 1 per element (and a map's keys).
func TestItemSizeEstimate(t *testing.T) {
	for _, tt := range []struct {
		name string
		v    types.AttributeValue
		want int // without the 1-byte attribute name "a"
	}{
		{"string", &types.AttributeValueMemberS{Value: "abc"}, 3},
		{"number", &types.AttributeValueMemberN{Value: "12345"}, 4},
		{"binary", &types.AttributeValueMemberB{Value: []byte{1, 2}}, 2},
		{"bool", &types.AttributeValueMemberBOOL{Value: true}, 1},
		{"null", &types.AttributeValueMemberNULL{Value: true}, 1},
		{"string set", &types.AttributeValueMemberSS{Value: []string{"ab", "cde"}}, 5},
		{"number set", &types.AttributeValueMemberNS{Value: []string{"1", "123"}}, 2 + 3},
		{"list", &types.AttributeValueMemberL{Value: []types.AttributeValue{&types.AttributeValueMemberS{Value: "x"}, &types.AttributeValueMemberN{Value: "1"}}}, 3 + 2 + 3},
		{"map", &types.AttributeValueMemberM{Value: map[string]types.AttributeValue{"k": &types.AttributeValueMemberS{Value: "vv"}}}, 3 + 4},
	} {
		if got := itemSize(map[string]types.AttributeValue{"a": tt.v}); got != 1+tt.want {
			t.Errorf("%s: itemSize = %d, want %d", tt.name, got, 1+tt.want)
		}
	}
}

// TestSummaryPackingGivesAnOversizedDeltaItsOwnTransaction: a user delta
// with more event marks than a transaction holds (PrepareDeltas never makes
// one) still gets a transaction of its own instead of never being packed.
func TestSummaryPackingGivesAnOversizedDeltaItsOwnTransaction(t *testing.T) {
	at := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	ids := make([]string, maxTransactItems)
	for i := range ids {
		ids[i] = fmt.Sprint("e", i)
	}
	small := ActivityDelta{Kind: KindUser, ID: "u1", Day: "2026-12-01", LastSeen: at, EventIDs: []string{"x"}}
	big := ActivityDelta{Kind: KindUser, ID: "u2", Day: "2026-12-01", LastSeen: at, EventIDs: ids}
	companies, txs := packSummaries([]ActivityDelta{small, big})
	if len(companies) != 1 || companies[0] != "" {
		t.Fatalf("companies %q, want the one without a company", companies)
	}
	got := txs[""]
	if len(got) != 2 || len(got[1].deltas["u2"]) != 1 || got[1].actions != 1+maxTransactItems {
		for i, tx := range got {
			t.Logf("tx %d: users %v, actions %d", i, tx.users, tx.actions)
		}
		t.Fatalf("%d transactions, want u1's and then u2's own, holding its delta (%d actions)", len(got), 1+maxTransactItems)
	}
	if len(got[0].deltas["u1"]) != 1 || got[0].actions != 2 {
		t.Errorf("first transaction %v, %d actions; want u1's delta, 2 actions", got[0].users, got[0].actions)
	}
}

// TestProfileWriteSizeCountsItsLookups: a profile write's share of the 4 MB
// transaction limit is its item plus each lookup entry it updates (key,
// the profile id in the set, and 16 bytes of overhead), so a batch of
// large profiles is split before DynamoDB would refuse it.
func TestProfileWriteSizeCountsItsLookups(t *testing.T) {
	s := &Store{table: "t", now: time.Now}
	now := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	p := &Profile{Env: "production", Kind: KindUser, ID: "u1", MatchValue: "a@example.com", HubSpotID: "1001", HubSpotObject: "contacts"}
	w, err := s.planWrite(p, now)
	if err != nil {
		t.Fatal(err)
	}
	item, err := encodeProfile(p, 1, now)
	if err != nil {
		t.Fatal(err)
	}
	want := itemSize(item)
	for _, pk := range []string{matchPK("production", KindUser, "a@example.com"), hubspotPK("production", KindUser, "1001")} {
		want += len(pk) + len(skLookup) + len("u1") + 16
	}
	if len(w.actions) != 3 || w.bytes != want {
		t.Errorf("%d actions of %d bytes, want the put and two lookup updates, %d bytes", len(w.actions), w.bytes, want)
	}
}
