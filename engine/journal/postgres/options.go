package postgres

import (
	"errors"
	"log/slog"
	"strconv"
	"strings"
	"time"
)

// Defaults for Options.
const (
	// DefaultLeaseTTL is how long a payment stays leased to its node
	// without a write or a Renew. A node renews well within it (the engine
	// renews at a fraction of it); a dead node's payments are taken over
	// by others after at most this long.
	DefaultLeaseTTL = 10 * time.Second
	// DefaultMaxConns bounds the connection pool. Concurrent synced writes
	// share WAL flushes in PostgreSQL only when they commit on different
	// connections at once, so a pool this size keeps group commit working
	// under load without crowding the server (max_connections is 100 by
	// default).
	DefaultMaxConns = 16
	// MaxNodeLen bounds a node name.
	MaxNodeLen = 128
	// DefaultCallTimeout bounds each journal call (and, on the server,
	// each statement and lock wait: statement_timeout, lock_timeout).
	// serve derives it from the engine's pay timeout (a quarter of it).
	DefaultCallTimeout = time.Second
)

// Options configures the PostgreSQL journal. Node is required; other zero
// fields take their defaults (EnsureDefaults).
type Options struct {
	// Node is this node's name, unique among the nodes sharing the
	// database and stable across its restarts: leases are held by name,
	// and a restarted node takes its own payments back at once (TakeOver).
	Node string
	// LeaseTTL is the lease length, counted on the database's clock.
	LeaseTTL time.Duration
	// MaxConns bounds the connection pool.
	MaxConns int32
	// CallTimeout bounds every call (a caller's sooner deadline wins):
	// past it the call fails with engine.ErrJournalUnavailable. Load is
	// bounded only by its caller. The same value is the session's
	// statement_timeout and lock_timeout, so the server gives up on
	// statements a client gave up on.
	CallTimeout time.Duration
	// Schema, when set, holds the journal's tables (created if missing)
	// instead of the DSN's search_path; tests use one schema each.
	Schema string
	// Logger receives the store's rare events (schema creation, claim
	// retries). Nil means slog.Default().
	Logger *slog.Logger
}

// EnsureDefaults sets every zero field (but Node) to its default.
func (o *Options) EnsureDefaults() {
	if o.LeaseTTL == 0 {
		o.LeaseTTL = DefaultLeaseTTL
	}
	if o.MaxConns == 0 {
		o.MaxConns = DefaultMaxConns
	}
	if o.CallTimeout == 0 {
		o.CallTimeout = DefaultCallTimeout
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
}

// Validate reports the first missing or out-of-range field.
func (o *Options) Validate() error {
	switch {
	case o.Node == "":
		return errors.New("postgres: Options.Node is empty")
	case len(o.Node) > MaxNodeLen || strings.IndexByte(o.Node, 0) >= 0:
		return errors.New("postgres: Options.Node is longer than 128 bytes or holds a NUL")
	case o.LeaseTTL < 0:
		return errors.New("postgres: Options.LeaseTTL is negative")
	case o.LeaseTTL != 0 && o.LeaseTTL < time.Millisecond:
		return errors.New("postgres: Options.LeaseTTL is below 1ms")
	case o.CallTimeout < 0 || (o.CallTimeout != 0 && o.CallTimeout < time.Millisecond):
		return errors.New("postgres: Options.CallTimeout is negative or below 1ms")
	case o.MaxConns < 0:
		return errors.New("postgres: Options.MaxConns is negative")
	case len(o.Schema) > 63 || strings.IndexByte(o.Schema, 0) >= 0:
		return errors.New("postgres: Options.Schema is longer than 63 bytes or holds a NUL")
	}
	return nil
}

// String prints the options (there are no secrets in them; the DSN,
// which may hold a password, is not part of Options).
func (o *Options) String() string {
	return "postgres.Options{Node: " + strconv.Quote(o.Node) +
		", LeaseTTL: " + o.LeaseTTL.String() +
		", MaxConns: " + strconv.Itoa(int(o.MaxConns)) +
		", CallTimeout: " + o.CallTimeout.String() +
		", Schema: " + strconv.Quote(o.Schema) + "}"
}
