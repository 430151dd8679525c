package hubspottest_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"time"

	"github.com/pilotsync/pilotsync/shared/hubspot/hubspottest"
)

// A client test starts a sandbox (in a test, hubspottest.NewTestServer(t, opts)
// does the httptest part and sets s.URL), seeds it, points the client at the URL
// with s.Token(), and then inspects what arrived and what is stored.
func ExampleNew() {
	clk := hubspottest.NewManualClock(time.Date(2026, 11, 27, 10, 0, 0, 0, time.UTC))
	s := hubspottest.New(hubspottest.Options{
		Clock:              clk.Now,
		SearchLag:          2 * time.Second,
		BatchUpdateInvalid: hubspottest.InvalidWhole400,
	})
	ts := httptest.NewServer(s)
	defer ts.Close()
	ids := s.SeedContacts(3, nil)

	req, _ := http.NewRequest("POST", ts.URL+"/crm/objects/2026-03/contacts/batch/update",
		strings.NewReader(`{"inputs":[{"id":"`+ids[0]+`","properties":{"firstname":"Ann"}}]}`))
	req.Header.Set("Authorization", "Bearer "+s.Token())
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		fmt.Println(err)
		return
	}
	resp.Body.Close()

	rec, _ := s.Record("contacts", ids[0])
	fmt.Println(resp.StatusCode, rec.Properties["firstname"], s.Count(hubspottest.EndpointBatchUpdate))
	// Output: 200 Ann 1
}
