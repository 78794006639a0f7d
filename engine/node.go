package engine

import (
	"context"
	"errors"
	"time"

	"github.com/paycode/paycode/codec"
)

// The journal is the source of truth, on one node (Pebble, Mem) as on
// several (PostgreSQL). A node keeps in memory only the
// payments it owns — leased to it because it created them or took them
// over — while they have work left; once a payment is final with nothing
// pending its write releases the lease and the next lease tick forgets
// it. Inquiries read the database on every node. A cancel or refund for
// a payment this node does not own first acquires its lease (free once
// final); a cancel of a payment another live node is working on is
// handed to that node through the database (RequestCancel), which picks
// it up on its next lease tick.
//
// The invariant that keeps nothing lost: every payment leased to this
// node in the database is in this node's memory, or this node has failed
// (fail-stop) and its leases expire for another node to take over.

// DefaultLeaseCheck is how often a node renews its leases, picks up
// cancels handed to it and takes over work whose owner died.
const DefaultLeaseCheck = time.Second

// takeOverBatch bounds the payments taken over per lease tick.
const takeOverBatch = 512

// sharedPoll is how often a node re-reads a payment another node is
// working on while a lane waits for it.
const sharedPoll = 20 * time.Millisecond

// heldLocked reports whether p still has work on this node: not final, a
// cancel or reversal pending, a refund in process, a lane's cancel or
// refund running on it (beginOp: a refund that finishes must not release
// the lease under a concurrent one). A pending notification is not the
// payment's work: the journal's outbox holds it. Caller holds p.mu.
func (p *payment) heldLocked() bool {
	if !p.final() || p.st.closeWanted() || p.st.closing == closeReverse || p.ops > 0 {
		return true
	}
	for _, r := range p.refunds {
		if r.status == codec.StatusProcessing {
			return true
		}
	}
	return false
}

// reacquireLocked takes back the lease of a payment this node released
// (nothing was pending) that has work again — a wallet's late answer, say
// — unless another node has it or changed it since. Caller holds p.mu.
func (e *Engine) reacquireLocked(ctx context.Context, p *payment) error {
	if p.st.owner == ownerLost {
		return ErrLeaseLost
	}
	cur, found := e.payByID.get([]byte(p.id))
	if found && cur != p {
		return ErrLeaseLost // a fresher copy is in memory
	}
	l, ok, err := e.journal.Acquire(ctx, p.id)
	if err != nil || !ok || l.Payment.Version != p.version {
		return ErrLeaseLost
	}
	p.to(evReacquire)
	if !found {
		e.payByReq.put(p.key, p)
		e.payByID.put(p.id, p)
		e.codes.putIfAbsent(p.codeHash, p)
	}
	return nil
}

// ownedLocked reports whether this node may work on p. Caller holds p.mu.
func (e *Engine) ownedLocked(p *payment) bool {
	return p.st.owner == ownerHeld
}

