package engine

import (
	"context"
	"crypto/sha256"
	"strconv"
	"sync"
	"time"

	"github.com/paycode/paycode/codec"
)

// Cancel before pay. A lane whose pay timed out on the network voids the
// sale with a cancel; the pay may still arrive afterwards. A cancel of a
// paymentRequestId paycode has not seen therefore records a tombstone (a
// PaymentRecord with Voided set, CANCELLED, no code, amount or wallet)
// under the request's idempotency key, in the same journal and with the
// same unique key a pay claims, and answers SUCCESS: the request is
// voided, nothing was or will be charged. A pay with that request id
// finds the tombstone (in memory, or through the journal's insert-or-fetch
// on several nodes) and is refused ORDER_IS_CANCELED (F) before anything
// is dispatched; its code is not consumed. Whichever of the two the
// journal records first wins: a pay recorded first is cancelled as any
// payment is. The tombstone is final and compacted after the retention,
// like any payment.

// msgVoided answers a pay whose request id was cancelled before it came.
const msgVoided = "this paymentRequestId was cancelled before its pay arrived; nothing was charged"

// msgVoidedCancel answers the cancel that voided a request (and repeats).
const msgVoidedCancel = "no pay with this paymentRequestId was received; it is void and a later pay with it is refused"

// VoidCodeHash is the code hash a tombstone is stored with: tombstones
// have no code, and the journals keep code hashes unique. It is a SHA-256
// of the request key under its own prefix, so it is unique per request
// and never equals a code's HMAC.
func VoidCodeHash(clientID, requestID string) [CodeHashSize]byte {
	h := sha256.New()
	h.Write([]byte("paycode void\x00"))
	h.Write([]byte(clientID))
	h.Write([]byte{0})
	h.Write([]byte(requestID))
	var out [CodeHashSize]byte
	h.Sum(out[:0])
	return out
}

// newVoid builds the tombstone of request key k (client-id, NUL,
// paymentRequestId; the client-id is clientLen bytes).
func (e *Engine) newVoid(k string, clientLen int, now time.Time) *payment {
	clientID, requestID := k[:clientLen], k[clientLen+1:]
	return &payment{
		key: k, clientID: clientID, requestID: requestID, id: e.ids.next(),
		codeHash: VoidCodeHash(clientID, requestID),
		created:  now, deadline: now, voided: true,
		status: codec.StatusCancelled, result: codec.OrderIsCanceled, msg: msgVoided,
		cancelledAt: now, notifiedStatus: codec.StatusCancelled,
	}
}

// voidBudget counts the tombstones each client had this node record in
// the current clock hour (Config.MaxVoidsPerHour); it is cleared when the
// hour turns. A client id is a budget key only when the caller tied it to
// a configured client (rsa256, mTLS, or listed in the lane keys): an id
// nobody configured costs nothing to invent, so all of those share one
// key (UnknownClient), else a lane rotating ids would void without bound
// and grow the map with every id. The map is bounded as well, whatever
// the caller says: past maxVoidClients keys in an hour, new ids share the
// unknown clients' key.
//
// The counts live in memory, so a restart starts a fresh hour's budget:
// the cap bounds how fast tombstones can grow the journal, not an
// account, and a lane cannot restart the node; keeping it across restarts
// would cost a journal write per void (a contended row on PostgreSQL) or
// a scan of the hour's tombstones at every start.
type voidBudget struct {
	mu     sync.Mutex
	hour   time.Time
	counts map[string]int
}

// maxVoidClients bounds the budget map: far more clients than any lane
// configuration names.
const maxVoidClients = 1024

// sharedVoidKey is the budget of client ids nobody configured (no client
// id is empty).
const sharedVoidKey = ""

// take spends one of key's tombstones for the hour of now, and reports
// false, spending nothing, when none is left. It returns the key it
// charged, for giveBack: the shared one once the map is full, which
// full then reports.
func (b *voidBudget) take(key []byte, now time.Time, limit int) (charged string, full, ok bool) {
	h := now.Truncate(time.Hour)
	b.mu.Lock()
	defer b.mu.Unlock()
	if !h.Equal(b.hour) || b.counts == nil {
		b.hour = h
		clear(b.counts)
		if b.counts == nil {
			b.counts = make(map[string]int)
		}
	}
	n, ok := b.counts[string(key)]
	k := sharedVoidKey
	if ok || len(b.counts) < maxVoidClients {
		k = string(key)
	} else {
		n, full = b.counts[k], true
	}
	if n >= limit {
		return k, full, false
	}
	b.counts[k] = n + 1
	return k, full, true
}

// giveBack returns a tombstone of key that was not recorded (the journal
// did not store it, or a pay of the request came first).
func (b *voidBudget) giveBack(key string, now time.Time) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if now.Truncate(time.Hour).Equal(b.hour) && b.counts[key] > 0 {
		b.counts[key]--
	}
}

// unknownClientKey marks a context (UnknownClient).
type unknownClientKey struct{}

// UnknownClient returns ctx marked for a request whose client id the
// caller could not tie to a configured client: an id no lane key lists,
// accepted under a trusting default policy, or any id when the lane API
// has no security at all. Such ids cost nothing to invent, so what the
// engine bounds per client (the tombstones of Config.MaxVoidsPerHour) is
// bounded once for all of them together.
func UnknownClient(ctx context.Context) context.Context {
	return context.WithValue(ctx, unknownClientKey{}, true)
}

