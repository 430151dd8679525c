// Package profileimport loads a Userpilot users or companies export file (CSV
// with a header row, or NDJSON; optionally gzip-compressed) into the store's
// profiles. Userpilot has no read API, so an export is how pilotsync learns
// the users and companies that existed before it was installed.
//
// The file is streamed: rows are read, merged and stored in batches, so
// memory stays constant whatever the file's size (1,000,000 rows and more).
// Each row is merged with the store's identify rules (per property the newer
// source timestamp wins; the export's timestamp is Options.At), so importing
// an old export never overwrites what newer identify events said, and
// importing the same file twice changes nothing the second time.
package profileimport

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/pilotsync/pilotsync/shared/identity"
	"github.com/pilotsync/pilotsync/shared/store"
)

// Store is the part of shared/store the import uses.
type Store interface {
	GetProfiles(ctx context.Context, env string, kind store.Kind, ids []string) (map[string]*store.Profile, error)
	PutProfiles(ctx context.Context, ps []*store.Profile) error
	MergeIdentify(ctx context.Context, env string, kind store.Kind, id string, in store.IdentifyInput) (*store.MergeResult, error)
}

// Tuning and limits.
const (
	// DefaultBatchSize is the number of distinct profiles read and written
	// together: one BatchGetItem holds at most 100 keys (DynamoDB
	// API_BatchGetItem).
	DefaultBatchSize = 100
	// DefaultConcurrency is how many existing profiles are merged at once
	// (each merge is a read and a conditional write).
	DefaultConcurrency = 8
	// DefaultProgressEvery is how often (in rows) Progress is called.
	DefaultProgressEvery = 10000
	// maxBadRows caps the bad rows listed in the result (Bad counts all).
	maxBadRows = 100
	// maxLineBytes bounds one NDJSON line, so a file without newlines
	// cannot take all memory.
	maxLineBytes = 1 << 20
)

// Format is an export file format.
type Format string

// Formats.
const (
	FormatCSV    Format = "csv"
	FormatNDJSON Format = "ndjson"
)

// Options configures an import.
type Options struct {
	// Env is the Userpilot environment (required).
	Env string
	// Kind is store.KindUser or store.KindCompany (required).
	Kind store.Kind
	// MatchProperty is the Userpilot match property of this kind from the
	// mapping ("email", "user_id", ...), from which the match value is
	// computed.
	MatchProperty string
	// Outbound lists the Userpilot properties mapped to HubSpot: a profile
	// whose outbound property changes is marked dirty, as an identify event
	// would.
	Outbound []string
	// At is the source timestamp of the export's values (ImportFile
	// defaults it to the file's modification time; Import to now).
	At time.Time
	// Format forces a format; empty detects it from the name, then the
	// content.
	Format Format
	// BatchSize and Concurrency default to DefaultBatchSize and
	// DefaultConcurrency.
	BatchSize, Concurrency int
	// Progress, when set, is called every ProgressEvery rows and at the end.
	Progress      func(Result)
	ProgressEvery int
}

// Result is an import's progress and outcome.
type Result struct {
	Format Format `json:"format"`
	// Rows counts data rows read (bad ones included, the header not).
	Rows int64 `json:"rows"`
	// Created, Updated and Unchanged count good rows by effect.
	Created   int64 `json:"created"`
	Updated   int64 `json:"updated"`
	Unchanged int64 `json:"unchanged"`
	// Bad counts rows that could not be imported; BadRows lists the first
	// ones with their line numbers.
	Bad     int64    `json:"bad"`
	BadRows []BadRow `json:"bad_rows,omitempty"`
}

// BadRow is a row that could not be imported.
type BadRow struct {
	Line   int64  `json:"line"`
	Reason string `json:"reason"`
}

func (r *Result) bad(line int64, format string, args ...any) {
	r.Bad++
	if len(r.BadRows) < maxBadRows {
		r.BadRows = append(r.BadRows, BadRow{Line: line, Reason: fmt.Sprintf(format, args...)})
	}
}

// row is one parsed export row.
type row struct {
	line      int64
	id        string
	companyID string
	props     map[string]any
}

