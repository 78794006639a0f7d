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

// Recover takes back, from the journal, everything this node had not
// finished and queues it: non-final payments are settled at their
// wallets by inquiry and, if still unresolved at their deadline (or
// already past it), by cancel — never by paying again; refunds in process
// are retried (refunds are idempotent at the wallet); unacknowledged
// notifications are sent again. The journal hands back only the payments
// with work left (Release, then TakeOver), and each is put back as adopt
// does for a taken-over one; final payments stay in the journal, where
// inquiries and repeats read them. Call it once, after New and before
// serving.
func (e *Engine) Recover(ctx context.Context) (RecoverStats, error) {
	st, err := e.takeBack(ctx)
	if err != nil {
		return st, fmt.Errorf("engine: recover: %w", err)
	}
	return st, nil
}

// add counts a payment put back by adopt.
func (st *RecoverStats) add(p *payment, l *Leased) {
	st.Payments++
	st.Refunds += len(l.Refunds)
	for _, r := range l.Refunds {
		if r.Status == codec.StatusProcessing {
			st.PendingRefund++
		}
	}
	if l.Notification != nil {
		st.Notifications++
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	switch {
	case !p.due.IsZero():
		st.Pending++
	case p.wallet == nil && (!p.final() || p.st.closeWanted() || p.st.closing == closeReverse):
		st.NoWallet++
	}
}

// Compact forgets final payments whose last change is older than the
// retention, in memory and in the journal. Until then their
// paymentRequestId answers from the record and their code stays used.
func (e *Engine) Compact(ctx context.Context) (int, error) {
	before := e.clock.Now().Add(-e.cfg.Retention)
	n := 0
	e.payByID.each(func(id string, p *payment) {
		p.mu.Lock()
		old := p.final() && !p.st.closeWanted() && p.st.closing != closeReverse && p.due.IsZero() && p.updated.Before(before)
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
			e.refByReq.del(indexKey(r.clientID, r.requestID))
		}
		e.codes.del(p.codeHash)
		e.payByReq.del(p.key)
		e.payByID.del(id)
		n++
	})
	if _, err := e.journal.Compact(ctx, before); err != nil {
		return n, err
	}
	return n, nil
}

// compactEvery is how often Start's loop compacts.
const compactEvery = time.Hour
