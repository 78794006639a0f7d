package postgres

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/paycode/paycode/engine"
	"github.com/paycode/paycode/engine/journal"
)

// Store is the PostgreSQL journal: an engine.SharedJournal over a pgx
// connection pool. It is safe for concurrent use.
type Store struct {
	pool    *pgxpool.Pool
	opts    Options
	ttl     int64 // LeaseTTL in microseconds, the statements' $ttl
	codeKey [journal.CodeKeySize]byte
	closed  atomic.Bool
	// reg is this process's registration of its node name (Register);
	// nil when it did not register.
	reg atomic.Pointer[registration]
	// renewMu serialises Renews; handed holds the cancel requests the
	// last answered Renew returned, cleared by the next one (see Renew).
	renewMu sync.Mutex
	handed  []string
	// loseRenew (tests): the next Renew commits and its answer is lost.
	loseRenew atomic.Bool
}

var _ engine.SharedJournal = (*Store)(nil)

// Open connects to the database at dsn (a postgres:// URL or key=value
// string, as pgx accepts), creates the schema if it is missing, and loads
// or creates the code-hash key. Several nodes may Open the same database
// at the same moment: schema creation is serialised by an advisory lock.
// ctx bounds the connection and the schema work.
func Open(ctx context.Context, dsn string, opts Options) (*Store, error) {
	if err := opts.Validate(); err != nil {
		return nil, err
	}
	opts.EnsureDefaults()
	cfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		// pgx's parse errors can quote the DSN, password included.
		return nil, errors.New("postgres: the DSN does not parse (want postgres://user:password@host:port/db)")
	}
	cfg.MaxConns = opts.MaxConns
	// The server gives up on what the client gave up on: a statement or
	// a lock wait past the call timeout, a transaction left open.
	ms := strconv.FormatInt(opts.CallTimeout.Milliseconds(), 10)
	cfg.ConnConfig.RuntimeParams["statement_timeout"] = ms
	cfg.ConnConfig.RuntimeParams["lock_timeout"] = ms
	cfg.ConnConfig.RuntimeParams["idle_in_transaction_session_timeout"] = strconv.FormatInt(10*opts.CallTimeout.Milliseconds(), 10)
	if cfg.ConnConfig.ConnectTimeout == 0 || cfg.ConnConfig.ConnectTimeout > opts.CallTimeout {
		cfg.ConnConfig.ConnectTimeout = opts.CallTimeout
	}
	if opts.Schema != "" {
		cfg.ConnConfig.RuntimeParams["search_path"] = pgx.Identifier{opts.Schema}.Sanitize()
	}
	cfg.ConnConfig.Tracer = pgxTracer(opts.Logger) // pgxlog.go
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("postgres: connecting: %w", err)
	}
	s := &Store{pool: pool, opts: opts, ttl: opts.LeaseTTL.Microseconds()}
	if err := s.init(ctx); err != nil {
		pool.Close()
		return nil, err
	}
	return s, nil
}

