package mppsim

import (
	"context"
	"math/rand/v2"
	"net"
	"strconv"
	"sync"
	"time"

	"github.com/paycode/paycode/codec"
	"github.com/paycode/paycode/engine/sign"
	"github.com/valyala/fasthttp"
)

// Op is a wallet API operation, one input of the latency draw.
type Op uint8

const (
	OpPay Op = iota + 1
	OpInquiry
	OpCancel
	OpRefund
)

// Wallet is one simulated wallet: its ledger and its HTTP handler. It is
// safe for concurrent use. All state sits behind one mutex per wallet —
// never one across wallets — held only for map updates, never while
// sleeping.
type Wallet struct {
	cfg   WalletConfig
	seed  uint64
	now   func() time.Time
	sleep func(context.Context, time.Duration)
	// ctx is cancelled by Close: it ends latency waits and held
	// (lost-response) requests, so a server can shut down at once.
	ctx    context.Context
	cancel context.CancelFunc

	mu      sync.Mutex
	pays    map[string]*payment   // by paymentRequestId (the engine's paymentId)
	codes   map[codec.Code]string // code → the paymentRequestId that used it first
	refunds map[string]*refundRec // by refundRequestId
}

type payment struct {
	reqID     string
	walletID  string
	code      codec.Code
	amount    codec.Amount
	outcome   Outcome
	state     State
	result    codec.ResultCode // the payment's own result (FAIL reason, or SUCCESS…)
	charged   int64
	refunded  int64
	created   time.Time
	settleAt  time.Time // password payments: when the user is done
	paidAt    time.Time
	closedAt  time.Time
	tombstone bool
	customer  string
	order     string   // the pay's order description
	refunds   []string // refundRequestIds, in arrival order
}

type refundRec struct {
	reqID    string
	payReqID string
	refundID string
	amount   codec.Amount
	result   codec.ResultCode
	at       time.Time
}

// NewWallet makes a wallet to serve on any listener with Handler. env
// supplies Seed, Now and Sleep (env.Wallets is ignored). Close it when done.
func NewWallet(cfg WalletConfig, env Config) (*Wallet, error) {
	cfg = cfg.WithDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	env = Config{Seed: env.Seed, Now: env.Now, Sleep: env.Sleep}.WithDefaults()
	ctx, cancel := context.WithCancel(context.Background())
	return &Wallet{
		cfg: cfg, seed: uint64(env.Seed) ^ fnv64(0, cfg.Name), now: env.Now, sleep: env.Sleep,
		ctx: ctx, cancel: cancel,
		pays: make(map[string]*payment), codes: make(map[codec.Code]string), refunds: make(map[string]*refundRec),
	}, nil
}

// Name is the wallet's name.
func (w *Wallet) Name() string { return w.cfg.Name }

// Close ends latency waits and releases held requests; the wallet still
// answers afterwards, without delays.
func (w *Wallet) Close() { w.cancel() }

// Delay is the latency of op on the request id: a pure function of the
// seed, the wallet's name, op and id, so concurrency cannot change it.
func (w *Wallet) Delay(op Op, id []byte) time.Duration {
	if w.cfg.Latency == (Latency{}) {
		return 0
	}
	r := rand.New(rand.NewPCG(w.seed, fnv64(uint64(op), id)))
	return w.cfg.Latency.At(r.NormFloat64())
}

// fnv64 is FNV-1a over s, seeded by mixing h into the offset basis.
func fnv64[S ~string | ~[]byte](h uint64, s S) uint64 {
	x := uint64(14695981039346656037) ^ (h * 0x9E3779B97F4A7C15)
	for i := 0; i < len(s); i++ {
		x ^= uint64(s[i])
		x *= 1099511628211
	}
	return x
}

func (w *Wallet) id(kind byte, key []byte) string {
	var b [64]byte
	return string(w.appendID(b[:0], kind, key))
}

// appendID appends the wallet's id of kind for key: its name, the kind
// and a hash of key under the wallet's seed.
func (w *Wallet) appendID(dst []byte, kind byte, key []byte) []byte {
	dst = append(dst, w.cfg.Name...)
	dst = append(dst, '-', kind, '-')
	return strconv.AppendUint(dst, fnv64(w.seed, key), 16)
}

