package engine

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"hash"
	"sync"
	"time"

	"github.com/paycode/paycode/codec"
)

// Failpoints name the moments a crash test may kill the process at (see
// Config.Failpoint). They sit around every durable write and wallet call,
// and exist only in binaries built with -tags failpoints (failpoint.go):
// in a default build the calls are empty and inlined away, names and all.
const (
	FailBeforeIntent   = "pay.before-intent"    // payment created in memory, intent not journaled
	FailAfterIntent    = "pay.after-intent"     // intent synced, wallet not called yet
	FailAfterWallet    = "pay.after-wallet"     // the wallet answered, the outcome is not journaled
	FailAfterOutcome   = "pay.after-outcome"    // the outcome is journaled, the lane not answered
	FailFollowUpCall   = "followup.before-call" // a follow-up is about to call the wallet
	FailFollowUpAnswer = "followup.after-call"  // the wallet answered a follow-up, not journaled
	FailNotifySend     = "notify.before-send"   // a notification is about to be sent
	FailNotifyAck      = "notify.after-ack"     // the merchant acknowledged, not journaled
)

// hashCode is the keyed hash (HMAC-SHA256) of a code's digits: what the
// engine keeps and journals to enforce single use, instead of the code.
func (e *Engine) hashCode(c *codec.Code) [CodeHashSize]byte {
	h := e.hmacPool.Get().(*codeHasher)
	h.h.Reset()
	h.h.Write(c.AppendDigits(h.digits[:0]))
	var out [CodeHashSize]byte
	copy(out[:], h.h.Sum(h.sum[:0]))
	clear(h.digits[:])
	e.hmacPool.Put(h)
	return out
}

// codeHasher is a pooled HMAC with its own buffers, so hashing a code
// allocates nothing (buffers handed to an interface method would escape).
type codeHasher struct {
	h      hash.Hash
	digits [codec.MaxCodeLen]byte
	sum    [CodeHashSize]byte
}

func newHMACPool(key []byte) *sync.Pool {
	if len(key) == 0 {
		key = make([]byte, 32)
		rand.Read(key)
	}
	k := append([]byte(nil), key...)
	return &sync.Pool{New: func() any { return &codeHasher{h: hmac.New(sha256.New, k)} }}
}

var batchPool = sync.Pool{New: func() any {
	return &persistBatch{}
}}

// persistBatch is a pooled Batch with its records, so a journal write
// allocates no record values of its own.
type persistBatch struct {
	b   Batch
	pr  PaymentRecord
	rr  RefundRecord
	nr  NotificationRecord
	buf []byte
}

