package mppsim

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/paycode/paycode/engine/sign"
)

// Defaults.
const (
	// DefaultPasswordDelay is how long a user takes to enter a password
	// (codes ending 80–86).
	DefaultPasswordDelay = 2 * time.Second
	// DefaultHangFor is how long a "response never arrives" pay (codes
	// ending 92–93) is held before the connection is closed: longer than
	// any sane client timeout, so the client gives up first.
	DefaultHangFor = 10 * time.Second
	// LedgerPath serves the ledger as JSON (GET).
	LedgerPath = "/sim/ledger"
	// MaxBodySize bounds request bodies; wallet messages are far smaller.
	MaxBodySize = 64 << 10
)

// z99 is the standard normal quantile of 0.99.
const z99 = 2.3263478740408408

// Latency is a wallet's time to answer: log-normal with the given median
// and 99th percentile (sigma = ln(P99/Median) / z0.99), clamped to
// [Min, Max]. Real service times are skewed this way: most answers near the
// median, a long right tail. The zero value means no delay. P99 at or below
// Median gives a constant Median; Max 0 means no upper clamp.
type Latency struct {
	Min, Median, P99, Max time.Duration
}

// TypicalLatency is a plausible wallet on a good day, for load runs: 120 ms
// median, 900 ms p99, never under 30 ms or over 4 s.
func TypicalLatency() Latency {
	return Latency{Min: 30 * time.Millisecond, Median: 120 * time.Millisecond, P99: 900 * time.Millisecond, Max: 4 * time.Second}
}

// Validate checks the ordering Min ≤ Median ≤ P99 ≤ Max of the set values.
func (l Latency) Validate() error {
	switch {
	case l.Min < 0 || l.Median < 0 || l.P99 < 0 || l.Max < 0:
		return errors.New("mppsim: latency values must not be negative")
	case l.Median > 0 && l.Min > l.Median:
		return errors.New("mppsim: latency Min is above Median")
	case l.P99 > 0 && l.P99 < l.Median:
		return errors.New("mppsim: latency P99 is below Median")
	case l.Max > 0 && (l.Max < l.Min || l.Max < l.Median):
		return errors.New("mppsim: latency Max is below Min or Median")
	}
	return nil
}

// At maps a standard normal draw z to a delay.
func (l Latency) At(z float64) time.Duration {
	d := l.Min
	if l.Median > 0 {
		mu := math.Log(float64(l.Median))
		sigma := 0.0
		if l.P99 > l.Median {
			sigma = (math.Log(float64(l.P99)) - mu) / z99
		}
		d = max(time.Duration(math.Exp(mu+sigma*z)), l.Min)
	}
	if l.Max > 0 && d > l.Max {
		d = l.Max
	}
	return d
}

// WalletConfig is one simulated wallet.
type WalletConfig struct {
	Name          string        // routing name; also the default PSPID and Brand
	PSPID         string        // pspId in answers
	Brand         string        // walletBrandName in answers
	Latency       Latency       // time to answer each request
	PasswordDelay time.Duration // codes ending 80–86; DefaultPasswordDelay when 0
	HangFor       time.Duration // codes ending 92–93; DefaultHangFor when 0
	// Verifier, when set, holds paycode's public key: every request must
	// carry a valid RSA256 signature (within sign.DefaultWindow of the
	// real time) or is answered F INVALID_SIGNATURE, HTTP 200, unprocessed.
	Verifier *sign.Verifier
	// Signer, when set, signs every answer (client-id echoed,
	// response-time, signature), as an Alipay+ partner does. Both nil is
	// the cheap mode: load runs then measure paycode, not the simulator.
	Signer *sign.Signer
}

// WithDefaults fills the zero fields.
func (c WalletConfig) WithDefaults() WalletConfig {
	if c.PSPID == "" {
		c.PSPID = c.Name
	}
	if c.Brand == "" {
		c.Brand = c.Name
	}
	if c.PasswordDelay == 0 {
		c.PasswordDelay = DefaultPasswordDelay
	}
	if c.HangFor == 0 {
		c.HangFor = DefaultHangFor
	}
	return c
}

// Validate reports the first problem of c.
func (c WalletConfig) Validate() error {
	switch {
	case c.Name == "" || strings.ContainsAny(c.Name, "/ \t\n"):
		return fmt.Errorf("mppsim: wallet name %q must be non-empty, without spaces or slashes", c.Name)
	case c.PasswordDelay < 0 || c.HangFor < 0:
		return fmt.Errorf("mppsim: wallet %s: PasswordDelay and HangFor must not be negative", c.Name)
	}
	if err := c.Latency.Validate(); err != nil {
		return fmt.Errorf("mppsim: wallet %s: %w", c.Name, err)
	}
	return nil
}

// Config is a set of simulated wallets and the world they run in.
type Config struct {
	Wallets []WalletConfig
	// Seed makes latency draws and ids reproducible.
	Seed int64
	// Now is the clock for payment times and the password delay
	// (time.Now when nil). Tests move it to drive password payments.
	Now func() time.Time
	// Sleep waits d or until ctx is done (a timer when nil). Tests replace
	// it so latency and hangs cost no wall time, or to observe them.
	Sleep func(ctx context.Context, d time.Duration)
}

// WithDefaults fills the zero fields of c and of its wallets.
func (c Config) WithDefaults() Config {
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.Sleep == nil {
		c.Sleep = SleepContext
	}
	ws := make([]WalletConfig, len(c.Wallets))
	for i, w := range c.Wallets {
		ws[i] = w.WithDefaults()
	}
	c.Wallets = ws
	return c
}

// Validate checks every wallet and that names are unique.
func (c Config) Validate() error {
	if len(c.Wallets) == 0 {
		return errors.New("mppsim: no wallets configured")
	}
	seen := make(map[string]bool, len(c.Wallets))
	for _, w := range c.Wallets {
		if err := w.Validate(); err != nil {
			return err
		}
		if seen[w.Name] {
			return fmt.Errorf("mppsim: wallet name %s is used twice", w.Name)
		}
		seen[w.Name] = true
	}
	return nil
}

// String prints c for logs (it holds no secrets).
func (c Config) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "mppsim.Config{Seed: %d, Wallets: [", c.Seed)
	for i, w := range c.Wallets {
		if i > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "{%s latency=%v/%v/%v/%v password=%v hang=%v verify=%t sign=%t}",
			w.Name, w.Latency.Min, w.Latency.Median, w.Latency.P99, w.Latency.Max, w.PasswordDelay, w.HangFor, w.Verifier != nil, w.Signer != nil)
	}
	b.WriteString("]}")
	return b.String()
}

// SleepContext waits d, or until ctx is done. It is the default Sleep.
func SleepContext(ctx context.Context, d time.Duration) {
	if d <= 0 {
		return
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
	case <-ctx.Done():
	}
}
