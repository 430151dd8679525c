package storetest_test

import (
	"testing"

	"github.com/pilotsync/pilotsync/shared/store/storetest"
)

func TestMemoryContract(t *testing.T) {
	storetest.RunContract(t, func(*testing.T) storetest.Store { return storetest.New() })
}

func TestMemoryFaults(t *testing.T) {
	storetest.RunFaults(t, func(*testing.T) storetest.Faulty { return storetest.MemoryFaulty() })
}
