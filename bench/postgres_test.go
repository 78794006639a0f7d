package bench

import (
	"context"
	crand "crypto/rand"
	"encoding/hex"
	"os"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/paycode/paycode/engine/journal/postgres"
)

// openPostgres opens the shared journal on a fresh schema of the database
// at PAYCODE_TEST_POSTGRES (dropped at the end), or skips b.
func openPostgres(b *testing.B) *postgres.Store {
	dsn := os.Getenv("PAYCODE_TEST_POSTGRES")
	if dsn == "" {
		b.Skip("PostgreSQL benchmarks skipped: set PAYCODE_TEST_POSTGRES=postgres://user:pass@127.0.0.1:5432/db (.ci/postgres.sh starts one)")
	}
	var r [6]byte
	_, _ = crand.Read(r[:])
	schema := "paycode_bench_" + hex.EncodeToString(r[:])
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	s, err := postgres.Open(ctx, dsn, postgres.Options{Node: "1", Schema: schema, Logger: quietLog})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() {
		s.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if conn, err := pgx.Connect(ctx, dsn); err == nil {
			conn.Exec(ctx, "DROP SCHEMA IF EXISTS "+pgx.Identifier{schema}.Sanitize()+" CASCADE")
			conn.Close(ctx)
		}
	})
	return s
}
