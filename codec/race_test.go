//go:build race

package codec_test

// raceEnabled turns the allocation tests off: the race detector's
// instrumentation allocates, as in fasthttp's allocation_test.
const raceEnabled = true
