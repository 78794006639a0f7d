package bench

import (
	"testing"

	"github.com/paycode/paycode/engine/journal/postgres"
	"github.com/paycode/paycode/engine/journal/postgres/pgtest"
)

// openPostgres opens the shared journal on a fresh schema of the database
// at PAYCODE_TEST_POSTGRES (dropped at the end), or skips b.
func openPostgres(b *testing.B) *postgres.Store {
	return pgtest.Open(b, postgres.Options{Node: "1", Logger: quietLog})
}
