package postgres

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"syscall"
	"testing"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/paycode/paycode/engine"
	"github.com/paycode/paycode/engine/journal"
)

func TestFail(t *testing.T) {
	refused := &net.OpError{Op: "dial", Net: "tcp", Err: syscall.ECONNREFUSED}
	tests := []struct {
		name          string
		err           error
		sent          bool
		unavail, unkn bool
	}{
		{"connection refused", refused, false, true, false},
		{"connection cut after the commit was sent", io.ErrUnexpectedEOF, true, true, true},
		{"deadline", context.DeadlineExceeded, true, true, true},
		{"admin shutdown", &pgconn.PgError{Code: "57P01"}, true, true, true},
		{"cannot connect now", &pgconn.PgError{Code: "57P03"}, false, true, false},
		{"statement timeout", &pgconn.PgError{Code: "57014"}, false, true, false},
		{"lock timeout", &pgconn.PgError{Code: "55P03"}, false, true, false},
		{"too many connections", &pgconn.PgError{Code: "53300"}, false, true, false},
		{"undefined table", &pgconn.PgError{Code: "42P01"}, true, false, false},
		{"invalid", fmt.Errorf("x: %w", journal.ErrInvalid), true, false, false},
		{"lease lost", fmt.Errorf("x: %w", engine.ErrLeaseLost), true, false, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := fail("op", tt.err, tt.sent)
			if got := errors.Is(err, engine.ErrJournalUnavailable); got != tt.unavail {
				t.Errorf("unavailable = %v, want %v (%v)", got, tt.unavail, err)
			}
			if got := errors.Is(err, engine.ErrOutcomeUnknown); got != tt.unkn {
				t.Errorf("outcome unknown = %v, want %v (%v)", got, tt.unkn, err)
			}
			fatal := !tt.unavail && !errors.Is(tt.err, journal.ErrInvalid) && !errors.Is(tt.err, engine.ErrLeaseLost)
			if got := errors.Is(err, engine.ErrJournalFailed); got != fatal {
				t.Errorf("failed = %v, want %v (%v)", got, fatal, err)
			}
		})
	}
}
