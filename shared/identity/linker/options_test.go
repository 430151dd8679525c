package linker_test

import (
	"strings"
	"testing"

	"github.com/pilotsync/pilotsync/shared/hubspot"
	"github.com/pilotsync/pilotsync/shared/identity/linker"
	"github.com/pilotsync/pilotsync/shared/store/storetest"
)

// TestNewRequiresEnvironment: links are kept per Userpilot environment, so a
// linker built without one (config.Load always gives one) is refused instead
// of reading and writing another environment's links.
func TestNewRequiresEnvironment(t *testing.T) {
	_, err := linker.New(linker.Options{Store: storetest.New(), HubSpot: &hubspot.Client{}})
	if err == nil || !strings.Contains(err.Error(), "userpilot.environment") {
		t.Fatalf("New without an environment: %v, want an error naming userpilot.environment", err)
	}
}
