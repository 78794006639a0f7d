package mpp

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/paycode/paycode/codec"
	"github.com/paycode/paycode/engine"
	"github.com/paycode/paycode/engine/sign"
	"github.com/sony/gobreaker/v2"
	"github.com/valyala/fasthttp"
)

// Op is a wallet API operation, for metrics and errors.
type Op uint8

// The wallet operations.
const (
	OpPay Op = iota
	OpInquiry
	OpCancel
	OpRefund
	NumOps
)

var (
	// opNames name operations in errors (Error.Op): the API's own names.
	opNames = [NumOps]string{"pay", "inquiryPayment", "cancelPayment", "refund"}
	// opLabels name them in metrics (the op label).
	opLabels = [NumOps]string{"pay", "inquiry", "cancel", "refund"}
	opPaths  = [NumOps]string{codec.MPPPayPath, codec.MPPInquiryPath, codec.MPPCancelPath, codec.MPPRefundPath}
)

// Client talks to one wallet. It is safe for concurrent use; it shares
// nothing with other Clients (its own connection pool and in-flight
// limit), so one slow wallet cannot starve another.
type Client struct {
	cfg Config
	hc  *fasthttp.HostClient
	sem chan struct{} // in-flight slots
	// uris are the operations' URLs, parsed once: a call copies its URI
	// into the request (Request.SetURI) instead of having fasthttp parse
	// the URL text again on every call (~1,000 instructions a call). They
	// are only read after New.
	uris [NumOps]*fasthttp.URI
	// paths are the request paths as signed: BaseURL's path prefix and
	// the operation's path.
	paths    [NumOps][]byte
	clientID []byte
	// brand caches the last walletBrandName as a string: it rarely changes,
	// so the pay path need not allocate it.
	brand atomic.Pointer[string]
	// cb is the wallet's circuit breaker (nil when disabled, see
	// breaker.go); obs receives per-call measurements (observe.go).
	cb  *gobreaker.CircuitBreaker[engine.WalletResult]
	obs atomic.Pointer[observerBox]
}

// New validates cfg (after WithDefaults) and makes a Client. It does not
// connect; the first call dials.
func New(cfg Config) (*Client, error) {
	cfg = cfg.WithDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	addr, tls, _ := cfg.endpoint()
	dial := cfg.Dial
	if dial == nil {
		dial = fasthttp.DialTimeout
	}
	c := &Client{cfg: cfg, sem: make(chan struct{}, cfg.MaxInFlight), clientID: []byte(cfg.ClientID)}
	c.hc = &fasthttp.HostClient{
		Addr:                      addr,
		IsTLS:                     tls,
		Name:                      "paycode",
		MaxConns:                  cfg.MaxConns,
		MaxResponseBodySize:       MaxResponseBodySize,
		MaxIdemponentCallAttempts: 1, // never resend: the engine settles unknowns by inquiry
		SecureErrorLogMessage:     true,
		DialTimeout: func(addr string, timeout time.Duration) (net.Conn, error) {
			conn, err := dial(addr, timeout)
			if err != nil {
				return nil, &dialError{err}
			}
			return conn, nil
		},
	}
	prefix := ""
	if u, err := url.Parse(cfg.BaseURL); err == nil {
		prefix = strings.TrimSuffix(u.EscapedPath(), "/")
	}
	for i := range c.uris {
		c.uris[i] = new(fasthttp.URI)
		if err := c.uris[i].Parse(nil, []byte(cfg.BaseURL+opPaths[i])); err != nil {
			return nil, fmt.Errorf("mpp: config %s: BaseURL %q: %w", cfg.Name, RedactURL(cfg.BaseURL), err)
		}
		c.paths[i] = []byte(prefix + opPaths[i])
	}
	c.cb = newBreaker(cfg.Name, cfg.Breaker)
	return c, nil
}

// Name is the wallet's name.
func (c *Client) Name() string { return c.cfg.Name }

// Config is the configuration in use, defaults filled.
func (c *Client) Config() Config { return c.cfg }

// InFlight is the number of calls holding a slot now (for metrics).
func (c *Client) InFlight() int { return len(c.sem) }

