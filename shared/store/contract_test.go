package store_test

import (
	"testing"

	"github.com/pilotsync/pilotsync/shared/store/storetest"
)

// TestDynamoContract runs the contract the in-memory store also passes
// against DynamoDB Local.
func TestDynamoContract(t *testing.T) {
	t.Parallel()
	storetest.RunContract(t, func(t *testing.T) storetest.Store { return storetest.FreshTable(t) })
}

// TestDynamoFaults: DynamoDB errors other than a failed condition
// (validation, item too large, throttling, access denied, server errors)
// surface as errors from every call, injected as DynamoDB's own responses.
func TestDynamoFaults(t *testing.T) {
	t.Parallel()
	storetest.RunFaults(t, func(t *testing.T) storetest.Faulty { return storetest.DynamoFaulty(t) })
}
