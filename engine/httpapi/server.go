package httpapi

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/valyala/fasthttp"

	"github.com/paycode/paycode/codec"
	"github.com/paycode/paycode/engine"
	"github.com/paycode/paycode/engine/metrics"
)

// Defaults for the lane listener.
const (
	// DefaultMaxBodySize bounds a lane request body. An Antom pay request
	// with every optional field is a few KiB.
	DefaultMaxBodySize  = 64 << 10
	DefaultReadTimeout  = 10 * time.Second
	DefaultWriteTimeout = 10 * time.Second
	DefaultIdleTimeout  = 60 * time.Second
)

// Header names, lower case on the wire (see the package doc).
const (
	HeaderClientID     = "client-id"
	HeaderRequestTime  = "request-time"
	HeaderResponseTime = "response-time"
	// HeaderEngineTime carries the time paycode spent on the request
	// outside wallet calls' network wait, in microseconds: load tools
	// subtract it to split paycode's latency from the wallets'.
	HeaderEngineTime = "paycode-engine-us"
)

// API paths, production and sandbox (the SDKs rewrite to the sandbox path
// for SANDBOX_ client ids).
const (
	prodPrefix    = "/ams/api/v1/payments/"
	sandboxPrefix = "/ams/sandbox/api/v1/payments/"
)

// Server is the lane API handler.
type Server struct {
	eng   *engine.Engine
	log   *slog.Logger
	clock engine.Clock
	pool  sync.Pool // *reqState
	img   imageAPI  // decoder for /v1/decode and pay by image (image.go)
	// bodies is the budget of image body bytes (bodylimit.go).
	bodies imageBudget
	sec    atomic.Pointer[guard]        // signatures and admission (auth.go); nil: trust client ids
	secMu  sync.Mutex                   // serialises SetSecurity
	lane   atomic.Pointer[metrics.Lane] // request metrics; nil: none
	// respTime is the response-time header's text, made once a second.
	respTime secondText
	arrival  // amount limits, notify URL check (arrival.go)
}

// SetMetrics records lane request metrics in m (nil: none). It may be
// called while serving.
func (s *Server) SetMetrics(m *metrics.Lane) { s.lane.Store(m) }

// reqState is everything one request needs, pooled so a warm request does
// not allocate for parsing or writing.
type reqState struct {
	pay   codec.PayRequest
	id    codec.IDRequest
	ref   codec.RefundRequest
	iref  codec.InquiryRefundRequest
	view  codec.PaymentView
	rview codec.RefundView
	buf   []byte
	op    operation // routed once, in Handle (route.go)
	// walletWait is the time this request waited on a wallet; the
	// engine-time header leaves it out.
	walletWait time.Duration
	// knownClient: the client id is one the lane keys list (set by
	// guarded); any other id is engine.UnknownClient to the engine.
	knownClient bool
}

// New returns a Server over eng.
func New(eng *engine.Engine, log *slog.Logger) *Server {
	if log == nil {
		log = slog.Default()
	}
	s := &Server{eng: eng, log: log, clock: eng.Config().Clock}
	s.pool.New = func() any { return &reqState{buf: make([]byte, 0, 1024)} }
	return s
}

// NewFastHTTPServer returns a fasthttp.Server for the lane listener with
// paycode's limits, and an ErrorHandler that answers malformed or oversized
// requests with an Antom result instead of fasthttp's plain-text errors.
// Call SetDecoder and SetImageBodyBudget first.
func (s *Server) NewFastHTTPServer() *fasthttp.Server {
	if s.bodies.max == 0 {
		s.SetImageBodyBudget(0)
	}
	srv := &fasthttp.Server{
		Handler:      s.Handle,
		ErrorHandler: s.handleError,
		Name:         "paycode",
		// Every body is limited to 64 KiB but the images', chosen per
		// request from its headers before the body is read, within a
		// node-wide budget (bodylimit.go).
		MaxRequestBodySize:    DefaultMaxBodySize,
		ReadTimeout:           DefaultReadTimeout,
		WriteTimeout:          DefaultWriteTimeout,
		IdleTimeout:           DefaultIdleTimeout,
		NoDefaultServerHeader: true,
		NoDefaultContentType:  true,
		NoDefaultDate:         true,

		// Bodies stay in memory: pay by image parses multipart itself
		// (image.go); fasthttp's form parser would spill files to disk.
		DisablePreParseMultipartForm: true,

		// Hardening (auth.go): the request line and headers must fit in
		// ReadBufferSize; errors are logged without request contents (a
		// body may hold a payment code).
		ReadBufferSize:        DefaultMaxHeaderSize,
		SecureErrorLogMessage: true,
		Logger:                FastHTTPLogger(s.log, "lane"),

		// Graceful shutdown (ShutdownWithContext): answers in flight say
		// Connection: close, so lanes do not send on a closing connection.
		CloseOnShutdown: true,
	}
	srv.HeaderReceived = s.bodyConfig(srv)
	return srv
}

