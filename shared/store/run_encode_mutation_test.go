package store

import (
	"errors"
	"fmt"
	"sort"
	"strings"
	"testing"
	"time"
)

// TestEncodeRunLeavesTheCallersFailures: capping a long failure list must
// not write its summary entry into the caller's slice.
func TestEncodeRunLeavesTheCallersFailures(t *testing.T) {
	fs := make([]Failure, maxRunFailures+5)
	for i := range fs {
		fs[i] = Failure{Record: fmt.Sprint(i), Reason: "refused"}
	}
	r := RunRecord{Env: "production", Job: "inbound", ID: "r1", Started: time.Now(), Failures: fs}
	if _, _, err := EncodeRun(r); err != nil {
		t.Fatal(err)
	}
	for i, f := range fs {
		if f.Record != fmt.Sprint(i) || f.Reason != "refused" {
			t.Fatalf("caller's failure %d became %+v", i, f)
		}
	}
}

// TestEncodeRunSizesTheItemAsStored: the largest run record EncodeRun
// accepts is exactly at DynamoDB's item limit as PutRun stores it (with its
// real expiry time), and DynamoDB Local takes it; one byte more is refused
// with ErrItemTooLarge before any write.
func TestEncodeRunSizesTheItemAsStored(t *testing.T) {
	t.Parallel()
	s := newStore(t)
	started := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	run := func(n int) RunRecord {
		return RunRecord{Env: "production", Job: "inbound", ID: "big", Started: started, Finished: started, Error: strings.Repeat("x", n)}
	}
	// The largest error text accepted (one ASCII byte adds one byte).
	n := sort.Search(maxItemBytes, func(n int) bool {
		_, _, err := EncodeRun(run(n))
		return errors.Is(err, ErrItemTooLarge)
	}) - 1
	sk, body, err := EncodeRun(run(n))
	if err != nil {
		t.Fatal(err)
	}
	stored := key(runPK("production", "inbound"), sk)
	stored[attrRun] = str(string(body))
	stored[attrExpires] = expiresAt(s.now().Add(runRetention))
	if got := itemSize(stored); got != maxItemBytes {
		t.Errorf("the largest accepted run is %d bytes as stored, want exactly %d", got, maxItemBytes)
	}
	if err := s.PutRun(t.Context(), run(n)); err != nil {
		t.Errorf("PutRun at the limit: %v", err)
	}
	if _, _, err := EncodeRun(run(n + 1)); !errors.Is(err, ErrItemTooLarge) || !strings.Contains(err.Error(), "big") {
		t.Errorf("a byte over: %v, want ErrItemTooLarge naming the run", err)
	}
}
