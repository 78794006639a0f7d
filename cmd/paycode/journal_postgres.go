package main

import (
	"context"
	"log/slog"
	"strconv"

	"github.com/paycode/paycode/engine"
	"github.com/paycode/paycode/engine/journal/postgres"
)

// openPostgres opens the shared PostgreSQL journal as node s.Node. The
// tables live in the DSN's search_path (add &search_path=NAME to use a
// schema of one's own).
func openPostgres(ctx context.Context, s journalSpec, log *slog.Logger) (engine.Journal, []byte, error) {
	st, err := postgres.Open(ctx, s.DSN, postgres.Options{Node: strconv.Itoa(s.Node), LeaseTTL: s.LeaseTTL, Logger: log})
	if err != nil {
		return nil, nil, err
	}
	return st, st.CodeKey(), nil
}
