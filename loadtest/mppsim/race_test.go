//go:build race

package mppsim_test

// raceEnabled turns the allocation tests off: the race detector's
// instrumentation allocates.
const raceEnabled = true
