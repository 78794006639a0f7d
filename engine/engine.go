package engine

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/paycode/paycode/codec"
)

// Engine is the payment core. It is safe for concurrent use; nothing global
// is locked on the pay path (indexes are sharded, each payment has its own
// lock, wallets are independent).
type Engine struct {
	cfg    Config
	clock  Clock
	log    *slog.Logger
	ids    *idGen
	ident  Identifier
	wallet map[string]Wallet // read-only after New

	payByReq *smap[*payment] // client-id \x00 paymentRequestId
	payByID  *smap[*payment] // paymentId
	codes    *cmap[*payment] // a code's keyed hash → the payment that used it
	refByReq *smap[*refund]  // client-id \x00 refundRequestId
	voids    voidBudget      // tombstones per client per hour (void.go)

	fu       fuQueue
	sem      chan struct{} // follow-up worker slots
	wg       sync.WaitGroup
	started  atomic.Bool
	inFlight atomic.Int64 // follow-up calls running

	payPool  sync.Pool // *WalletPay
	hmacPool *sync.Pool
	journal  SharedJournal
	// outboxWake wakes the delivery loop of the journal's outbox:
	// pending notifications live in the journal only, never in payments.
	outboxWake    chan struct{}
	outboxSlots   chan struct{} // deliveries under way (outbox.go)
	outboxSending sendingSet    // their payments: one delivery each at a time
	// acquireMu serializes taking a payment's lease for a lane operation,
	// so a node never holds two copies of one payment.
	acquireMu sync.Mutex
	failed    atomic.Bool
	jh        journalHealth // a network journal's reachability (health.go)
	stats     Stats
}

// Stats are running counters, for tests and metrics.
type Stats struct {
	Pays          atomic.Int64 // pay requests that reached the engine
	Dispatched    atomic.Int64 // pay calls sent to wallets
	Duplicates    atomic.Int64 // pays answered from an existing payment
	FollowUps     atomic.Int64 // follow-up wallet calls made
	Reversals     atomic.Int64 // late successes reversed at the wallet
	WalletError   atomic.Int64 // wallet calls with an unknown outcome
	Notifications atomic.Int64 // notification delivery attempts
	// NotificationsAbandoned counts notifications given up after the
	// last attempt of the schedule went unacknowledged.
	NotificationsAbandoned atomic.Int64
	Recovered              atomic.Int64 // payments loaded from the journal at start
}

// New builds an Engine. It starts no goroutine: call Start to run the
// follow-up loop, or ProcessDue from tests that drive a manual Clock.
func New(cfg Config) (*Engine, error) {
	cfg.EnsureDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	e := &Engine{
		cfg:      cfg,
		clock:    cfg.Clock,
		log:      cfg.Logger,
		ids:      newIDGen(cfg.Clock.Now(), cfg.Node),
		ident:    cfg.Identifier,
		wallet:   make(map[string]Wallet, len(cfg.Wallets)),
		payByReq: newSmap[*payment](),
		payByID:  newSmap[*payment](),
		codes:    newCmap[*payment](),
		refByReq: newSmap[*refund](),
		sem:      make(chan struct{}, cfg.FollowUpWorkers),
	}
	for n, w := range cfg.Wallets {
		e.wallet[n] = w
	}
	e.fu.init()
	e.journal = cfg.Journal
	e.outboxWake = make(chan struct{}, 1)
	e.outboxSlots = make(chan struct{}, outboxSlots)
	e.hmacPool = newHMACPool(cfg.CodeKey)
	e.payPool.New = func() any { return new(WalletPay) }
	return e, nil
}

// Config returns the engine's configuration with defaults filled in.
func (e *Engine) Config() Config { return e.cfg }

// Stats returns the engine's counters.
func (e *Engine) Stats() *Stats { return &e.stats }

// appendKey builds the idempotency index key: client-id, NUL, request id.
// Client ids never contain NUL (they come from an HTTP header). It is the
// one builder of the key (indexKey is its string form); a key's client id
// is its first len(clientID) bytes and its request id follows the NUL.
func appendKey[C, R ~string | ~[]byte](dst []byte, clientID C, reqID R) []byte {
	dst = append(dst, clientID...)
	dst = append(dst, 0)
	return append(dst, reqID...)
}

