package httpapi

import (
	"bytes"
	"strconv"
	"sync"
	"time"

	"github.com/valyala/fasthttp"

	"github.com/paycode/paycode/codec"
	"github.com/paycode/paycode/engine/metrics"
)

// Request body limits of the lane listener.
//
// fasthttp reads a whole request body into memory before the handler
// runs, and sizes the buffer from Content-Length as soon as the headers
// arrive. So the limit is chosen per request from its headers
// (fasthttp's Server.HeaderReceived, bodyConfig), before any body byte is
// read: DefaultMaxBodySize (64 KiB) for every request, except the two
// that carry images — POST /v1/decode, and a pay (Antom pay paths) whose
// Content-Type is multipart/form-data — which may send up to
// maxBodySize() when a decoder is set. A connection that sends a larger
// Content-Length is answered PARAM_ILLEGAL at once, without its body
// being read; a chunked body is cut off past the limit.
//
// Image bodies over DefaultMaxBodySize also take their size (their
// route's limit when chunked) from a node-wide budget of image body bytes
// being read or held, DefaultImageBodyBudget unless SetImageBodyBudget
// says otherwise; a request that finds the budget spent is answered at
// once, without its body being read, REQUEST_TRAFFIC_EXCEED_LIMIT (U: the
// lane retries shortly), like the in-flight shed. Hostile uploads thus
// hold at most the budget, plus 64 KiB per connection.
//
// The budget is held from the headers until the handler returns, or
// until fasthttp reports the body unreadable (handleError). fasthttp
// does not call back on every path (a connection the server itself
// closes mid-body, a failed "100 Continue"), so a share not yet claimed
// by a handler lapses after the listener's ReadTimeout: fasthttp's read
// deadline, set at the request's first byte, has ended its body read by
// then. Shares are kept by the request header's address, which is the
// connection's (fasthttp keeps one RequestCtx per connection): a new
// request on a connection releases what its previous one may have left.

// DefaultImageBodyBudget is the default budget of image body bytes being
// read or held, all connections together: eight of the largest image
// bodies (decode.DefaultMaxBytes), many more of a lane camera's frames.
const DefaultImageBodyBudget = 64 << 20

// msgImageBudget answers an image request that found the budget spent.
const msgImageBudget = "paycode is receiving as many images as it can hold: retry the same request shortly"

// bodyShare is one request's part of the image budget.
type bodyShare struct {
	n int64
	// until is when an unclaimed share lapses; zero once the handler
	// holds it.
	until time.Time
	// refused: the request found the budget spent (handleError answers
	// it as shed).
	refused bool
}

// imageBudget is the node-wide budget of image body bytes.
type imageBudget struct {
	mu     sync.Mutex
	max    int64 // 0: DefaultImageBodyBudget (set before serving)
	used   int64
	shares map[*fasthttp.RequestHeader]bodyShare
	// soonest is at or before the earliest until of the shares (zero:
	// none has one), so a take that finds the budget short walks the
	// shares for lapsed ones only when one may have lapsed: under a
	// flood of image headers the walk (every share, under mu) would
	// otherwise run for each of them.
	soonest time.Time
}

// take gives the request with header h a share of n bytes, or marks it
// refused; lapse is how long an unclaimed share lives.
func (b *imageBudget) take(h *fasthttp.RequestHeader, n int64, now time.Time, lapse time.Duration) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.shares == nil {
		b.shares = make(map[*fasthttp.RequestHeader]bodyShare)
	}
	if old, ok := b.shares[h]; ok { // left by this connection's previous request
		b.used -= old.n
		delete(b.shares, h)
	}
	if b.used+n > b.max && !b.soonest.IsZero() && now.After(b.soonest) {
		b.sweep(now)
	}
	until := now.Add(lapse)
	if b.soonest.IsZero() || until.Before(b.soonest) {
		b.soonest = until
	}
	if b.used+n > b.max {
		b.shares[h] = bodyShare{until: until, refused: true}
		return false
	}
	b.used += n
	b.shares[h] = bodyShare{n: n, until: until}
	return true
}

