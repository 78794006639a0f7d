// Package postgres implements engine.SharedJournal on PostgreSQL, for
// several paycode nodes behind a load balancer sharing one database
// (pgx's connection pool underneath).
//
// # What is stored
//
// Three tables (schema.go): payments, refunds and notifications, each
// holding the latest version of a record whole, in engine/journal's
// binary encoding (journal.AppendPayment and friends), so the Pebble and
// PostgreSQL journals have one record format. Beside it, the columns the
// database itself needs: unique keys (payment id; client id + request
// id; the code's keyed hash; refund id; refund client id + request id),
// the version, final and updated (compaction), and the payment's lease:
// owner, lease_until and held. A fourth table, paycode_meta, keeps the
// code-hash key (CodeKey), made once by the first node and shared by
// all, so that one code hashes alike on every node.
//
// Open creates the schema if it is missing, under a transaction-level
// advisory lock, so nodes may start at once. Options.Schema puts the
// tables in a schema of their own (tests use one each).
//
// # Guarantees
//
// Idempotency: ClaimPayment and ClaimRefund are INSERT … ON CONFLICT DO
// NOTHING with the fetch of the conflicting row in the same statement
// (re-run, bounded, when READ COMMITTED hides a row committed during the
// statement: see ClaimPayment). Two nodes given the same request at once
// store it once, and the loser gets the winner's record.
//
// Ownership: a payment is leased to one node (owner, lease_until).
// Lease times are computed by the database, now() + LeaseTTL, so nodes'
// clocks need not agree. Every write of a payment is an UPDATE fenced on
// owner = this node: a node whose lease was taken over gets
// engine.ErrLeaseLost and its whole transaction is rolled back. A write
// with Held false releases the lease (owner NULL). Acquire, TakeOver
// (FOR UPDATE SKIP LOCKED), Renew and Release manage leases; Release
// leaves the owner in place with an expired lease, so other nodes take
// the work at once. Transactions that lock several payments lock them
// in id order, so they do not deadlock one another.
//
// Durability: ClaimPayment, ClaimRefund and synced Appends commit with
// synchronous_commit on (the server's WAL flush; PostgreSQL shares one
// flush among commits that arrive together: group commit). An unsynced
// Append sets synchronous_commit off for its transaction; a later synced
// commit (an empty synced Append is a barrier) flushes it.
//
// Failures: every call is bounded by Options.CallTimeout (and the
// session's statement_timeout and lock_timeout are the same). A database
// that does not answer — refused or cut connections, a restart, a hang,
// a timeout — gives an error wrapping engine.ErrJournalUnavailable: not
// fatal; nothing was written unless it also wraps
// engine.ErrOutcomeUnknown (a COMMIT or one-statement write was sent and
// its answer lost). ClaimPayment settles an unknown outcome itself while
// its deadline lasts (re-run: insert-or-fetch finds its own record);
// other writes are settled by the engine writing a newer version. A
// statement the database refuses wraps engine.ErrJournalFailed (the
// engine fails stop). journal.ErrInvalid, journal.ErrClosed, a context
// already done and engine.ErrLeaseLost write nothing and are not fatal.
//
// Node registration: Register claims the node name for this process in
// paycode_nodes unless a live process (heartbeat fresher than the lease)
// holds it; Renew beats the heartbeat and fails with ErrJournalFailed
// once another process took the name; Close gives it up.
//
// # Compaction
//
// Compact deletes final payments that no node holds (written last with
// Held false) and whose Updated is before the cut-off, with their
// refunds; like Pebble it keeps a payment with a pending notification or
// with a refund not final or changed since the cut-off.
//
// # Testing
//
// The tests run against the database named by PAYCODE_TEST_POSTGRES
// (.ci/postgres.sh starts one and prints it) and skip without it; they
// run the shared conformance suite, engine/journal/journaltest.RunShared.
//
// An adapter of the core: it imports engine, codec and engine/journal
// (shared record encoding) only.
package postgres