// ImportFile imports the export file at path.
func ImportFile(ctx context.Context, st Store, path string, opts Options) (*Result, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("profileimport: %w", err)
	}
	defer f.Close()
	if opts.At.IsZero() {
		if fi, err := f.Stat(); err == nil {
			opts.At = fi.ModTime()
		}
	}
	return Import(ctx, st, f, filepath.Base(path), opts)
}

// Import imports an export read from r; name (a file name, may be empty)
// helps detect the format.
func Import(ctx context.Context, st Store, r io.Reader, name string, opts Options) (*Result, error) {
	if opts.Env == "" {
		return nil, errors.New("profileimport: no userpilot environment")
	}
	if opts.Kind != store.KindUser && opts.Kind != store.KindCompany {
		return nil, fmt.Errorf("profileimport: unknown kind %q (want user or company)", opts.Kind)
	}
	if opts.BatchSize <= 0 {
		opts.BatchSize = DefaultBatchSize
	}
	if opts.Concurrency <= 0 {
		opts.Concurrency = DefaultConcurrency
	}
	if opts.ProgressEvery <= 0 {
		opts.ProgressEvery = DefaultProgressEvery
	}
	if opts.At.IsZero() {
		opts.At = time.Now()
	}
	opts.At = opts.At.UTC()

	br := bufio.NewReaderSize(r, 64<<10)
	lower := strings.ToLower(name)
	if strings.HasSuffix(lower, ".gz") || isGzip(br) {
		zr, err := gzip.NewReader(br)
		if err != nil {
			return nil, fmt.Errorf("profileimport: gzip: %w", err)
		}
		defer zr.Close()
		br = bufio.NewReaderSize(zr, 64<<10)
		lower = strings.TrimSuffix(lower, ".gz")
	}
	format := opts.Format
	if format == "" {
		format = detect(lower, br)
	}
	im := &importer{st: st, opts: opts, res: &Result{Format: format}}
	var err error
	switch format {
	case FormatCSV:
		err = im.readCSV(ctx, br)
	case FormatNDJSON:
		err = im.readNDJSON(ctx, br)
	default:
		return nil, fmt.Errorf("profileimport: unknown format %q (want csv or ndjson)", format)
	}
	if err == nil {
		err = im.flush(ctx)
	}
	if opts.Progress != nil {
		opts.Progress(*im.res)
	}
	if err != nil {
		return im.res, fmt.Errorf("profileimport: %w", err)
	}
	return im.res, nil
}

func isGzip(br *bufio.Reader) bool {
	b, err := br.Peek(2)
	return err == nil && b[0] == 0x1f && b[1] == 0x8b
}

// detect picks the format from the name's extension, else from the first
// non-blank byte ('{' is NDJSON).
func detect(name string, br *bufio.Reader) Format {
	switch filepath.Ext(name) {
	case ".csv":
		return FormatCSV
	case ".ndjson", ".jsonl", ".json":
		return FormatNDJSON
	}
	b, _ := br.Peek(512)
	b = bytes.TrimLeft(bytes.TrimPrefix(b, utf8BOM), " \t\r\n")
	if len(b) > 0 && b[0] == '{' {
		return FormatNDJSON
	}
	return FormatCSV
}

var utf8BOM = []byte{0xEF, 0xBB, 0xBF}

// idColumns are the column names that hold the row's Userpilot id, in order
// of preference.
func (im *importer) idColumns() []string {
	if im.opts.Kind == store.KindCompany {
		return []string{"company_id", "id"}
	}
	return []string{"user_id", "id"}
}

// importer batches rows and writes them.
type importer struct {
	st    Store
	opts  Options
	res   *Result
	batch []*row
	index map[string]int // id -> position in batch
	next  int64          // rows at which Progress is next called
}