// owned is ownedLocked taking p's lock.
func (e *Engine) owned(p *payment) bool {
	if p == nil {
		return false
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	return e.ownedLocked(p)
}

// claim stores a new payment's intent in the journal (insert or
// fetch). It returns true when it answered the lane itself: the request
// or the code belongs to a payment stored before (by any node), or the
// journal failed.
func (e *Engine) claim(ctx context.Context, p *payment, req *codec.PayRequest, codeHash [CodeHashSize]byte, out *codec.PaymentView) bool {
	now := e.clock.Now()
	pb := batchPool.Get().(*persistBatch) // its record: no allocation per pay
	// p.mu is held across the claim: a lane's cancel that finds p in
	// memory meanwhile must not write it before it is stored (or after
	// it lost its claim to another payment), so it waits here.
	p.mu.Lock()
	p.version++
	p.updated = now
	p.recordLocked(&pb.pr, now)
	pb.pr.Held = true
	existing, err := e.journal.ClaimPayment(ctx, &pb.pr)
	unknown := err != nil && errors.Is(err, ErrOutcomeUnknown) && e.journalTransient(err)
	if unknown {
		// Stored or not, nobody can tell until the database answers:
		// held here, never dispatched, and settled then (health.go).
		p.to(evClaimUnknown)
	} else if err != nil || existing != nil {
		p.abortLocked()
	}
	p.mu.Unlock()
	pb.pr = PaymentRecord{}
	batchPool.Put(pb)
	switch {
	case unknown:
		p.markDispatched() // a repeat answers from p: in process
		fail(out, codec.UnknownException, msgClaimUnknown)
		return true
	case err != nil && e.journalTransient(err):
		e.abort(p) // nothing stored: a retry starts afresh
		fail(out, codec.RequestTrafficExceedLimit, msgJournalDown)
		return true
	case err != nil:
		e.fatal(err)
		e.abort(p)
		fail(out, codec.UnknownException, msgSuspended)
		return true
	}
	if existing == nil {
		return false
	}
	e.abort(p)
	if existing.ClientID != p.clientID || existing.RequestID != p.requestID {
		fail(out, codec.InvalidPaymentCode, "the payment code was already used, ask the customer to refresh it")
		return true
	}
	if existing.Voided {
		failVoided(out) // cancelled before this pay came: nothing dispatched
		return true
	}
	e.stats.Duplicates.Add(1) // as for one found in memory; a reused code is not one
	e.answerStored(ctx, existing, req, codeHash, out)
	return true
}

// answerStored answers a repeated pay from the stored record of a payment
// made (or being made) by another node: REPEAT_REQ_INCONSISTENT when the
// key fields differ, else its state, waiting (up to the pay timeout) for
// a payment in process to settle, as a duplicate found in memory would.
func (e *Engine) answerStored(ctx context.Context, rec *PaymentRecord, req *codec.PayRequest, codeHash [CodeHashSize]byte, out *codec.PaymentView) {
	if rec.Voided {
		failVoided(out)
		return
	}
	if !e.paymentFromRecord(rec).sameKeyFields(req, codeHash) {
		fail(out, codec.RepeatReqInconsistent, "")
		return
	}
	rec = e.watchPayment(ctx, rec, func(r *PaymentRecord) bool { return r.Status != codec.StatusProcessing })
	e.paymentFromRecord(rec).viewLocked(out, false)
}

// watchPayment re-reads a payment another node works on, every
// sharedPoll, until done accepts it, the pay timeout passes or ctx ends,
// and returns the last version read.
func (e *Engine) watchPayment(ctx context.Context, rec *PaymentRecord, done func(*PaymentRecord) bool) *PaymentRecord {
	deadline := time.Now().Add(e.cfg.PayTimeout)
	for !done(rec) && time.Now().Before(deadline) {
		t := time.NewTimer(sharedPoll)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return rec
		}
		next, _, err := e.journal.GetPayment(ctx, rec.ClientID, "", rec.PaymentID)
		if err != nil || next == nil {
			return rec
		}
		rec = next
	}
	return rec
}

// paymentFromRecord builds a payment from its record, without indexing
// it: a view of the database, or the start of an adopted payment.
func (e *Engine) paymentFromRecord(r *PaymentRecord) *payment {
	key := indexKey(r.ClientID, r.RequestID)
	p := &payment{
		key: key, clientID: key[:len(r.ClientID)], requestID: key[len(r.ClientID)+1:], id: r.PaymentID,
		codeHash: r.CodeHash, amount: r.Amount, methodType: r.MethodType, scenario: r.Scenario,
		settlement: r.Settlement, walletName: r.Wallet, wallet: e.wallet[r.Wallet],
		created: r.Created, deadline: r.Deadline, notifyURL: r.NotifyURL,
		status: r.Status, result: r.Result, msg: r.Message, paidAt: r.PaidAt, cancelledAt: r.CancelledAt,
		customerID: r.CustomerID, brand: r.Brand,
		refunded: r.Refunded, version: r.Version, updated: r.Updated,
		voided: r.Voided, notifiedStatus: r.Status,
		st: state{stage: stageOpen, closing: closingOf(r), origin: originAdopted},
	}
	switch {
	case r.Final():
		p.st.stage = stageReported
	case !p.final() && p.st.closing == closeNone:
		// Unfinished: its outcome may have died with the node that wrote
		// it; no deadline cancel before the wallet answers an inquiry.
		p.st.origin = originAdoptedUnconfirmed
	}
	p.codeMasked.n = uint8(copy(p.codeMasked.b[:], r.CodeMasked))
	p.maskedStr = r.CodeMasked
	return p
}

