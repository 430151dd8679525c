package store

// Batch profile writes: per-profile errors, packing into transactions within
// DynamoDB's limits, and item size estimates.

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// ProfileError is one profile's failure in a batch.
type ProfileError struct {
	Env  string
	Kind Kind
	ID   string
	Err  error
}

// BatchError lists the profiles a batch write could not store; the others
// were stored. errors.Is(err, ErrConflict) holds when any failure was a
// conflict.
type BatchError struct {
	Failed []ProfileError
}

// Error implements error.
func (e *BatchError) Error() string {
	ids := make([]string, 0, min(len(e.Failed), 5))
	for _, f := range e.Failed[:min(len(e.Failed), 5)] {
		ids = append(ids, string(f.Kind)+" "+f.ID)
	}
	more := ""
	if len(e.Failed) > 5 {
		more = fmt.Sprintf(" and %d more", len(e.Failed)-5)
	}
	first := ""
	if len(e.Failed) > 0 {
		first = ": " + e.Failed[0].Err.Error()
	}
	return fmt.Sprintf("store: %d profiles not stored (%s%s)%s", len(e.Failed), strings.Join(ids, ", "), more, first)
}

// Unwrap returns the per-profile errors.
func (e *BatchError) Unwrap() []error {
	out := make([]error, len(e.Failed))
	for i, f := range e.Failed {
		out[i] = f.Err
	}
	return out
}

// IDs returns the failed profile ids.
func (e *BatchError) IDs() []string {
	out := make([]string, len(e.Failed))
	for i, f := range e.Failed {
		out[i] = f.ID
	}
	return out
}

// PutProfiles stores many profiles with the semantics of PutProfile for each,
// packed into TransactWriteItems calls within DynamoDB's limits (100 actions,
// 4 MB) and run a few at a time. Each profile succeeds or fails on its own:
// a stale Version fails that profile with ErrConflict, and the rest of its
// transaction is retried without it. The returned *BatchError names the
// failures; stored profiles have their Version bumped. A profile may appear
// only once per call.
func (s *Store) PutProfiles(ctx context.Context, ps []*Profile) error {
	now := s.now()
	var (
		mu     sync.Mutex
		failed []ProfileError
	)
	fail := func(p *Profile, err error) {
		mu.Lock()
		failed = append(failed, ProfileError{Env: p.Env, Kind: p.Kind, ID: p.ID, Err: err})
		mu.Unlock()
	}
	writes := make([]*profileWrite, 0, len(ps))
	seen := make(map[string]bool, len(ps))
	for _, p := range ps {
		pk := profilePK(p.Env, p.Kind, p.ID)
		if seen[pk] {
			fail(p, fmt.Errorf("%w: %s profile %s appears twice in one batch", ErrInvalid, p.Kind, p.ID))
			continue
		}
		seen[pk] = true
		w, err := s.planWrite(p, now)
		if err != nil {
			fail(p, err)
			continue
		}
		writes = append(writes, w)
	}
	txs := packTransactions(writes)
	err := parallel(ctx, len(txs), func(ctx context.Context, i int) error {
		return s.runTransaction(ctx, txs[i], fail)
	})
	if err != nil {
		return fmt.Errorf("store: put %d profiles: %w", len(ps), err)
	}
	if len(failed) > 0 {
		slices.SortFunc(failed, func(a, b ProfileError) int { return strings.Compare(a.ID, b.ID) })
		return &BatchError{Failed: failed}
	}
	return nil
}

// packTransactions groups writes into transactions of at most
// maxTransactItems actions and transactBudget bytes, never touching one item
// twice in a transaction (DynamoDB rejects that): a write whose items collide
// with the open transaction waits for a later one.
func packTransactions(writes []*profileWrite) [][]*profileWrite {
	var txs [][]*profileWrite
	for len(writes) > 0 {
		var (
			deferred []*profileWrite
			cur      []*profileWrite
			n, bytes int
			keys     = map[string]bool{}
		)
		flush := func() {
			if len(cur) > 0 {
				txs = append(txs, cur)
			}
			cur, n, bytes, keys = nil, 0, 0, map[string]bool{}
		}
		for _, w := range writes {
			if slices.ContainsFunc(w.keys, func(k string) bool { return keys[k] }) {
				deferred = append(deferred, w)
				continue
			}
			if n+len(w.actions) > maxTransactItems || bytes+w.bytes > transactBudget {
				flush()
			}
			cur = append(cur, w)
			n += len(w.actions)
			bytes += w.bytes
			for _, k := range w.keys {
				keys[k] = true
			}
		}
		flush()
		writes = deferred
	}
	return txs
}