// settle applies a password payment's outcome once its time has come. It
// runs, under the lock, whenever the payment is touched or the ledger read,
// so the result is the same as if it had happened exactly at settleAt.
func (w *Wallet) settle(p *payment, now time.Time) {
	if p.state != StateProcessing || now.Before(p.settleAt) {
		return
	}
	if p.outcome == OutcomePassword {
		p.state, p.result, p.charged, p.paidAt = StateSuccess, codec.Success, p.amount.Value, p.settleAt
		return
	}
	p.state, p.result = StateFail, codec.UserPaymentVerificationFailed
}

// pay runs a pay request against the ledger and fills resp. hold reports
// a lost response: the caller must never answer it.
func (w *Wallet) pay(r *codec.MPPPayRequest, resp *codec.MPPPayResponse) (hold bool) {
	resp.Reset()
	resp.PSPID = append(resp.PSPID, w.cfg.PSPID...)
	if r.Amount.Value <= 0 {
		resp.Result.Set(codec.ParamIllegal)
		return false
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	now := w.now()
	if p := w.pays[string(r.PaymentRequestID)]; p != nil {
		w.settle(p, now)
		switch {
		case p.tombstone:
			resp.Result.Set(codec.OrderIsClosed)
		case !p.code.Equal(&r.Code) || p.amount != r.Amount:
			resp.Result.Set(codec.RepeatReqInconsistent)
		default:
			w.payAnswer(p, resp)
		}
		return false
	}
	// One string backs the request id, the order description, the wallet's
	// payment id and customer id: one allocation per pay, not four.
	var buf [256]byte
	var digits [codec.MaxCodeLen]byte
	b := append(buf[:0], r.PaymentRequestID...)
	i := len(b)
	b = append(b, r.OrderDescription...)
	j := len(b)
	b = w.appendID(b, 'P', r.PaymentRequestID)
	k := len(b)
	b = w.appendID(b, 'C', r.Code.AppendDigits(digits[:0]))
	all := string(b)
	p := &payment{reqID: all[:i], order: all[i:j], walletID: all[j:k], code: r.Code, amount: r.Amount, created: now, state: StateFail}
	customer := all[k:]
	w.pays[p.reqID] = p
	if r.CodeErr != nil {
		p.result = codec.InvalidPaymentCode
		w.payAnswer(p, resp)
		return false
	}
	if _, used := w.codes[r.Code]; used {
		p.result = codec.InvalidPaymentCode
		w.payAnswer(p, resp)
		return false
	}
	w.codes[r.Code] = p.reqID
	p.outcome = OutcomeOfCode(&r.Code)
	p.customer = customer
	switch p.outcome {
	case OutcomeSuccess, OutcomeLostResponse:
		p.state, p.result, p.charged, p.paidAt = StateSuccess, codec.Success, r.Amount.Value, now
	case OutcomePassword, OutcomePasswordFail:
		p.state, p.result, p.settleAt = StateProcessing, codec.PaymentInProcess, now.Add(w.cfg.PasswordDelay)
	default:
		p.result = p.outcome.failCode()
	}
	w.payAnswer(p, resp)
	if p.outcome == OutcomeSystemError {
		// The wallet failed before charging and could not tell: U now, F
		// SYSTEM_ERROR to whoever asks again.
		resp.Result.Set(codec.UnknownException)
	}
	return p.outcome == OutcomeLostResponse
}

func (w *Wallet) payAnswer(p *payment, resp *codec.MPPPayResponse) {
	resp.Result.Set(p.answer())
	switch p.state {
	case StateSuccess:
		resp.PaymentID = append(resp.PaymentID, p.walletID...)
		resp.PaymentTime = p.paidAt
		resp.Amount = p.amount
		resp.CustomerID = append(resp.CustomerID, p.customer...)
		resp.WalletBrandName = append(resp.WalletBrandName, w.cfg.Brand...)
	case StateProcessing:
		resp.PaymentID = append(resp.PaymentID, p.walletID...)
	}
}

// answer is the payment's result as pay and inquiry report it.
func (p *payment) answer() codec.ResultCode {
	switch p.state {
	case StateClosed, StateReversed:
		return codec.OrderIsClosed
	}
	return p.result
}

func (w *Wallet) inquire(id []byte, resp *codec.MPPInquiryResponse) {
	resp.Reset()
	w.mu.Lock()
	defer w.mu.Unlock()
	p := w.pays[string(id)]
	if p == nil {
		resp.Result.Set(codec.OrderNotExist)
		return
	}
	w.settle(p, w.now())
	resp.Result.Set(codec.Success)
	resp.PaymentResult.Set(p.answer())
	if p.tombstone {
		return
	}
	resp.PaymentID = append(resp.PaymentID, p.walletID...)
	resp.Amount = p.amount
	if p.state == StateSuccess {
		resp.PaymentTime = p.paidAt
		resp.CustomerID = append(resp.CustomerID, p.customer...)
		resp.WalletBrandName = append(resp.WalletBrandName, w.cfg.Brand...)
	}
}

func (w *Wallet) cancelPayment(id []byte, resp *codec.MPPCancelResponse) {
	resp.Reset()
	w.mu.Lock()
	defer w.mu.Unlock()
	now := w.now()
	p := w.pays[string(id)]
	if p == nil {
		// A tombstone: the pay may still be on its way; it must not happen.
		w.pays[string(id)] = &payment{reqID: string(id), state: StateClosed, result: codec.OrderIsClosed, tombstone: true, created: now, closedAt: now}
		resp.Result.Set(codec.Success)
		return
	}
	w.settle(p, now)
	switch p.state {
	case StateProcessing:
		p.state, p.closedAt = StateClosed, now
	case StateSuccess:
		if p.refunded > 0 {
			resp.Result.Set(codec.OrderStatusInvalid)
			return
		}
		p.state, p.closedAt = StateReversed, now
	}
	resp.Result.Set(codec.Success)
}

func (w *Wallet) refund(r *codec.MPPRefundRequest, resp *codec.MPPRefundResponse) {
	resp.Reset()
	if r.Amount.Value <= 0 {
		resp.Result.Set(codec.ParamIllegal)
		return
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if rf := w.refunds[string(r.RefundRequestID)]; rf != nil {
		if rf.payReqID != string(r.PaymentRequestID) || rf.amount != r.Amount {
			resp.Result.Set(codec.RepeatReqInconsistent)
			return
		}
		refundAnswer(rf, resp)
		return
	}
	now := w.now()
	p := w.pays[string(r.PaymentRequestID)]
	switch {
	case p == nil || p.tombstone:
		resp.Result.Set(codec.OrderNotExist)
		return
	case r.Amount.Currency != p.amount.Currency:
		resp.Result.Set(codec.ParamIllegal)
		return
	}
	w.settle(p, now)
	if p.state != StateSuccess {
		resp.Result.Set(codec.OrderStatusInvalid)
		return
	}
	rf := &refundRec{reqID: string(r.RefundRequestID), payReqID: p.reqID, amount: r.Amount, result: codec.RefundAmountExceed}
	if p.refunded+r.Amount.Value <= p.charged {
		p.refunded += r.Amount.Value
		rf.result, rf.at, rf.refundID = codec.Success, now, w.id('R', r.RefundRequestID)
	}
	w.refunds[rf.reqID] = rf
	p.refunds = append(p.refunds, rf.reqID)
	refundAnswer(rf, resp)
}

func refundAnswer(rf *refundRec, resp *codec.MPPRefundResponse) {
	resp.Result.Set(rf.result)
	if rf.result == codec.Success {
		resp.RefundID = append(resp.RefundID, rf.refundID...)
		resp.RefundTime = rf.at
		resp.Amount = rf.amount
	}
}

// msgs is the per-request working set, pooled so a request reuses warm
// message values and buffers.
type msgs struct {
	pay     codec.MPPPayRequest
	payResp codec.MPPPayResponse
	id      codec.MPPIDRequest
	inq     codec.MPPInquiryResponse
	cancel  codec.MPPCancelResponse
	ref     codec.MPPRefundRequest
	refResp codec.MPPRefundResponse
	bad     codec.MPPCancelResponse // a bare result, for rejected requests
	buf     []byte
}

var msgPool = sync.Pool{New: func() any { return new(msgs) }}

// Handler serves the wallet API and GET LedgerPath. Unknown paths get 404
// with F INVALID_API, unparsable bodies 200 with F PARAM_ILLEGAL (as the
// Alipay+ API answers them).
func (w *Wallet) Handler() fasthttp.RequestHandler { return w.serve }

func (w *Wallet) serve(ctx *fasthttp.RequestCtx) {
	path := ctx.Path()
	if string(path) == LedgerPath && ctx.IsGet() {
		l := w.Ledger()
		ctx.SetContentType("application/json")
		ctx.SetBody(l.AppendJSON(nil))
		return
	}
	if !ctx.IsPost() {
		ctx.SetStatusCode(fasthttp.StatusMethodNotAllowed)
		return
	}
	m := msgPool.Get().(*msgs)
	defer msgPool.Put(m)
	body := ctx.PostBody()
	var err error
	if w.cfg.Signer != nil {
		defer w.signAnswer(ctx)
	}
	if w.cfg.Verifier != nil && !w.verified(ctx, body) {
		m.bad.Result.Set(codec.InvalidSignature)
		ctx.SetContentType("application/json")
		ctx.SetBody(codec.AppendMPPCancelResponse(m.buf[:0], &m.bad))
		return
	}
	switch string(path) {
	case codec.MPPPayPath:
		if err = codec.ParseMPPPayRequest(body, &m.pay); err == nil {
			w.sleep(w.ctx, w.Delay(OpPay, m.pay.PaymentRequestID))
			if w.pay(&m.pay, &m.payResp) {
				w.hold(ctx)
				return
			}
			m.buf = codec.AppendMPPPayResponse(m.buf[:0], &m.payResp)
		}
	case codec.MPPInquiryPath:
		if err = codec.ParseMPPIDRequest(body, &m.id); err == nil {
			w.sleep(w.ctx, w.Delay(OpInquiry, m.id.PaymentRequestID))
			w.inquire(m.id.PaymentRequestID, &m.inq)
			m.buf = codec.AppendMPPInquiryResponse(m.buf[:0], &m.inq)
		}
	case codec.MPPCancelPath:
		if err = codec.ParseMPPIDRequest(body, &m.id); err == nil {
			w.sleep(w.ctx, w.Delay(OpCancel, m.id.PaymentRequestID))
			w.cancelPayment(m.id.PaymentRequestID, &m.cancel)
			m.buf = codec.AppendMPPCancelResponse(m.buf[:0], &m.cancel)
		}
	case codec.MPPRefundPath:
		if err = codec.ParseMPPRefundRequest(body, &m.ref); err == nil {
			w.sleep(w.ctx, w.Delay(OpRefund, m.ref.RefundRequestID))
			w.refund(&m.ref, &m.refResp)
			m.buf = codec.AppendMPPRefundResponse(m.buf[:0], &m.refResp)
		}
	default:
		ctx.SetStatusCode(fasthttp.StatusNotFound)
		m.bad.Result.Set(codec.InvalidAPI)
		m.buf = codec.AppendMPPCancelResponse(m.buf[:0], &m.bad)
	}
	if err != nil {
		// The parse error names a field, never a value: safe to echo.
		m.bad.Result.Set(codec.ParamIllegal)
		m.bad.Result.Message = append(m.bad.Result.Message, err.Error()...)
		m.buf = codec.AppendMPPCancelResponse(m.buf[:0], &m.bad)
	}
	ctx.SetContentType("application/json")
	ctx.SetBody(m.buf)
}

// hold keeps a lost-response request until HangFor passes or the wallet
// closes, then drops the connection without a byte of answer: fasthttp
// hands a hijacked connection to the (empty) hijack handler and closes it,
// and HijackSetNoResponse stops it writing the response first.
func (w *Wallet) hold(ctx *fasthttp.RequestCtx) {
	w.sleep(w.ctx, w.cfg.HangFor)
	ctx.HijackSetNoResponse(true)
	ctx.Hijack(func(net.Conn) {})
}

// verified checks the request's signature with paycode's public key over
// POST <path>\n<client-id>.<request-time>.<body>, and its time against
// the real clock (the business clock may be a test's manual one).
func (w *Wallet) verified(ctx *fasthttp.RequestCtx, body []byte) bool {
	rt := ctx.Request.Header.Peek("request-time")
	t, err := sign.ParseTime(rt)
	if err != nil || sign.CheckTime(t, time.Now(), sign.DefaultWindow) != nil {
		return false
	}
	return w.cfg.Verifier.VerifyHeader(ctx.Request.Header.Peek("signature"), ctx.Method(), ctx.URI().PathOriginal(),
		ctx.Request.Header.Peek("client-id"), rt, body) == nil
}

// signAnswer signs the answer as written, echoing the client-id.
func (w *Wallet) signAnswer(ctx *fasthttp.RequestCtx) {
	if ctx.Hijacked() {
		return
	}
	h := &ctx.Response.Header
	h.DisableNormalizing()
	cid := ctx.Request.Header.Peek("client-id")
	var tb [40]byte
	rt := time.Now().AppendFormat(tb[:0], time.RFC3339)
	sig, err := w.cfg.Signer.AppendHeader(nil, ctx.Method(), ctx.URI().PathOriginal(), cid, rt, ctx.Response.Body())
	if err != nil {
		return
	}
	h.SetBytesV("client-id", cid)
	h.SetBytesV("response-time", rt)
	h.SetBytesV("signature", sig)
}