// persistLocked journals p's current state (and r's, when given) as one
// batch; sync waits for durability. Caller holds p.mu. A payment that
// became final with a notify URL gets its notification in the same batch,
// so notification and state can never disagree after a crash. Any error
// is fatal for the engine (fail-stop).
func (e *Engine) persistLocked(ctx context.Context, p *payment, r *refund, sync bool) error {
	if e.failed.Load() {
		return ErrJournalFailed
	}
	if p.st.stored > storedBehind || e.jh.down.Load() {
		// While the journal is away writes wait in memory (storedBehind),
		// rather than each wait out the call timeout; a payment whose
		// stored copy is unknown is not written until it is re-read
		// (evWriteFailed is refused then).
		p.to(evWriteFailed)
		return ErrJournalUnavailable
	}
	if p.st.owner != ownerHeld {
		if err := e.reacquireLocked(ctx, p); err != nil {
			return err
		}
	}
	p.version++
	p.updated = e.clock.Now()
	if r != nil {
		r.version++
	}
	var notify bool
	if p.notifyURL != "" && p.final() && !p.st.closeWanted() && p.notifiedStatus != p.status {
		notify = true
	}
	pb := batchPool.Get().(*persistBatch)
	defer batchPool.Put(pb)
	pb.b.Reset()
	now := e.clock.Now()
	p.recordLocked(&pb.pr, now)
	// A pending notification is the journal's outbox's, not the
	// payment's: it keeps neither the lease nor the payment in memory.
	pb.pr.Held = p.heldLocked()
	pb.b.Payments = append(pb.b.Payments, &pb.pr)
	if r != nil {
		r.recordLocked(&pb.rr, now)
		pb.b.Refunds = append(pb.b.Refunds, &pb.rr)
	}
	if p.st.stored == storedBehind {
		// An earlier write failed: its refund's change goes too.
		for _, q := range p.refunds {
			if q != r {
				q.version++
				rr := new(RefundRecord)
				q.recordLocked(rr, now)
				pb.b.Refunds = append(pb.b.Refunds, rr)
			}
		}
	}
	if notify {
		pb.nr = NotificationRecord{PaymentID: p.id, URL: p.notifyURL, Due: now}
		pb.buf = e.notifyBodyLocked(pb.buf[:0], p)
		pb.nr.Body = pb.buf
		pb.b.Notifications = append(pb.b.Notifications, &pb.nr)
	}
	err := e.journal.Append(ctx, &pb.b, sync)
	held := pb.pr.Held
	pb.b.Reset()
	pb.pr, pb.rr = PaymentRecord{}, RefundRecord{}
	if err != nil {
		if errors.Is(err, ErrLeaseLost) {
			// Another node took the payment over (this node's lease
			// expired): it carries on from the database; this node stops.
			p.to(evLose)
			e.log.Warn("payment lease lost to another node; leaving it to that node", "payment_id", p.id)
			return err
		}
		if e.journalTransient(err) {
			p.to(evWriteFailed) // written again once the journal answers
			return err
		}
		e.fatal(err)
		return err
	}
	p.to(evWritten)
	if !held {
		p.to(evRelease) // released: forgotten at the next lease tick
	}
	if notify {
		p.notifiedStatus = p.status
		e.wakeOutbox()
	}
	e.maybeReportLocked(p)
	return nil
}

// maybeReportLocked reports p once it is final with no wallet work left.
func (e *Engine) maybeReportLocked(p *payment) {
	if p.st.stage != stageReported && !p.voided && p.final() && !p.st.closeWanted() && p.st.closing != closeReverse {
		e.reportLocked(p, p.updated)
	}
}

// fatal stops admitting payments and reports the journal failure once.
func (e *Engine) fatal(err error) {
	if e.failed.CompareAndSwap(false, true) {
		e.log.Error("journal write failed: payments are suspended; the process must restart to recover", "err", err)
		if e.cfg.OnFatal != nil {
			e.cfg.OnFatal(err)
		}
	}
}

// Failed reports whether the journal failed (the engine admits nothing).
func (e *Engine) Failed() bool { return e.failed.Load() }

func (p *payment) recordLocked(r *PaymentRecord, now time.Time) {
	*r = PaymentRecord{
		PaymentID: p.id, ClientID: p.clientID, RequestID: p.requestID,
		CodeHash: p.codeHash, CodeMasked: p.maskedLocked(),
		Amount: p.amount, MethodType: p.methodType, Scenario: p.scenario, Settlement: p.settlement,
		Wallet: p.walletName, NotifyURL: p.notifyURL, Created: p.created, Deadline: p.deadline,
		Status: p.status, Result: p.result, Message: p.msg, PaidAt: p.paidAt, CancelledAt: p.cancelledAt,
		CustomerID: p.customerID, Brand: p.brand, CancelWanted: p.st.closeWanted(), CloseAs: p.st.closeAs(),
		Reverse: p.st.closing == closeReverse, Voided: p.voided, Refunded: p.refunded, Updated: now, Version: p.version,
	}
}

func (r *refund) recordLocked(rec *RefundRecord, now time.Time) {
	*rec = RefundRecord{
		RefundID: r.id, ClientID: r.clientID, RequestID: r.requestID, PaymentID: r.p.id,
		Amount: r.amount, Reason: r.reason, Created: r.created, Status: r.status, Result: r.result,
		Message: r.msg, DoneAt: r.doneAt, Updated: now, Version: r.version,
	}
}
