// Package settle writes, reads and reconciles transaction-details files:
// the daily reconciliation file of spec §8, in the layout of Antom's
// transaction details report (a header row of column names, one row per
// transaction, and a last line <END>).
//
// paycode writes its file for a day from its journal (Rows, FromJournal);
// the simulated wallets write theirs from their ledgers
// (loadtest/mppsim); Reconcile lists every difference between two files.
//
// # What is listed
//
// A file lists the transactions that moved money during the settlement
// day, each once, with status SUCCESS, as Antom's report lists the day's
// successful transactions:
//
//   - PAYMENT: a payment that was charged, dated when it was charged
//     (paymentTime), whatever happened to it later.
//   - CANCEL: the reversal of a charged payment by a cancel, dated when
//     the cancel was confirmed, for the payment's full amount (a payment
//     with refunds cannot be cancelled). A paid payment cancelled later
//     thus has a PAYMENT row on the day it was paid and a CANCEL row on
//     the day it was reversed.
//   - REFUND: a successful refund, dated when the wallet confirmed it.
//
// Not listed: failed and still-processing payments and refunds, and the
// cancel (or deadline close) of a payment that was never charged: it
// moved no money, so it settles nothing. The wallet side follows the same
// rule (a CLOSED ledger entry is not listed, a REVERSED one gives a
// PAYMENT and a CANCEL row). Where paycode never learnt that a wallet had
// charged a payment it then cancelled (the wallet's answer was lost and
// the cancel came first), the wallet's file lists a PAYMENT and a CANCEL
// that paycode's does not: Reconcile reports both, and they net to zero.
//
// paycode knows a cancelled payment had been paid from its journal
// record's PaidAt, which the engine keeps when it cancels (and clears
// nowhere else); records written by an engine that cleared it list a
// reversed payment as neither PAYMENT nor CANCEL.
//
// # Columns
//
// Columns carries the header, in order. Names follow Antom's transaction
// details report; where Antom's layout is not confirmed (spec §9), this
// package chose, and says so here:
//
//   - customerId: the merchant, i.e. the lane's client-id (empty in a
//     wallet's file: a wallet does not learn it).
//   - acquirerReferenceNo: the id the wallet gave the transaction (its
//     paymentId or refundId); empty in paycode's file, which does not
//     journal it.
//   - transactionId: paycode's paymentId for PAYMENT and CANCEL, its
//     refundId for REFUND (Antom's rule). Both sides know these ids: the
//     wallets receive them as paymentRequestId and refundRequestId in
//     every call, so they are the reconciliation key.
//   - originalTransactionId: empty for PAYMENT; the paymentId for CANCEL
//     and REFUND (spec §8).
//   - transactionRequestId: the merchant's paymentRequestId or
//     refundRequestId (empty in a wallet's file).
//   - transactionType: PAYMENT, CANCEL or REFUND.
//   - transactionStatus: always SUCCESS in a written file (the parser
//     accepts PROCESSING, FAIL and CANCELLED too, so that a file listing
//     them reconciles as a status difference instead of failing to read).
//   - transactionTime: RFC 3339 with the settlement zone's offset, whole
//     seconds (unconfirmed: spec §1.4's datetime format).
//   - transactionAmountValue: the transaction's own amount as a
//     non-negative integer in the currency's minor unit, as in the API
//     (Antom's usage rules of the Amount object cover APIs and
//     reconciliation reports alike); no sign: the type gives the
//     direction (unconfirmed whether Antom signs refunds here).
//   - transactionCurrency: ISO 4217 code.
//   - paymentMethodType: the pay request's paymentMethodType.
//   - pspName: the wallet (paycode's routing name for it).
//   - productCode: IN_STORE_PAYMENT (the API's enum value; unconfirmed
//     for the report).
//
// The file is CSV (RFC 4180, UTF-8, a leading byte-order mark tolerated)
// with CRLF or LF line ends; fields never hold line breaks or other
// control characters (tab excepted). Columns this package does not know
// (Antom's fee and settlement columns) are ignored when reading, and
// only transactionId, transactionType, transactionStatus,
// transactionTime, transactionAmountValue and transactionCurrency must be
// present. Rows are ordered by time, then transactionId, then type, so
// the same day gives the same bytes.
//
// # Reconciling
//
// Reconcile keys rows by transactionId (a payment's PAYMENT and CANCEL
// share it and are told apart by type) and compares type, status,
// amount, currency and originalTransactionId; see there.
//
// # Settlement day
//
// A Day is a calendar date in a time zone (UTC by default in the
// commands): a transaction belongs to the day its time falls in, from
// midnight to midnight in that zone. The journal keeps only what
// compaction (31 days by default) has not removed, so a file can be
// written for recent days only.
//
// It imports engine and codec only.
package settle