// refundFromRecord builds a refund of p from its record.
func refundFromRecord(rr *RefundRecord, p *payment) *refund {
	return &refund{
		clientID: rr.ClientID, requestID: rr.RequestID, id: rr.RefundID, p: p,
		amount: rr.Amount, reason: rr.Reason, created: rr.Created,
		status: rr.Status, result: rr.Result, msg: rr.Message, doneAt: rr.DoneAt, version: rr.Version,
	}
}

// adopt puts a payment just leased to this node into memory, replacing
// any stale copy, and queues its pending work as recovery does: an
// unfinished payment is settled by inquiry first (its outcome may have
// died with its previous owner), refunds in process are retried,
// notifications sent.
func (e *Engine) adopt(l *Leased, now time.Time) *payment {
	if old, ok := e.payByID.get([]byte(l.Payment.PaymentID)); ok {
		old.mu.Lock()
		old.to(evRelease)
		old.mu.Unlock()
		e.forget(old)
	}
	p := e.paymentFromRecord(l.Payment)
	if seq, ok := e.ids.seqOf(p.id); ok {
		e.ids.atLeast(seq)
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, rr := range l.Refunds {
		r := refundFromRecord(rr, p)
		p.refunds = append(p.refunds, r)
		e.refByReq.put(indexKey(rr.ClientID, rr.RequestID), r)
		if seq, ok := e.ids.seqOf(r.id); ok {
			e.ids.atLeast(seq)
		}
		if r.status == codec.StatusProcessing {
			r.queued = true
			e.fu.push(fuItem{due: now, r: r})
		}
	}
	e.payByReq.put(p.key, p)
	e.payByID.put(p.id, p)
	e.codes.putIfAbsent(p.codeHash, p)
	if l.CancelRequested && p.wallet != nil {
		// A lane's cancel was handed to the previous owner, which died
		// before carrying it out: it is this node's to do now.
		e.cancelHandedOverLocked(context.Background(), p, now)
	}
	if !p.final() || p.st.closeWanted() || p.st.closing == closeReverse {
		if p.wallet == nil {
			e.log.Error("taken-over payment's wallet is not configured here; it cannot be settled", "payment_id", p.id, "wallet", p.walletName)
		} else {
			p.due = now
			e.fu.push(fuItem{due: now, p: p})
		}
	}
	return p
}

// forget removes p and its refunds from this node's memory (only the
// index entries that still point at them).
func (e *Engine) forget(p *payment) {
	isP := func(q *payment) bool { return q == p }
	p.mu.Lock()
	refunds := append([]*refund(nil), p.refunds...)
	p.mu.Unlock()
	for _, r := range refunds {
		isR := func(q *refund) bool { return q == r }
		e.refByReq.delIf(indexKey(r.clientID, r.requestID), isR)
	}
	e.codes.delIf(p.codeHash, isP)
	e.payByReq.delIf(p.key, isP)
	e.payByID.delIf(p.id, isP)
}

// LeaseTick renews this node's leases, carries out cancels other nodes
// handed to it, takes over work whose owner's lease expired, and forgets
// payments it released. Start runs it every Config.LeaseCheck; tests with
// a manual clock call it directly.
func (e *Engine) LeaseTick(ctx context.Context) {
	if e.failed.Load() || !e.healJournal(ctx) {
		return
	}
	cancels, err := e.journal.Renew(ctx)
	if err != nil {
		if !e.journalTransient(err) {
			e.fatal(err) // the node's registration was taken, say
			return
		}
		e.log.Warn("lease renewal failed; other nodes take this node's payments over when the leases expire", "err", err)
		return
	}
	for _, id := range cancels {
		if p, ok := e.payByID.get([]byte(id)); ok && e.owned(p) {
			e.cancelHandedOver(ctx, p)
		}
	}
	now := e.clock.Now()
	for {
		ls, err := e.journal.TakeOver(ctx, takeOverBatch)
		if err != nil {
			e.leaseCallFailed(err)
			e.log.Warn("take-over failed", "err", err)
			break
		}
		for _, l := range ls {
			e.adopt(l, now)
			e.log.Info("payment taken over", "payment_id", l.Payment.PaymentID, "status", l.Payment.Status.String())
		}
		if len(ls) < takeOverBatch {
			break
		}
	}
	e.sweep(ctx)
}

// beginOp marks a lane operation (cancel, refund) on p as running, so
// the payment's lease is not released under it; the returned function
// ends it and releases the lease if p is left with nothing to do (a
// refused refund, say), so the next operation on another node need not
// wait for the lease to expire.
func (e *Engine) beginOp(ctx context.Context, p *payment) func() {
	p.mu.Lock()
	p.ops++
	p.mu.Unlock()
	return e.endOp(ctx, p)
}

// tryOp is beginOp for a payment this node still holds: ok is false,
// and nothing begun, when p's lease was released or lost meanwhile.
func (e *Engine) tryOp(ctx context.Context, p *payment) (end func(), ok bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if !e.ownedLocked(p) {
		return nil, false
	}
	p.ops++
	return e.endOp(ctx, p), true
}

// endOp returns the function that ends a lane operation on p.
func (e *Engine) endOp(ctx context.Context, p *payment) func() {
	return func() {
		p.mu.Lock()
		defer p.mu.Unlock()
		p.ops--
		if p.ops == 0 && p.st.owner == ownerHeld && p.st.stage != stageDispatching && !p.heldLocked() {
			e.persistLocked(context.WithoutCancel(ctx), p, nil, false)
		}
	}
}

// sweep forgets the payments this node released or lost, and releases
// those it acquired for a lane's cancel or refund that left nothing to do
// (a refused cancel, say) once they stayed idle for a whole tick, so other
// nodes need not wait for them.
func (e *Engine) sweep(ctx context.Context) {
	e.payByID.each(func(_ string, p *payment) {
		p.mu.Lock()
		if p.st.owner == ownerHeld && p.st.stage != stageDispatching && p.ops == 0 && !p.heldLocked() {
			if p.idleTicks++; p.idleTicks > 1 {
				e.persistLocked(ctx, p, nil, false)
			}
		} else {
			p.idleTicks = 0
		}
		gone := p.st.owner != ownerHeld
		p.mu.Unlock()
		if gone {
			e.forget(p)
		}
	})
}

// ReleaseLeases gives this node's leases up (graceful shutdown), so other
// nodes take its pending work over at once (with one node, a no-op in
// effect: the restart takes it back).
func (e *Engine) ReleaseLeases(ctx context.Context) error {
	return e.journal.Release(ctx)
}

// takeBack resumes this node's own work after a restart (its leases
// are released, then taken back with everything else expired).
func (e *Engine) takeBack(ctx context.Context) (RecoverStats, error) {
	var st RecoverStats
	if err := e.journal.Release(ctx); err != nil {
		return st, err
	}
	now := e.clock.Now()
	for {
		ls, err := e.journal.TakeOver(ctx, takeOverBatch)
		if err != nil {
			return st, err
		}
		for _, l := range ls {
			st.add(e.adopt(l, now), l)
		}
		if len(ls) < takeOverBatch {
			break
		}
	}
	e.stats.Recovered.Add(int64(st.Payments))
	e.log.Info("journal: work taken back", "payments", st.Payments, "pending", st.Pending, "notifications", st.Notifications)
	return st, nil
}

// inquireStored answers inquiryPayment from the journal.
func (e *Engine) inquireStored(ctx context.Context, clientID []byte, req *codec.IDRequest, out *codec.PaymentView) codec.ResultCode {
	if len(clientID) == 0 {
		return codec.OrderNotExist // the journal reads an empty client as any
	}
	if e.jh.down.Load() {
		return codec.UnknownException // not waiting on a database that is away
	}
	rec, refs, err := e.journal.GetPayment(ctx, string(clientID), string(req.PaymentRequestID), string(req.PaymentID))
	if err != nil {
		e.journalTransient(err)
		return codec.UnknownException
	}
	if rec == nil {
		return codec.OrderNotExist
	}
	p := e.paymentFromRecord(rec)
	for _, rr := range refs {
		p.refunds = append(p.refunds, refundFromRecord(rr, p))
	}
	p.viewLocked(out, true)
	return codec.Success
}

// acquire returns p leased to this node, in memory: the local copy when
// this node owns it, else the database's after taking its lease, waiting
// (up to the pay timeout) while another live node holds it when wait is
// set. It returns nil and ok when another node keeps it.
func (e *Engine) acquire(ctx context.Context, paymentID string, wait bool) (p *payment, found bool, err error) {
	if p, ok := e.payByID.get([]byte(paymentID)); ok && e.owned(p) {
		return p, true, nil
	}
	deadline := time.Now().Add(e.cfg.PayTimeout)
	for {
		p, ok, err := e.acquireOnce(ctx, paymentID)
		if errors.Is(err, ErrNotFound) {
			return nil, false, nil
		}
		if err != nil {
			return nil, true, err
		}
		if ok {
			return p, true, nil
		}
		if !wait || !time.Now().Before(deadline) {
			return nil, true, nil
		}
		t := time.NewTimer(sharedPoll)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return nil, true, ctx.Err()
		}
	}
}

