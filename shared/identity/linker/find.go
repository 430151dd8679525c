package linker

import (
	"context"

	"github.com/pilotsync/pilotsync/shared/hubspot"
	"github.com/pilotsync/pilotsync/shared/store"
)

// Find looks normalized match values of kind up in HubSpot exactly as
// Resolve does (batch read on the match property, additional emails when
// enabled) and returns value → record with its inbound properties. It writes
// nothing: the read-only preview resolves with it.
func (l *Linker) Find(ctx context.Context, kind store.Kind, values []string) (map[string]hubspot.Record, error) {
	obj, err := l.object(kind)
	if err != nil {
		return nil, err
	}
	if len(values) == 0 {
		return map[string]hubspot.Record{}, nil
	}
	return l.find(ctx, obj, values)
}
