package ident

import (
	"strconv"
	"time"

	"github.com/paycode/paycode/codec"
	"github.com/valyala/fasthttp"
)

// Wire protocol of the identification service; doc.go describes it.
const (
	// IdentifyPath is the one endpoint: GET IdentifyPath?prefix=P&length=N.
	IdentifyPath = "/v1/identify"
	// ContentType of every answer, including errors.
	ContentType = "application/json"
)

// NewServiceHandler returns the server side of the identification
// service, answering from table() (called per request, so a reloading
// TableSource's Table method serves the newest rules).
//
// latency, when non-nil, is called once per lookup, after the answer is
// decided, and the handler sleeps for what it returns before replying, so
// a simulated hub can emulate a remote one; returning 0 replies at once.
// It runs on the request's goroutine and may block (tests use that to hold
// a request).
//
// Answers: 200 {"wallet":W,"ttlSeconds":S} when a rule matches; 404
// {"wallet":"","ttlSeconds":S} when none does; 400 for a malformed query,
// 404 {"error":…} for another path, 405 for a method other than GET or
// HEAD, 503 when table() returns nil. The ttlSeconds hints are DefaultTTL
// and DefaultNegativeTTL.
func NewServiceHandler(table func() *Table, latency func() time.Duration) fasthttp.RequestHandler {
	return func(ctx *fasthttp.RequestCtx) {
		ctx.SetContentType(ContentType)
		if string(ctx.Path()) != IdentifyPath {
			writeError(ctx, fasthttp.StatusNotFound, "no such endpoint")
			return
		}
		if !ctx.IsGet() && !ctx.IsHead() {
			ctx.Response.Header.Set("Allow", "GET, HEAD")
			writeError(ctx, fasthttp.StatusMethodNotAllowed, "method not allowed")
			return
		}
		args := ctx.QueryArgs()
		prefix := args.Peek("prefix")
		if !validPrefix(prefix) {
			writeError(ctx, fasthttp.StatusBadRequest, "prefix must be 1 to 8 digits")
			return
		}
		length, err := fasthttp.ParseUint(args.Peek("length"))
		if err != nil || length < codec.MinCodeLen || length > codec.MaxCodeLen {
			writeError(ctx, fasthttp.StatusBadRequest, "length must be within 16..32")
			return
		}
		t := table()
		if t == nil {
			writeError(ctx, fasthttp.StatusServiceUnavailable, "no routing table")
			return
		}
		// The answer is decided before the delay, like a hub whose reply
		// is in transit: a table swapped meanwhile does not change it.
		wallet, ok := t.LookupDigits(prefix, length)
		if latency != nil {
			if d := latency(); d > 0 {
				time.Sleep(d)
			}
		}
		var buf [128]byte
		b := append(buf[:0], `{"wallet":"`...)
		b = append(b, wallet...) // validWallet: nothing to escape
		b = append(b, `","ttlSeconds":`...)
		if ok {
			ctx.SetStatusCode(fasthttp.StatusOK)
			b = strconv.AppendInt(b, int64(DefaultTTL/time.Second), 10)
		} else {
			ctx.SetStatusCode(fasthttp.StatusNotFound)
			b = strconv.AppendInt(b, int64(DefaultNegativeTTL/time.Second), 10)
		}
		b = append(b, '}')
		ctx.SetBody(b)
	}
}

// writeError writes {"error":msg}; msg is a constant with nothing to
// escape. Error bodies never carry a "wallet" member, which is how a
// client tells a protocol 404 (no rule) from any other 404.
func writeError(ctx *fasthttp.RequestCtx, status int, msg string) {
	ctx.SetStatusCode(status)
	var buf [96]byte
	b := append(buf[:0], `{"error":"`...)
	b = append(b, msg...)
	b = append(b, `"}`...)
	ctx.SetBody(b)
}