// acquireOnce takes paymentID's lease unless this node already works on
// it, under acquireMu: two lanes on one node acquiring the same payment
// get the same copy.
func (e *Engine) acquireOnce(ctx context.Context, paymentID string) (*payment, bool, error) {
	e.acquireMu.Lock()
	defer e.acquireMu.Unlock()
	if p, ok := e.payByID.get([]byte(paymentID)); ok && e.owned(p) {
		return p, true, nil
	}
	l, ok, err := e.journal.Acquire(ctx, paymentID)
	if err != nil {
		e.leaseCallFailed(err)
	}
	if err != nil || !ok {
		return nil, false, err
	}
	return e.adopt(l, e.clock.Now()), true, nil
}

// cancelStored is Cancel of a payment this node does not hold: it is
// read from the journal, then cancelled here after taking its lease, or
// handed to the node working on it.
func (e *Engine) cancelStored(ctx context.Context, clientID []byte, req *codec.IDRequest) CancelResult {
	rec, _, err := e.journal.GetPayment(ctx, string(clientID), string(req.PaymentRequestID), string(req.PaymentID))
	if err != nil {
		return CancelResult{Result: codec.UnknownException}
	}
	if rec == nil {
		res, existing, local := e.void(ctx, clientID, req)
		if local != nil {
			return e.cancelOwned(ctx, local) // a pay of this request came meanwhile
		}
		if existing == nil {
			return res
		}
		rec = existing // a pay of this request was claimed first
	}
	if rec.Voided {
		return CancelResult{Result: codec.Success, Message: msgVoidedCancel, PaymentRequestID: rec.RequestID, CancelTime: rec.CancelledAt}
	}
	p, found, err := e.acquire(ctx, rec.PaymentID, false)
	switch {
	case err != nil:
		return CancelResult{Result: codec.UnknownException}
	case !found:
		return CancelResult{Result: codec.OrderNotExist}
	case p != nil:
		return e.cancelOwned(ctx, p)
	}
	// Another live node is working on it: hand the cancel over and wait
	// for that node to carry it out.
	res := CancelResult{PaymentID: rec.PaymentID, PaymentRequestID: rec.RequestID}
	if r, done := e.cancelDecided(rec); done {
		res.Result, res.Message, res.CancelTime = r.Result, r.Message, r.CancelTime
		return res
	}
	if err := e.journal.RequestCancel(ctx, rec.PaymentID); err != nil {
		res.Result = codec.UnknownException
		return res
	}
	// Done once the record alone decides the cancel: closed, or refused
	// for good (a refund won the race, or the window passed), which is
	// answered at once rather than as unknown.
	closed := func(r *PaymentRecord) bool {
		_, decided := e.cancelDecided(r)
		return decided
	}
	if last := e.watchPayment(ctx, rec, closed); closed(last) {
		r, _ := e.cancelDecided(last)
		res.Result, res.Message, res.CancelTime = r.Result, r.Message, r.CancelTime
		return res
	}
	res.Result = codec.UnknownException
	res.Message = "the cancel was handed to the node processing this payment; repeat the cancel to learn its result"
	return res
}

