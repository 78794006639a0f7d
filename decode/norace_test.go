//go:build !race

package decode

// raceEnabled lets tests scale down work that the race detector slows
// tenfold, and skip allocation counts that it distorts.
const raceEnabled = false