// Close drops idle connections; calls may still be made afterwards.
func (c *Client) Close() { c.hc.CloseIdleConnections() }

// call is one call's working set, pooled: message values and the body
// buffer stay warm, fasthttp's request and response come from its pools.
type call struct {
	buf        []byte
	req        *fasthttp.Request
	resp       *fasthttp.Response
	pay        codec.MPPPayRequest
	payResp    codec.MPPPayResponse
	id         codec.MPPIDRequest
	inq        codec.MPPInquiryResponse
	cancel     codec.MPPCancelResponse
	refund     codec.MPPRefundRequest
	refundResp codec.MPPRefundResponse
}

var calls = sync.Pool{New: func() any { return new(call) }}

func getCall() *call {
	x := calls.Get().(*call)
	x.req, x.resp = fasthttp.AcquireRequest(), fasthttp.AcquireResponse()
	return x
}

// putCall recycles x. The pay body and value held a payment code: wipe
// them so a pooled object does not keep a bearer token around.
func putCall(x *call) {
	fasthttp.ReleaseRequest(x.req)
	fasthttp.ReleaseResponse(x.resp)
	x.req, x.resp = nil, nil
	clear(x.buf)
	x.pay.Code = codec.Code{}
	calls.Put(x)
}

// Pay asks the wallet to charge p.Code. A non-nil error means the outcome
// is unknown unless it matches ErrNotSent.
func (c *Client) Pay(ctx context.Context, p *engine.WalletPay) (engine.WalletResult, error) {
	return c.call(OpPay, func() (engine.WalletResult, error) { return c.pay(ctx, p) })
}

func (c *Client) pay(ctx context.Context, p *engine.WalletPay) (engine.WalletResult, error) {
	x := getCall()
	defer putCall(x)
	r := &x.pay
	r.Reset()
	r.AcquirerID = append(r.AcquirerID, c.cfg.AcquirerID...)
	r.PSPID = append(r.PSPID, c.cfg.PSPID...)
	r.PaymentRequestID = append(r.PaymentRequestID, p.PaymentID...)
	r.Amount = p.Amount
	r.Code = p.Code
	r.OrderDescription = append(r.OrderDescription, p.Description...)
	r.MerchantID = append(r.MerchantID, p.MerchantID...)
	r.StoreID = append(r.StoreID, p.StoreID...)
	r.TerminalID = append(r.TerminalID, p.TerminalID...)
	r.ExpiryTime = p.ExpiresAt
	x.buf = codec.AppendMPPPayRequest(x.buf[:0], r)
	if err := c.do(ctx, OpPay, x, p.Deadline); err != nil {
		return engine.WalletResult{}, err
	}
	a := &x.payResp
	if err := codec.ParseMPPPayResponse(x.resp.Body(), a); err != nil {
		return engine.WalletResult{}, c.badAnswer(OpPay, err)
	}
	if !sameID(a.PaymentRequestID, p.PaymentID) || (a.Amount != codec.Amount{} && a.Amount != p.Amount) {
		return engine.WalletResult{}, c.badAnswer(OpPay, ErrOtherPayment)
	}
	out := outcome(&a.Result)
	if len(a.PaymentID) > 0 {
		out.WalletTxnID = string(a.PaymentID)
	}
	if out.Outcome == engine.OutcomeSuccess {
		out.At, out.CustomerID, out.WalletBrand = a.PaymentTime, string(a.CustomerID), c.brandOf(a.WalletBrandName)
	}
	return out, nil
}

// Inquire asks for the payment's current outcome (see the package doc for
// the mapping).
func (c *Client) Inquire(ctx context.Context, paymentID string) (engine.WalletResult, error) {
	return c.call(OpInquiry, func() (engine.WalletResult, error) { return c.inquire(ctx, paymentID) })
}

