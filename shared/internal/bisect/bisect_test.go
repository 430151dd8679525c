package bisect

import (
	"errors"
	"slices"
	"testing"
)

func TestHalvesSendsBothHalvesInOrder(t *testing.T) {
	var got [][]int
	unsent, err := Halves([]int{1, 2, 3, 4, 5}, func(p []int) error { got = append(got, slices.Clone(p)); return nil })
	if err != nil || unsent != nil {
		t.Fatalf("Halves = %v, %v; want nil, nil", unsent, err)
	}
	if want := [][]int{{1, 2}, {3, 4, 5}}; !slices.EqualFunc(got, want, slices.Equal) {
		t.Errorf("sent %v, want %v", got, want)
	}
}

func TestHalvesStopsAfterAFailedFirstHalf(t *testing.T) {
	boom := errors.New("boom")
	calls := 0
	unsent, err := Halves([]int{1, 2, 3, 4}, func(p []int) error { calls++; return boom })
	if !errors.Is(err, boom) || !slices.Equal(unsent, []int{3, 4}) || calls != 1 {
		t.Errorf("Halves = %v, %v after %d calls; want [3 4], boom after 1", unsent, err, calls)
	}
}

func TestHalvesSecondHalfError(t *testing.T) {
	boom := errors.New("boom")
	unsent, err := Halves([]int{1, 2}, func(p []int) error {
		if p[0] == 2 {
			return boom
		}
		return nil
	})
	if !errors.Is(err, boom) || unsent != nil {
		t.Errorf("Halves = %v, %v; want nil, boom", unsent, err)
	}
}

func TestHalvesSmallBatches(t *testing.T) {
	calls := 0
	if _, err := Halves([]int{}, func([]int) error { calls++; return nil }); err != nil || calls != 0 {
		t.Errorf("empty: %v after %d calls, want no call", err, calls)
	}
	boom := errors.New("boom")
	if unsent, err := Halves([]int{7}, func(p []int) error { calls++; return boom }); !errors.Is(err, boom) || unsent != nil || calls != 1 {
		t.Errorf("single: %v, %v after %d calls, want nil, boom after 1", unsent, err, calls)
	}
}