// voidKey is the budget key of clientID for a request under ctx.
func voidKey(ctx context.Context, clientID []byte) []byte {
	if ctx.Value(unknownClientKey{}) != nil {
		return []byte(sharedVoidKey)
	}
	return clientID
}

// voidable reports whether a cancel of an unknown payment may void its
// request: it names the request id (a paymentId, which wins when both are
// given, names a payment paycode made, so an unknown one does not exist).
func voidable(req *codec.IDRequest) bool {
	return len(req.PaymentID) == 0 && len(req.PaymentRequestID) > 0
}

// voidedCancel is the answer to a cancel of a voided request.
func voidedCancel(p *payment) CancelResult {
	return CancelResult{Result: codec.Success, Message: msgVoidedCancel, PaymentRequestID: p.requestID, CancelTime: p.cancelledAt}
}

// failVoided answers a pay whose request id was voided.
func failVoided(out *codec.PaymentView) {
	fail(out, codec.OrderIsCanceled, msgVoided)
}

// void voids an unknown request: the tombstone
// is claimed like a pay's intent (insert or fetch on the request key), so
// a pay claimed at the same moment on another node either finds it or is
// the payment this cancel then cancels. On this node the tombstone sits
// in the request index while it is claimed, so a pay of the same key
// waits for it as for a duplicate (the Pebble journal's claims rely on
// that: one writer, serialized by the engine's indexes). It returns the
// stored record in the way when a payment of this request was claimed
// first, or the local payment a pay of this request created meanwhile.
func (e *Engine) void(ctx context.Context, clientID []byte, req *codec.IDRequest) (CancelResult, *PaymentRecord, *payment) {
	if !voidable(req) {
		return CancelResult{Result: codec.OrderNotExist}, nil, nil
	}
	if e.failed.Load() {
		return CancelResult{Result: codec.UnknownException, Message: msgSuspended}, nil, nil
	}
	var kb [256]byte
	key := appendKey(kb[:0], clientID, req.PaymentRequestID)
	now := e.clock.Now()
	budget, full, ok := e.voids.take(voidKey(ctx, clientID), now, e.cfg.MaxVoidsPerHour)
	if !ok {
		who := "this client"
		switch {
		case full:
			who = "this client: past " + strconv.Itoa(maxVoidClients) + " client ids voiding this hour, this node keeps no more budgets apart and later ids share one"
		case budget == sharedVoidKey:
			who = "client ids that no lane key lists, which share one budget"
		}
		return CancelResult{Result: codec.RequestTrafficExceedLimit, Message: "too many cancels of paymentRequestIds with no pay seen for " + who + " (engine.maxVoidsPerHour: " +
			strconv.Itoa(e.cfg.MaxVoidsPerHour) + " per hour on this node); nothing was recorded, retry later"}, nil, nil
	}
	p, loaded, _ := e.payByReq.getOrCreate(key, func(k string) (*payment, error) {
		return e.newVoid(k, len(clientID), now), nil
	})
	if loaded {
		e.voids.giveBack(budget, now)
		return CancelResult{}, nil, p // a pay (or a void) of this request is here
	}
	p.mu.Lock()
	p.version = 1
	p.updated = now
	var rec PaymentRecord
	p.recordLocked(&rec, now)
	existing, err := e.journal.ClaimPayment(ctx, &rec)
	if err != nil || existing != nil {
		p.abortLocked() // a pay that waits on it retries, or finds the payment
	}
	p.mu.Unlock()
	// Stored or not, the tombstone leaves memory: a later pay finds it in
	// the journal, as it finds any final payment.
	e.payByReq.delIf(string(key), func(q *payment) bool { return q == p })
	p.markDispatched()
	if err != nil || existing != nil {
		e.voids.giveBack(budget, now)
	}
	switch {
	case err != nil:
		// A tombstone is never leased: stored or not, it leaves no work
		// behind, and a repeat of the cancel claims it again.
		if !e.journalTransient(err) {
			e.fatal(err)
		}
		return CancelResult{Result: codec.UnknownException, Message: msgSuspended}, nil, nil
	case existing == nil:
		return voidedCancel(p), nil, nil
	case existing.ClientID != p.clientID || existing.RequestID != p.requestID:
		// Only a payment id collision can do this (the hash is the
		// request's own): retry.
		return CancelResult{Result: codec.UnknownException, Message: "retry the cancel"}, nil, nil
	}
	return CancelResult{}, existing, nil
}

// answerVoided answers a pay that found its request's tombstone in
// memory: refused, unless the tombstone's own write failed (then nothing
// is recorded and the lane may retry).
func (e *Engine) answerVoided(ctx context.Context, p *payment, out *codec.PaymentView) {
	e.awaitDispatched(ctx, p)
	p.mu.Lock()
	aborted, done := p.st.stage == stageAborted, p.st.stage != stageDispatching
	p.mu.Unlock()
	if aborted || !done {
		fail(out, codec.UnknownException, msgSuspended)
		return
	}
	failVoided(out)
}

// cancelVoided answers a cancel that found a tombstone in memory (a
// repeat of the voiding cancel), once the tombstone's write is done.
func (e *Engine) cancelVoided(p *payment) CancelResult {
	if ch := p.waitDispatched(); ch != nil {
		<-ch // the tombstone's journal write, bounded by the journal
	}
	p.mu.Lock()
	aborted := p.st.stage == stageAborted
	p.mu.Unlock()
	if aborted {
		return CancelResult{Result: codec.UnknownException, Message: "retry the cancel"}
	}
	return voidedCancel(p)
}
