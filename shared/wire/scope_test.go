package wire

import (
	"testing"
)

// TestBuildWithoutUserpilot builds a function that never calls Userpilot:
// no Userpilot credential is set or read (its role may not read the secret),
// and no Userpilot client is built.
func TestBuildWithoutUserpilot(t *testing.T) {
	read := map[string]int{}
	vars := map[string]string{
		"PILOTSYNC_CONFIG":    writeConfig(t, minimalConfig),
		EnvTable:              "tbl",
		EnvHubSpotToken:       "pat-na1-local-secret",
		EnvUserpilotSecretARN: "", // would need secretsmanager:GetSecretValue on it
		EnvUserpilotAPIKey:    "",
		EnvHubSpotBaseURL:     "http://127.0.0.1:1",
	}
	getenv := func(k string) string { read[k]++; return vars[k] }
	d, err := Build(t.Context(), WithGetenv(getenv), staticAWS(), WithoutUserpilot())
	if err != nil {
		t.Fatalf("Build without Userpilot: %v", err)
	}
	if d.Userpilot != nil {
		t.Errorf("Userpilot client = %v, want none", d.Userpilot)
	}
	if d.HubSpot == nil {
		t.Error("HubSpot client missing")
	}
	if read[EnvUserpilotSecretARN] > 0 || read[EnvUserpilotAPIKey] > 0 {
		t.Errorf("Userpilot credential variables read %d/%d times, want never", read[EnvUserpilotSecretARN], read[EnvUserpilotAPIKey])
	}
	// Without the option the same environment is refused: the credential is needed.
	if _, err := Build(t.Context(), WithGetenv(getenv), staticAWS()); err == nil {
		t.Error("Build with Userpilot but no credential: want an error")
	}
}