// runTransaction writes one packed transaction, dropping profiles whose
// condition failed (reported as ErrConflict) and retrying transient
// cancellations with backoff.
func (s *Store) runTransaction(ctx context.Context, tx []*profileWrite, fail func(*Profile, error)) error {
	for attempt := 0; len(tx) > 0; attempt++ {
		if attempt > 0 {
			if attempt > maxRedrives {
				for _, w := range tx {
					fail(w.p, fmt.Errorf("store: put %s profile %s: still conflicting after %d attempts", w.p.Kind, w.p.ID, maxRedrives))
				}
				return nil
			}
			if err := s.backoff(ctx, attempt); err != nil {
				return err
			}
		}
		var actions []types.TransactWriteItem
		owner := make([]int, 0, maxTransactItems) // action index -> write index
		for i, w := range tx {
			actions = append(actions, w.actions...)
			for range w.actions {
				owner = append(owner, i)
			}
		}
		_, err := s.db.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: actions})
		if err == nil {
			for _, w := range tx {
				w.committed()
			}
			return nil
		}
		var ce *types.TransactionCanceledException
		if !errors.As(err, &ce) {
			if retryable(err) {
				continue
			}
			for _, w := range tx {
				fail(w.p, fmt.Errorf("store: put %s profile %s: %w", w.p.Kind, w.p.ID, err))
			}
			return nil
		}
		codes := reasonCodes(ce)
		drop := map[int]bool{}
		for ai, c := range codes {
			if c == "ConditionalCheckFailed" && ai < len(owner) {
				drop[owner[ai]] = true
			}
		}
		if len(drop) == 0 && !transient(codes) {
			for _, w := range tx {
				fail(w.p, fmt.Errorf("store: put %s profile %s: %w", w.p.Kind, w.p.ID, err))
			}
			return nil
		}
		kept := tx[:0:0]
		for i, w := range tx {
			if drop[i] {
				fail(w.p, fmt.Errorf("store: put %s profile %s at version %d: %w", w.p.Kind, w.p.ID, w.p.Version, ErrConflict))
				continue
			}
			kept = append(kept, w)
		}
		tx = kept
		if len(drop) > 0 {
			attempt = -1 // not contention: resend the rest at once
		}
	}
	return nil
}

// itemSize estimates an item's stored size by DynamoDB's rules (attribute
// names plus values; numbers about one byte per two digits; three bytes plus
// one per element for maps and lists). See "Item sizes and formats" in the
// DynamoDB developer guide.
func itemSize(item map[string]types.AttributeValue) int {
	n := 0
	for k, v := range item {
		n += len(k) + avSize(v)
	}
	return n
}

func avSize(v types.AttributeValue) int {
	switch v := v.(type) {
	case *types.AttributeValueMemberS:
		return len(v.Value)
	case *types.AttributeValueMemberN:
		return len(v.Value)/2 + 2
	case *types.AttributeValueMemberB:
		return len(v.Value)
	case *types.AttributeValueMemberBOOL, *types.AttributeValueMemberNULL:
		return 1
	case *types.AttributeValueMemberSS:
		n := 0
		for _, s := range v.Value {
			n += len(s)
		}
		return n
	case *types.AttributeValueMemberNS:
		n := 0
		for _, s := range v.Value {
			n += len(s)/2 + 2
		}
		return n
	case *types.AttributeValueMemberL:
		n := 3
		for _, e := range v.Value {
			n += 1 + avSize(e)
		}
		return n
	case *types.AttributeValueMemberM:
		n := 3
		for k, e := range v.Value {
			n += 1 + len(k) + avSize(e)
		}
		return n
	}
	return 0
}
