package mpp

import (
	"fmt"
	"time"

	"github.com/sony/gobreaker/v2"

	"github.com/paycode/paycode/engine"
)

// Breaker defaults. A wallet that fails DefaultBreakerConsecutive calls in
// a row, or DefaultBreakerFailureRatio of at least DefaultBreakerMinCalls
// calls within DefaultBreakerWindow, is cut off for
// DefaultBreakerOpenTimeout; then DefaultBreakerProbes calls go through,
// and the breaker closes when they all succeed (one failure reopens it).
const (
	DefaultBreakerConsecutive  = 10
	DefaultBreakerFailureRatio = 0.5
	DefaultBreakerMinCalls     = 20
	DefaultBreakerWindow       = 10 * time.Second
	DefaultBreakerOpenTimeout  = 5 * time.Second
	DefaultBreakerProbes       = 3
)

// BreakerConfig is a wallet's circuit breaker. Only failures that say the
// wallet is unhealthy count: timeouts, connection failures and HTTP 5xx.
// Business answers (any result F), 4xx and unreadable answers count as
// successes — the wallet is up and answering — and calls that were never
// sent for our own reasons (in-flight limit, context done) are ignored.
//
// While the breaker is open, every call fails at once with ErrBreakerOpen
// and ErrNotSent: a pay is then closed by the engine without reaching the
// wallet, and follow-up calls are retried on the follow-up schedule.
type BreakerConfig struct {
	// Disabled turns the breaker off: every call is made.
	Disabled bool
	// Consecutive failures in a row open the breaker.
	Consecutive uint32
	// FailureRatio of the calls in Window, once there are at least
	// MinCalls of them, opens the breaker.
	FailureRatio float64
	MinCalls     uint32
	// Window is the rolling window of FailureRatio (ten buckets).
	Window time.Duration
	// OpenTimeout is how long the breaker stays open before it lets
	// Probes calls through (half-open).
	OpenTimeout time.Duration
	// Probes is how many calls half-open lets through; all must succeed
	// to close the breaker.
	Probes uint32
}

// WithDefaults fills the zero fields.
func (b BreakerConfig) WithDefaults() BreakerConfig {
	if b.Consecutive == 0 {
		b.Consecutive = DefaultBreakerConsecutive
	}
	if b.FailureRatio == 0 {
		b.FailureRatio = DefaultBreakerFailureRatio
	}
	if b.MinCalls == 0 {
		b.MinCalls = DefaultBreakerMinCalls
	}
	if b.Window == 0 {
		b.Window = DefaultBreakerWindow
	}
	if b.OpenTimeout == 0 {
		b.OpenTimeout = DefaultBreakerOpenTimeout
	}
	if b.Probes == 0 {
		b.Probes = DefaultBreakerProbes
	}
	return b
}

// Validate reports the first problem of b (after WithDefaults).
func (b BreakerConfig) Validate() error {
	switch {
	case b.Disabled:
		return nil
	case b.FailureRatio <= 0 || b.FailureRatio > 1:
		return fmt.Errorf("breaker FailureRatio %v is not in (0, 1]", b.FailureRatio)
	case b.Window < 10*time.Millisecond:
		return fmt.Errorf("breaker Window %v is under 10ms", b.Window)
	case b.OpenTimeout <= 0:
		return fmt.Errorf("breaker OpenTimeout %v is not positive", b.OpenTimeout)
	}
	return nil
}

func (b BreakerConfig) String() string {
	if b.Disabled {
		return "off"
	}
	return fmt.Sprintf("%d in a row or %.0f%% of >=%d in %v, open %v, %d probes",
		b.Consecutive, b.FailureRatio*100, b.MinCalls, b.Window, b.OpenTimeout, b.Probes)
}

// BreakerState is where a wallet's circuit breaker is; the values are the
// paycode_wallet_breaker_state gauge's.
type BreakerState uint8

// Breaker states.
const (
	BreakerClosed   BreakerState = 0 // calls go through
	BreakerHalfOpen BreakerState = 1 // a few probe calls go through
	BreakerOpen     BreakerState = 2 // calls fail at once, not sent
)

func (s BreakerState) String() string {
	switch s {
	case BreakerClosed:
		return "closed"
	case BreakerHalfOpen:
		return "half-open"
	case BreakerOpen:
		return "open"
	}
	return "invalid"
}

// BreakerState is the wallet's circuit breaker state now (closed when the
// breaker is disabled).
func (c *Client) BreakerState() BreakerState {
	if c.cb == nil {
		return BreakerClosed
	}
	switch c.cb.State() {
	case gobreaker.StateHalfOpen:
		return BreakerHalfOpen
	case gobreaker.StateOpen:
		return BreakerOpen
	}
	return BreakerClosed
}

func newBreaker(name string, b BreakerConfig) *gobreaker.CircuitBreaker[engine.WalletResult] {
	if b.Disabled {
		return nil
	}
	return gobreaker.NewCircuitBreaker[engine.WalletResult](gobreaker.Settings{
		Name:         name,
		MaxRequests:  b.Probes,
		Interval:     b.Window,
		BucketPeriod: b.Window / 10,
		Timeout:      b.OpenTimeout,
		ReadyToTrip: func(n gobreaker.Counts) bool {
			if n.ConsecutiveFailures >= b.Consecutive {
				return true
			}
			valid := n.Requests - n.TotalExclusions
			return valid >= b.MinCalls && float64(n.TotalFailures) >= b.FailureRatio*float64(valid)
		},
		IsExcluded:   func(err error) bool { return breakerVerdict(err) == verdictIgnore },
		IsSuccessful: func(err error) bool { return breakerVerdict(err) == verdictHealthy },
	})
}

type verdict uint8

const (
	verdictHealthy verdict = iota
	verdictUnhealthy
	verdictIgnore
)

// breakerVerdict says what a call's error tells of the wallet's health.
func breakerVerdict(err error) verdict {
	if err == nil {
		return verdictHealthy
	}
	switch k := KindOf(err); k {
	case KindTimeout, KindTransport, KindConnect:
		return verdictUnhealthy
	case KindHTTP:
		if e, ok := err.(*Error); ok && e.Status >= 500 {
			return verdictUnhealthy
		}
		return verdictHealthy
	case KindRefused:
		return verdictHealthy
	}
	return verdictIgnore // busy, not sent, bad answer: nothing certain about the wallet
}

// call runs f (one wallet operation) through the breaker and reports it to
// the observer. A rejection by the breaker is an *Error with ErrNotSent.
func (c *Client) call(o Op, f func() (engine.WalletResult, error)) (res engine.WalletResult, err error) {
	obs := c.observer()
	start := time.Now()
	if obs != nil {
		obs.CallStarted(o)
	}
	if c.cb == nil {
		res, err = f()
	} else {
		res, err = c.cb.Execute(f)
		if err == gobreaker.ErrOpenState || err == gobreaker.ErrTooManyRequests {
			err = &Error{Wallet: c.cfg.Name, Op: opNames[o], NotSent: true, Kind: ErrBreakerOpen}
		}
	}
	if obs != nil {
		obs.CallFinished(o, time.Since(start), KindOf(err))
	}
	return res, err
}