func (c *Client) inquire(ctx context.Context, paymentID string) (engine.WalletResult, error) {
	x := getCall()
	defer putCall(x)
	x.id.Reset()
	x.id.PaymentRequestID = append(x.id.PaymentRequestID, paymentID...)
	x.buf = codec.AppendMPPIDRequest(x.buf[:0], &x.id)
	if err := c.do(ctx, OpInquiry, x, time.Time{}); err != nil {
		return engine.WalletResult{}, err
	}
	a := &x.inq
	if err := codec.ParseMPPInquiryResponse(x.resp.Body(), a); err != nil {
		return engine.WalletResult{}, c.badAnswer(OpInquiry, err)
	}
	if !sameID(a.PaymentRequestID, paymentID) {
		return engine.WalletResult{}, c.badAnswer(OpInquiry, ErrOtherPayment)
	}
	switch a.Result.Status {
	case codec.StatusF:
		if a.Result.Code == codec.OrderNotExist {
			return engine.WalletResult{Outcome: engine.OutcomeNotFound, Code: codec.OrderNotExist, Message: message(&a.Result)}, nil
		}
		return engine.WalletResult{}, &Error{Wallet: c.cfg.Name, Op: opNames[OpInquiry], Kind: ErrRefused, Result: string(a.Result.Name)}
	case codec.StatusU:
		return outcome(&a.Result), nil // the query itself is in trouble: ask again
	}
	out := outcome(&a.PaymentResult)
	if len(a.PaymentID) > 0 {
		out.WalletTxnID = string(a.PaymentID)
	}
	out.Amount = a.Amount // checked by the engine, which knows the payment's
	switch out.Outcome {
	case engine.OutcomeSuccess:
		out.At, out.CustomerID, out.WalletBrand = a.PaymentTime, string(a.CustomerID), c.brandOf(a.WalletBrandName)
	case engine.OutcomeFail:
		out.Cancelled = a.PaymentResult.Code == codec.OrderIsClosed
	}
	return out, nil
}

// Cancel closes (or reverses) the payment at the wallet.
func (c *Client) Cancel(ctx context.Context, paymentID string) (engine.WalletResult, error) {
	return c.call(OpCancel, func() (engine.WalletResult, error) { return c.cancel(ctx, paymentID) })
}

func (c *Client) cancel(ctx context.Context, paymentID string) (engine.WalletResult, error) {
	x := getCall()
	defer putCall(x)
	x.id.Reset()
	x.id.PaymentRequestID = append(x.id.PaymentRequestID, paymentID...)
	x.buf = codec.AppendMPPIDRequest(x.buf[:0], &x.id)
	if err := c.do(ctx, OpCancel, x, time.Time{}); err != nil {
		return engine.WalletResult{}, err
	}
	a := &x.cancel
	if err := codec.ParseMPPCancelResponse(x.resp.Body(), a); err != nil {
		return engine.WalletResult{}, c.badAnswer(OpCancel, err)
	}
	out := outcome(&a.Result)
	if out.Outcome == engine.OutcomeFail && a.Result.Code == codec.OrderNotExist {
		out.Outcome = engine.OutcomeNotFound
	}
	return out, nil
}

// Refund refunds part or all of a successful payment.
func (c *Client) Refund(ctx context.Context, p *engine.WalletRefund) (engine.WalletResult, error) {
	return c.call(OpRefund, func() (engine.WalletResult, error) { return c.refund(ctx, p) })
}

func (c *Client) refund(ctx context.Context, p *engine.WalletRefund) (engine.WalletResult, error) {
	x := getCall()
	defer putCall(x)
	r := &x.refund
	r.Reset()
	r.PaymentRequestID = append(r.PaymentRequestID, p.PaymentID...)
	r.RefundRequestID = append(r.RefundRequestID, p.RefundID...)
	r.Amount = p.Amount
	r.Reason = append(r.Reason, p.Reason...)
	x.buf = codec.AppendMPPRefundRequest(x.buf[:0], r)
	if err := c.do(ctx, OpRefund, x, time.Time{}); err != nil {
		return engine.WalletResult{}, err
	}
	a := &x.refundResp
	if err := codec.ParseMPPRefundResponse(x.resp.Body(), a); err != nil {
		return engine.WalletResult{}, c.badAnswer(OpRefund, err)
	}
	if a.Amount != (codec.Amount{}) && a.Amount != p.Amount {
		return engine.WalletResult{}, c.badAnswer(OpRefund, ErrOtherPayment)
	}
	out := outcome(&a.Result)
	if out.Outcome == engine.OutcomeSuccess {
		out.WalletTxnID, out.At = string(a.RefundID), a.RefundTime
	}
	return out, nil
}

