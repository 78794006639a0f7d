package server_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/paycode/paycode/engine/server"
)

// TestRedactDSN: every spelling of a PostgreSQL password that pgx
// accepts is hidden, parseable or not; the rest stays readable.
func TestRedactDSN(t *testing.T) {
	const pw = "Sup3r-Secret_pw"
	tests := []struct{ dsn, want string }{
		{"postgres://paycode:" + pw + "@db:5432/paycode", "postgres://paycode:***@db:5432/paycode"},
		{"postgresql://paycode:" + pw + "@db/paycode?sslmode=require", "postgresql://paycode:***@db/paycode?sslmode=require"},
		{"postgres://paycode@db/paycode?password=" + pw + "&sslmode=disable", "postgres://paycode@db/paycode?password=***&sslmode=disable"},
		{"postgres://db/paycode?sslmode=verify-full&sslpassword=" + pw, "postgres://db/paycode?sslmode=verify-full&sslpassword=***"},
		{"postgres://paycode:" + pw + "@db:bad/paycode", "postgres://paycode:***@db:bad/paycode"},
		{"postgres://paycode:p@ss:" + pw + "@db/paycode", "postgres://paycode:***@db/paycode"},
		{"host=db port=5432 user=paycode password=" + pw + " dbname=paycode", "host=db port=5432 user=paycode password=*** dbname=paycode"},
		{"host=db password = '" + pw + " with spaces' dbname=paycode", "host=db password = *** dbname=paycode"},
		{"password=" + pw, "password=***"},
		{"PASSWORD=" + pw + " host=db", "PASSWORD=*** host=db"},
		{"postgres://paycode@db/paycode", "postgres://paycode@db/paycode"},
		{"http://10.0.0.7:7001", "http://10.0.0.7:7001"},
	}
	for _, tt := range tests {
		got := server.RedactDSN(tt.dsn)
		if got != tt.want {
			t.Errorf("RedactDSN(%q) = %q, want %q", tt.dsn, got, tt.want)
		}
		if strings.Contains(got, "Secret") {
			t.Errorf("RedactDSN(%q) keeps the password: %q", tt.dsn, got)
		}
	}
}

// TestNewDataDirectoryPrivate: a data directory the journal creates is
// its owner's only (0700); one that exists is left as it is.
func TestNewDataDirectoryPrivate(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "paycode-data")
	j, _, err := server.OpenJournal(t.Context(), server.JournalConfig{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	j.(interface{ Close() error }).Close()
	fi, err := os.Stat(dir)
	if err != nil || fi.Mode().Perm() != 0o700 {
		t.Fatalf("new data directory: %v %v, want mode 0700", fi.Mode(), err)
	}
}
