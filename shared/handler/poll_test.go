package handler

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pilotsync/pilotsync/shared/config"
	"github.com/pilotsync/pilotsync/shared/inbound"
	"github.com/pilotsync/pilotsync/shared/runreport"
	"github.com/pilotsync/pilotsync/shared/store"
)

var _ InboundRunner = (*inbound.Inbound)(nil)

// fakeInbound records the modes it ran.
type fakeInbound struct {
	modes []inbound.Mode
	rep   *inbound.Report
	err   error
}

func (f *fakeInbound) Run(_ context.Context, mode inbound.Mode) (*inbound.Report, error) {
	f.modes = append(f.modes, mode)
	if f.err != nil {
		return nil, f.err
	}
	rep := *f.rep
	rep.Mode = mode
	return &rep, nil
}

// fakeImports is a profileimport.Store that creates every profile.
type fakeImports struct{ put int }

func (f *fakeImports) GetProfiles(context.Context, string, store.Kind, []string) (map[string]*store.Profile, error) {
	return nil, nil
}
func (f *fakeImports) PutProfiles(_ context.Context, ps []*store.Profile) error {
	f.put += len(ps)
	return nil
}
func (f *fakeImports) MergeIdentify(context.Context, string, store.Kind, string, store.IdentifyInput) (*store.MergeResult, error) {
	return nil, errors.New("unexpected merge")
}

func TestPollHandle(t *testing.T) {
	dir := t.TempDir()
	export := filepath.Join(dir, "users.ndjson")
	if err := os.WriteFile(export, []byte(`{"user_id":"u1","email":"a@example.com"}`+"\n"+`{"user_id":"u2"}`+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name       string
		payload    string
		wantMode   inbound.Mode // "" = the engine is not run
		wantStatus string
		wantErr    string
	}{
		{"scheduled event runs the incremental poll", `{"source":"aws.events","detail-type":"Scheduled Event","time":"2026-11-27T10:00:00Z"}`, inbound.ModeIncremental, inbound.StatusComplete, ""},
		{"explicit poll", `{"action":"poll"}`, inbound.ModeIncremental, inbound.StatusComplete, ""},
		{"sync now runs a full sync", `{"action":"sync"}`, inbound.ModeFull, inbound.StatusComplete, ""},
		{"import reads the file", `{"action":"import","kind":"users","path":"` + export + `"}`, "", "ok", ""},
		{"import needs a known kind", `{"action":"import","kind":"deals","path":"` + export + `"}`, "", "", "unknown kind"},
		{"import needs a path", `{"action":"import","kind":"users"}`, "", "", "needs a path"},
		{"preview needs someone", `{"action":"preview"}`, "", "", "needs users or companies"},
		{"preview without a previewer", `{"action":"preview","users":["a@b.com"]}`, "", "not_configured", ""},
		{"unknown input", `{}`, "", "", "unknown action"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := &fakeInbound{rep: &inbound.Report{Header: runreport.Header{Status: inbound.StatusComplete, Complete: true}, Totals: inbound.Counts{Read: 3, Written: 1}}}
			imp := &fakeImports{}
			h := NewPoll(in, WithPollImports(imp, config.Defaults()))
			var payload PollInput
			if err := json.Unmarshal([]byte(tt.payload), &payload); err != nil {
				t.Fatal(err)
			}
			res, err := h.Handle(context.Background(), payload)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if res.Status != tt.wantStatus {
				t.Errorf("status %q, want %q", res.Status, tt.wantStatus)
			}
			switch {
			case tt.wantMode == "" && len(in.modes) != 0:
				t.Errorf("engine ran %v, want not run", in.modes)
			case tt.wantMode != "" && (len(in.modes) != 1 || in.modes[0] != tt.wantMode):
				t.Errorf("engine ran %v, want once in %s", in.modes, tt.wantMode)
			}
			if tt.wantMode != "" && (res.Inbound == nil || res.Counts["read"] != 3) {
				t.Errorf("result %+v, want the run record and its counts", res)
			}
			if res.Action == PollActionImport && (res.Import == nil || res.Import.Created != 2 || imp.put != 2) {
				t.Errorf("import result %+v (%d stored), want 2 created", res.Import, imp.put)
			}
			// The result is the function's JSON answer.
			if _, err := json.Marshal(res); err != nil {
				t.Errorf("marshal result: %v", err)
			}
		})
	}
}

