package engine

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"time"

	"github.com/paycode/paycode/codec"
)

// A network journal (SharedJournal: PostgreSQL) may be unreachable for
// a while — restarting, failing over, hung — without anything stored
// being at risk: every statement's outcome is either known or can be
// re-read (claims are insert-or-fetch, writes are fenced by version).
// So ErrJournalUnavailable is not fatal. While it lasts the engine
//
//   - refuses new pays before recording anything
//     (REQUEST_TRAFFIC_EXCEED_LIMIT: retry later; see docs/decisions.md),
//   - keeps what wallets answer in memory (storedBehind) and
//     answers the lane U rather than a result it could not record,
//   - answers inquiries about the payments it holds from memory, and
//     keeps polling their wallets, but sends no close (a lane's cancel,
//     a reversal) the journal does not hold yet: another node may take
//     the payment over from the journal's copy (this node's lease expires
//     meanwhile) and settle it by inquiry, which reads a wallet's closed
//     payment as FAIL where this node would have answered CANCELLED,
//   - and, every lease tick, pings the journal; once it answers, writes
//     every payment left behind (a newer version: it lands whether or
//     not the failed write did), settles every unknown one (a claim is made
//     again: insert-or-fetch tells whether it was stored; a refund's
//     claim is re-read), takes its own leases back from the database if
//     a lease call's outcome was unknown, and resumes.
//
// Fail-stop remains for ErrJournalFailed: a local journal whose fsync
// failed, a database that refuses statements, a node registration taken
// by another process.

// journalHealth is a network journal's reachability as the engine saw it.
type journalHealth struct {
	down atomic.Bool
	// resync: a lease call's outcome was unknown (a TakeOver or Acquire
	// may have leased payments to this node that memory does not hold):
	// take this node's work back from the database before resuming.
	resync  atomic.Bool
	outages atomic.Int64
	mu      sync.Mutex
	reason  string
	since   time.Time
}

// Messages of answers given while the journal is unavailable.
const (
	msgJournalDown  = "payments are paused: the journal is unavailable; nothing was recorded, retry the same request later"
	msgClaimUnknown = "the journal did not confirm the payment and it was not sent to the wallet; inquire or retry the same request"
)

var errJournalDown = errors.New("engine: journal unavailable")

// JournalHealth is whether the engine can record a new payment now.
type JournalHealth struct {
	OK bool
	// Reason says why not: the journal's last error, or its failure.
	Reason string
	// Since is when it stopped (zero when OK).
	Since time.Time
	// Failed: the journal failed for good (fail-stop), not just away.
	Failed bool
	// Outages counts the times the journal became unavailable.
	Outages int64
}

// JournalHealth reports whether the engine can record a new payment:
// not after a journal failure (fail-stop), nor while a network journal
// is unavailable (ErrJournalUnavailable until its next answer).
func (e *Engine) JournalHealth() JournalHealth {
	h := JournalHealth{OK: true, Outages: e.jh.outages.Load()}
	if e.failed.Load() {
		return JournalHealth{Reason: "journal failed: payments are suspended until a restart", Failed: true, Outages: h.Outages}
	}
	if e.jh.down.Load() {
		e.jh.mu.Lock()
		h.OK, h.Reason, h.Since = false, "journal unavailable: "+e.jh.reason, e.jh.since
		e.jh.mu.Unlock()
	}
	return h
}

// JournalDownReason is JournalHealth's reason, "" while it is OK (the
// status page's journal tile).
func (e *Engine) JournalDownReason() string {
	if h := e.JournalHealth(); !h.OK {
		return h.Reason
	}
	return ""
}

// journalTransient reports whether err (from a shared journal) is the
// journal being unavailable, and if so marks it down. The caller treats
// any other error as before (fatal, mostly).
func (e *Engine) journalTransient(err error) bool {
	if !errors.Is(err, ErrJournalUnavailable) && !errors.Is(err, context.DeadlineExceeded) && !errors.Is(err, context.Canceled) {
		return false
	}
	e.jh.mu.Lock()
	e.jh.reason = err.Error()
	if !e.jh.down.Load() {
		e.jh.since = time.Now()
		e.jh.down.Store(true)
		e.jh.outages.Add(1)
		e.jh.mu.Unlock()
		e.log.Error("journal unavailable: new pays are refused until it answers; wallet answers are kept in memory and written then", "err", err)
		return true
	}
	e.jh.mu.Unlock()
	return true
}

// leaseCallFailed notes a failed lease call (TakeOver, Acquire): one
// whose outcome is unknown may have leased payments to this node.
func (e *Engine) leaseCallFailed(err error) {
	if e.journalTransient(err) && errors.Is(err, ErrOutcomeUnknown) {
		e.jh.resync.Store(true)
	}
}

// pinger is a journal that can tell whether it answers (PostgreSQL).
type pinger interface {
	Ping(ctx context.Context) error
}

