package engine

import (
	"context"
	"fmt"
	"time"

	"github.com/paycode/paycode/codec"
)

// RecoverStats says what Recover found.
type RecoverStats struct {
	Payments      int // payments loaded
	Pending       int // non-final payments queued for settlement
	Refunds       int
	PendingRefund int
	Notifications int // notifications still to deliver
	NoWallet      int // pending payments whose wallet is not configured any more
}

// Recover loads the journal into the engine and queues everything that
// was not finished: non-final payments are settled at their wallets by
// inquiry and, if still unresolved at their deadline (or already past
// it), by cancel — never by paying again; refunds in process are retried
// (refunds are idempotent at the wallet); unacknowledged notifications
// are sent again. Call it once, after New and before serving.
func (e *Engine) Recover(ctx context.Context) (RecoverStats, error) {
	var st RecoverStats
	if e.journal == nil {
		return st, nil
	}
	if e.shared != nil {
		return e.recoverShared(ctx)
	}
	now := e.clock.Now()
	var refunds []*RefundRecord
	notes := map[string]*NotificationRecord{}
	var maxSeq uint64
	err := e.journal.Load(ctx, func(rec *Record) error {
		switch {
		case rec.Payment != nil:
			p := e.restorePayment(rec.Payment)
			st.Payments++
			if seq, ok := e.ids.seqOf(p.id); ok && seq > maxSeq {
				maxSeq = seq
			}
		case rec.Refund != nil:
			r := *rec.Refund
			refunds = append(refunds, &r)
		case rec.Notification != nil:
			n := *rec.Notification
			n.Body = append([]byte(nil), n.Body...)
			notes[n.PaymentID] = &n
		}
		return nil
	})
	if err != nil {
		return st, fmt.Errorf("engine: recover: %w", err)
	}
	for _, rr := range refunds {
		p, ok := e.payByID.get([]byte(rr.PaymentID))
		if !ok {
			continue // its payment was compacted
		}
		r := &refund{
			clientID: rr.ClientID, requestID: rr.RequestID, id: rr.RefundID, p: p,
			amount: rr.Amount, reason: rr.Reason, created: rr.Created,
			status: rr.Status, result: rr.Result, msg: rr.Message, doneAt: rr.DoneAt, version: rr.Version,
		}
		p.refunds = append(p.refunds, r)
		e.refByReq.put(rr.ClientID+"\x00"+rr.RequestID, r)
		e.refByID.put(r.id, r)
		st.Refunds++
		if seq, ok := e.ids.seqOf(r.id); ok && seq > maxSeq {
			maxSeq = seq
		}
		if r.status == codec.StatusProcessing {
			st.PendingRefund++
			p.mu.Lock()
			r.queued = true
			e.fu.push(fuItem{due: now, r: r})
			p.mu.Unlock()
		}
	}
	e.ids.atLeast(maxSeq)
	e.payByID.each(func(_ string, p *payment) {
		p.mu.Lock()
		defer p.mu.Unlock()
		if n := notes[p.id]; n != nil {
			p.notifiedStatus = p.status
			o := &outboxItem{p: p, body: n.Body, attempts: n.Attempts, queued: true}
			p.outbox = o
			due := n.Due
			if due.Before(now) {
				due = now
			}
			e.fu.push(fuItem{due: due, n: o})
			st.Notifications++
		}
		if p.final() && !p.cancelWanted && !p.reverse {
			return
		}
		if p.wallet == nil {
			st.NoWallet++
			e.log.Error("recovered payment's wallet is not configured; it cannot be settled", "payment_id", p.id, "wallet", p.walletName)
			return
		}
		st.Pending++
		p.recovered = !p.final() && !p.cancelWanted
		p.queued = true
		p.due = now
		e.fu.push(fuItem{due: now, p: p})
	})
	e.stats.Recovered.Add(int64(st.Payments))
	e.log.Info("journal recovered", "payments", st.Payments, "pending", st.Pending, "refunds", st.Refunds,
		"pending_refunds", st.PendingRefund, "notifications", st.Notifications, "no_wallet", st.NoWallet)
	return st, nil
}

// restorePayment rebuilds a payment and its indexes from its record.
func (e *Engine) restorePayment(r *PaymentRecord) *payment {
	p := e.paymentFromRecord(r)
	e.payByReq.put(p.clientID+"\x00"+p.requestID, p)
	e.payByID.put(p.id, p)
	e.codes.putIfAbsent(p.codeHash, p)
	return p
}

// Compact forgets final payments whose last change is older than the
// retention, in memory and in the journal. Until then their
// paymentRequestId answers from the record and their code stays used.
func (e *Engine) Compact(ctx context.Context) (int, error) {
	before := e.clock.Now().Add(-e.cfg.Retention)
	n := 0
	e.payByID.each(func(id string, p *payment) {
		p.mu.Lock()
		old := p.final() && !p.cancelWanted && !p.reverse && !p.queued && p.updated.Before(before) &&
			(p.outbox == nil || p.outbox.delivered)
		for _, r := range p.refunds {
			if r.status == codec.StatusProcessing {
				old = false
			}
		}
		p.mu.Unlock()
		if !old {
			return
		}
		for _, r := range p.refunds {
			e.refByReq.del(r.clientID + "\x00" + r.requestID)
			e.refByID.del(r.id)
		}
		e.codes.del(p.codeHash)
		e.payByReq.del(p.clientID + "\x00" + p.requestID)
		e.payByID.del(id)
		n++
	})
	if e.journal != nil {
		if _, err := e.journal.Compact(ctx, before); err != nil {
			return n, err
		}
	}
	return n, nil
}

// compactEvery is how often Start's loop compacts.
const compactEvery = time.Hour