// indexKey is appendKey's key as a string (one allocation for keys of
// up to 256 bytes, built on the stack).
func indexKey(clientID, reqID string) string {
	var kb [256]byte
	return string(appendKey(kb[:0], clientID, reqID))
}

var errCodeUsed = errors.New("engine: payment code already used")

// fail fills out with a synchronous failure (nothing stored).
// A U answer (retry the same request) records nothing, so it carries no
// payment status; an F answer is a failed payment.
func fail(out *codec.PaymentView, r codec.ResultCode, msg string) {
	status := codec.StatusFail
	if r.Status() != codec.StatusF {
		status = codec.StatusNone
	}
	txns := out.Transactions[:0]
	*out = codec.PaymentView{ResultCode: r, ResultMessage: msg, Status: status, Transactions: txns}
}

// msgSuspended answers pays while the journal cannot write.
const msgSuspended = "payments are suspended: the journal cannot write; retry the same request later"

// Pay handles a pay request from client clientID and fills out with the
// answer (out.ResultCode and the view). It never blocks longer than the
// pay timeout on a wallet (plus identification on a cache miss).
//
// Validation, identification and the single-use check happen before
// anything is dispatched; a payment is recorded (and its code consumed)
// only once it is about to be sent to its wallet.
//
// It returns how long it waited on the wallet (zero when it did not call
// one), so callers can report paycode's own time apart from the wallet's.
func (e *Engine) Pay(ctx context.Context, clientID []byte, req *codec.PayRequest, out *codec.PaymentView) (walletWait time.Duration) {
	e.stats.Pays.Add(1)
	if req.CodeErr != nil || req.Code.IsZero() {
		fail(out, codec.InvalidPaymentCode, msgMalformedCode)
		return
	}
	if req.Amount.Value <= 0 {
		fail(out, codec.ParamIllegal, "paymentAmount.value must be greater than zero")
		return
	}
	// The same checks the decode endpoint makes (Identify): routable class,
	// a known issuer, a connected wallet. A U answer records nothing, so
	// the lane may retry the same request.
	walletName, rc, msg := e.Identify(ctx, &req.Code)
	if rc != codec.Success {
		fail(out, rc, msg)
		return
	}
	w := e.wallet[walletName]
	if e.fu.size() >= e.cfg.MaxFollowUps {
		fail(out, codec.RequestTrafficExceedLimit, "too many payments in process, retry the same request later")
		return
	}
	if e.failed.Load() {
		// Fail-stop: the journal cannot write, so nothing may be charged.
		fail(out, codec.UnknownException, msgSuspended)
		return
	}

	codeHash := e.hashCode(&req.Code)
	var kb [256]byte
	key := appendKey(kb[:0], clientID, req.PaymentRequestID)
	now := e.clock.Now()
	p, loaded, err := e.payByReq.getOrCreate(key, func(k string) (*payment, error) {
		p := &payment{
			// Both ids are slices of the index key: one allocation.
			key:        k,
			clientID:   k[:len(clientID)],
			requestID:  k[len(clientID)+1:],
			codeHash:   codeHash,
			codeMasked: newMaskedCode(&req.Code),
			amount:     req.Amount,
			methodType: intern(req.PaymentMethodType),
			scenario:   intern(req.Scenario),
			settlement: req.SettlementCurrency,
			walletName: walletName,
			wallet:     w,
			created:    now,
			deadline:   now.Add(e.cfg.FollowUpDeadline),
			status:     codec.StatusProcessing,
			result:     codec.PaymentInProcess,
		}
		if len(req.NotifyURL) > 0 {
			p.notifyURL = string(req.NotifyURL)
		}
		if e.jh.down.Load() {
			// The journal cannot record it: refused, nothing recorded.
			return nil, errJournalDown
		}
		// Claim the code while holding the request index shard, so two
		// requests racing with one code cannot both get it.
		if _, used := e.codes.putIfAbsent(codeHash, p); used {
			return nil, errCodeUsed
		}
		p.id = e.ids.next()
		e.payByID.put(p.id, p)
		return p, nil
	})
	if err == errJournalDown {
		fail(out, codec.RequestTrafficExceedLimit, msgJournalDown)
		return
	}
	if err != nil {
		fail(out, codec.InvalidPaymentCode, "the payment code was already used, ask the customer to refresh it")
		return
	}
	if loaded {
		e.stats.Duplicates.Add(1)
		e.answerDuplicate(ctx, p, req, codeHash, out)
		return
	}
	// The intent is durable before the wallet hears of the payment: after
	// a crash, recovery settles it by inquiry, never by paying again.
	e.failpoint(FailBeforeIntent)
	// The journal decides whether this request (or this code) is new, in
	// one statement: on several nodes another may have claimed it.
	if e.claim(ctx, p, req, codeHash, out) {
		return
	}
	e.failpoint(FailAfterIntent)
	p.mu.Lock()
	cancelled := p.st.closeWanted()
	p.mu.Unlock()
	if cancelled {
		// A lane's cancel of this request came between the intent and
		// now: it closes the payment at the wallet; the pay is not sent.
		p.markDispatched()
		p.mu.Lock()
		p.viewLocked(out, false)
		p.mu.Unlock()
		return 0
	}
	walletWait = e.dispatch(ctx, p, req)
	e.failpoint(FailAfterOutcome)
	p.mu.Lock()
	p.viewLocked(out, false)
	lost := p.st.owner == ownerLost || p.st.stored == storedBehind
	p.mu.Unlock()
	if e.failed.Load() || lost {
		// The outcome could not be made durable: do not tell the lane it
		// is final. Recovery after the restart settles it at the wallet.
		out.ResultCode, out.ResultMessage = codec.UnknownException, "the result could not be recorded; inquire with the same request id"
	}
	return walletWait
}

