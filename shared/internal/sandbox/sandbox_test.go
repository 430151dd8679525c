package sandbox

import (
	"net/http"
	"net/http/httptest"
	"testing"
	"time"
)

// fixedSource returns its values in order.
type fixedSource struct{ vals []float64 }

func (f *fixedSource) Float64() float64 {
	v := f.vals[0]
	f.vals = f.vals[1:]
	return v
}

func TestRatesDraw(t *testing.T) {
	rates := Rates{Drop: 0.1, ServerError: 0.2, TooManyRequests: 0.3, Empty2xx: 0.1}
	tests := []struct {
		name     string
		rates    Rates
		draws    []float64
		want     Outcome
		wantSlow bool
	}{
		{"drop", rates, []float64{0.05}, Drop, false},
		{"server error", rates, []float64{0.15}, ServerError, false},
		{"too many requests", rates, []float64{0.59}, TooManyRequests, false},
		{"empty 2xx", rates, []float64{0.65}, Empty2xx, false},
		{"pass", rates, []float64{0.75}, Pass, false},
		{"slow drawn first", Rates{Slow: 0.5, Drop: 0.5}, []float64{0.4, 0.9}, Pass, true},
		{"not slow", Rates{Slow: 0.5, Drop: 0.5}, []float64{0.6, 0.1}, Drop, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src := &fixedSource{vals: tt.draws}
			got, gotSlow := tt.rates.Draw(src)
			if got != tt.want || gotSlow != tt.wantSlow {
				t.Errorf("Draw = %v, slow %v; want %v, slow %v", got, gotSlow, tt.want, tt.wantSlow)
			}
			if len(src.vals) != 0 {
				t.Errorf("%d draws left unused: the draw order changed", len(src.vals))
			}
		})
	}
}

func TestPrune(t *testing.T) {
	t0 := time.Unix(1000, 0)
	hits := []time.Time{t0, t0.Add(time.Second), t0.Add(2 * time.Second)}
	got := Prune(hits, t0.Add(11*time.Second), 10*time.Second)
	if len(got) != 1 || !got[0].Equal(t0.Add(2*time.Second)) {
		t.Errorf("Prune = %v, want only the hit at t0+2s (t0+1s is exactly at the window's edge)", got)
	}
}

func TestStatusWriter(t *testing.T) {
	tests := []struct {
		name  string
		write func(w http.ResponseWriter)
		want  int
	}{
		{"explicit", func(w http.ResponseWriter) { w.WriteHeader(http.StatusAccepted); w.WriteHeader(http.StatusOK) }, http.StatusAccepted},
		{"implicit", func(w http.ResponseWriter) { _, _ = w.Write([]byte("x")) }, http.StatusOK},
		{"nothing", func(http.ResponseWriter) {}, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sw := &StatusWriter{ResponseWriter: httptest.NewRecorder()}
			tt.write(sw)
			if sw.Status != tt.want {
				t.Errorf("Status = %d, want %d", sw.Status, tt.want)
			}
		})
	}
}

type req struct {
	n      int
	status int
}

func TestLog(t *testing.T) {
	l := NewLog(4, func(r *req, s int) { r.status = s })
	var last *req
	for i := range 5 {
		last = &req{n: i}
		l.Add("a", last)
	}
	l.Finish(last, http.StatusTeapot)
	got := l.Requests()
	// The fifth request found the log full: the older half (0, 1) went.
	if len(got) != 3 || got[0].n != 2 || got[2].n != 4 || got[2].status != http.StatusTeapot {
		t.Errorf("Requests = %+v, want 2, 3 and 4 (answered 418)", got)
	}
	if got, want := l.Count("a"), 5; got != want {
		t.Errorf("Count = %d, want %d", got, want)
	}
	if got, want := l.StatusCount(http.StatusTeapot), 1; got != want {
		t.Errorf("StatusCount = %d, want %d", got, want)
	}
	l.Reset()
	l.Finish(last, http.StatusOK) // answered after the reset: counts its status only
	if n := len(l.Requests()); n != 0 || l.Count("a") != 0 || l.StatusCount(http.StatusOK) != 1 {
		t.Errorf("after Reset: %d requests, count %d, 200s %d; want 0, 0, 1", n, l.Count("a"), l.StatusCount(http.StatusOK))
	}
}

func TestFaultDefaults(t *testing.T) {
	f := Fault{Rate5xx: 0.5, RateSlow: 0.25}
	if got := f.Delay(); got != DefaultSlow {
		t.Errorf("Delay() = %s, want %s", got, DefaultSlow)
	}
	if got := (Fault{Slow: time.Second}).Delay(); got != time.Second {
		t.Errorf("Delay() = %s, want 1s", got)
	}
	if got, want := f.Rates(), (Rates{ServerError: 0.5, Slow: 0.25}); got != want {
		t.Errorf("Rates() = %+v, want %+v", got, want)
	}
}
