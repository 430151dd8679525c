package store

import (
	"maps"
	"slices"
	"testing"
	"time"
)

// TestEncodeProfileStoresNoEmptyAttribute: a profile is stored with the
// attributes it has values for, and no empty ones: an empty map would cost
// bytes in every item (and in the size checked against DynamoDB's 400 KB)
// and read back as an empty map, not as none.
func TestEncodeProfileStoresNoEmptyAttribute(t *testing.T) {
	bare := &Profile{Env: "production", Kind: KindUser, ID: "u1",
		Properties: map[string]Property{}, InboundHashes: map[string]string{}, OutboundHashes: map[string]string{},
		Quarantined: map[string]string{}, OutboundAt: map[string]time.Time{}}
	item, err := encodeProfile(bare, 1, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	base := slices.Collect(maps.Keys(key(profilePK(bare.Env, bare.Kind, bare.ID), skProfile)))
	want := append(base, attrEnv, attrKind, attrID, attrVersion, attrUpdatedAt)
	slices.Sort(want)
	if got := slices.Sorted(maps.Keys(item)); !slices.Equal(got, want) {
		t.Errorf("attributes of a profile with empty maps: %v, want %v", got, want)
	}

	full := *bare
	full.Properties = map[string]Property{"plan": {Value: "pro", At: time.Unix(1, 0)}}
	full.InboundHashes = map[string]string{"first_name": "h1"}
	full.OutboundHashes = map[string]string{"plan": "h2"}
	full.Quarantined = map[string]string{"tier": "INVALID_OPTION"}
	full.OutboundAt = map[string]time.Time{"plan": time.Unix(2, 0)}
	item, err = encodeProfile(&full, 1, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range []string{attrProps, attrInHash, attrOutHash, attrQuar, attrOutAt} {
		if item[a] == nil {
			t.Errorf("attribute %s missing from a profile that has a value for it", a)
		}
	}
}