// do sends x.buf to the operation's path and leaves a 200 answer in
// x.resp. It takes an in-flight slot first, waiting until the call's
// deadline at most: the earliest of now+Timeout, ctx's deadline and
// callDeadline (WalletPay.Deadline; zero for none).
func (c *Client) do(ctx context.Context, o Op, x *call, callDeadline time.Time) error {
	if err := ctx.Err(); err != nil {
		return &Error{Wallet: c.cfg.Name, Op: opNames[o], NotSent: true, Kind: err}
	}
	now := time.Now()
	deadline := now.Add(c.cfg.Timeout)
	if d, ok := ctx.Deadline(); ok && d.Before(deadline) {
		deadline = d
	}
	if !callDeadline.IsZero() && callDeadline.Before(deadline) {
		deadline = callDeadline
	}
	waited, err := c.acquire(ctx, deadline)
	if err != nil {
		return &Error{Wallet: c.cfg.Name, Op: opNames[o], NotSent: true, Kind: ErrBusy, Cause: err}
	}
	defer c.release()
	if waited {
		now = time.Now() // a slot taken at once finds the clock where it was
	}
	if !now.Before(deadline) {
		return &Error{Wallet: c.cfg.Name, Op: opNames[o], NotSent: true, Kind: ErrTimeout}
	}
	req := x.req
	req.SetURI(c.uris[o])
	req.Header.SetMethod(fasthttp.MethodPost)
	req.Header.SetContentType("application/json; charset=UTF-8")
	req.SetBodyRaw(x.buf)
	if c.cfg.Signer != nil {
		if err := c.signRequest(o, req, x.buf); err != nil {
			return &Error{Wallet: c.cfg.Name, Op: opNames[o], NotSent: true, Kind: ErrBadAnswer, Cause: err}
		}
	}
	if err := c.hc.DoDeadline(req, x.resp, deadline); err != nil {
		return c.transportError(o, err)
	}
	if st := x.resp.StatusCode(); st != fasthttp.StatusOK {
		return &Error{Wallet: c.cfg.Name, Op: opNames[o], Kind: ErrHTTPStatus, Status: st}
	}
	if c.cfg.Verifier != nil {
		if err := c.verifyAnswer(o, x.resp); err != nil {
			return c.badAnswer(o, err)
		}
	}
	return nil
}

// Header names of the signature scheme, lower case on the wire.
const (
	hdrClientID     = "client-id"
	hdrRequestTime  = "request-time"
	hdrResponseTime = "response-time"
	hdrSignature    = "signature"
)

// ErrWrongClient is a signed answer addressed to another client id.
var ErrWrongClient = errors.New("mpp: the answer's client-id is not paycode's")

// signRequest sets client-id, request-time (epoch ms, as the Go and Java
// SDKs send) and signature over POST <path>\n<client-id>.<time>.<body>.
func (c *Client) signRequest(o Op, req *fasthttp.Request, body []byte) error {
	var tb [24]byte
	t := sign.AppendEpochMillis(tb[:0], time.Now())
	var hb [512]byte
	h, err := c.cfg.Signer.AppendHeader(hb[:0], methodPost, c.paths[o], c.clientID, t, body)
	if err != nil {
		return err
	}
	req.Header.DisableNormalizing()
	req.Header.SetBytesV(hdrClientID, c.clientID)
	req.Header.SetBytesV(hdrRequestTime, t)
	req.Header.SetBytesV(hdrSignature, h)
	return nil
}

// verifyAnswer checks the answer's signature over POST <path>\n<its
// client-id>.<its response-time>.<body>, and that it is addressed to us.
func (c *Client) verifyAnswer(o Op, resp *fasthttp.Response) error {
	cid := resp.Header.Peek(hdrClientID)
	if string(cid) != c.cfg.ClientID {
		return ErrWrongClient
	}
	return c.cfg.Verifier.VerifyHeader(resp.Header.Peek(hdrSignature), methodPost, c.paths[o], cid,
		resp.Header.Peek(hdrResponseTime), resp.Body())
}

