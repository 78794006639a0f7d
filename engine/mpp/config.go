package mpp

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"strings"
	"time"

	"github.com/paycode/paycode/codec"
	"github.com/paycode/paycode/engine/sign"
)

// Defaults.
const (
	// DefaultMaxConns is each wallet's connection pool size.
	DefaultMaxConns = 256
	// DefaultTimeout bounds one wallet call. Lanes expect a pay answer
	// within ~5 s (spec §5.1); 3 s leaves room to journal and answer U.
	DefaultTimeout = 3 * time.Second
	// MaxResponseBodySize bounds a wallet's answer; real ones are < 2 KiB.
	MaxResponseBodySize = 64 << 10
)

// Config is one wallet's connector.
type Config struct {
	// Name is the wallet's routing name, as Identifier returns it.
	Name string
	// BaseURL is where the wallet API lives: scheme, host, port and an
	// optional path prefix, e.g. http://127.0.0.1:9001. The API paths of
	// codec (MPPPayPath…) are appended to it.
	BaseURL string
	// MaxConns is the connection pool size. Defaults to MaxInFlight, or
	// DefaultMaxConns when both are 0.
	MaxConns int
	// MaxInFlight bounds concurrent calls; a call waits for a slot until
	// its deadline. Defaults to MaxConns. It may not exceed MaxConns: with
	// HTTP/1.1 each call needs its own connection, and a call queued inside
	// the pool could not be told apart from a sent one when it timed out.
	MaxInFlight int
	// Timeout bounds each call, slot wait included (DefaultTimeout when 0).
	Timeout time.Duration
	// AcquirerID and PSPID go into every pay request.
	AcquirerID, PSPID string
	// Dial, when set, opens connections instead of TCP (tests dial an
	// in-memory listener). timeout is what is left of the call.
	Dial func(addr string, timeout time.Duration) (net.Conn, error)
	// Signer, when set, signs every request with paycode's key (the
	// Alipay+ scheme, spec §7) under the client-id ClientID, and Verifier
	// (the wallet's public keys) must then verify every answer: an answer
	// without a valid signature is ErrBadAnswer (outcome unknown, settled
	// by inquiry). Both nil is the wallet's "none" policy.
	Signer   *sign.Signer
	Verifier *sign.Verifier
	ClientID string
	// Breaker is the wallet's circuit breaker (breaker.go); on with the
	// defaults when zero.
	Breaker BreakerConfig
}

// WithDefaults fills the zero fields.
func (c Config) WithDefaults() Config {
	switch {
	case c.MaxConns == 0 && c.MaxInFlight == 0:
		c.MaxConns, c.MaxInFlight = DefaultMaxConns, DefaultMaxConns
	case c.MaxConns == 0:
		c.MaxConns = c.MaxInFlight
	case c.MaxInFlight == 0:
		c.MaxInFlight = c.MaxConns
	}
	if c.Timeout == 0 {
		c.Timeout = DefaultTimeout
	}
	c.BaseURL = strings.TrimSuffix(c.BaseURL, "/")
	c.Breaker = c.Breaker.WithDefaults()
	return c
}

// Validate reports the first problem of c (call it after WithDefaults).
func (c Config) Validate() error {
	if c.Name == "" {
		return errors.New("mpp: config: Name is empty")
	}
	if _, _, err := c.endpoint(); err != nil {
		return err
	}
	switch {
	case c.MaxConns < 1 || c.MaxInFlight < 1:
		return fmt.Errorf("mpp: config %s: MaxConns and MaxInFlight must be at least 1", c.Name)
	case c.MaxInFlight > c.MaxConns:
		return fmt.Errorf("mpp: config %s: MaxInFlight %d exceeds MaxConns %d", c.Name, c.MaxInFlight, c.MaxConns)
	case c.Timeout <= 0:
		return fmt.Errorf("mpp: config %s: Timeout must be positive", c.Name)
	case c.AcquirerID == "" || c.PSPID == "":
		return fmt.Errorf("mpp: config %s: AcquirerID and PSPID are required", c.Name)
	case len(c.AcquirerID) > codec.MaxShortFieldLen || len(c.PSPID) > codec.MaxShortFieldLen:
		return fmt.Errorf("mpp: config %s: AcquirerID and PSPID are limited to %d bytes", c.Name, codec.MaxShortFieldLen)
	case (c.Signer == nil) != (c.Verifier == nil):
		return fmt.Errorf("mpp: config %s: signing needs both paycode's private key and the wallet's public key", c.Name)
	case c.Signer != nil && (c.ClientID == "" || len(c.ClientID) > codec.MaxClientIDLen):
		return fmt.Errorf("mpp: config %s: signing needs a ClientID of 1 to %d bytes", c.Name, codec.MaxClientIDLen)
	}
	if err := c.Breaker.Validate(); err != nil {
		return fmt.Errorf("mpp: config %s: %w", c.Name, err)
	}
	return nil
}

// endpoint parses BaseURL into the dial address (host:port) and TLS flag.
func (c Config) endpoint() (addr string, tls bool, err error) {
	u, err := url.Parse(c.BaseURL)
	if err != nil || u.Host == "" || u.RawQuery != "" || u.Fragment != "" || u.User != nil {
		return "", false, fmt.Errorf("mpp: config %s: BaseURL %q is not scheme://host[:port][/prefix]", c.Name, RedactURL(c.BaseURL))
	}
	switch u.Scheme {
	case "http":
	case "https":
		tls = true
	default:
		return "", false, fmt.Errorf("mpp: config %s: BaseURL scheme must be http or https", c.Name)
	}
	addr = u.Host
	if u.Port() == "" {
		addr = net.JoinHostPort(u.Hostname(), map[bool]string{false: "80", true: "443"}[tls])
	}
	return addr, tls, nil
}

// RedactURL is raw for errors and logs: its user-info (a password, or a
// token as the user name), query and fragment replaced or dropped, and
// nothing of it when it does not parse (it may still hold a password).
// A URL without // (https:user:pw@host) or with an empty host
// (https:///user:pw@host) parses with its user-info in the opaque part or
// the path: what precedes their last @ is replaced too.
func RedactURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "(not a URL)"
	}
	if u.User != nil {
		u.User = url.User("xxxxx")
	}
	u.Opaque = redactUserInfo(u.Opaque)
	if u.Host == "" {
		u.Path, u.RawPath = redactUserInfo(u.Path), ""
	}
	u.RawQuery, u.ForceQuery, u.Fragment, u.RawFragment = "", false, "", ""
	return u.String()
}

// redactUserInfo replaces what precedes s's last @, if any.
func redactUserInfo(s string) string {
	if i := strings.LastIndexByte(s, '@'); i >= 0 {
		return "xxxxx" + s[i:]
	}
	return s
}

// String prints c for logs; it holds no secrets (BaseURL as RedactURL
// prints it).
func (c Config) String() string {
	dial := "tcp"
	if c.Dial != nil {
		dial = "custom"
	}
	signing := "none"
	if c.Signer != nil {
		signing = "rsa256 as " + c.ClientID
	}
	return fmt.Sprintf("mpp.Config{Name: %s, BaseURL: %s, MaxConns: %d, MaxInFlight: %d, Timeout: %v, AcquirerID: %s, PSPID: %s, Dial: %s, Signing: %s, Breaker: %s}",
		c.Name, RedactURL(c.BaseURL), c.MaxConns, c.MaxInFlight, c.Timeout, c.AcquirerID, c.PSPID, dial, signing, c.Breaker)
}