// handleError answers requests fasthttp could not read (body too large,
// malformed headers) with HTTP 200 and PARAM_ILLEGAL.
func (s *Server) handleError(ctx *fasthttp.RequestCtx, err error) {
	// fasthttp could not read the body: it holds none of it now.
	refused := s.bodies.release(&ctx.Request.Header)
	// A connection that timed out before sending a whole request (an
	// HTTP client's spare idle connection, or a slow one) gets no answer:
	// it would arrive as an unsolicited response on an idle client
	// connection. Closing the connection here makes fasthttp's write of
	// the error a no-op.
	var nothing fasthttp.ErrNothingRead
	var ne net.Error
	if errors.As(err, &nothing) || (errors.As(err, &ne) && ne.Timeout()) {
		ctx.Conn().Close()
		return
	}
	rc, msg := codec.ParamIllegal, "the request could not be read"
	switch {
	case refused:
		rc, msg = s.shedImage()
	case errors.Is(err, fasthttp.ErrBodyTooLarge):
		msg = s.bodyTooLarge(ctx)
	}
	ctx.Response.Header.DisableNormalizing()
	ctx.SetStatusCode(fasthttp.StatusOK)
	ctx.Response.Header.SetContentType("application/json; charset=UTF-8")
	ctx.SetBody(codec.AppendErrorResponse(nil, rc, msg))
	ctx.SetConnectionClose()
	s.signReadError(ctx) // auth.go
}

// Handle serves one lane request.
func (s *Server) Handle(ctx *fasthttp.RequestCtx) {
	start := time.Now()
	st := s.pool.Get().(*reqState)
	st.walletWait = 0
	st.op = route(ctx.Path())
	h := &ctx.Response.Header
	h.DisableNormalizing()
	ctx.SetStatusCode(fasthttp.StatusOK)
	h.SetContentType("application/json; charset=UTF-8")
	if cid := ctx.Request.Header.Peek(HeaderClientID); len(cid) > 0 {
		h.SetBytesV(HeaderClientID, cid)
	}
	h.SetBytesV(HeaderResponseTime, s.respTime.text(s.clock.Now()))
	// An image body's share of the budget is the handler's until it
	// returns (bodylimit.go).
	img := s.img.dec != nil && imageRequest(st.op, ctx.Request.Header.ContentType())
	if img {
		s.bodies.claim(&ctx.Request.Header)
	}
	// guarded (auth.go) admits, verifies, serves and signs the answer.
	var rc codec.ResultCode
	st.buf, rc = s.guarded(ctx, st, st.buf[:0])
	if img {
		s.bodies.release(&ctx.Request.Header)
	}
	took := time.Since(start)
	var tb [20]byte
	h.SetBytesV(HeaderEngineTime, strconv.AppendInt(tb[:0], (took-st.walletWait).Microseconds(), 10))
	ctx.SetBody(st.buf)
	if m := s.lane.Load(); m != nil {
		m.Observe(st.op.endpoint(), rc, took)
	}
	if cap(st.buf) <= 64<<10 {
		s.pool.Put(st)
	}
}

// secondText caches a time's RFC 3339 text (to the second, in its own
// location) for the second being served: every answer carries it in the
// response-time header, and formatting a time costs more than the rest
// of the header work together. Safe for concurrent use.
type secondText struct {
	cur atomic.Pointer[stampedText]
}

type stampedText struct {
	unix int64
	loc  *time.Location
	text []byte // never changed once stored
}

