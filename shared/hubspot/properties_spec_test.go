package hubspot_test

import (
	"context"
	"testing"

	"github.com/pilotsync/pilotsync/shared/hubspot"
	"github.com/pilotsync/pilotsync/shared/hubspot/hubspottest"
)

// TestCreateEnumerationPropertySpec creates an enumeration property with
// options on both API versions: every option carries the fields HubSpot's
// OptionInput requires (hidden, and displayOrder on 2026-03), checked by
// newClient's spec check, and the options keep their order.
func TestCreateEnumerationPropertySpec(t *testing.T) {
	for _, v := range versions {
		t.Run(v, func(t *testing.T) {
			sb := hubspottest.NewTestServer(t, fast(hubspottest.Options{}))
			c := newClient(t, sb, hubspot.WithAPIVersion(v))
			_, err := c.CreateProperty(context.Background(), "contacts", hubspot.Property{
				Name: "up_plan", Label: "Plan", Type: "enumeration", FieldType: "select", GroupName: "contactinformation",
				Options: []hubspot.PropertyOption{{Label: "Free", Value: "free"}, {Label: "Pro", Value: "pro"}},
			})
			if err != nil {
				t.Fatal(err)
			}
			for _, p := range sb.Properties("contacts") {
				if p.Name == "up_plan" && (len(p.Options) != 2 || p.Options[0].Value != "free" || p.Options[1].Value != "pro") {
					t.Errorf("options %+v, want free, pro", p.Options)
				}
			}
		})
	}
}