func (im *importer) readCSV(ctx context.Context, r io.Reader) error {
	cr := csv.NewReader(r)
	cr.ReuseRecord = true
	header, err := cr.Read()
	if errors.Is(err, io.EOF) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("csv header: %w", err)
	}
	cols := make([]string, len(header))
	for i, h := range header {
		if i == 0 {
			h = strings.TrimPrefix(h, string(utf8BOM))
		}
		cols[i] = strings.TrimSpace(h)
	}
	idCol, companyCol := -1, -1
	for _, name := range im.idColumns() {
		for i, c := range cols {
			if idCol < 0 && strings.EqualFold(c, name) {
				idCol = i
			}
		}
	}
	if idCol < 0 {
		return fmt.Errorf("csv header: no %s column", strings.Join(im.idColumns(), " or "))
	}
	if im.opts.Kind == store.KindUser {
		for i, c := range cols {
			if i != idCol && strings.EqualFold(c, "company_id") {
				companyCol = i
			}
		}
	}
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			var pe *csv.ParseError
			if errors.As(err, &pe) {
				im.res.Rows++
				im.res.bad(int64(pe.StartLine), "%v", pe.Err)
				if err := im.progress(); err != nil {
					return err
				}
				continue
			}
			return fmt.Errorf("csv: %w", err)
		}
		line, _ := cr.FieldPos(0)
		im.res.Rows++
		rw := &row{line: int64(line), props: make(map[string]any, len(rec))}
		for i, v := range rec {
			switch i {
			case idCol:
				rw.id = strings.TrimSpace(v)
			case companyCol:
				rw.companyID = strings.TrimSpace(v)
			default:
				if v != "" && cols[i] != "" {
					rw.props[cols[i]] = v
				}
			}
		}
		if err := im.add(ctx, rw); err != nil {
			return err
		}
	}
}

func (im *importer) readNDJSON(ctx context.Context, br *bufio.Reader) error {
	var line int64
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		b, tooLong, err := readLine(br)
		eof := errors.Is(err, io.EOF)
		if err != nil && !eof {
			return fmt.Errorf("line %d: %w", line+1, err)
		}
		if eof && len(b) == 0 && !tooLong {
			return nil // end of file (after a final newline)
		}
		line++
		if line == 1 {
			b = bytes.TrimPrefix(b, utf8BOM)
		}
		if tooLong || len(bytes.TrimSpace(b)) > 0 {
			im.res.Rows++
			if tooLong {
				im.res.bad(line, "line longer than %d bytes", maxLineBytes)
			} else if rw, reason := im.parseJSON(line, b); reason != "" {
				im.res.bad(line, "%s", reason)
			} else if err := im.add(ctx, rw); err != nil {
				return err
			}
			if err := im.progress(); err != nil {
				return err
			}
		}
		if eof {
			return nil
		}
	}
}

// readLine returns the next line without its newline. A line over
// maxLineBytes is skipped to its end and reported as tooLong.
func readLine(br *bufio.Reader) (line []byte, tooLong bool, err error) {
	var buf []byte
	for {
		chunk, err := br.ReadSlice('\n')
		if len(buf)+len(chunk) > maxLineBytes {
			tooLong = true
			buf = buf[:0]
		} else if !tooLong {
			buf = append(buf, chunk...)
		}
		if errors.Is(err, bufio.ErrBufferFull) {
			continue
		}
		if tooLong {
			return nil, true, err
		}
		return bytes.TrimRight(buf, "\r\n"), false, err
	}
}

// parseJSON reads one NDJSON row: the id field, a user's company
// ("company_id", or "company" as a string or an object with an id), and the
// properties: those under "metadata" or "properties", and every other
// top-level field. Nested values are kept as JSON text; nulls are skipped
// (an export's null means "not set", not "removed").
func (im *importer) parseJSON(line int64, b []byte) (*row, string) {
	var obj map[string]any
	if err := json.Unmarshal(b, &obj); err != nil {
		return nil, "invalid JSON: " + jsonReason(err)
	}
	rw := &row{line: line, props: map[string]any{}}
	for _, name := range im.idColumns() {
		if v, ok := obj[name]; ok && rw.id == "" {
			rw.id = strings.TrimSpace(scalarString(v))
			delete(obj, name)
		}
	}
	if im.opts.Kind == store.KindUser {
		switch c := obj["company"].(type) {
		case string:
			rw.companyID = strings.TrimSpace(c)
			delete(obj, "company")
		case map[string]any:
			for _, k := range []string{"id", "company_id"} {
				if v, ok := c[k]; ok && rw.companyID == "" {
					rw.companyID = strings.TrimSpace(scalarString(v))
				}
			}
			delete(obj, "company")
		}
		if v, ok := obj["company_id"]; ok {
			rw.companyID = strings.TrimSpace(scalarString(v))
			delete(obj, "company_id")
		}
	}
	for _, nested := range []string{"metadata", "properties"} {
		if m, ok := obj[nested].(map[string]any); ok {
			delete(obj, nested)
			for k, v := range m {
				setProp(rw.props, k, v)
			}
		}
	}
	for k, v := range obj {
		if _, dup := rw.props[k]; !dup {
			setProp(rw.props, k, v)
		}
	}
	return rw, ""
}

