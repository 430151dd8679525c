package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"time"

	awsconfig "github.com/aws/aws-sdk-go-v2/config"

	"github.com/pilotsync/pilotsync/shared/config"
	"github.com/pilotsync/pilotsync/shared/handler"
	"github.com/pilotsync/pilotsync/shared/profileimport"
	"github.com/pilotsync/pilotsync/shared/store"
	"github.com/pilotsync/pilotsync/shared/wire"
)

func init() {
	register(command{
		name:    "import",
		summary: "import a Userpilot users or companies export (CSV or NDJSON) into the profiles",
		run:     runImport,
	})
}

// runImport streams an export file into the store. It needs only the config
// and the table (no HubSpot or Userpilot credentials).
func runImport(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("import", args, stdout, stderr)
	path := configFlag(fs)
	kind := fs.String("kind", "", "users or companies (required)")
	asOf := fs.String("as-of", "", "when the export was taken, RFC 3339 (default: the file's modification time); older values never overwrite newer ones")
	format := fs.String("format", "", "csv or ndjson (default: from the file name, else its content)")
	table := fs.String("table", "", "DynamoDB table (default $"+wire.EnvTable+")")
	setUsage(fs, "pilotsync import --kind users|companies [--as-of TIME] [--config FILE] FILE",
		"Streams a Userpilot export file (CSV with a header row, or NDJSON; .gz accepted) into",
		"pilotsync's profiles in batches, merging each row with the identify rules. Progress goes",
		"to stderr; the result (rows, created, updated, unchanged, bad rows with line numbers) is",
		"printed as JSON. The id column is user_id (users) or company_id (companies), else id.",
		"The deployed poll function does the same for {\"action\":\"import\",\"kind\":\"users\",\"path\":\"/tmp/users.csv\"}.")
	// Flags may follow the file name: parse until every argument is consumed.
	var files []string
	for rest := args; ; {
		if code, ok := parseFlags(fs, rest); !ok {
			return code
		}
		if fs.NArg() == 0 {
			break
		}
		files = append(files, fs.Arg(0))
		rest = fs.Args()[1:]
	}
	if len(files) != 1 {
		fmt.Fprintln(stderr, "pilotsync import: want exactly one file")
		fs.Usage()
		return exitUsage
	}
	cfg, err := config.Load(configFile(*path))
	if err != nil {
		fmt.Fprintf(stderr, "pilotsync import: %v\n", err)
		return exitFailure
	}
	opts, err := handler.ImportOptions(cfg, *kind)
	if err != nil {
		fmt.Fprintf(stderr, "pilotsync import: --kind: %v\n", err)
		return exitUsage
	}
	if *asOf != "" {
		if opts.At, err = time.Parse(time.RFC3339, *asOf); err != nil {
			fmt.Fprintf(stderr, "pilotsync import: --as-of: %v\n", err)
			return exitUsage
		}
	}
	opts.Format = profileimport.Format(*format)
	if *table == "" {
		*table = os.Getenv(wire.EnvTable)
	}
	if *table == "" {
		fmt.Fprintf(stderr, "pilotsync import: no table: set --table or %s\n", wire.EnvTable)
		return exitUsage
	}
	awsCfg, err := awsconfig.LoadDefaultConfig(ctx)
	if err != nil {
		fmt.Fprintf(stderr, "pilotsync import: aws config: %v\n", err)
		return exitFailure
	}
	st := store.New(wire.DynamoDBClient(awsCfg), *table)
	start := time.Now()
	opts.Progress = func(r profileimport.Result) {
		fmt.Fprintf(stderr, "pilotsync import: %d rows (%d created, %d updated, %d unchanged, %d bad) in %s\n",
			r.Rows, r.Created, r.Updated, r.Unchanged, r.Bad, time.Since(start).Round(time.Second))
	}
	res, err := profileimport.ImportFile(ctx, st, files[0], opts)
	if res != nil {
		_ = printJSON(stdout, res)
	}
	if err != nil {
		fmt.Fprintf(stderr, "pilotsync import: %v\n", err)
		return exitFailure
	}
	return exitOK
}
