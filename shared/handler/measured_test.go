package handler

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/pilotsync/pilotsync/shared/config"
	"github.com/pilotsync/pilotsync/shared/measured"
)

// fakeMeasured is a hand-written MeasuredRunner.
type fakeMeasured struct {
	run func(ctx context.Context, at time.Time, mode measured.Mode) (string, map[string]int64, error)
}

func (f fakeMeasured) Run(ctx context.Context, at time.Time, mode measured.Mode) (*measured.Report, error) {
	status, counts, err := f.run(ctx, at, mode)
	if err != nil {
		return nil, err
	}
	return &measured.Report{Status: status, Counts: counts}, nil
}

func TestMeasuredHandle(t *testing.T) {
	scheduledAt := time.Date(2026, 11, 27, 3, 0, 0, 0, time.UTC)
	cfg := &config.Config{}
	cfg.Mapping.Users.Measured = []config.MeasuredMapping{{Metric: "sessions", HubSpot: "s"}, {Metric: "last_seen", HubSpot: "l"}}
	off := false
	cfg.Mapping.Companies.Enabled = &off
	cfg.Mapping.Companies.Measured = []config.MeasuredMapping{{Metric: "active_days", HubSpot: "a"}}

	var gotAt time.Time
	var gotMode measured.Mode
	engine := fakeMeasured{run: func(ctx context.Context, at time.Time, mode measured.Mode) (string, map[string]int64, error) {
		gotAt, gotMode = at, mode
		return "complete", map[string]int64{"sent": 7}, nil
	}}
	failing := fakeMeasured{run: func(context.Context, time.Time, measured.Mode) (string, map[string]int64, error) {
		return "", nil, errors.New("hubspot down")
	}}
	tests := []struct {
		name       string
		engine     MeasuredRunner
		in         MeasuredInput
		wantStatus string
		wantCounts map[string]int64
		wantErr    string
		wantAt     time.Time
		wantMode   measured.Mode
	}{
		{name: "schedule without engine", in: MeasuredInput{Source: "aws.events", Time: scheduledAt},
			wantStatus: "not_configured", wantCounts: map[string]int64{"measured_mappings": 2}},
		{name: "scheduler source", engine: engine, in: MeasuredInput{Source: "aws.scheduler", Time: scheduledAt},
			wantStatus: "complete", wantCounts: map[string]int64{"sent": 7, "measured_mappings": 2}, wantAt: scheduledAt, wantMode: measured.ModeStart},
		{name: "manual", engine: engine, in: MeasuredInput{Action: "measure"},
			wantStatus: "complete", wantCounts: map[string]int64{"sent": 7, "measured_mappings": 2}, wantAt: time.Date(2026, 11, 28, 0, 0, 0, 0, time.UTC), wantMode: measured.ModeStart},
		{name: "continue", engine: engine, in: MeasuredInput{Action: "continue"},
			wantStatus: "complete", wantCounts: map[string]int64{"sent": 7, "measured_mappings": 2}, wantAt: time.Date(2026, 11, 28, 0, 0, 0, 0, time.UTC), wantMode: measured.ModeContinue},
		{name: "unknown action", in: MeasuredInput{Action: "sync"}, wantErr: `measured: unknown input (action "sync"`},
		{name: "empty payload", in: MeasuredInput{}, wantErr: "measured: unknown input"},
		{name: "engine fails", engine: failing, in: MeasuredInput{Source: "aws.events", Time: scheduledAt}, wantErr: "measured: run at 2026-11-27T03:00:00Z: hubspot down"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			gotAt, gotMode = time.Time{}, ""
			h := NewMeasured(cfg, tt.engine, nil)
			h.now = func() time.Time { return time.Date(2026, 11, 28, 0, 0, 0, 0, time.UTC) }
			got, err := h.Handle(t.Context(), tt.in)
			if tt.wantErr != "" {
				if err == nil || !strings.HasPrefix(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want prefix %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("Handle: %v", err)
			}
			if got.Status != tt.wantStatus {
				t.Errorf("status = %q, want %q", got.Status, tt.wantStatus)
			}
			if len(got.Counts) != len(tt.wantCounts) {
				t.Errorf("counts = %v, want %v", got.Counts, tt.wantCounts)
			}
			for k, v := range tt.wantCounts {
				if got.Counts[k] != v {
					t.Errorf("counts[%s] = %d, want %d", k, got.Counts[k], v)
				}
			}
			if gotMode != tt.wantMode {
				t.Errorf("engine ran in mode %q, want %q", gotMode, tt.wantMode)
			}
			if !gotAt.Equal(tt.wantAt) {
				t.Errorf("engine ran at %v, want %v", gotAt, tt.wantAt)
			}
		})
	}
}

// TestMeasuredFailedRunReturnsError: a daily run the engine reports failed
// answers Lambda with an error (the errors alarm fires) and still returns its
// counts; a partial run (resumed from the checkpoint) does not.
func TestMeasuredFailedRunReturnsError(t *testing.T) {
	for _, status := range []string{StatusFailed, "partial"} {
		engine := fakeMeasured{run: func(context.Context, time.Time, measured.Mode) (string, map[string]int64, error) {
			return status, map[string]int64{"failed": 3}, nil
		}}
		res, err := NewMeasured(&config.Config{}, engine, nil).Handle(t.Context(), MeasuredInput{Action: MeasuredActionMeasure})
		if res.Status != status || res.Counts["failed"] != 3 {
			t.Errorf("%s run: result %+v, want its status and counts", status, res)
		}
		if got := errors.Is(err, ErrRunFailed); got != (status == StatusFailed) {
			t.Errorf("%s run: err = %v, want ErrRunFailed only for a failed run", status, err)
		}
	}
}
