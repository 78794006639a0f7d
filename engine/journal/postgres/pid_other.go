//go:build !unix

package postgres

// pidAlive cannot tell here: a holder is taken for alive until its
// heartbeat lapses.
func pidAlive(int) bool { return true }
