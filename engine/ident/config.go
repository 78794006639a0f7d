package ident

import (
	"errors"
	"fmt"
	"strings"
	"time"
)

// Defaults, applied by Config.EnsureDefaults.
const (
	// DefaultTTL is how long a route is cached. Routes change with
	// onboarding, not per payment; Reload drops the cache at once when they
	// do, so the TTL only bounds how stale a remote hub's change can be.
	DefaultTTL = 5 * time.Minute
	// DefaultNegativeTTL is how long "no rule" is cached: short, so a route
	// added at the hub is picked up soon, long enough that a burst of
	// garbage codes does not turn into a burst of hub calls.
	DefaultNegativeTTL = 30 * time.Second
	// DefaultMaxEntries bounds the cache. A key is (length, first 8
	// digits), so real traffic needs a few thousand at most.
	DefaultMaxEntries = 100_000
	// DefaultSourceTimeout bounds one ask of the source, well inside a
	// lane's pay timeout.
	DefaultSourceTimeout = 500 * time.Millisecond
	// DefaultMaxConns caps connections to a remote hub.
	DefaultMaxConns = 16
)

// Config configures an Identifier. The zero value plus EnsureDefaults
// identifies with DefaultRules.
type Config struct {
	// RulesFile is a rules file (see ParseRules); Reload re-reads it.
	// With neither RulesFile nor ServiceURL the built-in DefaultRules apply.
	RulesFile string
	// ServiceURL is a remote identification service (see doc.go), e.g.
	// http://127.0.0.1:9300. Mutually exclusive with RulesFile.
	ServiceURL string
	// TTL of a cached route.
	TTL time.Duration
	// NegativeTTL of a cached "no rule".
	NegativeTTL time.Duration
	// RefreshAhead is how long before a cached route expires a hit starts a
	// background refresh (stale-while-revalidate), so a hot prefix never
	// waits on the source. Zero means TTL/5; negative disables it. It is
	// clamped to half the entry's TTL. Negative entries are not refreshed
	// ahead: they answer codes that are refused anyway.
	RefreshAhead time.Duration
	// MaxEntries bounds the cache (each key costs 1).
	MaxEntries int64
	// SourceTimeout bounds one ask of the source.
	SourceTimeout time.Duration
	// MaxConns caps connections to ServiceURL.
	MaxConns int
	// Clock is the time the cache's TTL decisions use; nil means time.Now.
	// Tests inject a manual clock. It is not data and is not printed.
	Clock func() time.Time
}

// EnsureDefaults fills zero fields with the defaults and returns c.
func (c *Config) EnsureDefaults() *Config {
	if c.TTL == 0 {
		c.TTL = DefaultTTL
	}
	if c.NegativeTTL == 0 {
		c.NegativeTTL = DefaultNegativeTTL
	}
	if c.RefreshAhead == 0 {
		c.RefreshAhead = c.TTL / 5
	}
	if c.MaxEntries == 0 {
		c.MaxEntries = DefaultMaxEntries
	}
	if c.SourceTimeout == 0 {
		c.SourceTimeout = DefaultSourceTimeout
	}
	if c.MaxConns == 0 {
		c.MaxConns = DefaultMaxConns
	}
	return c
}

// Validate reports every problem with c at once; call it after
// EnsureDefaults (New does both).
func (c *Config) Validate() error {
	var errs []error
	bad := func(format string, a ...any) { errs = append(errs, fmt.Errorf("ident: config: "+format, a...)) }
	if c.RulesFile != "" && c.ServiceURL != "" {
		bad("RulesFile and ServiceURL are exclusive")
	}
	if c.ServiceURL != "" {
		if _, err := parseServiceURL(c.ServiceURL); err != nil {
			errs = append(errs, err)
		}
	}
	if c.TTL <= 0 {
		bad("TTL must be positive, got %v", c.TTL)
	}
	if c.NegativeTTL <= 0 {
		bad("NegativeTTL must be positive, got %v", c.NegativeTTL)
	}
	if c.RefreshAhead >= c.TTL && c.TTL > 0 {
		bad("RefreshAhead %v must be shorter than TTL %v", c.RefreshAhead, c.TTL)
	}
	if c.MaxEntries < 1 || c.MaxEntries > 1<<26 {
		bad("MaxEntries must be within 1..%d, got %d", 1<<26, c.MaxEntries)
	}
	if c.SourceTimeout <= 0 {
		bad("SourceTimeout must be positive, got %v", c.SourceTimeout)
	}
	if c.MaxConns < 1 {
		bad("MaxConns must be at least 1, got %d", c.MaxConns)
	}
	return errors.Join(errs...)
}

// String prints the configuration for logs. ServiceURL is printed as
// scheme://host/path only: a query or credentials, invalid anyway, could
// hold a secret.
func (c Config) String() string {
	var b strings.Builder
	src := "default rules"
	switch {
	case c.ServiceURL != "":
		if u, err := parseServiceURL(c.ServiceURL); err == nil {
			src = "service " + u.Scheme + "://" + u.Host + u.Path
		} else {
			src = "service (invalid URL)"
		}
	case c.RulesFile != "":
		src = "file " + c.RulesFile
	}
	fmt.Fprintf(&b, "ident{source: %s, ttl: %v, negativeTTL: %v, refreshAhead: %v, maxEntries: %d, sourceTimeout: %v, maxConns: %d}",
		src, c.TTL, c.NegativeTTL, c.RefreshAhead, c.MaxEntries, c.SourceTimeout, c.MaxConns)
	return b.String()
}
