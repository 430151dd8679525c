//go:build !race

package lambdatest

// raceBuild is true when the test binary was built with -race: functions are
// then built with -race too (see the package comment).
const raceBuild = false
