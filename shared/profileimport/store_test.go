package profileimport

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/pilotsync/pilotsync/shared/store"
	"github.com/pilotsync/pilotsync/shared/store/storetest"
)

// TestImportIntoDynamoDB imports through the real store: profiles, match
// lookups and dirty marks land; an identify event newer than the export
// wins; a re-import writes nothing.
func TestImportIntoDynamoDB(t *testing.T) {
	ctx := context.Background()
	st := storetest.FreshTable(t)
	var b strings.Builder
	b.WriteString("user_id,email,plan,company_id\n")
	const n = 1_000
	for i := range n {
		fmt.Fprintf(&b, "u%d, User%d@Example.com ,free,c%d\n", i, i, i%10)
	}
	file := b.String()

	// An identify event for u1 arrives before the import but is newer than
	// the export.
	if _, err := st.MergeIdentify(ctx, "production", store.KindUser, "u1", store.IdentifyInput{
		Properties: map[string]any{"plan": "pro"}, At: t0.Add(time.Hour), MatchProperty: "email"}); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	got, err := Import(ctx, st, strings.NewReader(file), "users.csv", userOpts())
	t.Logf("import took %s", time.Since(start))
	if err != nil {
		t.Fatal(err)
	}
	if want := (Result{Format: FormatCSV, Rows: n, Created: n - 1, Updated: 1}); fmt.Sprint(*got) != fmt.Sprint(want) {
		t.Errorf("import: got %+v, want %+v", *got, want)
	}
	p, err := st.GetProfile(ctx, "production", store.KindUser, "u1")
	if err != nil {
		t.Fatal(err)
	}
	if p.Properties["plan"].Value != "pro" || p.Properties["email"].Value != " User1@Example.com " || p.MatchValue != "user1@example.com" || p.CompanyID != "c1" {
		t.Errorf("u1 = %+v, want the newer plan kept and the export's email and company", p)
	}
	ids, err := st.LookupByMatch(ctx, "production", store.KindUser, []string{"user7@example.com"})
	if err != nil || strings.Join(ids["user7@example.com"], ",") != "u7" {
		t.Errorf("lookup user7 = %v (%v), want u7", ids, err)
	}
	dirty := 0
	for _, err := range st.DirtyProfiles(ctx, "production", store.KindUser) {
		if err != nil {
			t.Fatal(err)
		}
		dirty++
	}
	if dirty != n-1 {
		t.Errorf("%d dirty profiles, want %d (plan is outbound; u1's older plan changed nothing)", dirty, n-1)
	}

	start = time.Now()
	got, err = Import(ctx, st, strings.NewReader(file), "users.csv", userOpts())
	t.Logf("re-import took %s", time.Since(start))
	if err != nil {
		t.Fatal(err)
	}
	if want := (Result{Format: FormatCSV, Rows: n, Unchanged: n}); fmt.Sprint(*got) != fmt.Sprint(want) {
		t.Errorf("re-import: got %+v, want %+v", *got, want)
	}
}
