package storetest

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/pilotsync/pilotsync/shared/store"
)

// Fault is a DynamoDB error response the fault suite injects: the error
// code (the "__type" of the JSON body, after '#'), the HTTP status and the
// message. The codes and statuses are DynamoDB's; see "Error handling with
// DynamoDB" (https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/Programming.Errors.html).
type Fault struct {
	Name    string
	Code    string
	Status  int
	Message string
	// Cancel, when set, answers TransactWriteItems with a
	// TransactionCanceledException whose reasons carry this code (the way
	// DynamoDB reports a validation error inside a transaction), and the
	// other operations with Code.
	Cancel string
}

// Faults are the DynamoDB errors other than a failed condition that every
// call must surface as an error.
var Faults = []Fault{
	{Name: "validation", Code: "ValidationException", Status: 400, Message: "One or more parameter values were invalid"},
	{Name: "item too large", Code: "ValidationException", Status: 400, Message: "Item size has exceeded the maximum allowed size",
		Cancel: "ValidationError"},
	{Name: "throttling", Code: "ProvisionedThroughputExceededException", Status: 400,
		Message: "The level of configured provisioned throughput for the table was exceeded", Cancel: "ThrottlingError"},
	{Name: "access denied", Code: "AccessDeniedException", Status: 400, Message: "User is not authorized to perform this action"},
	{Name: "internal error", Code: "InternalServerError", Status: 500, Message: "Internal server error"},
}

// Error is the error an in-memory store is told to fail with for f.
func (f Fault) Error() error { return fmt.Errorf("%w: %s: %s", ErrInjected, f.Code, f.Message) }

// Faulty is a store under test whose backend can be made to fail: Inject
// makes every later backend call answer with f, Inject(Fault{}) heals it.
type Faulty struct {
	Store  Store
	Inject func(f Fault)
}

// faultPatience bounds each call under a fault: the store retries
// throttling and server errors with backoff until its context ends, and the
// error must then surface.
const faultPatience = 600 * time.Millisecond

// RunFaults tests that every call of the store open returns surfaces each
// of Faults as an error (never as success, a conflict, a held or lost lease
// or not found) and stores nothing. open is called once per fault.
func RunFaults(t *testing.T, open func(t *testing.T) Faulty) {
	for _, f := range Faults {
		t.Run(f.Name, func(t *testing.T) {
			t.Parallel()
			fs := open(t)
			seed(t, fs.Store)
			fs.Inject(f)
			// The calls touch different items, so they run at once: retried
			// faults then cost one faultPatience, not one per call.
			var wg sync.WaitGroup
			for name, call := range calls(fs.Store) {
				wg.Go(func() {
					ctx, cancel := context.WithTimeout(t.Context(), faultPatience)
					defer cancel()
					err := call(ctx)
					switch {
					case err == nil:
						t.Errorf("%s under %s: no error", name, f.Name)
					case errors.Is(err, store.ErrConflict), errors.Is(err, store.ErrLeaseHeld),
						errors.Is(err, store.ErrLeaseLost), errors.Is(err, store.ErrNotFound):
						t.Errorf("%s under %s: err %v, reported as an ordinary outcome", name, f.Name, err)
					}
				})
			}
			wg.Wait()
			fs.Inject(Fault{})
			unchanged(t, fs.Store, "after "+f.Name)
		})
	}
}

// MemoryFaulty returns an empty in-memory store whose calls fail with a
// fault's Error while it is injected.
func MemoryFaulty(opts ...Option) Faulty {
	m := New(opts...)
	return Faulty{Store: m, Inject: func(f Fault) {
		if f.Code == "" {
			m.Fail(nil)
			return
		}
		m.Fail(func(string) error { return f.Error() })
	}}
}
