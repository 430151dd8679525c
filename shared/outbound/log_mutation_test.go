package outbound

import (
	"log/slog"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/pilotsync/pilotsync/shared/identity"
	"github.com/pilotsync/pilotsync/shared/internal/logtest"
	"github.com/pilotsync/pilotsync/shared/store"
	"github.com/pilotsync/pilotsync/shared/store/storetest"
)

// TestPushLogsWhatItCouldNotRecord: a run record or lease release the store
// refuses is logged (the run's report is returned all the same); a release
// of a lease already taken over, and a run whose writes succeed, log no
// such problem.
func TestPushLogsWhatItCouldNotRecord(t *testing.T) {
	for _, tc := range []struct {
		op      string
		err     error
		want    string // "" for none
		notWant []string
	}{
		{"", nil, "", []string{"ERROR outbound: save run record", "WARN outbound: release lease"}},
		{"PutRun", storetest.ErrInjected, "ERROR outbound: save run record", nil},
		{"ReleaseLease", storetest.ErrInjected, "WARN outbound: release lease", nil},
		{"ReleaseLease", store.ErrLeaseLost, "", []string{"WARN outbound: release lease"}},
	} {
		t.Run(tc.op+" "+errString(tc.err), func(t *testing.T) {
			l := &logtest.Recorder{Min: slog.LevelDebug}
			r := newMemRig(t, nil)
			r.push.log = slog.New(l)
			r.put("a", r.ids[0], "plan", "pro")
			r.st.Fail(func(op string) error {
				if op == tc.op {
					return tc.err
				}
				return nil
			})
			rep := r.run()
			if rep.Status != StatusComplete || rep.Totals.Sent != 1 {
				t.Errorf("report %s %+v, want complete", rep.Status, rep.Totals)
			}
			if tc.want != "" && !slices.Contains(l.Lines(), tc.want) {
				t.Errorf("logged %q, want %q", l.Lines(), tc.want)
			}
			for _, s := range tc.notWant {
				if slices.Contains(l.Lines(), s) {
					t.Errorf("logged %q, want no %q", l.Lines(), s)
				}
			}
			if !slices.Contains(l.Lines(), "INFO outbound: run finished") {
				t.Errorf("logged %q, want the run's summary", l.Lines())
			}
		})
	}
}

func errString(err error) string {
	if err == nil {
		return "ok"
	}
	return err.Error()
}

// TestPushKeepsANewerSentValue: when the profile's fresh copy (after a
// version conflict) records a newer value sent to a property than the one
// this run sent, the newer record is kept: what HubSpot last received is
// the newer value, and recording the older one would send the newer again.
func TestPushKeepsANewerSentValue(t *testing.T) {
	r := newMemRig(t, nil)
	r.put("a", r.ids[0], "plan", "pro")
	later := t0.Add(time.Minute)
	once := sync.Once{}
	r.st.Fail(func(op string) error {
		if op != "PutProfiles" {
			return nil
		}
		once.Do(func() {
			// Meanwhile another writer recorded enterprise, set later, as sent.
			p, err := r.st.GetProfile(r.t.Context(), env, store.KindUser, "a")
			if err != nil {
				t.Error(err)
				return
			}
			p.Properties["plan"] = store.Property{Value: "enterprise", At: later}
			p.OutboundHashes = map[string]string{"userpilot_plan": identity.ValueHash("enterprise")}
			p.OutboundAt = map[string]time.Time{"userpilot_plan": later}
			p.Dirty = false
			if err := r.st.PutProfile(r.t.Context(), p); err != nil {
				t.Error(err)
			}
		})
		return nil
	})
	if rep := r.run(); rep.Status != StatusComplete {
		t.Fatalf("report %s %q", rep.Status, rep.Error)
	}
	a := r.user("a")
	if a.OutboundHashes["userpilot_plan"] != identity.ValueHash("enterprise") || !a.OutboundAt["userpilot_plan"].Equal(later) || a.Dirty {
		t.Errorf("a: hashes %v at %v dirty %v, want the newer enterprise kept as sent and nothing left to send", a.OutboundHashes, a.OutboundAt, a.Dirty)
	}
	if len(a.Quarantined) != 0 {
		t.Errorf("a quarantined %v", a.Quarantined)
	}
}
