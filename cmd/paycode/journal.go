package main

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/paycode/paycode/engine"
	"github.com/paycode/paycode/engine/journal"
)

// journalSpec selects the journal: DSN empty means the embedded Pebble
// journal under Data; a postgres:// (or postgresql://) DSN means the
// shared PostgreSQL journal, for several nodes.
type journalSpec struct {
	DSN      string
	Data     string
	Node     int
	LeaseTTL time.Duration
	// SyncWindow: Pebble's WALMinSyncInterval (negative: none).
	SyncWindow time.Duration
}

// DefaultSyncWindow is serve's least time between two WAL fsyncs of the
// Pebble journal. Each pay waits for two synced appends; at a few
// thousand pays/s on a small machine back-to-back fsyncs cover one or two
// appends each and their CPU is a large share of a pay's (issue 16). A
// millisecond's window makes an append that arrives within 1 ms of the
// last fsync wait for the next one with the others that arrived meanwhile:
// up to 1 ms more per synced append, fewer fsyncs, and the same data
// synced before every answer (docs/performance.md, "Group commit").
const DefaultSyncWindow = time.Millisecond

// shared reports whether the spec selects the PostgreSQL journal.
func (s journalSpec) shared() bool {
	return strings.HasPrefix(s.DSN, "postgres://") || strings.HasPrefix(s.DSN, "postgresql://")
}

// openStore opens the journal the spec selects and returns it with the
// key of the code hashes (kept by the journal, so single use holds across
// restarts and, on PostgreSQL, across nodes).
func openStore(ctx context.Context, s journalSpec, log *slog.Logger) (engine.Journal, []byte, error) {
	switch {
	case s.DSN == "":
		j, err := journal.Open(s.Data, journal.Options{Logger: log, WALMinSyncInterval: max(0, s.SyncWindow)})
		if err != nil {
			return nil, nil, err
		}
		return j, j.CodeKey(), nil
	case s.shared():
		return openPostgres(ctx, s, log)
	}
	return nil, nil, fmt.Errorf("journal %q: want empty (Pebble under the data directory) or a postgres:// URL", redactDSN(s.DSN))
}

// redactDSN hides a DSN's password, for messages and `config print`.
func redactDSN(dsn string) string {
	at := strings.LastIndexByte(dsn, '@')
	scheme := strings.Index(dsn, "://")
	if at < 0 || scheme < 0 || at < scheme {
		return dsn
	}
	userinfo := dsn[scheme+3 : at]
	if i := strings.IndexByte(userinfo, ':'); i >= 0 {
		return dsn[:scheme+3] + userinfo[:i] + ":***" + dsn[at:]
	}
	return dsn
}