// text is t's RFC 3339 text. The slice is shared: callers copy it (as
// fasthttp's SetBytesV does) and never modify it.
func (c *secondText) text(t time.Time) []byte {
	if s := c.cur.Load(); s != nil && s.unix == t.Unix() && s.loc == t.Location() {
		return s.text
	}
	s := &stampedText{unix: t.Unix(), loc: t.Location(), text: t.AppendFormat(make([]byte, 0, 32), time.RFC3339)}
	c.cur.Store(s)
	return s.text
}

// unknownClient is the engine context of a request whose client id no
// lane key lists (engine.UnknownClient), made once.
var unknownClient = engine.UnknownClient(context.Background())

// serve runs the request's operation, appending the response body to dst;
// it returns the body and the result code written in it.
func (s *Server) serve(ctx *fasthttp.RequestCtx, st *reqState, dst []byte) ([]byte, codec.ResultCode) {
	switch st.op {
	case opNone:
		return answer(dst, codec.InvalidAPI, "no API is defined at this path")
	case opDecode:
		return s.serveDecode(ctx, dst)
	}
	if !ctx.IsPost() {
		return answer(dst, codec.InvalidAPI, "the API accepts POST only")
	}
	clientID := ctx.Request.Header.Peek(HeaderClientID)
	if err := codec.CheckClientID(clientID); err != nil {
		return answer(dst, codec.ParamIllegal, err.Error())
	}
	body := ctx.PostBody()
	if jsonBodyTooLarge(ctx, st.op, body) {
		return answer(dst, codec.ParamIllegal, bodyTooLargeMsg)
	}
	// Not the RequestCtx: it must not outlive the handler, and its Done
	// is the server's, not the request's. Engine calls are bounded by the
	// engine's own timeouts.
	c := context.Background()
	switch st.op {
	case opPay:
		if isMultipartForm(ctx) {
			return s.servePayImage(c, ctx, st, clientID, dst)
		}
		if err := codec.ParsePay(body, &st.pay); err != nil {
			return answer(dst, codec.ParamIllegal, err.Error())
		}
		if rc, msg := s.checkPay(clientID, &st.pay); rc != codec.ResultNone {
			return answer(dst, rc, msg)
		}
		st.walletWait = s.eng.Pay(c, clientID, &st.pay, &st.view)
		return codec.AppendPayResponse(dst, &st.view), written(st.view.ResultCode)
	case opInquiryPayment:
		if err := codec.ParseIDRequest(body, &st.id); err != nil {
			return answer(dst, codec.ParamIllegal, err.Error())
		}
		if rc := s.eng.Inquire(c, clientID, &st.id, &st.view); rc != codec.Success {
			return answer(dst, rc, "")
		}
		return codec.AppendInquiryPaymentResponse(dst, &st.view), codec.Success
	case opCancel:
		if err := codec.ParseIDRequest(body, &st.id); err != nil {
			return answer(dst, codec.ParamIllegal, err.Error())
		}
		if !st.knownClient {
			c = unknownClient
		}
		r := s.eng.Cancel(c, clientID, &st.id)
		st.walletWait = r.WalletWait
		return codec.AppendCancelResponse(dst, r.Result, r.Message, r.PaymentID, r.PaymentRequestID, r.CancelTime), written(r.Result)
	case opRefund:
		if err := codec.ParseRefund(body, &st.ref); err != nil {
			return answer(dst, codec.ParamIllegal, err.Error())
		}
		if rc, msg := s.checkRefund(clientID, &st.ref); rc != codec.ResultNone {
			return answer(dst, rc, msg)
		}
		st.walletWait = s.eng.Refund(c, clientID, &st.ref, &st.rview)
		return codec.AppendRefundResponse(dst, &st.rview), written(st.rview.ResultCode)
	case opInquiryRefund:
		if err := codec.ParseInquiryRefund(body, &st.iref); err != nil {
			return answer(dst, codec.ParamIllegal, err.Error())
		}
		if rc := s.eng.InquireRefund(c, clientID, &st.iref, &st.rview); rc != codec.Success {
			return answer(dst, rc, "")
		}
		return codec.AppendInquiryRefundResponse(dst, &st.rview), codec.Success
	}
	return answer(dst, codec.InvalidAPI, "no API is defined at this path")
}
