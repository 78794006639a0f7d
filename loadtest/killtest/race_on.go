//go:build race

package killtest

// raceEnabled: the harness runs under the race detector (slower), so the
// test drives fewer lanes.
const raceEnabled = true