// sweep drops the shares that lapsed by now and sets soonest to the
// earliest until left. Claims and releases only make soonest early,
// which costs a sweep that finds nothing, never a lapse missed.
func (b *imageBudget) sweep(now time.Time) {
	b.soonest = time.Time{}
	for k, s := range b.shares {
		switch {
		case s.until.IsZero():
		case now.After(s.until):
			b.used -= s.n
			delete(b.shares, k)
		case b.soonest.IsZero() || s.until.Before(b.soonest):
			b.soonest = s.until
		}
	}
}

// claim keeps h's share, if any, until release: its handler runs.
func (b *imageBudget) claim(h *fasthttp.RequestHeader) {
	b.mu.Lock()
	if s, ok := b.shares[h]; ok {
		s.until = time.Time{}
		b.shares[h] = s
	}
	b.mu.Unlock()
}

// release returns h's share, and reports whether the request was refused.
func (b *imageBudget) release(h *fasthttp.RequestHeader) (refused bool) {
	b.mu.Lock()
	s, ok := b.shares[h]
	if ok {
		b.used -= s.n
		delete(b.shares, h)
	}
	b.mu.Unlock()
	return s.refused
}

// SetImageBodyBudget sets the budget of image body bytes being read or
// held (DefaultImageBodyBudget when n <= 0); it is raised to one largest
// image body. Call it before serving.
func (s *Server) SetImageBodyBudget(n int64) {
	if n <= 0 {
		n = DefaultImageBodyBudget
	}
	s.bodies.max = max(n, int64(s.maxBodySize()))
}

// ImageBodyBudget reports the budget of image body bytes and the bytes
// taken from it now.
func (s *Server) ImageBodyBudget() (budget, used int64) {
	s.bodies.mu.Lock()
	defer s.bodies.mu.Unlock()
	return s.bodies.max, s.bodies.used
}

// imageRequest reports whether a request routed to op with Content-Type
// ct carries an image: the routes that may send more than
// DefaultMaxBodySize.
func imageRequest(op operation, ct []byte) bool {
	return op == opDecode || (op == opPay && hasPrefixFold(ct, mediaMultipart))
}

// bodyConfig is the listener's HeaderReceived: the body limit of the
// request whose headers are h (see the comment at the top). It runs for
// every request, so a JSON request costs a route of its path and no
// allocation.
func (s *Server) bodyConfig(srv *fasthttp.Server) func(h *fasthttp.RequestHeader) fasthttp.RequestConfig {
	return func(h *fasthttp.RequestHeader) fasthttp.RequestConfig {
		if s.img.dec == nil {
			return fasthttp.RequestConfig{}
		}
		path := h.RequestURI()
		if i := bytes.IndexByte(path, '?'); i >= 0 {
			path = path[:i]
		}
		if !imageRequest(route(path), h.ContentType()) {
			return fasthttp.RequestConfig{} // the listener's DefaultMaxBodySize
		}
		limit := s.maxBodySize()
		n := h.ContentLength() // -1 chunked, -2 none
		switch {
		case n > limit:
			return fasthttp.RequestConfig{MaxRequestBodySize: limit} // refused unread
		case n == -1:
			n = limit
		case n <= DefaultMaxBodySize:
			return fasthttp.RequestConfig{MaxRequestBodySize: limit}
		}
		lapse := srv.ReadTimeout
		if lapse <= 0 {
			lapse = 100 * 365 * 24 * time.Hour // no read deadline: until claimed or replaced
		}
		if !s.bodies.take(h, int64(n), time.Now(), lapse) {
			// A body over the listener's limit is refused unread
			// (handleError); a chunked one past it.
			return fasthttp.RequestConfig{}
		}
		return fasthttp.RequestConfig{MaxRequestBodySize: limit}
	}
}

// bodyTooLarge is handleError's message for a body over its limit.
func (s *Server) bodyTooLarge(ctx *fasthttp.RequestCtx) string {
	if s.img.dec != nil && imageRequest(route(ctx.Path()), ctx.Request.Header.ContentType()) {
		return "the request body exceeds " + strconv.Itoa(s.maxBodySize()) + " bytes"
	}
	return bodyTooLargeMsg
}

// shedImage counts an image request refused for the budget as shed.
func (s *Server) shedImage() (codec.ResultCode, string) {
	if g := s.sec.Load(); g != nil {
		g.Shed.Add(1)
	}
	s.lane.Load().Shed(metrics.ShedInFlight)
	return codec.RequestTrafficExceedLimit, msgImageBudget
}
