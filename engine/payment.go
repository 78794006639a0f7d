package engine

import (
	"sync"
	"time"

	"github.com/paycode/paycode/codec"
)

// payment is the engine's record of one pay request. Fields above mu never
// change after creation and may be read without it; the rest are guarded
// by mu. Wallet calls are never made while holding mu.
type payment struct {
	clientID   string
	requestID  string
	id         string
	codeHash   [CodeHashSize]byte // keyed hash of the code (single use, journal)
	codeMasked maskedCode         // for logs and the journal
	amount     codec.Amount
	methodType string
	scenario   string
	settlement codec.Currency
	walletName string
	wallet     Wallet
	created    time.Time
	deadline   time.Time // follow-up cancels at this time
	notifyURL  string
	// voided: a tombstone, not a payment: a lane cancelled this request
	// id before any pay of it arrived (see void.go). It has no code,
	// amount or wallet, is CANCELLED from the start, and a pay with its
	// request id is refused without dispatch.
	voided bool

	mu sync.Mutex
	// dispatchDone is set when the first pay call to the wallet returned;
	// dispatchWait is made (lazily: most payments never see a duplicate)
	// by a concurrent duplicate that waits for that answer instead of
	// dispatching again, and closed by the dispatcher.
	dispatchDone bool
	dispatchWait chan struct{}

	status      codec.PaymentStatus
	result      codec.ResultCode
	msg         string
	paidAt      time.Time
	cancelledAt time.Time
	customerID  string
	brand       string
	// cancelWanted: the payment must end closed at its wallet (lane cancel
	// or deadline); a success reported after this is not accepted but
	// reversed. closeAs is the final state once the wallet confirms:
	// CANCELLED for a lane cancel, FAIL/ORDER_IS_CLOSED for the deadline.
	cancelWanted bool
	closeAs      codec.PaymentStatus
	// reverse: the wallet reported a success after the payment was closed
	// here; the follow-up cancels (reverses) it at the wallet again.
	reverse bool
	// queued: an entry for this payment is in the follow-up queue.
	queued  bool
	due     time.Time
	attempt int
	// version counts journal writes of this payment; aborted marks a
	// payment whose intent could not be journaled (never dispatched).
	version uint64
	updated time.Time // last journal write
	aborted bool
	// recovered: loaded from the journal unfinished; it is not cancelled
	// at its deadline until the wallet has answered an inquiry, so an
	// outcome the lane already saw (its write lost in a crash) is found
	// again.
	recovered bool
	// notifiedStatus is the final status last written to the journal's
	// outbox for notification.
	notifiedStatus codec.PaymentStatus
	// refunded is the sum of refunds that succeeded or are in process; it
	// never exceeds amount.Value.
	refunded int64
	refunds  []*refund
	// reported: the final state was logged and handed to OnOutcome;
	// followUps counts follow-up wallet calls; wasRecovered marks a payment
	// settled after a restart or a takeover.
	reported     bool
	followUps    int
	wasRecovered bool
	// leaseGone (several nodes): this node released the payment or lost
	// its lease; it no longer works on it and forgets it at the next lease
	// tick. lost: a write was refused because another node owns it now.
	leaseGone bool
	lost      bool
	idleTicks int // lease ticks this node held p with nothing to do
	// maskedStr is codeMasked as a string, made once by the first journal
	// write or the final log line (see maskedLocked), not per write.
	maskedStr string
	ops       int // lane cancels and refunds running on p (several nodes)
	// unsaved (several nodes): a write failed with the journal
	// unavailable, so memory is ahead of the database; the state is
	// written, with all of p's refunds, once the journal answers again.
	// unsure: the database's copy is unknown (see health.go): the
	// intent's claim (nothing was dispatched), or a refund's claim.
	unsaved bool
	unsure  unsureKind
}

// waitDispatched returns a channel closed when the first dispatch has
// returned, or nil when it already has.
func (p *payment) waitDispatched() <-chan struct{} {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.dispatchDone {
		return nil
	}
	if p.dispatchWait == nil {
		p.dispatchWait = make(chan struct{})
	}
	return p.dispatchWait
}

func (p *payment) markDispatched() {
	p.mu.Lock()
	p.dispatchDone = true
	if p.dispatchWait != nil {
		close(p.dispatchWait)
	}
	p.mu.Unlock()
}