var methodPost = []byte(fasthttp.MethodPost)

// acquire takes an in-flight slot: at once when one is free (no timer, no
// allocation, no clock reading), else waiting until deadline or ctx is
// done; waited reports the latter.
func (c *Client) acquire(ctx context.Context, deadline time.Time) (waited bool, err error) {
	select {
	case c.sem <- struct{}{}:
		return false, nil
	default:
	}
	t := time.NewTimer(time.Until(deadline))
	defer t.Stop()
	select {
	case c.sem <- struct{}{}:
		return true, nil
	case <-t.C:
		return true, context.DeadlineExceeded
	case <-ctx.Done():
		return true, ctx.Err()
	}
}

func (c *Client) release() { <-c.sem }

// transportError classifies a fasthttp failure. Only a failed dial (our
// wrapped dial function) and an exhausted pool are known to have sent
// nothing; everything else may have reached the wallet.
func (c *Client) transportError(o Op, err error) error {
	e := &Error{Wallet: c.cfg.Name, Op: opNames[o], Kind: ErrTransport, Cause: err}
	var de *dialError
	switch {
	case errors.As(err, &de):
		e.NotSent, e.Cause = true, de.err
	case errors.Is(err, fasthttp.ErrNoFreeConns):
		e.NotSent, e.Kind = true, ErrBusy
	case errors.Is(err, fasthttp.ErrTimeout):
		e.Kind = ErrTimeout
	default:
		var te interface{ Timeout() bool }
		if errors.As(err, &te) && te.Timeout() {
			e.Kind = ErrTimeout
		}
	}
	return e
}

// ErrOtherPayment is the Cause of an ErrBadAnswer whose answer names
// another payment: a paymentRequestId, paymentAmount or refundAmount that
// differs from the request's. Such an answer (a wallet's bug, a proxy
// mixing up connections) must not settle this payment, whatever its
// status says: the outcome stays unknown and inquiry settles it. It is
// engine.ErrOtherPayment: an inquiry answer's amount, which only the
// engine can check (WalletResult.Amount), is refused the same way.
var ErrOtherPayment = engine.ErrOtherPayment

// sameID reports whether an answer's optional paymentRequestId is absent
// or ours.
func sameID(got []byte, want string) bool { return len(got) == 0 || string(got) == want }

func (c *Client) badAnswer(o Op, err error) error {
	return &Error{Wallet: c.cfg.Name, Op: opNames[o], Kind: ErrBadAnswer, Cause: err}
}

// brandOf returns b as a string, reusing the cached one when equal.
func (c *Client) brandOf(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	if p := c.brand.Load(); p != nil && *p == string(b) {
		return *p
	}
	s := string(b)
	c.brand.Store(&s)
	return s
}

// outcome maps a result object: the status decides; the code says why.
// A code the table does not know becomes UnknownException (U) or Success
// (S); a Fail carries an F code (codec.ResultCode.AsFailure) and a
// Processing never carries Success.
func outcome(r *codec.MPPResult) engine.WalletResult {
	out := engine.WalletResult{Code: r.Code, Message: message(r)}
	switch r.Status {
	case codec.StatusS:
		out.Outcome, out.Code = engine.OutcomeSuccess, codec.Success
	case codec.StatusU:
		out.Outcome = engine.OutcomeProcessing
		if out.Code == codec.ResultNone || out.Code == codec.Success {
			out.Code = codec.UnknownException
		}
	default:
		out.Outcome = engine.OutcomeFail
		out.Code = out.Code.AsFailure()
	}
	return out
}

// message is the wallet's resultMessage as a string, without allocating
// when it is the code's default text. An unknown code's name is kept in
// front of the message, since Code cannot hold it.
func message(r *codec.MPPResult) string {
	if r.Code == codec.ResultNone {
		if len(r.Message) == 0 {
			return string(r.Name)
		}
		return string(r.Name) + ": " + string(r.Message)
	}
	if def := r.Code.Message(); len(r.Message) == 0 || string(r.Message) == def {
		return def
	}
	return string(r.Message)
}

var _ engine.Wallet = (*Client)(nil)
