package engine

import (
	"context"
	"errors"
)

// SharedJournal is the Journal the engine runs on (Config.Journal): one
// that several engines (nodes) may write at once, behind any load
// balancer. engine/journal/postgres implements it for several nodes;
// engine/journal's Pebble and Mem implement it for exactly one (leases
// never expire, Acquire always succeeds, TakeOver hands back after a
// Release what the node had not finished). The journal, not the node's
// memory, decides:
//
//   - Idempotency: ClaimPayment and ClaimRefund insert or fetch in one
//     statement, on unique keys (client id + request id, and the code's
//     keyed hash), never check-then-insert. Two nodes given the same
//     paymentRequestId at the same moment dispatch it once.
//   - Ownership: a payment with work left (not final, a cancel or reversal
//     pending, a refund in process; not a pending notification, which any
//     node delivers from the Outbox) is
//     leased to exactly one node: the one that created it, or the one that
//     took it over after its owner's lease expired. Only the owner calls
//     its wallet and writes its record (Append is fenced: a write by a
//     node that lost the lease fails with ErrLeaseLost and changes
//     nothing). A write with PaymentRecord.Held false releases the lease.
//   - Reads: inquiries on any node read the latest record (GetPayment,
//     GetRefund); a node keeps in memory only the payments it owns.
//
// The store knows its own node name and lease length (its options); lease
// times are the database's clock, so nodes' clocks need not agree.
type SharedJournal interface {
	Journal
	Outbox

	// ClaimPayment stores rec (a new payment's intent, rec.Version 1) leased
	// to this node, unless a payment with the same ClientID and RequestID,
	// or the same CodeHash, is stored: then it stores nothing and returns
	// that payment's latest record — the one with the same request id when
	// there is one, else the one holding the code. The insert and the
	// fetch are one statement. A nil record and nil error: stored, synced.
	ClaimPayment(ctx context.Context, rec *PaymentRecord) (existing *PaymentRecord, err error)

	// ClaimRefund writes a new refund and its payment's new version (with
	// the refund's amount reserved in Refunded) in one transaction, unless
	// a refund with the same ClientID and RequestID is stored: then it
	// writes nothing and returns that refund's latest record. b holds
	// exactly one payment (leased to this node: fenced like Append) and
	// one refund. Synced.
	ClaimRefund(ctx context.Context, b *Batch) (existing *RefundRecord, err error)

	// GetPayment returns a payment's latest record and its refunds, by
	// paymentID when it is not empty, else by clientID and requestID; nil
	// when there is none. A payment of another client is not returned; an
	// empty clientID matches any client (tools; the engine always gives
	// the lane's).
	GetPayment(ctx context.Context, clientID, requestID, paymentID string) (*PaymentRecord, []*RefundRecord, error)
	// GetRefund returns a refund's latest record by refundID when it is
	// not empty, else by clientID and requestID; nil when there is none
	// or it is another client's (clientID not empty).
	GetRefund(ctx context.Context, clientID, requestID, refundID string) (*RefundRecord, error)

	// Acquire leases one payment to this node unless another node holds a
	// live lease on it (ok false, nil error), and returns everything needed
	// to work on it. Nil Leased and ok true never happen: a missing payment
	// is ErrNotFound.
	Acquire(ctx context.Context, paymentID string) (l *Leased, ok bool, err error)
	// TakeOver leases to this node up to limit payments whose lease expired
	// (their node died or released them), whoever held them — but never
	// a live lease, this node's included — skipping rows other nodes are
	// taking at the same moment (FOR UPDATE SKIP LOCKED), and returns them.
	// A restarted node calls Release then TakeOver to resume its own work
	// at once.
	TakeOver(ctx context.Context, limit int) ([]*Leased, error)
	// Renew extends every lease this node holds, and returns the ids of
	// its payments that another node asked to cancel. A request is
	// cleared by the Renew after the one that returned it (the engine
	// renews again only once the cancels it was handed are carried out
	// and written), so a Renew whose answer is lost, or a node that dies
	// before its next Renew, loses none: it is returned again, or
	// reported to the taker (Leased.CancelRequested).
	Renew(ctx context.Context) (cancels []string, err error)
	// RequestCancel records a lane's cancel of a payment leased to another
	// node, in a field the owner's writes never overwrite; the owner sees
	// it on its next Renew.
	RequestCancel(ctx context.Context, paymentID string) error
	// Release gives up every lease this node holds (graceful shutdown), so
	// other nodes take the work over at once instead of after the lease.
	Release(ctx context.Context) error
}

// Leased is a payment leased to this node, with its refunds and its
// notification still to deliver (nil when none).
type Leased struct {
	Payment      *PaymentRecord
	Refunds      []*RefundRecord
	Notification *NotificationRecord
	// CancelRequested: a lane's cancel was handed to the payment's owner
	// (RequestCancel) and not yet reported by the owner's Renew — its
	// owner may have died with it. The taker carries it out. The request
	// stays recorded until the taker's own Renew reports it.
	CancelRequested bool
}

// Shared-journal errors.
var (
	// ErrLeaseLost: another node owns the payment now (this node's lease
	// expired); the write changed nothing. Not fatal: the node drops the
	// payment and the owner carries on.
	ErrLeaseLost = errors.New("engine: payment lease lost to another node")
	// ErrNotFound: no such payment.
	ErrNotFound = errors.New("engine: payment not found")
)