func setProp(props map[string]any, k string, v any) {
	switch v := v.(type) {
	case nil:
	case string, float64, bool:
		props[k] = v
	default:
		b, _ := json.Marshal(v) // decoded from JSON: re-encodes
		props[k] = string(b)
	}
}

func scalarString(v any) string {
	switch v := v.(type) {
	case string:
		return v
	case nil:
		return ""
	case float64:
		return strconv.FormatFloat(v, 'f', -1, 64)
	default:
		return fmt.Sprint(v)
	}
}

// jsonReason keeps the decoder's message without echoing row content.
func jsonReason(err error) string {
	var se *json.SyntaxError
	if errors.As(err, &se) {
		return fmt.Sprintf("syntax error at byte %d", se.Offset)
	}
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		return "not a JSON object"
	}
	return "cannot decode"
}

// add validates rw and queues it, writing the batch when it is full.
func (im *importer) add(ctx context.Context, rw *row) error {
	if rw.id == "" {
		im.res.bad(rw.line, "no %s", strings.Join(im.idColumns(), " or "))
		return im.progress()
	}
	if im.index == nil {
		im.index = make(map[string]int, im.opts.BatchSize)
	}
	if i, ok := im.index[rw.id]; ok {
		// The same id twice in a batch: the later row wins, as a later
		// identify event at the same timestamp would.
		prev := im.batch[i]
		for k, v := range rw.props {
			prev.props[k] = v
		}
		if rw.companyID != "" {
			prev.companyID = rw.companyID
		}
		im.res.Unchanged++ // the merged row has no effect of its own
	} else {
		im.index[rw.id] = len(im.batch)
		im.batch = append(im.batch, rw)
	}
	if len(im.batch) >= im.opts.BatchSize {
		if err := im.flush(ctx); err != nil {
			return err
		}
	}
	return im.progress()
}

func (im *importer) progress() error {
	if im.opts.Progress != nil && im.res.Rows >= im.next {
		if im.next > 0 {
			im.opts.Progress(*im.res)
		}
		im.next = (im.res.Rows/int64(im.opts.ProgressEvery) + 1) * int64(im.opts.ProgressEvery)
	}
	return nil
}

// flush writes the queued rows: new profiles in one PutProfiles, changed
// existing ones through MergeIdentify (the store's merge rules, retried on
// conflicts), unchanged ones not at all.
func (im *importer) flush(ctx context.Context) error {
	if len(im.batch) == 0 {
		return nil
	}
	batch := im.batch
	im.batch = im.batch[:0:0]
	clear(im.index)
	ids := make([]string, len(batch))
	for i, rw := range batch {
		ids[i] = rw.id
	}
	existing, err := im.st.GetProfiles(ctx, im.opts.Env, im.opts.Kind, ids)
	if err != nil {
		return fmt.Errorf("read %d profiles: %w", len(ids), err)
	}
	var fresh []*store.Profile
	freshRows := map[string]*row{}
	var merge []*row
	for _, rw := range batch {
		p := existing[rw.id]
		switch {
		case p == nil:
			fresh = append(fresh, im.newProfile(rw))
			freshRows[rw.id] = rw
		case im.wouldChange(p, rw):
			merge = append(merge, rw)
		default:
			im.res.Unchanged++
		}
	}
	if len(fresh) > 0 {
		err := im.st.PutProfiles(ctx, fresh)
		var be *store.BatchError
		switch {
		case err == nil:
			im.res.Created += int64(len(fresh))
		case errors.As(err, &be):
			// Created meanwhile (an identify event): merge those instead.
			im.res.Created += int64(len(fresh) - len(be.Failed))
			for _, f := range be.Failed {
				if !errors.Is(f.Err, store.ErrConflict) {
					return fmt.Errorf("create profile (line %d): %w", freshRows[f.ID].line, f.Err)
				}
				merge = append(merge, freshRows[f.ID])
			}
		default:
			return fmt.Errorf("create %d profiles: %w", len(fresh), err)
		}
	}
	return im.merge(ctx, merge)
}

