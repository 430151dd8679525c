// Command genschema writes the JSON Schema of integration.yaml, generated from
// the Go types in shared/config. Run it with `go generate ./shared/config`.
package main

import (
	"flag"
	"fmt"
	"os"

	"github.com/pilotsync/pilotsync/shared/config"
)

func main() {
	out := flag.String("o", "integration.schema.json", "file to write")
	flag.Parse()
	data, err := config.Schema()
	if err != nil {
		fmt.Fprintln(os.Stderr, "genschema:", err)
		os.Exit(1)
	}
	if err := os.WriteFile(*out, data, 0o644); err != nil {
		fmt.Fprintln(os.Stderr, "genschema:", err)
		os.Exit(1)
	}
}
