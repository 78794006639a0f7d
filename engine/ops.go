package engine

import (
	"context"
	"time"

	"github.com/paycode/paycode/codec"
)

// findPayment resolves an inquiry or cancel: paymentId wins when both ids
// are given; a payment of another client is not found.
func (e *Engine) findPayment(clientID []byte, req *codec.IDRequest) *payment {
	if len(req.PaymentID) > 0 {
		p, ok := e.payByID.get(req.PaymentID)
		if !ok || p.clientID != string(clientID) {
			return nil
		}
		return p
	}
	var kb [256]byte
	p, ok := e.payByReq.get(appendKey(kb[:0], clientID, req.PaymentRequestID))
	if !ok {
		return nil
	}
	return p
}

// Inquire answers inquiryPayment from the engine's own state; it never
// calls the wallet, so lane polling storms stay inside paycode. It returns
// codec.Success when found (out filled, with transactions) or
// codec.OrderNotExist.
//
// A payment this node works on is answered from memory; any other is
// read from the journal. Memory is ahead of the journal only while a
// write failed with the journal unavailable (health.go), and what it
// shows then is what a node settling the payment from the journal's copy
// (this one, or another that takes it over) reaches too: the wallet's
// own answers, and closes the journal held before the wallet was asked
// (followPayment), never a cancel only memory holds.
func (e *Engine) Inquire(ctx context.Context, clientID []byte, req *codec.IDRequest, out *codec.PaymentView) codec.ResultCode {
	p := e.findPayment(clientID, req)
	if p != nil {
		p.mu.Lock()
		owned := e.ownedLocked(p)
		unsure := p.st.stored == storedClaimUnknown
		if owned && !unsure {
			p.viewLocked(out, true)
		}
		p.mu.Unlock()
		if owned && unsure {
			return codec.UnknownException // stored or not: known when the journal answers
		}
		if owned {
			return codec.Success
		}
	}
	return e.inquireStored(ctx, clientID, req, out)
}

// CancelResult is the answer to a cancel.
type CancelResult struct {
	Result           codec.ResultCode
	Message          string
	PaymentID        string
	PaymentRequestID string
	CancelTime       time.Time     // set when the payment is cancelled
	WalletWait       time.Duration // time spent waiting on the wallet
}

// Cancel closes a payment (spec §2.3): an unpaid one can no longer be
// paid, a paid one inside the cancel window is reversed in full. It is
// idempotent: cancelling a cancelled payment answers SUCCESS again. A
// failed payment answers SUCCESS too (nothing is or will be charged) and
// stays FAIL. When the wallet's answer is unknown the cancel goes on in
// the follow-up and the lane gets UNKNOWN_EXCEPTION (U) to retry; until
// the wallet confirms, inquiries about a cancelled success answer
// PROCESSING, not SUCCESS (the wallet may have reversed it already).
//
// A cancel by paymentRequestId of a request paycode has not seen voids it
// (void.go): SUCCESS, and a pay with that id arriving later is refused
// ORDER_IS_CANCELED without dispatch.
func (e *Engine) Cancel(ctx context.Context, clientID []byte, req *codec.IDRequest) CancelResult {
	if len(clientID) == 0 {
		return CancelResult{Result: codec.OrderNotExist}
	}
	if p := e.findPayment(clientID, req); p != nil && e.owned(p) {
		return e.cancelOwned(ctx, p)
	}
	return e.cancelStored(ctx, clientID, req)
}