// abort undoes the creation of a payment whose intent could not be
// journaled. It was never dispatched; its code is released and a retry
// of the same request starts afresh.
func (e *Engine) abort(p *payment) {
	p.mu.Lock()
	p.abortLocked()
	p.mu.Unlock()
	isP := func(q *payment) bool { return q == p }
	e.codes.delIf(p.codeHash, isP)
	e.payByID.delIf(p.id, isP)
	e.payByReq.delIf(p.key, isP)
	p.markDispatched()
}

// abortLocked marks p as never stored. Caller holds p.mu.
func (p *payment) abortLocked() {
	// A lane that found p just before it left the indexes (a cancel, say)
	// must not write it (evAbort: ownerLost): it was never stored, or
	// (several nodes) the request belongs to a payment another node stored.
	p.to(evAbort)
	p.status, p.result, p.msg = codec.StatusNone, codec.UnknownException, "the journal could not record the payment"
}

// answerDuplicate answers a repeated pay request: the stored result when
// the key fields match, REPEAT_REQ_INCONSISTENT when they do not. A repeat
// that arrives while the first is being dispatched waits for that answer
// (bounded by the pay timeout), so a duplicate never dispatches again.
func (e *Engine) answerDuplicate(ctx context.Context, p *payment, req *codec.PayRequest, codeHash [CodeHashSize]byte, out *codec.PaymentView) {
	if p.voided {
		e.answerVoided(ctx, p, out)
		return
	}
	if !p.sameKeyFields(req, codeHash) {
		fail(out, codec.RepeatReqInconsistent, "")
		return
	}
	e.awaitDispatched(ctx, p)
	p.mu.Lock()
	p.viewLocked(out, false)
	aborted := p.st.stage == stageAborted
	p.mu.Unlock()
	if aborted && !e.failed.Load() {
		// The first request lost its claim to a payment another node
		// made; answer from that one.
		if rec, _, err := e.journal.GetPayment(ctx, p.clientID, p.requestID, ""); err == nil && rec != nil {
			e.answerStored(ctx, rec, req, codeHash, out)
			return
		}
	}
	if aborted {
		fail(out, codec.UnknownException, msgSuspended)
	}
}

// dispatch sends the pay to the wallet and applies the answer.
func (e *Engine) dispatch(ctx context.Context, p *payment, req *codec.PayRequest) (wait time.Duration) {
	defer p.markDispatched()
	// One reading of the clock for the call's deadline and its wait.
	start := time.Now()
	wp := e.payPool.Get().(*WalletPay)
	*wp = WalletPay{
		PaymentID:   p.id,
		Code:        req.Code,
		Amount:      req.Amount,
		MerchantID:  req.MerchantID,
		StoreID:     req.StoreID,
		TerminalID:  req.TerminalID,
		Description: req.OrderDescription,
		ExpiresAt:   p.deadline,
		// A transport deadline: real time, whatever the engine's clock.
		Deadline: start.Add(e.cfg.PayTimeout),
	}
	e.stats.Dispatched.Add(1)
	res, err := p.wallet.Pay(ctx, wp)
	wait = time.Since(start)
	*wp = WalletPay{}
	e.payPool.Put(wp)
	if err != nil {
		e.stats.WalletError.Add(1)
		e.log.Warn("pay outcome unknown, following up", "payment_id", p.id, "wallet", p.walletName, "code", p.codeMasked.String(), "err", err)
	}
	e.failpoint(FailAfterWallet)
	e.applyWallet(p, res, err, false)
	return wait
}

