package inbound

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/pilotsync/pilotsync/shared/store"
	"github.com/pilotsync/pilotsync/shared/userpilot"
)

// isPermanent reports whether a Userpilot write can never succeed as it is.
// A bad API key is permanent for every record alike: it stops the run
// instead, so the checkpoint waits for the key to be fixed.
func isPermanent(err error) bool {
	return userpilot.IsPermanent(err) && !errors.Is(err, userpilot.ErrUnauthorized)
}

// write sends the page's changes to Userpilot and returns one result per
// change. Many changes go in one bulk job; when the job is refused for good
// (or fails), the records are sent one by one to find the bad ones.
func (r *run) write(ctx context.Context, obj Object, changes []*change) []error {
	results := make([]error, len(changes))
	if len(changes) == 0 {
		return results
	}
	if len(changes) >= BulkIdentifyThreshold {
		err := r.bulk(ctx, obj, changes)
		if err == nil {
			return results
		}
		if !isPermanent(err) && !isJobFailed(err) {
			for i := range results {
				results[i] = err
			}
			return results
		}
		r.log.WarnContext(ctx, "inbound: bulk identify refused, writing one by one", "object", obj.name(), "records", len(changes), "err", err)
	}
	for i, c := range changes {
		results[i] = r.identify(ctx, obj, c)
		if results[i] != nil && !isPermanent(results[i]) {
			// Rate limited past the client's retries, a bad key, or the
			// context ended: the rest would fail alike.
			for j := i + 1; j < len(changes); j++ {
				results[j] = results[i]
			}
			break
		}
	}
	return results
}

func isJobFailed(err error) bool {
	var je *userpilot.JobError
	return errors.As(err, &je)
}

func (r *run) bulk(ctx context.Context, obj Object, changes []*change) error {
	for chunk := range slices.Chunk(changes, maxBulkRows) {
		r.count("userpilot.bulk_identify", 1)
		var err error
		if obj.Kind == store.KindCompany {
			cos := make([]userpilot.Company, len(chunk))
			for i, c := range chunk {
				cos[i] = userpilot.Company{CompanyID: c.p.ID, Metadata: c.meta}
			}
			_, err = r.up.BulkIdentifyCompanies(ctx, cos)
		} else {
			users := make([]userpilot.User, len(chunk))
			for i, c := range chunk {
				users[i] = userpilot.User{UserID: c.p.ID, Metadata: c.meta}
			}
			_, err = r.up.BulkIdentifyUsers(ctx, users)
		}
		if err != nil {
			return fmt.Errorf("bulk identify %d %s: %w", len(chunk), obj.name(), err)
		}
	}
	return nil
}

func (r *run) identify(ctx context.Context, obj Object, c *change) error {
	r.count("userpilot.identify", 1)
	if obj.Kind == store.KindCompany {
		return r.up.IdentifyCompany(ctx, userpilot.Company{CompanyID: c.p.ID, Metadata: c.meta})
	}
	return r.up.IdentifyUser(ctx, userpilot.User{UserID: c.p.ID, Metadata: c.meta})
}
