package handler

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/pilotsync/pilotsync/shared/preview"
)

// TestPollPreviewSample: events/poll-preview.json (for sam local invoke -e)
// reaches the previewer with its users and companies.
func TestPollPreviewSample(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join("..", "..", "events", "poll-preview.json"))
	if err != nil {
		t.Fatal(err)
	}
	var in PollInput
	if err := json.Unmarshal(raw, &in); err != nil {
		t.Fatal(err)
	}
	var got [][]string
	h := NewPoll(nil, WithPollPreview(previewFunc(func(_ context.Context, users, companies []string) (*preview.Report, error) {
		got = append(got, users, companies)
		return &preview.Report{Records: []preview.Record{{Problems: []preview.Problem{{Reason: "x"}}}}}, nil
	})))
	res, err := h.Handle(t.Context(), in)
	if err != nil || res.Status != "ok" || res.Counts["problems"] != 1 || len(got) != 2 || got[0][0] != "demo.user1@example.com" || got[1][0] != "demo-co-1" {
		t.Errorf("preview sample: %+v, %v (previewer got %v)", res, err, got)
	}
}

type previewFunc func(ctx context.Context, users, companies []string) (*preview.Report, error)

func (f previewFunc) Run(ctx context.Context, users, companies []string) (*preview.Report, error) {
	return f(ctx, users, companies)
}