// merge runs MergeIdentify for rows, a few at a time.
func (im *importer) merge(ctx context.Context, rows []*row) error {
	if len(rows) == 0 {
		return nil
	}
	var (
		mu       sync.Mutex
		firstErr error
		wg       sync.WaitGroup
	)
	sem := make(chan struct{}, im.opts.Concurrency)
	for _, rw := range rows {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			res, err := im.st.MergeIdentify(ctx, im.opts.Env, im.opts.Kind, rw.id, im.input(rw))
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err != nil:
				if firstErr == nil {
					firstErr = fmt.Errorf("merge profile (line %d): %w", rw.line, err)
				}
			case res.Created:
				im.res.Created++
			case len(res.Changed) > 0 || res.MatchChanged:
				im.res.Updated++
			default:
				im.res.Unchanged++
			}
		})
	}
	wg.Wait()
	return firstErr
}

func (im *importer) input(rw *row) store.IdentifyInput {
	return store.IdentifyInput{
		CompanyID: rw.companyID, Properties: rw.props, At: im.opts.At,
		MatchProperty: im.opts.MatchProperty, Outbound: im.opts.Outbound,
	}
}

// newProfile builds the profile a first identify with rw would create.
func (im *importer) newProfile(rw *row) *store.Profile {
	p := &store.Profile{
		Env: im.opts.Env, Kind: im.opts.Kind, ID: rw.id, CompanyID: rw.companyID,
		Properties: make(map[string]store.Property, len(rw.props)),
	}
	for k, v := range rw.props {
		p.Properties[k] = store.Property{Value: v, At: im.opts.At}
	}
	p.MatchValue = matchValue(p, im.opts.MatchProperty)
	for _, k := range im.opts.Outbound {
		if _, ok := rw.props[k]; ok {
			p.Dirty = true
			break
		}
	}
	return p
}

// matchValue computes a profile's match value from its match property, as
// the store's merge does.
func matchValue(p *store.Profile, prop string) string {
	switch prop {
	case "":
		return ""
	case "user_id", "company_id", "id":
		return identity.Normalize(p.ID)
	}
	switch v := p.Properties[prop].Value.(type) {
	case nil:
		return ""
	case string:
		return identity.Normalize(v)
	default:
		return identity.Normalize(scalarString(v))
	}
}

// wouldChange reports whether merging rw into p would write anything, by
// the store's rules (an older value never wins; an equal value at another
// time refreshes the timestamp), so re-importing a file costs reads only.
func (im *importer) wouldChange(p *store.Profile, rw *row) bool {
	at := im.opts.At
	for k, v := range rw.props {
		cur, ok := p.Properties[k]
		if !ok {
			return true
		}
		if at.Before(cur.At) {
			continue
		}
		if !reflect.DeepEqual(cur.Value, v) || !at.Equal(cur.At) {
			return true
		}
	}
	if rw.companyID != "" && rw.companyID != p.CompanyID {
		return true
	}
	if im.opts.MatchProperty != "" {
		// The match value after the merge: the stored properties with the
		// row's newer values on top.
		q := &store.Profile{ID: p.ID, Properties: map[string]store.Property{}}
		if cur, ok := p.Properties[im.opts.MatchProperty]; ok {
			q.Properties[im.opts.MatchProperty] = cur
		}
		if v, ok := rw.props[im.opts.MatchProperty]; ok {
			if cur, ok := p.Properties[im.opts.MatchProperty]; !ok || !at.Before(cur.At) {
				q.Properties[im.opts.MatchProperty] = store.Property{Value: v, At: at}
			}
		}
		if matchValue(q, im.opts.MatchProperty) != identity.Normalize(p.MatchValue) {
			return true
		}
	}
	return false
}
