package engine

import (
	"context"
	"errors"
	"time"

	"github.com/paycode/paycode/codec"
)

// Journal is the engine's durable record of payments, refunds and pending
// notifications. It is declared here, where it is used; engine/journal
// implements it (Pebble on disk, Mem in memory; engine/journal/postgres for
// several nodes), as a SharedJournal.
//
// The engine writes a payment's intent — ids, amount, wallet, masked code
// and a keyed hash of the code, never the code itself — and waits for it
// to be synced before calling the wallet; every later state change is
// appended as the record's new version. After a crash, Load gives back
// the latest version of everything, and the engine settles non-final
// payments by inquiry and cancel, never by paying again.
//
// Implementations must be safe for concurrent use, and should let
// concurrent synced appends share one fsync (group commit). An Append
// error is final for the journal (fail-stop: the engine stops admitting
// payments and reports it as fatal; it never retries an fsync), unless
// it wraps ErrJournalUnavailable: a network journal that did not answer.
type Journal interface {
	// Append writes the batch atomically; with sync it returns only once
	// the batch is durable.
	Append(ctx context.Context, b *Batch, sync bool) error
	// Load calls fn with the latest version of every stored record, in
	// no particular order. It is used once, at start, before any Append.
	Load(ctx context.Context, fn func(*Record) error) error
	// Compact deletes final payments (and their refunds) whose last change
	// is older than before, and returns how many payments it removed.
	Compact(ctx context.Context, before time.Time) (int, error)
	Close() error
}

// Batch is one atomic journal write.
type Batch struct {
	Payments      []*PaymentRecord
	Refunds       []*RefundRecord
	Notifications []*NotificationRecord
	// Delivered lists the payment ids whose notification was acknowledged:
	// their notification records are deleted.
	Delivered []string
}

// Reset empties b, keeping its slices' capacity.
func (b *Batch) Reset() {
	clear(b.Payments)
	clear(b.Refunds)
	clear(b.Notifications)
	clear(b.Delivered)
	*b = Batch{Payments: b.Payments[:0], Refunds: b.Refunds[:0], Notifications: b.Notifications[:0], Delivered: b.Delivered[:0]}
}

// Record is one stored record as Load returns it: exactly one field is set.
type Record struct {
	Payment      *PaymentRecord
	Refund       *RefundRecord
	Notification *NotificationRecord
}

// CodeHashSize is the size of a payment code's keyed hash (HMAC-SHA256).
const CodeHashSize = 32

// PaymentRecord is the durable form of a payment: everything the engine
// needs to answer for it and settle it after a restart. It never holds
// the payment code, only its keyed hash (single use across restarts) and
// its masked form (for people).
type PaymentRecord struct {
	PaymentID  string
	ClientID   string
	RequestID  string
	CodeHash   [CodeHashSize]byte
	CodeMasked string
	Amount     codec.Amount
	MethodType string
	Scenario   string
	Settlement codec.Currency
	Wallet     string
	NotifyURL  string
	Created    time.Time
	Deadline   time.Time

	Status       codec.PaymentStatus
	Result       codec.ResultCode
	Message      string
	PaidAt       time.Time
	CancelledAt  time.Time
	CustomerID   string
	Brand        string
	CancelWanted bool
	CloseAs      codec.PaymentStatus
	Reverse      bool
	// Voided: a tombstone, not a payment: the lane cancelled this request
	// id before any pay of it arrived. Status is CANCELLED; CodeHash is
	// VoidCodeHash's (no code was given), Amount and Wallet are empty. A
	// later pay with the request id finds it through the journal's unique
	// request key and is refused without dispatch; it is compacted with
	// the retention of any final payment.
	Voided   bool
	Refunded int64
	// Held: the writing engine still has work on this payment (follow-up,
	// cancel or reversal, refund in process; a notification unacknowledged
	// only when the journal is not an Outbox).
	// A SharedJournal keeps it leased to the writing node while set and
	// releases the lease when a write clears it; Pebble does not store it.
	Held bool
	// Updated is when this version was written (compaction age).
	Updated time.Time
	// Version counts the record's writes, starting at 1.
	Version uint64
}

// Final reports whether the payment's status can no longer change and no
// wallet work (cancel, reversal) is pending.
func (r *PaymentRecord) Final() bool {
	final := r.Status == codec.StatusSuccess || r.Status == codec.StatusFail || r.Status == codec.StatusCancelled
	return final && !r.CancelWanted && !r.Reverse
}

// RefundRecord is the durable form of a refund.
type RefundRecord struct {
	RefundID  string
	ClientID  string
	RequestID string
	PaymentID string
	Amount    codec.Amount
	Reason    string
	Created   time.Time
	Status    codec.PaymentStatus
	Result    codec.ResultCode
	Message   string
	DoneAt    time.Time
	Updated   time.Time
	Version   uint64
}

// NotificationRecord is a notifyPayment waiting for the merchant's
// acknowledgement: one per payment (keyed by PaymentID).
type NotificationRecord struct {
	PaymentID string
	URL       string
	Body      []byte // the exact notifyPayment body to send
	Attempts  int    // deliveries tried so far
	Due       time.Time
}

// Journal errors.
var (
	// ErrJournalFailed: the journal could not write; the engine refuses new
	// payments until restarted.
	ErrJournalFailed = errors.New("engine: journal write failed")
	// ErrJournalUnavailable: a network journal could not be reached in
	// time (down, restarting, or slower than the call's deadline). It is
	// not fatal: the call changed nothing, unless the error also wraps
	// ErrOutcomeUnknown. The engine refuses new pays, keeps what it
	// learned from wallets in memory, and writes it once the journal
	// answers again (see Engine.JournalHealth).
	ErrJournalUnavailable = errors.New("engine: journal unavailable")
	// ErrOutcomeUnknown comes with ErrJournalUnavailable when the write
	// was sent and may have committed. Claims are insert-or-fetch and
	// payment writes are fenced by version, so the engine settles it by
	// claiming again, or by writing a newer version, once the journal is
	// back.
	ErrOutcomeUnknown = errors.New("engine: journal write outcome unknown")
)
