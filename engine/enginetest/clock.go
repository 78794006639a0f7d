// Package enginetest holds test helpers for code that drives an engine: a
// manual clock, and a static identifier.
package enginetest

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/paycode/paycode/codec"
	"github.com/paycode/paycode/engine"
)

// ManualClock is an engine.Clock that moves only when told to. Timers fire
// when Advance passes their time. Safe for concurrent use.
type ManualClock struct {
	mu     sync.Mutex
	now    time.Time
	timers []*manualTimer
}

type manualTimer struct {
	at time.Time
	ch chan time.Time
}

// NewManualClock starts at t.
func NewManualClock(t time.Time) *ManualClock { return &ManualClock{now: t} }

// Now returns the clock's time.
func (c *ManualClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// NewTimer returns a channel that receives once the clock reaches now+d.
func (c *ManualClock) NewTimer(d time.Duration) (<-chan time.Time, func() bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	t := &manualTimer{at: c.now.Add(d), ch: make(chan time.Time, 1)}
	if d <= 0 {
		t.ch <- c.now
		return t.ch, func() bool { return false }
	}
	c.timers = append(c.timers, t)
	return t.ch, func() bool {
		c.mu.Lock()
		defer c.mu.Unlock()
		for i, x := range c.timers {
			if x == t {
				c.timers = append(c.timers[:i], c.timers[i+1:]...)
				return true
			}
		}
		return false
	}
}

// Advance moves the clock by d and fires the timers that are due.
func (c *ManualClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
	kept := c.timers[:0]
	for _, t := range c.timers {
		if !t.at.After(c.now) {
			t.ch <- c.now
			continue
		}
		kept = append(kept, t)
	}
	c.timers = kept
}

var _ engine.Clock = (*ManualClock)(nil)

// StaticIdentifier routes by fixed 6-digit prefixes, for tests that do not
// exercise identification itself. Like engine/ident, it refuses a code of
// an unroutable class (engine.ErrUnroutable) without a lookup.
type StaticIdentifier map[string]string

// Identify returns the wallet for the code's first 6 digits.
func (s StaticIdentifier) Identify(_ context.Context, code *codec.Code) (string, error) {
	if !code.Class().Routable() {
		return "", fmt.Errorf("%w (%w)", engine.ErrUnroutable, engine.ErrNoIssuer)
	}
	if w, ok := s[string(code.Prefix(6))]; ok {
		return w, nil
	}
	return "", engine.ErrNoIssuer
}

var _ engine.Identifier = StaticIdentifier(nil)