// applyWallet applies a pay or inquiry answer to p and schedules what
// follows. It is the one place where a wallet's word changes a payment.
func (e *Engine) applyWallet(p *payment, res WalletResult, err error, inquiry bool) {
	now := e.clock.Now()
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.final() || p.st.closeWanted() {
		// Closed here, or being closed: a success reported now must not
		// stand. A pending cancel reverses it; after a confirmed close,
		// reverse again (the wallet's cancel is idempotent).
		if err == nil && res.Outcome == OutcomeSuccess && p.status != codec.StatusSuccess {
			if p.final() && p.to(evReverse) {
				e.stats.Reversals.Add(1)
				e.persistLocked(context.Background(), p, nil, true)
			}
			e.scheduleLocked(p, now)
		}
		return
	}
	if inquiry && err == nil {
		p.to(evConfirm) // the wallet answered: deadlines apply again
	}
	if err != nil {
		if !inquiry && errors.Is(err, ErrNotSent) {
			// The wallet never got the pay (no byte left the process: no
			// connection, no slot, an open circuit breaker), and paycode
			// never sends a payment's pay twice, so nothing can be charged:
			// it fails now, and the lane is told at once.
			p.status, p.result = codec.StatusFail, codec.ProcessFail
			p.msg = "the wallet could not be reached; nothing was charged"
			e.persistLocked(context.Background(), p, nil, true)
			return
		}
		e.scheduleLocked(p, now)
		return
	}
	if inquiry && res.Outcome == OutcomeNotFound && now.Sub(p.created) > 2*e.cfg.PayTimeout {
		// The pay call ended long ago and the wallet has no such payment:
		// it never arrived. Close it now rather than poll to the deadline.
		p.to(evExpire)
		if e.persistLocked(context.Background(), p, nil, true) != nil {
			return
		}
		e.scheduleLocked(p, now)
		return
	}
	switch res.Outcome {
	case OutcomeSuccess:
		p.status = codec.StatusSuccess
		p.result = codec.Success
		p.msg = ""
		p.paidAt = res.At
		if p.paidAt.IsZero() {
			p.paidAt = now
		}
		p.customerID = res.CustomerID
		p.brand = res.WalletBrand
	case OutcomeFail:
		p.status = codec.StatusFail
		p.result = res.Code.AsFailure()
		p.msg = res.Message
	default: // processing, not found (inquiry before the pay landed), unknown
		p.result = codec.PaymentInProcess
		e.scheduleLocked(p, now)
		return
	}
	// Final: durable before the lane is told, except a success with
	// AsyncOutcomes (see Config). Notifications are queued in the same
	// write.
	e.persistLocked(context.Background(), p, nil, !e.cfg.AsyncOutcomes || p.status != codec.StatusSuccess)
}

var errRefused = errors.New("engine: refund refused")

// intern returns common field values as constants, so storing them costs
// no allocation; other values are copied.
func intern(b []byte) string {
	switch string(b) {
	case "":
		return ""
	case "CONNECT_WALLET":
		return "CONNECT_WALLET"
	case "PaymentCode":
		return "PaymentCode"
	}
	return string(b)
}

// awaitDispatched waits, at most the pay timeout or until ctx ends, for
// p's dispatch (or, for a tombstone, its journal write) to be done.
// Network waits use real time, not the engine's business clock.
func (e *Engine) awaitDispatched(ctx context.Context, p *payment) {
	ch := p.waitDispatched()
	if ch == nil {
		return
	}
	t := time.NewTimer(e.cfg.PayTimeout)
	select {
	case <-ch:
	case <-t.C:
	case <-ctx.Done():
	}
	t.Stop()
}
