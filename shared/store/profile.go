package store

import (
	"fmt"
	"hash/fnv"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/pilotsync/pilotsync/shared/identity"
)

// Kind is the kind of Userpilot profile.
type Kind string

// Profile kinds.
const (
	KindUser    Kind = "user"
	KindCompany Kind = "company"
)

func (k Kind) valid() bool { return k == KindUser || k == KindCompany }

// Property is one Userpilot property value with the source timestamp it came
// from. Value is a string, float64, bool, []any or map[string]any; nil means
// the property was removed at At (a tombstone: an older event cannot bring it
// back).
type Property struct {
	Value any
	At    time.Time
}

// Profile is what the integration knows about one Userpilot user or company.
type Profile struct {
	Env  string
	Kind Kind
	ID   string // Userpilot user_id / company_id
	// CompanyID is a user's company ("" for companies and unknown).
	CompanyID string
	// MatchValue is the normalized match value ("" if unknown). PutProfile
	// normalizes it.
	MatchValue string
	// Properties are the last known Userpilot properties.
	Properties map[string]Property
	// HubSpotID and HubSpotObject link the profile ("" when unlinked).
	HubSpotID, HubSpotObject string
	// LinkMatch is the normalized match value the link was made under: the
	// link is valid only while MatchValue equals it (identity.Link.ValidFor).
	// Only shared/identity/linker sets the link fields.
	LinkMatch string
	// InboundHashes: per Userpilot property, a hash of the value the inbound
	// sync last wrote to Userpilot.
	InboundHashes map[string]string
	// OutboundHashes: per HubSpot property, a hash of the value last sent.
	OutboundHashes map[string]string
	// OutboundAt: per HubSpot property, the source timestamp of the Userpilot
	// value last sent (or refused for good), so an older one is never sent.
	OutboundAt map[string]time.Time
	// Dirty marks unsent outbound changes (listed by DirtyProfiles).
	Dirty bool
	// Quarantined: HubSpot property -> permanent failure reason.
	Quarantined map[string]string
	// UpdatedAt is when the profile was last written (set by the store).
	UpdatedAt time.Time
	// Version is the optimistic lock: 0 for a profile not yet stored; the
	// store bumps it on every successful write.
	Version int64

	// stored is what the table held when the profile was read or last
	// written: the lookup entries to remove when they change.
	stored storedLinks
}

// Link returns the profile's link record.
func (p *Profile) Link() identity.Link {
	return identity.Link{ID: p.HubSpotID, Object: p.HubSpotObject, Match: p.LinkMatch}
}

type storedLinks struct {
	match, hubSpotID string
}

// Item layout of a profile; see the package comment.
const (
	skProfile = "profile"
	skLookup  = "lookup"

	attrEnv       = "env"
	attrKind      = "kind"
	attrID        = "id"
	attrCompany   = "company"
	attrMatch     = "match"
	attrProps     = "props"
	attrHSID      = "hs_id"
	attrHSObject  = "hs_object"
	attrHSMatch   = "hs_match"
	attrInHash    = "in_hash"
	attrOutHash   = "out_hash"
	attrOutAt     = "out_at"
	attrQuar      = "quarantine"
	attrUpdatedAt = "updated_at"
	attrVersion   = "version"
	attrIDs       = "ids"

	propValue = "v"
	propAt    = "t"

	// dirtyShards spreads dirty marks over this many GSI1 partitions, so a burst
	// of identify events does not concentrate writes on one index partition.
	dirtyShards = 16
)

func profilePK(env string, kind Kind, id string) string { return env + "#" + string(kind) + "#" + id }

func matchPK(env string, kind Kind, v string) string { return env + "#match#" + string(kind) + "#" + v }

func hubspotPK(env string, kind Kind, id string) string {
	return env + "#hubspot#" + string(kind) + "#" + id
}

func dirtyPK(env string, kind Kind, shard int) string {
	return env + "#dirty#" + string(kind) + "#" + strconv.Itoa(shard)
}

func dirtyShard(id string) int {
	h := fnv.New32a()
	h.Write([]byte(id))
	return int(h.Sum32() % dirtyShards)
}

func checkProfileKey(env string, kind Kind, id string) error {
	if err := checkEnv(env); err != nil {
		return err
	}
	if !kind.valid() {
		return fmt.Errorf("%w: kind %q", ErrInvalid, kind)
	}
	return checkName("profile id", id)
}

// normValue converts v to the form it has after a round trip through the
// table (ints become float64, typed slices []any), so that comparisons of
// incoming and stored values are exact.
func normValue(v any) (any, error) {
	if v == nil {
		return nil, nil
	}
	switch v.(type) {
	case string, float64, bool:
		return v, nil
	}
	av, err := attributevalue.Marshal(v)
	if err != nil {
		return nil, err
	}
	var out any
	if err := attributevalue.Unmarshal(av, &out); err != nil {
		return nil, err
	}
	return out, nil
}

func encodeValue(v any) (types.AttributeValue, error) {
	if v == nil {
		return &types.AttributeValueMemberNULL{Value: true}, nil
	}
	return attributevalue.Marshal(v)
}

func strMap(m map[string]string) types.AttributeValue {
	out := make(map[string]types.AttributeValue, len(m))
	for k, v := range m {
		out[k] = str(v)
	}
	return &types.AttributeValueMemberM{Value: out}
}