// final reports whether the status can no longer change.
func (p *payment) final() bool {
	return p.status == codec.StatusSuccess || p.status == codec.StatusFail || p.status == codec.StatusCancelled
}

// sameKeyFields reports whether req repeats p's idempotency key fields:
// amount, code, paymentMethodType, scenario and settlement currency
// (Alipay+'s list plus the code, spec §5.3).
func (p *payment) sameKeyFields(req *codec.PayRequest, codeHash [CodeHashSize]byte) bool {
	return p.amount == req.Amount &&
		p.codeHash == codeHash &&
		p.methodType == string(req.PaymentMethodType) &&
		p.scenario == string(req.Scenario) &&
		p.settlement == req.SettlementCurrency
}

// viewLocked fills v from p. Caller holds p.mu. Strings are shared, not
// copied; v.Transactions is reused (truncated) only when withTxns is set.
func (p *payment) viewLocked(v *codec.PaymentView, withTxns bool) {
	txns := v.Transactions[:0]
	*v = codec.PaymentView{
		PaymentRequestID: p.requestID,
		PaymentID:        p.id,
		Amount:           p.amount,
		Status:           p.status,
		ResultCode:       p.result,
		ResultMessage:    p.msg,
		CreateTime:       p.created,
		PaymentTime:      p.paidAt,
		CancelTime:       p.cancelledAt,
		CustomerID:       p.customerID,
		WalletName:       p.brand,
	}
	if p.status == codec.StatusSuccess && p.cancelWanted {
		// A cancel of this success is durable and paycode will carry it
		// out (the follow-up, or recovery after a crash, repeats it until
		// the wallet answers): the wallet may already have reversed it.
		// Until the wallet confirms (CANCELLED) or refuses (SUCCESS again,
		// see applyCancel), the outcome is open: answering SUCCESS would
		// let a merchant hand over goods for money that is going back.
		v.Status, v.ResultCode = codec.StatusProcessing, codec.PaymentInProcess
		v.ResultMessage = "a cancel of this payment is in progress; inquire again or repeat the cancel"
	}
	if v.Status != codec.StatusSuccess {
		v.PaymentTime = time.Time{}
	}
	if p.voided {
		v.PaymentID = "" // no payment was made; its id is internal
	}
	if withTxns {
		for _, r := range p.refunds {
			txns = append(txns, codec.TransactionView{
				Type: codec.TxnRefund, Status: r.status, Result: r.result,
				ID: r.id, RequestID: r.requestID, Amount: r.amount, Time: r.doneAt,
			})
		}
		if p.status == codec.StatusCancelled {
			txns = append(txns, codec.TransactionView{
				Type: codec.TxnCancel, Status: codec.StatusSuccess, Result: codec.Success,
				ID: p.id, RequestID: p.requestID, Amount: p.amount, Time: p.cancelledAt,
			})
		}
	}
	v.Transactions = txns
}

// refund is one refund of a payment. Its mutable fields are guarded by the
// payment's mu.
type refund struct {
	clientID  string
	requestID string
	id        string
	p         *payment
	amount    codec.Amount
	reason    string
	created   time.Time

	status  codec.PaymentStatus
	result  codec.ResultCode
	msg     string
	doneAt  time.Time
	queued  bool
	attempt int
	version uint64
}

func (r *refund) viewLocked(v *codec.RefundView) {
	*v = codec.RefundView{
		RefundRequestID: r.requestID,
		RefundID:        r.id,
		PaymentID:       r.p.id,
		Amount:          r.amount,
		Status:          r.status,
		ResultCode:      r.result,
		ResultMessage:   r.msg,
		RefundTime:      r.doneAt,
	}
}

// maskedCode is a payment code's masked form kept by value, so recording
// it costs no allocation.
type maskedCode struct {
	n uint8
	b [codec.MaxCodeLen]byte
}

func newMaskedCode(c *codec.Code) maskedCode {
	var m maskedCode
	m.n = uint8(len(c.AppendMasked(m.b[:0])))
	return m
}

func (m maskedCode) String() string { return string(m.b[:m.n]) }

// maskedLocked returns p's masked code as a string. Caller holds p.mu.
func (p *payment) maskedLocked() string {
	if p.maskedStr == "" {
		p.maskedStr = p.codeMasked.String()
	}
	return p.maskedStr
}
