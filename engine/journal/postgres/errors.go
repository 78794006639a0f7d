package postgres

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/paycode/paycode/engine"
	"github.com/paycode/paycode/engine/journal"
)

// transient reports whether err is the database being unreachable,
// restarting or slower than the call's deadline — what waiting cures —
// rather than a statement it refused (a missing table, a bad value: a
// fault no retry mends).
func transient(err error) bool {
	switch {
	case errors.Is(err, journal.ErrInvalid), errors.Is(err, journal.ErrCorrupt), errors.Is(err, engine.ErrLeaseLost),
		errors.Is(err, errRegistrationLost):
		return false
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, context.Canceled), pgconn.Timeout(err):
		return true
	}
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		switch {
		case strings.HasPrefix(pe.Code, "08"), // connection exception
			strings.HasPrefix(pe.Code, "53"),       // insufficient resources: too many connections, disk full
			strings.HasPrefix(pe.Code, "57P"),      // admin or crash shutdown, cannot connect now (starting up)
			pe.Code == "57014",                     // query_canceled: statement_timeout
			pe.Code == "55P03",                     // lock_not_available: lock_timeout
			pe.Code == "40001", pe.Code == "40P01": // serialization failure, deadlock
			return true
		}
		return false
	}
	// Without a server error, pgx failed on the connection: refused,
	// reset, closed under the call.
	return true
}

// fail wraps a failed call's error for the engine: transient faults
// wrap engine.ErrJournalUnavailable, and also engine.ErrOutcomeUnknown
// when sent is set (the statement may have committed) and pgx cannot
// tell that nothing left the process; any other wraps
// engine.ErrJournalFailed (fail-stop).
func fail(op string, err error, sent bool) error {
	if !transient(err) {
		if errors.Is(err, journal.ErrInvalid) || errors.Is(err, engine.ErrLeaseLost) || errors.Is(err, engine.ErrJournalFailed) {
			return err
		}
		return fmt.Errorf("postgres: %s: %w: %w", op, engine.ErrJournalFailed, err)
	}
	if sent && !pgconn.SafeToRetry(err) {
		return fmt.Errorf("postgres: %s: %w: %w: %w", op, engine.ErrJournalUnavailable, engine.ErrOutcomeUnknown, err)
	}
	return fmt.Errorf("postgres: %s: %w: %w", op, engine.ErrJournalUnavailable, err)
}

// errAnswerLost is the fault LoseNextRenew (tests) injects: a statement
// that committed and whose answer never came back.
var errAnswerLost = errors.New("postgres: the answer was lost")

// readErr wraps a failed read: nothing to commit, so never unknown.
func readErr(op string, err error) error {
	if transient(err) {
		return fmt.Errorf("postgres: %s: %w: %w", op, engine.ErrJournalUnavailable, err)
	}
	return fmt.Errorf("postgres: %s: %w", op, err)
}

// call bounds one journal call by Options.CallTimeout, so a hung
// database holds no lane longer. A caller whose own deadline comes
// sooner keeps its context: a timer context that can never fire first
// would cost allocations and nothing else.
func (s *Store) call(ctx context.Context) (context.Context, context.CancelFunc) {
	if d, ok := ctx.Deadline(); ok && time.Until(d) <= s.opts.CallTimeout {
		return ctx, noCancel
	}
	return context.WithTimeout(ctx, s.opts.CallTimeout)
}

func noCancel() {}

// begin opens one journal call, as every operation does: journal.ErrClosed
// once the store is closed, ctx's error when it is done, and otherwise
// ctx bounded by call. The returned function is always safe to defer.
func (s *Store) begin(ctx context.Context) (context.Context, context.CancelFunc, error) {
	if err := s.check(ctx); err != nil {
		return ctx, noCancel, err
	}
	ctx, done := s.call(ctx)
	return ctx, done, nil
}

// retryPause is the wait before re-running a statement whose outcome
// was unknown: short at first (a dropped connection is replaced at
// once), growing while the database stays away, never past ctx.
func retryPause(ctx context.Context, attempt int) bool {
	d := min(20*time.Millisecond<<min(attempt, 5), 500*time.Millisecond)
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

// Ping checks that the database answers a statement within the call
// timeout. The engine pings while its journal is unavailable, to learn
// when to resume.
func (s *Store) Ping(ctx context.Context) error {
	ctx, cancel, err := s.begin(ctx)
	defer cancel()
	if err != nil {
		return err
	}
	if err := s.pool.Ping(ctx); err != nil {
		return readErr("ping", err)
	}
	return nil
}