// cancelDecided answers a cancel from a stored record when the record
// alone decides it (already closed, or not cancellable any more).
func (e *Engine) cancelDecided(rec *PaymentRecord) (CancelResult, bool) {
	switch {
	case rec.Status == codec.StatusCancelled:
		return CancelResult{Result: codec.Success, CancelTime: rec.CancelledAt}, true
	case rec.Status == codec.StatusFail && !rec.CancelWanted:
		return CancelResult{Result: codec.Success, Message: "the payment had failed; nothing is charged"}, true
	case rec.Status == codec.StatusSuccess && !rec.CancelWanted && e.clock.Now().Sub(rec.PaidAt) > e.cfg.CancelWindow:
		return CancelResult{Result: codec.CancelWindowExceed}, true
	case rec.Status == codec.StatusSuccess && rec.Refunded > 0:
		return CancelResult{Result: codec.OrderStatusInvalid, Message: "the payment has refunds; refund the rest instead of cancelling"}, true
	}
	return CancelResult{}, false
}

// cancelHandedOver carries out a cancel another node handed to this one:
// it is made durable here and the follow-up asks the wallet at once.
func (e *Engine) cancelHandedOver(ctx context.Context, p *payment) {
	p.mu.Lock()
	defer p.mu.Unlock()
	e.cancelHandedOverLocked(ctx, p, e.clock.Now())
}

