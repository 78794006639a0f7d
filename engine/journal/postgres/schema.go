package postgres

// The schema. Every record is stored whole, in engine/journal's binary
// encoding (journal.AppendPayment, AppendRefund, AppendNotification), in
// the record column, so the PostgreSQL and Pebble journals share one
// format; the other columns are the keys and the fields the database
// itself must see (uniqueness, ownership, compaction).
//
// payments:
//
//	payment_id, client_id, request_id, code_hash  keys (unique)
//	version           the record's Version: older writes are ignored
//	final, updated    PaymentRecord.Final() and Updated (compaction)
//	held              PaymentRecord.Held as last written
//	owner             the node holding the lease, NULL when released
//	lease_until       database time the lease runs to
//	cancel_requested  set by RequestCancel, cleared by the owner's Renew
//	                  after the one that returned it (see Store.Renew);
//	                  never written by Append; TakeOver and Acquire report
//	                  it (a cancel handed to an owner that then died)
//
// refunds carry their keys, payment_id (indexed), version, final and
// updated; notifications are keyed by payment_id, with due (the record's
// Due, indexed: the outbox reads them by due time; NULL, in a table made
// before the column, is due now). paycode_nodes holds each running
// node's registration (Register): its name, a random token, pid, host,
// start and heartbeat (database time).
const schemaSQL = `
CREATE TABLE IF NOT EXISTS paycode_meta (
	name  text PRIMARY KEY,
	value bytea NOT NULL
);
CREATE TABLE IF NOT EXISTS payments (
	payment_id       text PRIMARY KEY,
	client_id        text NOT NULL,
	request_id       text NOT NULL,
	code_hash        bytea NOT NULL,
	version          bigint NOT NULL,
	final            boolean NOT NULL,
	held             boolean NOT NULL,
	owner            text,
	lease_until      timestamptz,
	cancel_requested boolean NOT NULL DEFAULT false,
	updated          timestamptz NOT NULL,
	record           bytea NOT NULL,
	UNIQUE (client_id, request_id),
	UNIQUE (code_hash)
);
CREATE INDEX IF NOT EXISTS payments_leased ON payments (lease_until) WHERE owner IS NOT NULL;
CREATE INDEX IF NOT EXISTS payments_owner ON payments (owner) WHERE owner IS NOT NULL;
CREATE INDEX IF NOT EXISTS payments_compact ON payments (updated) WHERE final AND owner IS NULL;
CREATE TABLE IF NOT EXISTS refunds (
	refund_id  text PRIMARY KEY,
	client_id  text NOT NULL,
	request_id text NOT NULL,
	payment_id text NOT NULL,
	version    bigint NOT NULL,
	final      boolean NOT NULL,
	updated    timestamptz NOT NULL,
	record     bytea NOT NULL,
	UNIQUE (client_id, request_id)
);
CREATE INDEX IF NOT EXISTS refunds_payment ON refunds (payment_id);
CREATE TABLE IF NOT EXISTS notifications (
	payment_id text PRIMARY KEY,
	record     bytea NOT NULL
);
ALTER TABLE notifications ADD COLUMN IF NOT EXISTS due timestamptz;
CREATE INDEX IF NOT EXISTS notifications_due ON notifications (due NULLS FIRST, payment_id);
CREATE TABLE IF NOT EXISTS paycode_nodes (
	node      text PRIMARY KEY,
	token     bytea NOT NULL,
	pid       integer NOT NULL,
	host      text NOT NULL,
	started   timestamptz NOT NULL,
	heartbeat timestamptz NOT NULL
);
`

