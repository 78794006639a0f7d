// Package journal implements engine.Journal: the durable record of
// payments, refunds and pending notifications that lets paycode lose
// nothing and charge nothing twice across crashes.
//
// Two implementations share one encoding and one set of rules:
//
//   - Pebble (Open) keeps the journal in a Pebble store under a directory.
//   - Mem (NewMem) keeps it in maps, with no durability: `serve -memory`,
//     the load tool's embedded -memory mode and tests. MemDB.Node gives
//     several nodes over one state, with PostgreSQL's lease semantics,
//     for tests of several engines in one process.
//
// Both are engine.SharedJournals for exactly one node (NewMem's, and
// Pebble's): the engine runs the same path on them as on PostgreSQL.
//
// # What is stored
//
// The latest version of every PaymentRecord, RefundRecord and pending
// NotificationRecord; never a payment code, only its keyed hash and masked
// form. Each Append overwrites a record's key with its new version, so
// Load returns exactly one (the latest) version per id. Values use this
// package's binary encoding (record.go): a format-version byte, a kind
// byte, then the fields in order; currencies, result codes and statuses
// are stored by name, so codec table changes never corrupt old records.
// Load is strict: a value that does not decode, or that sits under
// another record's key, stops it with an error (wrapping a *FieldError
// that names the field, never its value), as the engine must not start
// on a journal it cannot read.
//
// # Key layout
//
//	m/layout                          layout version (1 byte)
//	m/codekey                         32 random bytes: CodeKey
//	p/<paymentId>                     PaymentRecord
//	r/<refundId>                      RefundRecord
//	n/<paymentId>                     NotificationRecord
//	x/<paymentId>\x00<refundId>       empty: the refunds of a payment
//	t/<be64 seconds><paymentId>       empty: a final payment version, by age
//	d/<be64 seconds><paymentId>       empty: a notification version, by due time
//
// Ids are 1 to MaxIDLen bytes without NUL; Append refuses others with
// ErrInvalid (nothing written, journal still usable). The x/, t/ and d/
// entries are written blindly with the records (no read per Append); x/
// and t/ exist only for Compact, d/ for TakeNotifications, which deletes
// the d/ entries of versions since overwritten as it meets them.
//
// # Durability
//
// Append writes one Pebble batch: all of it or none of it survives a
// crash. With sync it returns only after the WAL is fsynced; concurrent
// synced Appends share fsyncs through Pebble's commit pipeline (group
// commit: at 64 writers about one fsync per hundred appends). Without
// sync the batch is durable once a later synced Append (or an empty
// synced Append, a barrier) returns. On reopen, Pebble replays the WAL;
// a torn tail (a write cut by power loss after the last fsync) is
// dropped and every synced batch is present (tests: TestPebbleTornWALTail,
// TestPebbleCrashKeepsSynced).
//
// CodeKey is generated from crypto/rand on first open and synced before
// Open returns, so code hashes, which the engine keys with it, stay
// comparable across restarts. Mem's key lives as long as the Mem.
//
// # Fail-stop
//
// The first failed write or fsync of the WAL latches the journal as
// failed, at the moment the filesystem returns the error (latchfs.go),
// and Pebble's own report of it (its logger's Fatalf, which this package
// turns into an error instead of an exit) reaches the same latch. The
// Append that hit it returns an error wrapping engine.ErrJournalFailed
// and the OS error (errors.Is(err, syscall.ENOSPC) for a full disk);
// OnFatal is called once; every later Append and Compact returns the same
// error immediately, without touching the disk. An fsync is never
// retried: after a failed fsync the kernel may have dropped the dirty
// pages, so a retry that succeeds would claim durability for data that is
// gone. The process is expected to exit and recover from the WAL.
//
// Commits already inside Pebble when the WAL fails normally get the
// error too, and at least one Append always reports the failure. Pebble
// can, though, panic while holding its commit mutex, leaving the commits
// queued behind it blocked for good; that is harmless when the process
// exits on the first ErrJournalFailed, as paycode does. With
// Options.DetachCommits each commit runs on its own goroutine and its
// Append returns the latched error as soon as the journal is failed,
// for a process that keeps running (at a cost per Append; see there).
// Rarely, Pebble ends the process itself: a WAL rotation after the
// failure panics with a runtime fatal error, and a panic on a Pebble
// background goroutine (e.g. a failed MANIFEST write) is not recovered,
// as with Pebble's own logger. Both are the same fail-stop, without
// OnFatal. Close gives up after Options.CloseTimeout. In no case is
// success reported for a batch that is not durable.
//
// An unsynced Append may return nil although its WAL write later fails;
// the next Append reports the failure. Errors that are not I/O failures
// (ErrInvalid, ErrClosed, a context already done) leave the journal
// usable and write nothing.
//
// # Compaction
//
// Compact(before) deletes each payment that is final (engine
// PaymentRecord.Final) and whose Updated is before the cut-off, together
// with its refunds. It keeps, and retries on the next call, a payment
// with a pending notification or with a refund that is not final or
// changed since the cut-off, so nothing the engine still has to do is
// lost. It walks the t/ age index up to the cut-off, so its cost is
// proportional to the candidates (and stale index entries, which it
// removes), not to the store; each chunk of Options.CompactChunk entries
// is checked and deleted under an exclusive lock, so concurrent Appends
// wait at most one chunk and Compact never deletes a payment that an
// Append is bringing back. Deletions are not synced: after a crash they
// may reappear and are deleted again. Mem applies the same rules by
// scanning everything.
//
// An adapter of the core: it imports engine and codec only, never the
// lane side, the admin side or the tools.
package journal