// cancelHandedOverLocked is cancelHandedOver with p.mu held: also used by
// adopt for a cancel handed to an owner that died before carrying it out.
func (e *Engine) cancelHandedOverLocked(ctx context.Context, p *payment, now time.Time) {
	if !e.cancellableLocked(p, now) || (p.st.closeWanted() && p.st.closeAs() == codec.StatusCancelled) {
		return
	}
	p.to(evCancel)
	if e.persistLocked(ctx, p, nil, true) != nil {
		return
	}
	if !p.due.IsZero() && !p.due.After(now) {
		return
	}
	p.due = now
	e.fu.push(fuItem{due: now, p: p})
}

// cancellableLocked reports whether a lane cancel of p still needs the
// wallet (not closed yet, inside the window, no refunds).
func (e *Engine) cancellableLocked(p *payment, now time.Time) bool {
	switch p.status {
	case codec.StatusCancelled, codec.StatusFail:
		return false
	case codec.StatusSuccess:
		return now.Sub(p.paidAt) <= e.cfg.CancelWindow && p.refunded == 0
	}
	return true
}

// refundTarget looks up a refund request in the journal (its answer
// when it was made before, on any node) and otherwise returns the
// payment leased to this node to refund. answered is set when out holds
// the lane's answer.
func (e *Engine) refundTarget(ctx context.Context, clientID []byte, req *codec.RefundRequest, out *codec.RefundView) (p *payment, answered bool) {
	if len(clientID) == 0 {
		out.ResultCode = codec.OrderNotExist
		return nil, true
	}
	rr, err := e.journal.GetRefund(ctx, string(clientID), string(req.RefundRequestID), "")
	if err != nil {
		out.ResultCode, out.ResultMessage = codec.UnknownException, "the refund could not be looked up; retry the same request"
		return nil, true
	}
	if rr != nil {
		if rr.PaymentID != string(req.PaymentID) || rr.Amount != req.Amount {
			*out = codec.RefundView{ResultCode: codec.RepeatReqInconsistent}
		} else {
			refundFromRecord(rr, &payment{id: rr.PaymentID}).viewLocked(out)
		}
		return nil, true
	}
	rec, _, err := e.journal.GetPayment(ctx, string(clientID), "", string(req.PaymentID))
	if err != nil {
		out.ResultCode, out.ResultMessage = codec.UnknownException, "the payment could not be looked up; retry the same request"
		return nil, true
	}
	if rec == nil {
		out.ResultCode = codec.OrderNotExist
		return nil, true
	}
	p, found, err := e.acquire(ctx, rec.PaymentID, true)
	switch {
	case err != nil:
		out.ResultCode, out.ResultMessage = codec.UnknownException, "retry the same request"
		return nil, true
	case !found:
		out.ResultCode = codec.OrderNotExist
		return nil, true
	case p == nil:
		out.ResultCode, out.ResultMessage = codec.UnknownException, "the payment is busy on another node; retry the same request"
		return nil, true
	}
	return p, false
}