// init creates the schema and the code key, once, under a transaction
// advisory lock: CREATE … IF NOT EXISTS alone is not safe when two nodes
// run it at once (both may try to create the same catalog rows).
func (s *Store) init(ctx context.Context) error {
	var key [journal.CodeKeySize]byte
	if _, err := rand.Read(key[:]); err != nil {
		return fmt.Errorf("postgres: generating code key: %w", err)
	}
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock(hashtext('paycode journal schema ' || $1::text))`, s.opts.Schema); err != nil {
			return err
		}
		if s.opts.Schema != "" {
			if _, err := tx.Exec(ctx, "CREATE SCHEMA IF NOT EXISTS "+pgx.Identifier{s.opts.Schema}.Sanitize()); err != nil {
				return err
			}
		}
		if _, err := tx.Exec(ctx, schemaSQL); err != nil {
			return err
		}
		var stored []byte
		err := tx.QueryRow(ctx, `WITH ins AS (
	INSERT INTO paycode_meta (name, value) VALUES ('codekey', $1) ON CONFLICT DO NOTHING RETURNING value)
SELECT value FROM ins UNION ALL SELECT value FROM paycode_meta WHERE name = 'codekey'`, key[:]).Scan(&stored)
		if err != nil {
			return err
		}
		if len(stored) != journal.CodeKeySize {
			return fmt.Errorf("code key is %d bytes, want %d", len(stored), journal.CodeKeySize)
		}
		copy(s.codeKey[:], stored)
		return nil
	})
	if err != nil {
		return fmt.Errorf("postgres: creating schema: %w", err)
	}
	return nil
}

// CodeKey returns a copy of the 32-byte code-hash key: random, made by the
// first node that opened the database and shared by every node through
// it, so that all of them hash a code alike (single use across nodes). It
// is a secret.
func (s *Store) CodeKey() []byte { return bytes.Clone(s.codeKey[:]) }

// Node returns this store's node name.
func (s *Store) Node() string { return s.opts.Node }

// Close closes the pool, waiting for connections in use to be returned.
// It is idempotent; later calls return journal.ErrClosed.
// A registered store gives its node name up first, so that a restart
// registers at once.
func (s *Store) Close() error {
	if s.closed.CompareAndSwap(false, true) {
		s.deregister()
		s.pool.Close()
	}
	return nil
}

// Append writes b in one transaction, atomically: payments are updated
// fenced on this node's lease (see updatePaymentSQL), refunds and
// notifications upserted, Delivered notifications deleted. A payment
// version older than the stored one is ignored; a payment never claimed
// here is inserted, leased to this node when Held. Without sync the
// commit does not wait for the WAL flush (synchronous_commit off for the
// transaction); an empty batch with sync is a barrier: it commits a
// transaction with an id, whose flush covers every earlier commit.
//
// Errors: journal.ErrInvalid (a malformed id, or a record clashing with
// another one's unique key: nothing written), journal.ErrClosed, ctx's
// error when it is done before anything is sent, engine.ErrLeaseLost
// (wrapped: a payment of the batch is leased to another node or released;
// the transaction is rolled back and nothing is written),
// engine.ErrJournalUnavailable (the database did not answer in time:
// nothing written, or, with engine.ErrOutcomeUnknown, the commit was
// sent and its outcome is unknown — a rewrite with a newer version
// settles it), or engine.ErrJournalFailed: the database refused the
// statements (the engine fails stop).
func (s *Store) Append(ctx context.Context, b *engine.Batch, sync bool) error {
	ctx, cancel, err := s.begin(ctx)
	defer cancel()
	if err != nil {
		return err
	}
	if err := journal.ValidateBatch(b); err != nil {
		return err
	}
	empty := len(b.Payments)+len(b.Refunds)+len(b.Notifications)+len(b.Delivered) == 0
	if empty && !sync {
		return nil
	}
	return s.write(ctx, "append", func(tx pgx.Tx) error {
		if empty {
			_, err := tx.Exec(ctx, `SELECT pg_current_xact_id()`)
			return err
		}
		return s.appendTx(ctx, tx, b, sync)
	})
}

// write runs fn in a transaction and commits it, classifying errors as
// Append documents. Until COMMIT is sent nothing can commit (a session
// that dies mid-transaction is rolled back), so only the commit's own
// failure leaves the outcome unknown.
func (s *Store) write(ctx context.Context, op string, fn func(pgx.Tx) error) error {
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return fail(op, err, false)
	}
	if err := fn(tx); err != nil {
		_ = tx.Rollback(context.WithoutCancel(ctx))
		return classify(op, err)
	}
	if err := tx.Commit(ctx); err != nil {
		return fail(op+": commit", err, true)
	}
	return nil
}

// classify maps an error from inside a rolled-back transaction.
func classify(op string, err error) error {
	var pe *pgconn.PgError
	if errors.As(err, &pe) && pe.Code == "23505" { // unique_violation
		return fmt.Errorf("postgres: %s: %w: %s (%s)", op, journal.ErrInvalid, pe.Message, pe.ConstraintName)
	}
	return fail(op, err, false)
}

func (s *Store) check(ctx context.Context) error {
	if s.closed.Load() {
		return journal.ErrClosed
	}
	return ctx.Err()
}

// appendTx queues the whole batch as one pipelined round trip, then
// resolves the fenced updates that touched no row.
func (s *Store) appendTx(ctx context.Context, tx pgx.Tx, b *engine.Batch, sync bool) error {
	pays := sortedPayments(b.Payments)
	qb := &pgx.Batch{}
	if !sync {
		qb.Queue(`SET LOCAL synchronous_commit = off`)
	}
	for _, r := range pays {
		qb.Queue(updatePaymentSQL, s.updateArgs(r)...)
	}
	for _, r := range b.Refunds {
		qb.Queue(upsertRefundSQL, refundArgs(r)...)
	}
	for _, r := range b.Notifications {
		qb.Queue(upsertNotificationSQL, r.PaymentID, journal.AppendNotification(nil, r), r.Due)
	}
	if len(b.Delivered) > 0 {
		qb.Queue(deleteNotificationsSQL, b.Delivered)
	}
	br := tx.SendBatch(ctx, qb)
	var missed []*engine.PaymentRecord
	err := func() error {
		if !sync {
			if _, err := br.Exec(); err != nil {
				return err
			}
		}
		for _, r := range pays {
			ct, err := br.Exec()
			if err != nil {
				return err
			}
			if ct.RowsAffected() == 0 {
				missed = append(missed, r)
			}
		}
		for range qb.Len() - len(pays) - boolInt(!sync) {
			if _, err := br.Exec(); err != nil {
				return err
			}
		}
		return nil
	}()
	if cerr := br.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return err
	}
	for _, r := range missed {
		if err := s.resolveMissed(ctx, tx, r); err != nil {
			return err
		}
	}
	return nil
}

// resolveMissed handles a fenced update that touched no row: the stored
// version is newer and ours (ignored), the payment is another node's or
// released (ErrLeaseLost), or it was never stored (inserted).
func (s *Store) resolveMissed(ctx context.Context, tx pgx.Tx, r *engine.PaymentRecord) error {
	var owner *string
	var version int64
	err := tx.QueryRow(ctx, paymentOwnerSQL, r.PaymentID).Scan(&owner, &version)
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		ct, err := tx.Exec(ctx, insertPaymentSQL, s.insertArgs(r, r.Held)...)
		if err != nil {
			return err
		}
		if ct.RowsAffected() == 0 {
			return fmt.Errorf("%w: payment %s clashes with a stored payment's request id or code hash", journal.ErrInvalid, r.PaymentID)
		}
		return nil
	case err != nil:
		return err
	case owner != nil && *owner == s.opts.Node && uint64(version) > r.Version:
		return nil // an older version: ignored
	}
	return fmt.Errorf("postgres: payment %s: %w", r.PaymentID, engine.ErrLeaseLost)
}

// insertArgs are insertPaymentSQL's parameters; leased sets the owner.
func (s *Store) insertArgs(r *engine.PaymentRecord, leased bool) []any {
	var owner any
	if leased {
		owner = s.opts.Node
	}
	return []any{r.PaymentID, r.ClientID, r.RequestID, r.CodeHash[:], int64(r.Version), r.Final(), r.Held,
		owner, s.ttl, r.Updated, journal.AppendPayment(make([]byte, 0, journal.PaymentSizeHint), r)}
}

func refundArgs(r *engine.RefundRecord) []any {
	return []any{r.RefundID, r.ClientID, r.RequestID, r.PaymentID, int64(r.Version), journal.RefundFinal(r), r.Updated,
		journal.AppendRefund(nil, r)}
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// sortedPayments returns ps in payment id order (a copy when it must
// reorder): every transaction that locks several payments locks them in
// this order, so they never deadlock.
func sortedPayments(ps []*engine.PaymentRecord) []*engine.PaymentRecord {
	cmp := func(a, b *engine.PaymentRecord) int { return strings.Compare(a.PaymentID, b.PaymentID) }
	if slices.IsSortedFunc(ps, cmp) {
		return ps
	}
	ps = slices.Clone(ps)
	slices.SortStableFunc(ps, cmp)
	return ps
}

// Load calls fn with the latest version of every payment, refund and
// pending notification, from one consistent snapshot (a REPEATABLE READ
// transaction): payments, refunds, then notifications, each in id order.
// Rows are streamed; each record is freshly allocated and fn may keep it.
// A payment's Held is the stored held column. Load stops at fn's first
// error or at a record that does not decode or sits under another id.
func (s *Store) Load(ctx context.Context, fn func(*engine.Record) error) error {
	if err := s.check(ctx); err != nil {
		return err
	}
	tx, err := s.pool.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly})
	if err != nil {
		return fmt.Errorf("postgres: load: %w", err)
	}
	defer func() { _ = tx.Rollback(context.WithoutCancel(ctx)) }()
	// Load reads everything: bounded by its caller, not the call timeout.
	if _, err := tx.Exec(ctx, `SET LOCAL statement_timeout = 0`); err != nil {
		return fmt.Errorf("postgres: load: %w", err)
	}
	for _, q := range [...]string{
		`SELECT payment_id, record, held FROM payments ORDER BY payment_id`,
		`SELECT refund_id, record, false FROM refunds ORDER BY refund_id`,
		`SELECT payment_id, record, false FROM notifications ORDER BY payment_id`,
	} {
		rows, err := tx.Query(ctx, q)
		if err != nil {
			return fmt.Errorf("postgres: load: %w", err)
		}
		var id string
		var val []byte
		var held bool
		_, err = pgx.ForEachRow(rows, []any{&id, &val, &held}, func() error {
			var rec engine.Record
			if err := journal.DecodeRecord(val, &rec); err != nil {
				return fmt.Errorf("postgres: load %q: %w", id, err)
			}
			if recordID(&rec) != id {
				return fmt.Errorf("postgres: load %q: %w", id, &journal.FieldError{Kind: "record", Field: "id", Err: journal.ErrCorrupt})
			}
			if rec.Payment != nil {
				rec.Payment.Held = held
			}
			return fn(&rec)
		})
		if err != nil {
			return err
		}
	}
	return nil
}

func recordID(r *engine.Record) string {
	switch {
	case r.Payment != nil:
		return r.Payment.PaymentID
	case r.Refund != nil:
		return r.Refund.RefundID
	case r.Notification != nil:
		return r.Notification.PaymentID
	}
	return ""
}

// compactChunk is how many payments one Compact statement deletes.
const compactChunk = 1000

// Compact deletes final payments that no node holds (owner NULL: written
// last with Held false) and whose Updated is before before, with their
// refunds, and returns how many payments it removed. As in Pebble, a
// payment is kept while it has a pending notification or a refund that
// is not final or changed since before. It deletes in chunks of a
// thousand payments, one transaction each, skipping rows other
// transactions hold locked (the next Compact gets them). Deletions are
// committed with the server's default durability.
func (s *Store) Compact(ctx context.Context, before time.Time) (int, error) {
	removed := 0
	for {
		cctx, cancel, err := s.begin(ctx)
		if err != nil {
			return removed, err
		}
		var n int
		err = s.pool.QueryRow(cctx, compactSQL, before, compactChunk).Scan(&n)
		cancel()
		if err != nil {
			return removed, fail("compact", err, true)
		}
		removed += n
		if n < compactChunk {
			return removed, nil
		}
	}
}
