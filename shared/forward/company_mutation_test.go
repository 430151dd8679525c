package forward

import (
	"context"
	"testing"

	"github.com/pilotsync/pilotsync/shared/config"
	"github.com/pilotsync/pilotsync/shared/store"
)

// TestIdentifyCompanyMarksMappedChangesDirty (issue 14 item 9): an
// identify_company that changes a property mapped to HubSpot companies marks
// the company profile dirty for the outbound push; one changing only
// unmapped properties does not, and the users' mapping is not the
// companies' (a user property of the same name does not count).
func TestIdentifyCompanyMarksMappedChangesDirty(t *testing.T) {
	cfg := testConfig() // users map "plan"
	cfg.Mapping.Companies.Outbound = []config.PropertyMapping{{HubSpot: "tier", Userpilot: "tier"}}
	e := newEnv(t, cfg)
	batch := msgs(
		rec("identify_company", "c1", "", "company_id", "co1", "metadata", `{"tier":"gold"}`),
		rec("identify_company", "c2", "", "company_id", "co2", "metadata", `{"color":"red"}`),
		rec("identify_company", "c3", "", "company_id", "co3", "metadata", `{"plan":"pro"}`),
		rec("identify_user", "u1", "u1", "metadata", `{"tier":"gold"}`),
	)
	if _, err := e.f.Process(context.Background(), batch); err != nil {
		t.Fatal(err)
	}
	want := map[string]bool{"co1": true, "co2": false, "co3": false}
	for id, dirty := range want {
		p := e.st.profile("production", store.KindCompany, id)
		if p == nil {
			t.Errorf("company %s not stored", id)
			continue
		}
		if p.Dirty != dirty {
			t.Errorf("company %s (%v) dirty %v, want %v", id, p.Properties, p.Dirty, dirty)
		}
	}
	if p := e.st.profile("production", store.KindUser, "u1"); p == nil || p.Dirty {
		t.Errorf("user u1 %+v, want stored and not dirty (tier is mapped for companies only)", p)
	}
}
