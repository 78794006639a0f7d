//go:build race

package mpp_test

// raceEnabled turns the allocation budget test off: the race detector's
// instrumentation allocates.
const raceEnabled = true