// cancelOwned cancels a payment this node works on.
func (e *Engine) cancelOwned(ctx context.Context, p *payment) CancelResult {
	defer e.beginOp(ctx, p)()
	if p.voided {
		return e.cancelVoided(p)
	}
	res := CancelResult{PaymentID: p.id, PaymentRequestID: p.requestID}
	now := e.clock.Now()
	p.mu.Lock()
	switch {
	case p.st.stage == stageAborted:
		// Never stored (found just before it left the indexes): ask again.
		p.mu.Unlock()
		return CancelResult{Result: codec.UnknownException, Message: "retry the cancel"}
	case p.st.stored == storedClaimUnknown:
		// Stored or not, and maybe not this payment but an earlier one of
		// the same request: known when the journal answers. Never sent.
		p.mu.Unlock()
		return CancelResult{Result: codec.UnknownException, Message: "the journal has not confirmed the payment yet; retry the cancel"}
	case p.status == codec.StatusCancelled:
		res.Result, res.CancelTime = codec.Success, p.cancelledAt
		p.mu.Unlock()
		return res
	case p.status == codec.StatusFail:
		res.Result = codec.Success
		res.Message = "the payment had failed; nothing is charged"
		p.mu.Unlock()
		return res
	case p.status == codec.StatusSuccess:
		if now.Sub(p.paidAt) > e.cfg.CancelWindow {
			p.mu.Unlock()
			res.Result = codec.CancelWindowExceed
			return res
		}
		if p.refunded > 0 {
			p.mu.Unlock()
			res.Result = codec.OrderStatusInvalid
			res.Message = "the payment has refunds; refund the rest instead of cancelling"
			return res
		}
	}
	if p.to(evCancel) {
		// Durable before the wallet is asked: after a crash, recovery
		// finishes the cancel instead of leaving the payment to stand.
		if err := e.persistLocked(ctx, p, nil, true); err != nil {
			p.mu.Unlock()
			res.Result = codec.UnknownException
			return res
		}
	}
	p.mu.Unlock()

	cctx, done := context.WithTimeout(ctx, e.cfg.WalletCallTimeout)
	start := time.Now()
	wres, err := p.wallet.Cancel(cctx, p.id)
	res.WalletWait = time.Since(start)
	done()
	res.Result = e.applyCancel(p, wres, err)
	if res.Result == codec.Success {
		p.mu.Lock()
		res.CancelTime = p.cancelledAt
		p.mu.Unlock()
	}
	return res
}

// Refund refunds part or all of a successful payment (spec §2.4). The sum
// of refunds in process or done never exceeds the paid amount, also under
// concurrent refunds (the check and the reservation happen under the
// payment's lock). Idempotent on (client-id, refundRequestId). It returns
// the time spent waiting on the wallet.
func (e *Engine) Refund(ctx context.Context, clientID []byte, req *codec.RefundRequest, out *codec.RefundView) (walletWait time.Duration) {
	*out = codec.RefundView{}
	if req.Amount.Value <= 0 {
		out.ResultCode, out.ResultMessage = codec.ParamIllegal, "refundAmount.value must be greater than zero"
		return
	}
	var p *payment
	deadline := time.Now().Add(e.cfg.PayTimeout)
	for {
		var answered bool
		if p, answered = e.refundTarget(ctx, clientID, req, out); answered {
			return
		}
		if end, ok := e.tryOp(ctx, p); ok {
			defer end()
			break
		}
		// Released between the lookup and now (a concurrent refund
		// finished): look it up, and take its lease, again.
		if !time.Now().Before(deadline) {
			out.ResultCode, out.ResultMessage = codec.UnknownException, "the payment is busy; retry the same request"
			return
		}
	}
	if p.clientID != string(clientID) {
		out.ResultCode = codec.OrderNotExist
		return
	}
	var kb [256]byte
	key := appendKey(kb[:0], clientID, req.RefundRequestID)
	now := e.clock.Now()
	var refuse codec.ResultCode
	var refuseMsg string
	r, loaded, _ := e.refByReq.getOrCreate(key, func(k string) (*refund, error) {
		p.mu.Lock()
		defer p.mu.Unlock()
		switch {
		case p.st.origin == originAdoptedUnconfirmed && p.status == codec.StatusProcessing && !p.st.closeWanted():
			// Its outcome may have been lost in a crash (a success is not
			// synced before the lane hears it, see Config.AsyncOutcomes)
			// and the wallet has not answered recovery's inquiry yet: the
			// lane may have been told SUCCESS, so a final F would be wrong.
			refuse, refuseMsg = codec.UnknownException, "the payment's outcome is being confirmed with the wallet after a restart: send the same refund again shortly"
		case p.status != codec.StatusSuccess || p.st.closeWanted():
			refuse, refuseMsg = codec.OrderStatusInvalid, "only a successful payment can be refunded"
		case req.Amount.Currency != p.amount.Currency:
			refuse, refuseMsg = codec.CurrencyNotSupport, "refundAmount.currency must be the payment's currency"
		case now.Sub(p.paidAt) > e.cfg.RefundWindow:
			refuse = codec.RefundWindowExceed
		case req.Amount.Value > p.amount.Value-p.refunded:
			refuse = codec.RefundAmountExceed
		}
		if refuse != codec.ResultNone {
			return nil, errRefused
		}
		r := &refund{
			clientID:  p.clientID,
			requestID: k[len(clientID)+1:],
			id:        e.ids.next(),
			p:         p,
			amount:    req.Amount,
			reason:    string(req.Reason),
			created:   now,
			status:    codec.StatusProcessing,
			result:    codec.RefundInProcess,
		}
		p.refunded += r.amount.Value
		p.refunds = append(p.refunds, r)
		return r, nil
	})
	if refuse != codec.ResultNone {
		out.ResultCode, out.ResultMessage = refuse, refuseMsg
		out.PaymentID = p.id
		out.RefundRequestID = string(req.RefundRequestID)
		return
	}
	if loaded {
		p.mu.Lock()
		same := r.p == p && r.amount == req.Amount
		if same {
			r.viewLocked(out)
		}
		p.mu.Unlock()
		if !same {
			*out = codec.RefundView{ResultCode: codec.RepeatReqInconsistent}
		}
		return
	}
	// The reservation and the refund's intent are durable before the
	// wallet is asked.
	p.mu.Lock()
	if err := e.claimRefundLocked(ctx, p, r, req, out); err != nil {
		p.mu.Unlock()
		isR := func(q *refund) bool { return q == r }
		e.refByReq.delIf(string(key), isR)
		return
	}
	p.mu.Unlock()
	cctx, done := context.WithTimeout(ctx, e.cfg.WalletCallTimeout)
	start := time.Now()
	wres, err := p.wallet.Refund(cctx, &WalletRefund{RefundID: r.id, PaymentID: p.id, Amount: r.amount, Reason: r.reason})
	walletWait = time.Since(start)
	done()
	e.applyRefund(r, wres, err)
	p.mu.Lock()
	r.viewLocked(out)
	p.mu.Unlock()
	return walletWait
}

