package logtest

import (
	"log/slog"
	"slices"
	"testing"
)

// TestRecorder keeps the records at or above its level, with their
// attributes, in order.
func TestRecorder(t *testing.T) {
	r := &Recorder{Min: slog.LevelWarn}
	log := slog.New(r)
	log.Info("ignored")
	log.Warn("slow page", "page", 3)
	log.Error("save run", "err", "boom")
	if got, want := r.Lines(), []string{"WARN slow page", "ERROR save run"}; !slices.Equal(got, want) {
		t.Errorf("Lines = %q, want %q", got, want)
	}
	if got, want := r.Messages(), []string{"slow page", "save run"}; !slices.Equal(got, want) {
		t.Errorf("Messages = %q, want %q", got, want)
	}
	if recs := r.Records(); recs[0].Attrs["page"] != "3" || recs[1].Attrs["err"] != "boom" {
		t.Errorf("attributes %+v", recs)
	}
	if got := r.Containing("page"); len(got) != 1 || got[0].Message != "slow page" {
		t.Errorf("Containing(page) = %+v, want the slow page warning", got)
	}
	if got := r.Containing("ignored"); len(got) != 0 {
		t.Errorf("Containing(ignored) = %+v, want none (below Min)", got)
	}
	all := &Recorder{Min: slog.LevelDebug}
	slog.New(all).Debug("kept")
	if len(all.Records()) != 1 {
		t.Errorf("a debug recorder kept %d records, want 1", len(all.Records()))
	}
}