// claimRefund stores a new refund with its reservation (insert or fetch).
// On a stored refund of the same request (another node's) it undoes the
// reservation in memory and answers from the stored one. Caller holds p.mu.
func (e *Engine) claimRefundLocked(ctx context.Context, p *payment, r *refund, req *codec.RefundRequest, out *codec.RefundView) error {
	now := e.clock.Now()
	if p.st.owner != ownerHeld && e.reacquireLocked(ctx, p) != nil {
		// Released (a concurrent refund finished meanwhile) and taken by
		// another node since, or changed there.
		p.refunded -= r.amount.Value
		for i, q := range p.refunds {
			if q == r {
				p.refunds = append(p.refunds[:i], p.refunds[i+1:]...)
				break
			}
		}
		out.ResultCode, out.ResultMessage = codec.UnknownException, "the payment moved to another node; retry the same request"
		return ErrLeaseLost
	}
	p.version++
	p.updated = now
	r.version++
	pb := batchPool.Get().(*persistBatch)
	defer batchPool.Put(pb)
	pb.b.Reset()
	p.recordLocked(&pb.pr, now)
	pb.pr.Held = true
	r.recordLocked(&pb.rr, now)
	pb.b.Payments = append(pb.b.Payments, &pb.pr)
	pb.b.Refunds = append(pb.b.Refunds, &pb.rr)
	existing, err := e.journal.ClaimRefund(ctx, &pb.b)
	pb.b.Reset()
	pb.pr, pb.rr = PaymentRecord{}, RefundRecord{}
	if err == nil && existing == nil {
		return nil
	}
	// Undo the refund in memory.
	p.refunded -= r.amount.Value
	for i, q := range p.refunds {
		if q == r {
			p.refunds = append(p.refunds[:i], p.refunds[i+1:]...)
			break
		}
	}
	r.status, r.result = codec.StatusFail, codec.UnknownException
	switch {
	case err != nil && errors.Is(err, ErrLeaseLost):
		p.to(evRelease)
		out.ResultCode, out.ResultMessage = codec.UnknownException, "the payment moved to another node; retry the same request"
	case err != nil && e.journalTransient(err):
		if errors.Is(err, ErrOutcomeUnknown) {
			p.to(evWriteUnknown) // the database's copy is re-read (health.go)
		}
		out.ResultCode, out.ResultMessage = codec.UnknownException, "the journal did not answer; retry the same request"
	case err != nil:
		e.fatal(err)
		out.ResultCode, out.ResultMessage = codec.UnknownException, "the journal could not record the refund"
	case existing.PaymentID != p.id || existing.Amount != req.Amount:
		*out = codec.RefundView{ResultCode: codec.RepeatReqInconsistent}
	default:
		refundFromRecord(existing, p).viewLocked(out)
	}
	if err == nil {
		err = errRefused
	}
	return err
}
