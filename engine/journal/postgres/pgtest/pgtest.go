// Package pgtest gives tests and benchmarks the PostgreSQL journal on the
// database at PAYCODE_TEST_POSTGRES (.ci/postgres.sh starts one), each
// test in a schema of its own that is dropped when it ends, so tests and
// packages share one database and run in parallel. Without the variable
// the test is skipped — failed instead when PAYCODE_REQUIRE_SERVICES is
// set, as .ci/run does, so CI cannot pass by skipping.
//
// It imports engine/journal/postgres only (of paycode).
package pgtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/paycode/paycode/engine/journal/postgres"
)

// DSN returns the test database's DSN, or skips tb.
func DSN(tb testing.TB) string {
	tb.Helper()
	d := os.Getenv("PAYCODE_TEST_POSTGRES")
	if d == "" && os.Getenv("PAYCODE_REQUIRE_SERVICES") != "" {
		tb.Fatal("PAYCODE_TEST_POSTGRES is not set, and PAYCODE_REQUIRE_SERVICES says these tests must run (.ci/run sets both)")
	}
	if d == "" {
		tb.Skip("PostgreSQL tests skipped: set PAYCODE_TEST_POSTGRES=postgres://user:pass@127.0.0.1:5432/db (.ci/postgres.sh starts one)")
	}
	return d
}

var schemas sync.Map // testing.TB -> string

// Schema returns tb's own schema name, the same on every call during tb;
// the schema is dropped with everything in it when tb ends.
func Schema(tb testing.TB) string {
	tb.Helper()
	if s, ok := schemas.Load(tb); ok {
		return s.(string)
	}
	var b [6]byte
	_, _ = rand.Read(b[:])
	s := "paycode_test_" + hex.EncodeToString(b[:])
	schemas.Store(tb, s)
	d := DSN(tb)
	tb.Cleanup(func() {
		schemas.Delete(tb)
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		conn, err := pgx.Connect(ctx, d)
		if err != nil {
			tb.Errorf("dropping schema %s: %v", s, err)
			return
		}
		defer conn.Close(ctx)
		if _, err := conn.Exec(ctx, "DROP SCHEMA IF EXISTS "+pgx.Identifier{s}.Sanitize()+" CASCADE"); err != nil {
			tb.Errorf("dropping schema %s: %v", s, err)
		}
	})
	return s
}

// Open opens one node of the journal in tb's schema (opts.Schema is
// set), closed when tb ends. Nodes opened in one test share the schema.
func Open(tb testing.TB, opts postgres.Options) *postgres.Store {
	tb.Helper()
	d := DSN(tb)
	opts.Schema = Schema(tb)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	s, err := postgres.Open(ctx, d, opts)
	if err != nil {
		tb.Fatalf("postgres.Open: %v", err)
	}
	tb.Cleanup(func() { _ = s.Close() })
	return s
}