// TestPollSampleEvents decodes the sample events sam local invoke uses and
// checks each drives the engine the way its name says.
func TestPollSampleEvents(t *testing.T) {
	for _, tt := range []struct {
		file string
		want inbound.Mode
	}{
		{"schedule.json", inbound.ModeIncremental},
		{"poll-sync.json", inbound.ModeFull},
	} {
		t.Run(tt.file, func(t *testing.T) {
			raw, err := os.ReadFile(filepath.Join("..", "..", "events", tt.file))
			if err != nil {
				t.Fatalf("sample event: %v", err)
			}
			var payload PollInput
			if err := json.Unmarshal(raw, &payload); err != nil {
				t.Fatal(err)
			}
			in := &fakeInbound{rep: &inbound.Report{Header: runreport.Header{Status: inbound.StatusComplete}}}
			if _, err := NewPoll(in).Handle(context.Background(), payload); err != nil || len(in.modes) != 1 || in.modes[0] != tt.want {
				t.Errorf("events/%s ran %v (%v), want one %s run", tt.file, in.modes, err, tt.want)
			}
		})
	}
	raw, err := os.ReadFile(filepath.Join("..", "..", "events", "poll-import.json"))
	if err != nil {
		t.Fatalf("sample event: %v", err)
	}
	var imp PollInput
	if err := json.Unmarshal(raw, &imp); err != nil || imp.Action != PollActionImport || imp.Kind != "users" || imp.Path == "" {
		t.Errorf("events/poll-import.json decodes to %+v (%v), want an import of users from a path", imp, err)
	}
}

func TestPollNotConfiguredAndRunErrors(t *testing.T) {
	res, err := NewPoll(nil).Handle(context.Background(), PollInput{Action: PollActionSync})
	if err != nil || res.Status != "not_configured" {
		t.Errorf("nil engine: %+v %v, want not_configured", res, err)
	}
	res, err = NewPoll(nil).Handle(context.Background(), PollInput{Action: PollActionImport, Kind: "users", Path: "x"})
	if err != nil || res.Status != "not_configured" {
		t.Errorf("no import store: %+v %v, want not_configured", res, err)
	}
	_, err = NewPoll(&fakeInbound{err: errors.New("take lease: boom")}).Handle(context.Background(), PollInput{Action: PollActionPoll})
	if err == nil || !strings.Contains(err.Error(), "boom") {
		t.Errorf("engine error %v, want it returned", err)
	}
	failed := &fakeInbound{rep: &inbound.Report{Header: runreport.Header{Status: inbound.StatusFailed, Error: "users: walk contacts: 502"}}}
	res, err = NewPoll(failed).Handle(context.Background(), PollInput{Action: PollActionPoll})
	// A failed run answers with its result and an error, so Lambda counts it
	// (issue 13: it used to report success).
	if !errors.Is(err, ErrRunFailed) || err.Error() != "poll: poll run failed: users: walk contacts: 502" ||
		res.Status != inbound.StatusFailed || res.Message != "users: walk contacts: 502" {
		t.Errorf("failed run: %+v %v, want the failure in the result and an ErrRunFailed error", res, err)
	}
}

func TestImportOptions(t *testing.T) {
	cfg := config.Defaults()
	cfg.Mapping.Users.Outbound = []config.PropertyMapping{{Userpilot: "plan", HubSpot: "up_plan"}, {HubSpot: "role"}}
	opts, err := ImportOptions(cfg, "users")
	if err != nil {
		t.Fatal(err)
	}
	if opts.Env != config.EnvProduction || opts.Kind != store.KindUser || opts.MatchProperty != "email" || strings.Join(opts.Outbound, ",") != "plan,role" {
		t.Errorf("options %+v", opts)
	}
	if opts, _ = ImportOptions(cfg, "companies"); opts.Kind != store.KindCompany || opts.MatchProperty != "company_id" {
		t.Errorf("companies options %+v", opts)
	}
}