// applyRefund applies a wallet's refund answer.
func (e *Engine) applyRefund(r *refund, res WalletResult, err error) {
	p := r.p
	now := e.clock.Now()
	p.mu.Lock()
	defer p.mu.Unlock()
	if r.status != codec.StatusProcessing {
		return
	}
	switch {
	case err != nil || res.Outcome == OutcomeProcessing || res.Outcome == OutcomeUnknown:
		if err != nil {
			e.stats.WalletError.Add(1)
		}
		e.scheduleRefundLocked(r, now)
		return
	case res.Outcome == OutcomeSuccess:
		r.status, r.result, r.msg = codec.StatusSuccess, codec.Success, ""
		r.doneAt = res.At
		if r.doneAt.IsZero() {
			r.doneAt = now
		}
	default:
		r.status, r.result, r.msg = codec.StatusFail, res.Code.AsFailure(), res.Message
		p.refunded -= r.amount.Value // release the reservation
	}
	e.persistLocked(context.Background(), p, r, true)
}

// InquireRefund answers inquiryRefund from the journal: it returns
// codec.Success with out filled, codec.OrderNotExist, or
// codec.UnknownException when the journal cannot be read.
func (e *Engine) InquireRefund(ctx context.Context, clientID []byte, req *codec.InquiryRefundRequest, out *codec.RefundView) codec.ResultCode {
	if len(clientID) == 0 {
		return codec.OrderNotExist // the journal reads an empty client as any
	}
	// Refunds are rarely polled: the journal answers (a refund of a
	// payment another node works on may be newer there).
	rr, err := e.journal.GetRefund(ctx, string(clientID), string(req.RefundRequestID), string(req.RefundID))
	if err != nil {
		return codec.UnknownException
	}
	if rr == nil {
		return codec.OrderNotExist
	}
	refundFromRecord(rr, &payment{id: rr.PaymentID}).viewLocked(out)
	return codec.Success
}
