package engine

import (
	"container/heap"
	"context"
	"sync"
	"sync/atomic"
	"time"

	"github.com/paycode/paycode/codec"
)

// The follow-up settles what a first answer left open: payments in
// process or with an unknown outcome (polled at their wallet, cancelled at
// the deadline), cancels not yet confirmed, late successes to reverse, and
// refunds in process. It is a time-ordered queue worked by a bounded set
// of goroutines; every action is an idempotent wallet call, so repeating
// one after an error is always safe.

type fuItem struct {
	due time.Time
	p   *payment
	r   *refund
}

type fuHeap []fuItem

func (h fuHeap) Len() int           { return len(h) }
func (h fuHeap) Less(i, j int) bool { return h[i].due.Before(h[j].due) }
func (h fuHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *fuHeap) Push(x any)        { *h = append(*h, x.(fuItem)) }
func (h *fuHeap) Pop() any {
	old := *h
	it := old[len(old)-1]
	old[len(old)-1] = fuItem{}
	*h = old[:len(old)-1]
	return it
}

type fuQueue struct {
	mu   sync.Mutex
	h    fuHeap
	wake chan struct{}
	// n mirrors len(h) so the pay path can check the queue bound without
	// taking mu, which every follow-up push and pop holds.
	n atomic.Int64
}

func (q *fuQueue) init() { q.wake = make(chan struct{}, 1) }

func (q *fuQueue) push(it fuItem) {
	q.mu.Lock()
	first := len(q.h) == 0 || it.due.Before(q.h[0].due)
	heap.Push(&q.h, it)
	q.n.Store(int64(len(q.h)))
	q.mu.Unlock()
	if first {
		select {
		case q.wake <- struct{}{}:
		default:
		}
	}
}

func (q *fuQueue) size() int { return int(q.n.Load()) }

// popDue removes and returns the items due at now.
func (q *fuQueue) popDue(now time.Time, dst []fuItem) []fuItem {
	q.mu.Lock()
	for len(q.h) > 0 && !q.h[0].due.After(now) {
		dst = append(dst, heap.Pop(&q.h).(fuItem))
	}
	q.n.Store(int64(len(q.h)))
	q.mu.Unlock()
	return dst
}

func (q *fuQueue) next() (time.Time, bool) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if len(q.h) == 0 {
		return time.Time{}, false
	}
	return q.h[0].due, true
}

// pollDelay is the wait before poll number attempt (0-based).
func (e *Engine) pollDelay(attempt int) time.Duration {
	s := e.cfg.PollSchedule
	if attempt >= len(s) {
		return s[len(s)-1]
	}
	return s[attempt]
}

// scheduleLocked queues p's next follow-up, unless one is already queued
// for no later than that. Caller holds p.mu. A payment has at most one
// live queue entry: entries whose due time is no longer p.due are stale
// and skipped when popped.
func (e *Engine) scheduleLocked(p *payment, now time.Time) {
	due := now.Add(e.pollDelay(p.attempt))
	if !p.st.closeWanted() && p.st.closing != closeReverse && due.After(p.deadline) {
		due = p.deadline
	}
	if p.st.closeWanted() && p.st.closeAs() == codec.StatusFail && p.attempt == 0 {
		due = now // closing a payment the wallet never got: at once
	}
	if !p.due.IsZero() && !due.Before(p.due) {
		return
	}
	p.due = due
	e.fu.push(fuItem{due: due, p: p})
}

func (e *Engine) scheduleRefundLocked(r *refund, now time.Time) {
	if r.queued {
		return
	}
	r.queued = true
	e.fu.push(fuItem{due: now.Add(e.pollDelay(r.attempt)), r: r})
}

// every runs fn every d (real time) in a goroutine of e.wg until ctx
// ends.
func (e *Engine) every(ctx context.Context, d time.Duration, fn func()) {
	e.wg.Add(1)
	go func() {
		defer e.wg.Done()
		t := time.NewTicker(d)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
				fn()
			}
		}
	}()
}

