package outbound

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/pilotsync/pilotsync/shared/hubspot/hubspottest"
	"github.com/pilotsync/pilotsync/shared/identity"
	"github.com/pilotsync/pilotsync/shared/store"
	"github.com/pilotsync/pilotsync/shared/store/storetest"
)

// TestPushUnwrittenRecordsStayDirty: HubSpot answering success without the
// records (a 2xx that wrote nothing) leaves every profile dirty with
// nothing recorded as sent, counted for retry; the next run sends them.
func TestPushUnwrittenRecordsStayDirty(t *testing.T) {
	r := newMemRig(t, nil)
	r.put("a", r.ids[0], "plan", "pro")
	r.put("b", r.ids[1], "plan", "team")
	r.hs.FailNext(hubspottest.EndpointBatchUpdate, hubspottest.FaultEmpty2xx)
	rep := r.run()
	if rep.Totals.Retry != 2 || rep.Totals.Sent != 0 || rep.Status != StatusComplete {
		t.Errorf("report %s %+v, want both counted for retry", rep.Status, rep.Totals)
	}
	for _, id := range []string{"a", "b"} {
		if p := r.user(id); !p.Dirty || len(p.OutboundHashes) != 0 || len(p.Quarantined) != 0 {
			t.Errorf("%s: dirty %v hashes %v quarantined %v, want still dirty with nothing recorded", id, p.Dirty, p.OutboundHashes, p.Quarantined)
		}
	}
	if rep := r.run(); rep.Totals.Sent != 2 || r.record("contacts", r.ids[1])["userpilot_plan"] != "team" || r.user("b").Dirty {
		t.Errorf("next run %+v: not sent", rep.Totals)
	}
}

// TestPushGoneRecordNowUnknown: a record HubSpot reports deleted whose
// profile the linker cannot link again is counted gone and unmatched and
// left alone (its mark cleared until Userpilot changes it): nothing is
// written to any other record.
func TestPushGoneRecordNowUnknown(t *testing.T) {
	r := newMemRig(t, nil)
	r.hs.Archive("contacts", r.ids[0])
	r.put("a", r.ids[0], "plan", "pro")
	r.put("b", r.ids[1], "plan", "team")
	rep := r.run()
	if rep.Totals.Gone != 1 || rep.Totals.Unmatched != 1 || rep.Totals.Sent != 1 || rep.Status != StatusComplete {
		t.Errorf("report %s %+v, want a gone and unmatched, b sent", rep.Status, rep.Totals)
	}
	a := r.user("a")
	if a.Dirty || a.HubSpotID != "" || len(a.OutboundHashes) != 0 {
		t.Errorf("a: dirty %v linked %q hashes %v, want unlinked, clean, nothing sent", a.Dirty, a.HubSpotID, a.OutboundHashes)
	}
	for _, id := range r.ids[1:] {
		if v := r.record("contacts", id)["userpilot_plan"]; id != r.ids[1] && v != "" {
			t.Errorf("record %s got %q", id, v)
		}
	}
}

// TestPushGoneRelinkFailureKeepsTheMark: when linking a gone record's
// profile again fails, the profile stays dirty and the kind reports the
// linker's error; the records sent in the same call are recorded as sent.
func TestPushGoneRelinkFailureKeepsTheMark(t *testing.T) {
	r := newMemRig(t, nil)
	r.push.linker = &failLinker{fakeLinker: r.linker, goneErr: errors.New("search failed")}
	r.hs.Archive("contacts", r.ids[0])
	r.put("a", r.ids[0], "plan", "pro")
	r.put("b", r.ids[1], "plan", "team")
	rep := r.run()
	if !strings.Contains(rep.Objects[0].Error, "re-resolve 1 gone contacts: search failed") || rep.Status != StatusFailed {
		t.Errorf("report %s %q, want the re-link failure", rep.Status, rep.Error)
	}
	if a := r.user("a"); !a.Dirty || len(a.OutboundHashes) != 0 {
		t.Errorf("a: dirty %v hashes %v, want still dirty", a.Dirty, a.OutboundHashes)
	}
	if b := r.user("b"); b.Dirty || b.OutboundHashes["userpilot_plan"] != identity.ValueHash("team") {
		t.Errorf("b: dirty %v hashes %v, want recorded as sent", b.Dirty, b.OutboundHashes)
	}
}

