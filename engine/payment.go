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
	// key is the request index key (appendKey: client id, NUL, request
	// id) under which payByReq holds p; clientID and requestID are
	// slices of it, one allocation. Every indexed payment has it (Pay,
	// paymentFromRecord, newVoid).
	key        string
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
	// st is the payment's state besides its status (state.go): where it
	// is in its life, whether this node owns it, what closing is wanted,
	// where this copy came from. It changes only through p.to.
	st state
	// dispatchWait is made (lazily: most payments never see a duplicate)
	// by a concurrent duplicate that waits for the first pay's answer
	// instead of dispatching again; p.to closes it when the payment
	// leaves stageDispatching.
	dispatchWait chan struct{}

	status      codec.PaymentStatus
	result      codec.ResultCode
	msg         string
	paidAt      time.Time
	cancelledAt time.Time
	customerID  string
	brand       string
	// due is when its entry in the follow-up queue is due; zero when it
	// has none.
	due     time.Time
	attempt int
	// version counts journal writes of this payment.
	version uint64
	updated time.Time // last journal write
	// notifiedStatus is the final status last written to the journal's
	// outbox for notification.
	notifiedStatus codec.PaymentStatus
	// refunded is the sum of refunds that succeeded or are in process; it
	// never exceeds amount.Value.
	refunded  int64
	refunds   []*refund
	followUps int // follow-up wallet calls
	idleTicks int // lease ticks this node held p with nothing to do
	// maskedStr is codeMasked as a string, made once by the first journal
	// write or the final log line (see maskedLocked), not per write.
	maskedStr string
	ops       int // lane cancels and refunds running on p (several nodes)
}

// waitDispatched returns a channel closed when the first dispatch has
// returned, or nil when it already has.
func (p *payment) waitDispatched() <-chan struct{} {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.st.stage != stageDispatching {
		return nil
	}
	if p.dispatchWait == nil {
		p.dispatchWait = make(chan struct{})
	}
	return p.dispatchWait
}

// markDispatched records that the first pay call returned (or that none
// will be made); an aborted or already reported payment stays as it is.
func (p *payment) markDispatched() {
	p.mu.Lock()
	p.to(evDispatched)
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
	if p.st.stored == storedClaimUnknown {
		// Its id is not the lane's to see yet: the claim may lose to a
		// payment of the same request stored before (health.go).
		fail(v, codec.UnknownException, msgClaimUnknown)
		v.PaymentRequestID = p.requestID
		return
	}
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
	if p.status == codec.StatusSuccess && p.st.closeWanted() {
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