// Start runs the follow-up loop until ctx ends. Use it with a real clock;
// tests with a manual clock call ProcessDue instead.
func (e *Engine) Start(ctx context.Context) {
	if !e.started.CompareAndSwap(false, true) {
		return
	}
	e.every(ctx, e.cfg.LeaseCheck, func() { e.LeaseTick(ctx) })
	if e.cfg.Notifier != nil {
		e.wg.Add(1)
		go func() {
			defer e.wg.Done()
			e.outboxLoop(ctx)
		}()
	}
	e.every(ctx, compactEvery, func() {
		if n, err := e.Compact(ctx); err != nil {
			e.log.Error("compaction failed", "err", err)
		} else if n > 0 {
			e.log.Info("compacted final payments past retention", "payments", n)
		}
	})
	e.wg.Add(1)
	go func() {
		defer e.wg.Done()
		var batch []fuItem
		for {
			wait := time.Hour
			if due, ok := e.fu.next(); ok {
				wait = due.Sub(e.clock.Now())
			}
			if wait > 0 {
				ch, stop := e.clock.NewTimer(wait)
				select {
				case <-ctx.Done():
					stop()
					return
				case <-e.fu.wake:
					stop()
					continue
				case <-ch:
				}
			}
			batch = e.fu.popDue(e.clock.Now(), batch[:0])
			for _, it := range batch {
				select {
				case e.sem <- struct{}{}:
				case <-ctx.Done():
					// Put it back; a restart (recovery) picks it up.
					e.fu.push(it)
					continue
				}
				e.wg.Add(1)
				go func(it fuItem) {
					defer func() { <-e.sem; e.wg.Done() }()
					e.runItem(ctx, it)
				}(it)
			}
		}
	}()
}

// Wait blocks until the follow-up loop and its calls have returned (after
// Start's context ended).
func (e *Engine) Wait() { e.wg.Wait() }

// ProcessDue runs every follow-up due at the clock's current time and
// waits for them. It returns how many ran. Items they reschedule for now
// (a cancel right after a deadline poll, say) run in the same call.
func (e *Engine) ProcessDue(ctx context.Context) int {
	n := 0
	for {
		batch := e.fu.popDue(e.clock.Now(), nil)
		if len(batch) == 0 {
			return n
		}
		var wg sync.WaitGroup
		for _, it := range batch {
			e.sem <- struct{}{}
			wg.Add(1)
			go func(it fuItem) {
				defer func() { <-e.sem; wg.Done() }()
				e.runItem(ctx, it)
			}(it)
		}
		wg.Wait()
		n += len(batch)
	}
}

// FollowUps is the number of queued follow-ups.
func (e *Engine) FollowUps() int { return e.fu.size() }

// NextFollowUp is when the earliest queued follow-up is due.
func (e *Engine) NextFollowUp() (time.Time, bool) { return e.fu.next() }

func (e *Engine) runItem(ctx context.Context, it fuItem) {
	e.stats.FollowUps.Add(1)
	if it.r != nil {
		e.followRefund(ctx, it.r)
		return
	}
	e.followPayment(ctx, it)
}