// healJournal runs on every lease tick: it reports whether the journal
// is up, and while it is down pings it and, once it answers, settles
// what the outage left in memory (see the top of this file) before
// admitting pays again.
func (e *Engine) healJournal(ctx context.Context) bool {
	if !e.jh.down.Load() {
		return true
	}
	if pg, ok := e.journal.(pinger); ok {
		if err := pg.Ping(ctx); err != nil {
			e.journalTransient(err) // keeps the reason current
			return false
		}
	}
	e.jh.mu.Lock()
	since := e.jh.since
	e.jh.mu.Unlock()
	// Writes go to the journal again from here (persist fast-fails only
	// while down); a failure below marks it down again.
	e.jh.down.Store(false)
	var todo []*payment
	e.payByID.each(func(_ string, p *payment) {
		p.mu.Lock()
		if p.st.unsettled() {
			todo = append(todo, p)
		}
		p.mu.Unlock()
	})
	written := 0
	for _, p := range todo {
		if err := e.settleUnsaved(ctx, p); err != nil {
			if e.journalTransient(err) {
				return false
			}
			e.fatal(err)
			return false
		}
		written++
	}
	if e.jh.resync.Load() {
		if _, err := e.takeBack(ctx); err != nil {
			if e.journalTransient(err) {
				return false
			}
			e.fatal(err)
			return false
		}
		e.jh.resync.Store(false)
	}
	if e.jh.down.Load() {
		return false
	}
	e.log.Info("journal answers again: pays resume", "unavailable_for", time.Since(since).Round(time.Millisecond).String(), "payments_settled", written)
	return true
}

// settleUnsaved writes or re-reads one payment the outage left behind or
// unknown (state.stored). It returns the journal's error (nil for a lost lease: the
// payment is another node's now, and this node forgets it).
func (e *Engine) settleUnsaved(ctx context.Context, p *payment) error {
	p.mu.Lock()
	if p.st.owner != ownerHeld {
		p.to(evSettled)
		p.mu.Unlock()
		return nil
	}
	switch p.st.stored {
	case storedClaimUnknown:
		return e.settleClaimLocked(ctx, p)
	case storedUnknown:
		p.mu.Unlock()
		l, ok, err := e.journal.Acquire(ctx, p.id)
		switch {
		case errors.Is(err, ErrNotFound):
			err = nil
			fallthrough
		case err == nil && !ok:
			p.mu.Lock()
			p.to(evSettled)
			p.to(evRelease) // another node's (or gone): forgotten at the sweep
			p.mu.Unlock()
		case err == nil:
			e.acquireMu.Lock()
			e.adopt(l, e.clock.Now()) // the database's copy replaces p
			e.acquireMu.Unlock()
		}
		return err
	}
	defer p.mu.Unlock()
	err := e.persistLocked(ctx, p, nil, true)
	if errors.Is(err, ErrLeaseLost) {
		return nil
	}
	if err == nil {
		e.requeueLocked(p)
	}
	return err
}

// settleClaimLocked settles a pay whose claim's outcome was unknown. It
// was never dispatched, and the lane was told U. Claimed again (insert or
// fetch: a late delivery of the lost statement can then do nothing), it
// is either this payment, stored then or now, which is closed as failed
// without a wallet call, or another payment's request or code (this one
// was never stored), and it is dropped. Caller holds p.mu; it is
// released.
func (e *Engine) settleClaimLocked(ctx context.Context, p *payment) error {
	var rec PaymentRecord
	p.recordLocked(&rec, p.updated)
	rec.Held = true
	existing, err := e.journal.ClaimPayment(ctx, &rec)
	if err != nil {
		p.mu.Unlock()
		return err
	}
	if existing != nil && existing.PaymentID != p.id {
		p.to(evSettled)
		p.abortLocked()
		p.mu.Unlock()
		e.abort(p)
		return nil
	}
	p.to(evSettled)
	// Lanes were told U, without an id, whatever they asked meanwhile
	// (viewLocked, Inquire, cancelOwned): it is closed as never sent.
	p.status, p.result = codec.StatusFail, codec.ProcessFail
	p.msg = "not sent to the wallet: the journal was unavailable; nothing was charged"
	p.to(evClosed)
	err = e.persistLocked(ctx, p, nil, true)
	p.mu.Unlock()
	if errors.Is(err, ErrLeaseLost) {
		return nil
	}
	return err
}

// requeueLocked queues a follow-up for p if it has wallet work that a
// failed write left unscheduled (a cancel, say). Caller holds p.mu.
func (e *Engine) requeueLocked(p *payment) {
	if !p.due.IsZero() || p.wallet == nil || p.st.stage == stageDispatching || !(p.st.closeWanted() || p.st.closing == closeReverse || !p.final()) {
		return
	}
	now := e.clock.Now()
	p.due = now
	e.fu.push(fuItem{due: now, p: p})
}
