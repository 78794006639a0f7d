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
	// SyncWindow: Pebble's WALMinSyncInterval.
	SyncWindow time.Duration
}

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
		j, err := journal.Open(s.Data, journal.Options{Logger: log, WALMinSyncInterval: s.SyncWindow})
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
