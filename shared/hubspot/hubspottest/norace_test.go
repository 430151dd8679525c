//go:build !race

package hubspottest_test

const raceEnabled = false