// TestPushAValueRefusedEveryRoundStaysDirty: a record whose values HubSpot
// refuses one property at a time is sent at most maxSendRounds times in a
// run; what was not settled by then stays dirty for the next run, which
// finishes it. The report lists the quarantines sorted.
func TestPushAValueRefusedEveryRoundStaysDirty(t *testing.T) {
	var maps []Mapping
	props := []any{}
	for _, name := range []string{"s1", "s2", "s3"} {
		maps = append(maps, Mapping{Userpilot: name, HubSpot: "userpilot_" + name})
		props = append(props, name, "churned") // not an option
	}
	r := newMemRig(t, []Object{usersPlan(maps...)})
	for _, name := range []string{"s1", "s2", "s3"} {
		r.hs.CreateProperty("contacts", hubspottest.Property{Name: "userpilot_" + name, Label: name, Type: "enumeration", FieldType: "select", GroupName: "pilotsync",
			Options: []hubspottest.PropertyOption{{Label: "Trial", Value: "trial"}}})
	}
	r.put("a", r.ids[0], append(props, "plan", "pro")...)
	rep := r.run()
	if n := r.hs.Count(hubspottest.EndpointBatchUpdate); n != maxSendRounds || rep.Totals.Batches != maxSendRounds {
		t.Errorf("%d batch updates (report %d), want %d", n, rep.Totals.Batches, maxSendRounds)
	}
	var order []string
	for _, q := range rep.Objects[0].Quarantines {
		order = append(order, q.Property)
	}
	if want := []string{"userpilot_s1", "userpilot_s2", "userpilot_s3"}; !slices.Equal(order, want) {
		t.Errorf("quarantines listed %v, want sorted %v", order, want)
	}
	a := r.user("a")
	if !a.Dirty || len(a.Quarantined) != maxSendRounds || r.record("contacts", r.ids[0])["userpilot_plan"] != "" {
		t.Errorf("a: dirty %v quarantined %v, want %d refused and still dirty for the plan", a.Dirty, a.Quarantined, maxSendRounds)
	}
	if rep := r.run(); rep.Totals.Sent != 1 || r.record("contacts", r.ids[0])["userpilot_plan"] != "pro" || r.user("a").Dirty {
		t.Errorf("next run %+v: the plan was not sent", rep.Totals)
	}
}

// TestPushSaveFailures: a store that cannot save what the push did reports
// the kind failed (HubSpot holds the values; the marks stay, so they are sent
// again): a failed write, a profile changed at every attempt, and a failed
// re-read of a changed profile.
func TestPushSaveFailures(t *testing.T) {
	for _, tc := range []struct {
		name  string
		fault func(r *memRig) func(op string) error
		want  string
	}{
		{"write fails", func(r *memRig) func(string) error {
			return func(op string) error {
				if op == "PutProfiles" {
					return storetest.ErrInjected
				}
				return nil
			}
		}, "save 1 users: "},
		{"changed at every attempt", func(r *memRig) func(string) error {
			n := 0
			return func(op string) error {
				if op == "PutProfiles" { // an identify lands just before each write
					n++
					_, err := r.st.MergeIdentify(r.t.Context(), env, store.KindUser, "a", store.IdentifyInput{
						Properties: map[string]any{"seen": float64(n)}, At: t0.Add(time.Duration(n) * time.Minute)})
					if err != nil {
						r.t.Error(err)
					}
				}
				return nil
			}
		}, "save 1 users: "},
		{"re-read fails", func(r *memRig) func(string) error {
			return func(op string) error {
				switch op {
				case "PutProfiles":
					_, err := r.st.MergeIdentify(r.t.Context(), env, store.KindUser, "a", store.IdentifyInput{
						Properties: map[string]any{"seen": 1.0}, At: t0.Add(time.Minute)})
					if err != nil {
						r.t.Error(err)
					}
				case "GetProfile":
					return storetest.ErrInjected
				}
				return nil
			}
		}, "re-read users a: "},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := newMemRig(t, nil)
			r.put("a", r.ids[0], "plan", "pro")
			writes := 0
			fault := tc.fault(r)
			r.st.Fail(func(op string) error {
				if op == "PutProfiles" {
					writes++
				}
				return fault(op)
			})
			rep := r.run()
			if rep.Status != StatusFailed || !strings.Contains(rep.Objects[0].Error, tc.want) {
				t.Errorf("report %s %q, want %q", rep.Status, rep.Error, tc.want)
			}
			if tc.name == "changed at every attempt" && writes != saveAttempts {
				t.Errorf("%d writes, want %d attempts", writes, saveAttempts)
			}
			r.st.Fail(nil)
			if a := r.user("a"); !a.Dirty {
				t.Error("the mark was cleared without the push's outcome saved")
			}
		})
	}
}
