package measured

import (
	"strings"
	"testing"
	"time"
)

// TestRunRefusesAPeriodOfNoDays: the period comes from config (which applies
// measured.period_days' default once); an engine built without it refuses to
// run, naming the setting, instead of measuring an empty period and sending
// zeros to every profile.
func TestRunRefusesAPeriodOfNoDays(t *testing.T) {
	e := New(nil, nil, nil, nil, Options{Env: "production"})
	rep, err := e.Run(t.Context(), time.Now(), ModeStart)
	if err == nil || !strings.Contains(err.Error(), "measured.period_days") {
		t.Fatalf("Run with no period: %+v, %v; want an error naming measured.period_days", rep, err)
	}
}