// Statements. $ttl parameters are the lease length in microseconds, so
// that lease times are computed by the database from its own clock.
const (
	// insertPaymentSQL is shared by ClaimPayment (in claimPaymentSQL) and
	// by Append for a payment never claimed here. $8 is the owner or NULL.
	insertPaymentSQL = `INSERT INTO payments (payment_id, client_id, request_id, code_hash, version, final, held, owner, lease_until, updated, record)
	VALUES ($1, $2, $3, $4, $5, $6, $7, $8::text,
		CASE WHEN $8::text IS NULL THEN NULL ELSE now() + $9::bigint * interval '1 microsecond' END, $10, $11)
	ON CONFLICT DO NOTHING`

	// claimPaymentSQL inserts, or (on any unique key) fetches the row in
	// the way: pref 0 is "inserted", 1 the same request, 2 the code's
	// holder, 3 only the same payment id. The fetch is skipped (a
	// one-time filter) when the insert happened.
	claimPaymentSQL = `WITH ins AS (` + insertPaymentSQL + ` RETURNING 0 AS pref)
SELECT pref, NULL::bytea, false FROM ins
UNION ALL
SELECT CASE WHEN client_id = $2 AND request_id = $3 THEN 1 WHEN code_hash = $4 THEN 2 ELSE 3 END, record, held
	FROM payments WHERE NOT EXISTS (SELECT 1 FROM ins)
	AND ((client_id = $2 AND request_id = $3) OR code_hash = $4 OR payment_id = $1)
ORDER BY 1 LIMIT 1`

	// updatePaymentSQL is the fenced write: only the owner updates, and
	// never with an older version. held false releases the lease.
	updatePaymentSQL = `UPDATE payments SET version = $2, final = $3, held = $4, updated = $5, record = $6,
	owner = CASE WHEN $4 THEN owner END,
	lease_until = CASE WHEN $4 THEN now() + $8::bigint * interval '1 microsecond' END
WHERE payment_id = $1 AND owner = $7 AND version <= $2`

	paymentOwnerSQL = `SELECT owner, version FROM payments WHERE payment_id = $1`

	upsertRefundSQL = `INSERT INTO refunds (refund_id, client_id, request_id, payment_id, version, final, updated, record)
	VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
ON CONFLICT (refund_id) DO UPDATE SET version = excluded.version, final = excluded.final,
	updated = excluded.updated, record = excluded.record
WHERE refunds.version <= excluded.version`

	// claimRefundSQL is claimPaymentSQL for refunds: pref 0 inserted, 1
	// the same request, 2 only the same refund id.
	claimRefundSQL = `WITH ins AS (
	INSERT INTO refunds (refund_id, client_id, request_id, payment_id, version, final, updated, record)
	VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
	ON CONFLICT DO NOTHING
	RETURNING 0 AS pref)
SELECT pref, NULL::bytea FROM ins
UNION ALL
SELECT CASE WHEN client_id = $2 AND request_id = $3 THEN 1 ELSE 2 END, record
	FROM refunds WHERE NOT EXISTS (SELECT 1 FROM ins)
	AND ((client_id = $2 AND request_id = $3) OR refund_id = $1)
ORDER BY 1 LIMIT 1`

	upsertNotificationSQL = `INSERT INTO notifications (payment_id, record, due) VALUES ($1, $2, $3)
ON CONFLICT (payment_id) DO UPDATE SET record = excluded.record, due = excluded.due`

	// takeNotificationsSQL locks up to $2 notifications due at $1,
	// earliest first, skipping rows another node is taking.
	takeNotificationsSQL = `SELECT payment_id, record FROM notifications
WHERE due IS NULL OR due <= $1
ORDER BY due NULLS FIRST, payment_id LIMIT $2
FOR UPDATE SKIP LOCKED`

	setNotificationSQL = `UPDATE notifications SET record = $3, due = $4 WHERE payment_id = $1 AND record = $2`

	settleNotificationSQL = `DELETE FROM notifications WHERE payment_id = $1 AND record = $2`

	deleteNotificationsSQL = `DELETE FROM notifications WHERE payment_id = ANY($1::text[])`

	// leasedRowsSQL follows a CTE p(payment_id, record, held,
	// cancel_requested) of leased payments with their refunds and
	// notification: kind 'p', 'r', 'n'.
	leasedRowsSQL = `
SELECT 'p', p.payment_id, p.record, p.held, p.cancel_requested FROM p
UNION ALL
SELECT 'r', r.payment_id, r.record, false, false FROM refunds r JOIN p ON r.payment_id = p.payment_id
UNION ALL
SELECT 'n', n.payment_id, n.record, false, false FROM notifications n JOIN p ON n.payment_id = p.payment_id`

	// acquireSQL leases one payment unless another node's lease is live;
	// kind 'x' says the payment exists but is held elsewhere.
	acquireSQL = `WITH p AS (
	UPDATE payments SET owner = $2, lease_until = now() + $3::bigint * interval '1 microsecond'
	WHERE payment_id = $1 AND (owner IS NULL OR owner = $2 OR lease_until < now())
	RETURNING payment_id, record, held, cancel_requested)` + leasedRowsSQL + `
UNION ALL
SELECT 'x', payment_id, NULL, false, false FROM payments WHERE payment_id = $1 AND NOT EXISTS (SELECT 1 FROM p)`

	// takeOverSQL leases expired payments (whoever held them; never a
	// live lease), oldest lease first, skipping rows another transaction
	// has locked.
	takeOverSQL = `WITH t AS (
	SELECT payment_id FROM payments
	WHERE owner IS NOT NULL AND lease_until < now()
	ORDER BY lease_until, payment_id LIMIT $3
	FOR UPDATE SKIP LOCKED
), p AS (
	UPDATE payments SET owner = $1, lease_until = now() + $2::bigint * interval '1 microsecond'
	FROM t WHERE payments.payment_id = t.payment_id
	RETURNING payments.payment_id, payments.record, payments.held, payments.cancel_requested)` + leasedRowsSQL

	// renewSQL extends every lease of this node, clears the cancel
	// requests the previous answered Renew returned ($3: carried out by
	// now), and returns the others. The rows are locked first, in id
	// order (the order Append locks payments in, so the two never
	// deadlock), and a locked row's cancel_requested is its latest value
	// (READ COMMITTED re-reads a row it had to wait for), so a
	// RequestCancel committed concurrently is either returned here or
	// kept for the next Renew, never lost. A request repeated for a
	// payment whose cancel was returned already is cleared with it: the
	// owner carried that cancel out.
	renewSQL = `WITH mine AS (
	SELECT payment_id, cancel_requested AND NOT COALESCE(payment_id = ANY($3::text[]), false) AS cancel FROM payments WHERE owner = $1
	ORDER BY payment_id FOR UPDATE
)
UPDATE payments SET lease_until = now() + $2::bigint * interval '1 microsecond', cancel_requested = mine.cancel
FROM mine WHERE payments.payment_id = mine.payment_id AND payments.owner = $1
RETURNING payments.payment_id, mine.cancel`

	requestCancelSQL = `UPDATE payments SET cancel_requested = true WHERE payment_id = $1`

	// releaseSQL keeps the owner but expires the lease: TakeOver and
	// Acquire on any node take the payments at once (see Release).
	releaseSQL = `UPDATE payments SET lease_until = '-infinity' WHERE owner = $1`

	// compactSQL deletes up to $2 compactable payments and their refunds
	// and returns how many payments it deleted.
	compactSQL = `WITH gone AS (
	DELETE FROM payments WHERE payment_id IN (
		SELECT p.payment_id FROM payments p
		WHERE p.final AND p.owner IS NULL AND p.updated < $1
		AND NOT EXISTS (SELECT 1 FROM notifications n WHERE n.payment_id = p.payment_id)
		AND NOT EXISTS (SELECT 1 FROM refunds r WHERE r.payment_id = p.payment_id AND (NOT r.final OR r.updated >= $1))
		ORDER BY p.payment_id LIMIT $2
		FOR UPDATE SKIP LOCKED)
	AND final AND owner IS NULL AND updated < $1
	RETURNING payment_id
), refs AS (
	DELETE FROM refunds USING gone WHERE refunds.payment_id = gone.payment_id
)
SELECT count(*) FROM gone`
)