func (e *Engine) followPayment(ctx context.Context, it fuItem) {
	p := it.p
	now := e.clock.Now()
	p.mu.Lock()
	if p.due.IsZero() || !it.due.Equal(p.due) {
		p.mu.Unlock() // stale entry: a sooner one replaced it
		return
	}
	p.due = time.Time{} // not queued
	if (p.final() && p.st.closing != closeReverse && !p.st.closeWanted()) || !e.ownedLocked(p) {
		p.mu.Unlock()
		return
	}
	// A recovered payment is not cancelled at its deadline before the
	// wallet has answered an inquiry about it (applyWallet clears the
	// flag): its outcome may have been lost in the crash, and a success
	// the lane was told must not be reversed.
	if !p.final() && !p.st.closeWanted() && !now.Before(p.deadline) && p.st.origin != originAdoptedUnconfirmed {
		// Deadline: stop waiting for the user and close it at the wallet.
		p.to(evExpire)
		if err := e.persistLocked(ctx, p, nil, true); err != nil {
			p.mu.Unlock()
			return // fail-stop; recovery closes it after the restart
		}
	}
	cancel := p.st.closeWanted() || p.st.closing == closeReverse
	if cancel && p.st.unsettled() {
		// A close is durable before the wallet is asked, as in
		// cancelOwned: while this copy is ahead of the journal (a write
		// failed, the journal unavailable) the close may be one only
		// memory holds. Were it carried out and the payment taken over
		// from the journal's copy by another node (this node's lease
		// expired in the outage), that node's inquiry would read the
		// wallet's ORDER_IS_CLOSED as FAIL while this node had answered
		// lanes CANCELLED. settleUnsaved requeues it once written.
		p.mu.Unlock()
		return
	}
	p.attempt++
	p.followUps++
	p.mu.Unlock()
	e.failpoint(FailFollowUpCall)

	cctx, done := context.WithTimeout(ctx, e.cfg.WalletCallTimeout)
	defer done()
	if cancel {
		res, err := p.wallet.Cancel(cctx, p.id)
		e.failpoint(FailFollowUpAnswer)
		e.applyCancel(p, res, err)
		return
	}
	res, err := p.wallet.Inquire(cctx, p.id)
	e.failpoint(FailFollowUpAnswer)
	if err == nil && res.Amount != (codec.Amount{}) && res.Amount != p.amount {
		res, err = WalletResult{}, ErrOtherPayment // never settles this payment
	}
	if err != nil {
		e.stats.WalletError.Add(1)
	}
	e.applyWallet(p, res, err, true)
}

// applyCancel applies a wallet's answer to a cancel (lane cancel, deadline
// close or reversal).
func (e *Engine) applyCancel(p *payment, res WalletResult, err error) codec.ResultCode {
	now := e.clock.Now()
	p.mu.Lock()
	defer p.mu.Unlock()
	if err != nil || res.Outcome != OutcomeSuccess {
		if err != nil {
			e.stats.WalletError.Add(1)
		}
		if err == nil && res.Outcome == OutcomeFail && p.st.closing != closeReverse && p.status == codec.StatusSuccess {
			// The wallet refuses to reverse a success (its own window):
			// the payment stays paid; the lane must refund.
			p.to(evClosed)
			e.persistLocked(context.Background(), p, nil, true)
			return res.Code.AsFailure()
		}
		// Unknown or refused while money may be held: keep trying.
		e.scheduleLocked(p, now)
		if err != nil {
			return codec.UnknownException
		}
		return codec.ProcessFail
	}
	wanted, as := p.st.closeWanted(), p.st.closeAs()
	p.to(evClosed) // a reversal, or the close it was asked
	if wanted {
		p.cancelledAt = now
		if as == codec.StatusFail {
			p.status = codec.StatusFail
			p.result = codec.OrderIsClosed
			p.msg = "the payment was not confirmed in time and was closed"
		} else {
			p.status = codec.StatusCancelled
			p.result = codec.OrderIsCanceled
			p.msg = "the payment was cancelled"
		}
		// paidAt stays: a cancelled payment that had been paid was a
		// charge and its reversal (engine/settle lists both); views show
		// a payment time only while SUCCESS.
	}
	if err := e.persistLocked(context.Background(), p, nil, true); err != nil {
		return codec.UnknownException
	}
	return codec.Success
}

func (e *Engine) followRefund(ctx context.Context, r *refund) {
	p := r.p
	p.mu.Lock()
	r.queued = false
	if r.status != codec.StatusProcessing || !e.ownedLocked(p) {
		p.mu.Unlock()
		return
	}
	r.attempt++
	wr := &WalletRefund{RefundID: r.id, PaymentID: p.id, Amount: r.amount, Reason: r.reason}
	p.mu.Unlock()
	e.failpoint(FailFollowUpCall)
	cctx, done := context.WithTimeout(ctx, e.cfg.WalletCallTimeout)
	defer done()
	res, err := p.wallet.Refund(cctx, wr)
	e.applyRefund(r, res, err)
}
