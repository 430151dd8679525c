package config_test

import (
	"errors"
	"os"
	"testing"

	"github.com/pilotsync/pilotsync/shared/config"
)

// FuzzParse checks that any input gives either a config or a *config.Error
// whose problems name the file, never a panic or another error type.
func FuzzParse(f *testing.F) {
	for _, p := range []string{"../../integration.example.yaml", "testdata/five-mistakes.yaml"} {
		data, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Add([]byte(minimal))
	f.Add([]byte("a: &x [*x]\nb: {<<: *x}\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		cfg, err := config.Parse("f.yaml", data)
		if err == nil {
			if cfg == nil {
				t.Fatal("nil config and nil error")
			}
			return
		}
		var ce *config.Error
		if !errors.As(err, &ce) || len(ce.Problems) == 0 {
			t.Fatalf("got %T %v, want *config.Error with problems", err, err)
		}
		for _, p := range ce.Problems {
			if p.File != "f.yaml" || p.Line < 0 || p.Message == "" {
				t.Fatalf("bad problem %+v", p)
			}
		}
	})
}
