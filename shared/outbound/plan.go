package outbound

import (
	"fmt"
	"maps"
	"math"
	"time"

	"github.com/pilotsync/pilotsync/shared/hubspot"
	"github.com/pilotsync/pilotsync/shared/identity"
	"github.com/pilotsync/pilotsync/shared/store"
)

// epochSecondsBelow: a number written to a date or date-time property below
// this is taken as epoch seconds, above as epoch milliseconds (1e11 ms is in
// 1973, 1e11 s in the year 5138), since Userpilot properties carry either.
const epochSecondsBelow = 1e11

// sentValue is what was sent (or settled) for one HubSpot property.
type sentValue struct {
	hash string
	at   time.Time
}

// quarantine is one property refused for good.
type quarantine struct {
	reason string
	at     time.Time
}

// plan is what one profile needs sent, decided from its stored state alone.
type plan struct {
	// props are the HubSpot-encoded values to send, by HubSpot property.
	props map[string]string
	// sent are the hashes and source timestamps of props.
	sent map[string]sentValue
	// settled are properties whose value needs no send (unchanged, or an
	// echo of HubSpot's own value): their source timestamp is recorded.
	settled map[string]time.Time
	// refused are values that cannot be converted to the property's type.
	refused map[string]quarantine
	// blocked: a mapped property is missing or read-only in HubSpot, so the
	// profile stays dirty until setup fixes it.
	blocked       bool
	echoes, stale int
}

// catalog is one object type's HubSpot properties, read once per run.
type catalog map[string]hubspot.Property

// planProfile applies the send rules to p (see the package comment).
func planProfile(obj Object, cat catalog, p *store.Profile) *plan {
	pl := &plan{props: map[string]string{}, sent: map[string]sentValue{}, settled: map[string]time.Time{}, refused: map[string]quarantine{}}
	for _, m := range obj.Mappings {
		prop, ok := p.Properties[m.Userpilot]
		if !ok {
			continue // never set in Userpilot: nothing to send
		}
		hp, known := cat[m.HubSpot]
		if !known || !hp.Writable() {
			pl.blocked = true
			continue
		}
		if last, ok := p.OutboundAt[m.HubSpot]; ok {
			if prop.At.Before(last) {
				pl.stale++ // older than the value already sent: never sent
				continue
			}
			if !prop.At.After(last) {
				continue // this value was sent (or refused) already
			}
		}
		enc, err := encode(hp.Type, prop.Value)
		if err != nil {
			pl.refused[m.HubSpot] = quarantine{reason: fmt.Sprintf("TYPE_MISMATCH: %q cannot be written to %s property %s: %v", m.Userpilot, hp.Type, m.HubSpot, err), at: prop.At}
			continue
		}
		h := identity.ValueHash(enc)
		switch {
		case m.EchoOf && enc != "" && p.InboundHashes[m.Userpilot] == h:
			pl.echoes++ // inbound copied it from this very property
			pl.settled[m.HubSpot] = prop.At
		case p.OutboundHashes[m.HubSpot] == h:
			pl.settled[m.HubSpot] = prop.At
		default:
			pl.props[m.HubSpot] = enc
			pl.sent[m.HubSpot] = sentValue{hash: h, at: prop.At}
		}
	}
	return pl
}

// encode converts a stored Userpilot value to the HubSpot encoding of
// propType with the codec: nil (a removed property) clears the value,
// numbers for dates are epoch seconds or milliseconds, lists are
// multi-select options.
func encode(propType string, v any) (string, error) {
	if v == nil {
		return hubspot.EncodeValue(propType, hubspot.Clear)
	}
	switch propType {
	case hubspot.TypeDate, hubspot.TypeDateTime:
		if f, ok := v.(float64); ok && f == math.Trunc(f) && math.Abs(f) < math.MaxInt64/1000 {
			ms := int64(f)
			if math.Abs(f) < epochSecondsBelow {
				ms *= 1000
			}
			v = ms
		}
	case hubspot.TypeEnumeration:
		if l, ok := v.([]any); ok {
			opts := make([]string, len(l))
			for i, x := range l {
				opts[i] = fmt.Sprint(x)
			}
			v = opts
		}
	}
	return hubspot.EncodeValue(propType, v)
}

// outcome is what one run did to one profile, kept apart from the profile so
// it can be applied again to a fresher copy after a version conflict.
type outcome struct {
	sent      map[string]sentValue
	settled   map[string]time.Time
	refused   map[string]quarantine
	keepDirty bool // a retryable failure or a blocked property
	unmatched bool
}

// apply records o in p and sets the dirty mark: kept when o says so, or
// when p (which may be fresher than what was planned) still needs a send.
func (o *outcome) apply(obj Object, cat catalog, p *store.Profile) {
	set := func(m *map[string]string, k, v string) {
		if *m == nil {
			*m = map[string]string{}
		}
		(*m)[k] = v
	}
	setAt := func(k string, at time.Time) bool {
		if cur, ok := p.OutboundAt[k]; ok && cur.After(at) {
			return false // a newer value was recorded meanwhile
		}
		if p.OutboundAt == nil {
			p.OutboundAt = map[string]time.Time{}
		}
		p.OutboundAt[k] = at
		return true
	}
	for k, s := range o.sent {
		if setAt(k, s.at) {
			set(&p.OutboundHashes, k, s.hash)
			delete(p.Quarantined, k)
		}
	}
	for k, at := range o.settled {
		setAt(k, at)
	}
	for k, q := range o.refused {
		if setAt(k, q.at) {
			set(&p.Quarantined, k, q.reason)
		}
	}
	switch {
	case o.keepDirty:
		p.Dirty = true
	case o.unmatched:
		p.Dirty = false
	default:
		pl := planProfile(obj, cat, p)
		p.Dirty = len(pl.props) > 0 || pl.blocked
	}
}

// newOutcome starts the outcome of plan pl.
func newOutcome(pl *plan) *outcome {
	return &outcome{sent: map[string]sentValue{}, settled: maps.Clone(pl.settled), refused: maps.Clone(pl.refused), keepDirty: pl.blocked}
}
