package engine

import "time"

// Clock is the engine's source of time. Tests inject a manual clock so
// timeouts, polling and deadlines run instantly and deterministically.
type Clock interface {
	Now() time.Time
	// NewTimer returns a channel that receives after d, and a stop func.
	NewTimer(d time.Duration) (<-chan time.Time, func() bool)
}

// SystemClock is the real clock.
type SystemClock struct{}

// Now returns time.Now().
func (SystemClock) Now() time.Time { return time.Now() }

// NewTimer wraps time.NewTimer.
func (SystemClock) NewTimer(d time.Duration) (<-chan time.Time, func() bool) {
	t := time.NewTimer(d)
	return t.C, t.Stop
}