// encodeProfile returns the profile item written with version and updatedAt.
func encodeProfile(p *Profile, version int64, updatedAt time.Time) (map[string]types.AttributeValue, error) {
	item := key(profilePK(p.Env, p.Kind, p.ID), skProfile)
	item[attrEnv] = str(p.Env)
	item[attrKind] = str(string(p.Kind))
	item[attrID] = str(p.ID)
	item[attrVersion] = num(version)
	item[attrUpdatedAt] = str(updatedAt.UTC().Format(time.RFC3339Nano))
	if p.CompanyID != "" {
		item[attrCompany] = str(p.CompanyID)
	}
	if m := identity.Normalize(p.MatchValue); m != "" {
		item[attrMatch] = str(m)
	}
	if p.HubSpotID != "" {
		item[attrHSID] = str(p.HubSpotID)
	}
	if p.HubSpotObject != "" {
		item[attrHSObject] = str(p.HubSpotObject)
	}
	if p.LinkMatch != "" {
		item[attrHSMatch] = str(p.LinkMatch)
	}
	if len(p.Properties) > 0 {
		props := make(map[string]types.AttributeValue, len(p.Properties))
		for name, prop := range p.Properties {
			if name == "" {
				return nil, fmt.Errorf("%w: empty property name", ErrInvalid)
			}
			v, err := encodeValue(prop.Value)
			if err != nil {
				return nil, fmt.Errorf("property %q: %w", name, err)
			}
			props[name] = &types.AttributeValueMemberM{Value: map[string]types.AttributeValue{
				propValue: v,
				propAt:    num(prop.At.UnixNano()),
			}}
		}
		item[attrProps] = &types.AttributeValueMemberM{Value: props}
	}
	if len(p.InboundHashes) > 0 {
		item[attrInHash] = strMap(p.InboundHashes)
	}
	if len(p.OutboundHashes) > 0 {
		item[attrOutHash] = strMap(p.OutboundHashes)
	}
	if len(p.Quarantined) > 0 {
		item[attrQuar] = strMap(p.Quarantined)
	}
	if len(p.OutboundAt) > 0 {
		at := make(map[string]types.AttributeValue, len(p.OutboundAt))
		for k, t := range p.OutboundAt {
			at[k] = num(t.UnixNano())
		}
		item[attrOutAt] = &types.AttributeValueMemberM{Value: at}
	}
	if p.Dirty {
		item[attrGSI1PK] = str(dirtyPK(p.Env, p.Kind, dirtyShard(p.ID)))
		item[attrGSI1SK] = str(p.ID)
	}
	return item, nil
}

func getS(item map[string]types.AttributeValue, name string) string {
	if v, ok := item[name].(*types.AttributeValueMemberS); ok {
		return v.Value
	}
	return ""
}

func getN(item map[string]types.AttributeValue, name string) int64 {
	if v, ok := item[name].(*types.AttributeValueMemberN); ok {
		n, _ := strconv.ParseInt(v.Value, 10, 64)
		return n
	}
	return 0
}

func getStrMap(item map[string]types.AttributeValue, name string) map[string]string {
	m, ok := item[name].(*types.AttributeValueMemberM)
	if !ok {
		return nil
	}
	out := make(map[string]string, len(m.Value))
	for k, v := range m.Value {
		if s, ok := v.(*types.AttributeValueMemberS); ok {
			out[k] = s.Value
		}
	}
	return out
}

func decodeProfile(item map[string]types.AttributeValue) (*Profile, error) {
	p := &Profile{
		Env:            getS(item, attrEnv),
		Kind:           Kind(getS(item, attrKind)),
		ID:             getS(item, attrID),
		CompanyID:      getS(item, attrCompany),
		MatchValue:     getS(item, attrMatch),
		HubSpotID:      getS(item, attrHSID),
		HubSpotObject:  getS(item, attrHSObject),
		LinkMatch:      getS(item, attrHSMatch),
		InboundHashes:  getStrMap(item, attrInHash),
		OutboundHashes: getStrMap(item, attrOutHash),
		Quarantined:    getStrMap(item, attrQuar),
		Version:        getN(item, attrVersion),
	}
	_, p.Dirty = item[attrGSI1PK]
	if m, ok := item[attrOutAt].(*types.AttributeValueMemberM); ok {
		p.OutboundAt = make(map[string]time.Time, len(m.Value))
		for k := range m.Value {
			p.OutboundAt[k] = time.Unix(0, getN(m.Value, k)).UTC()
		}
	}
	if t, err := time.Parse(time.RFC3339Nano, getS(item, attrUpdatedAt)); err == nil {
		p.UpdatedAt = t
	}
	if m, ok := item[attrProps].(*types.AttributeValueMemberM); ok {
		p.Properties = make(map[string]Property, len(m.Value))
		for name, av := range m.Value {
			pm, ok := av.(*types.AttributeValueMemberM)
			if !ok {
				continue
			}
			// A NULL or missing value unmarshals to nothing: prop.Value stays nil.
			var prop Property
			if err := attributevalue.Unmarshal(pm.Value[propValue], &prop.Value); err != nil {
				return nil, fmt.Errorf("store: decode profile property %q: %w", name, err)
			}
			prop.At = time.Unix(0, getN(pm.Value, propAt)).UTC()
			p.Properties[name] = prop
		}
	}
	p.stored = storedLinks{match: p.MatchValue, hubSpotID: p.HubSpotID}
	return p, nil
}
