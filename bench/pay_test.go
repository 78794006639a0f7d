package bench

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/valyala/fasthttp"
	"github.com/valyala/fasthttp/fasthttputil"

	"github.com/paycode/paycode/codec"
	"github.com/paycode/paycode/engine"
	"github.com/paycode/paycode/engine/httpapi"
	"github.com/paycode/paycode/engine/ident"
	"github.com/paycode/paycode/engine/journal"
	"github.com/paycode/paycode/engine/metrics"
	"github.com/paycode/paycode/engine/mpp"
	"github.com/paycode/paycode/loadtest/mppsim"
)

// payTemplate is an Antom pay body whose request id and code are patched
// in place per iteration (fixed-width digit fields), so building the
// request costs the benchmark nothing.
const payTemplate = `{"productCode":"IN_STORE_PAYMENT","paymentRequestId":"bench-RRRRRRRRRRRR","order":{"orderDescription":"2 x coffee","orderAmount":{"currency":"HKD","value":"5600"},"merchant":{"referenceMerchantId":"M0001","merchantMCC":"5814","merchantName":"Demo Cafe","store":{"referenceStoreId":"S01","storeName":"Demo Cafe Central","storeMCC":"5814"}},"env":{"storeTerminalId":"LANE-07","storeTerminalRequestTime":"2026-11-26T10:40:00+08:00"}},"paymentAmount":{"currency":"HKD","value":"5600"},"paymentMethod":{"paymentMethodType":"CONNECT_WALLET","paymentMethodId":"28100102CCCCCCCCCCCCCC00"},"paymentFactor":{"inStorePaymentScenario":"PaymentCode"}}`

type bodyGen struct {
	body      []byte
	reqAt     int
	codeAt    int
	reqWidth  int
	codeWidth int
}

func newBodyGen() *bodyGen {
	b := []byte(payTemplate)
	g := &bodyGen{body: b, reqWidth: 12, codeWidth: 14}
	g.reqAt = bytes.Index(b, []byte("RRRRRRRRRRRR"))
	g.codeAt = bytes.Index(b, []byte("CCCCCCCCCCCCCC"))
	return g
}

// next writes n into both fields; every n gives a new request id and a new
// code ending 00 (success at the simulated wallets).
func (g *bodyGen) next(n uint64) []byte {
	putDigits(g.body[g.reqAt:g.reqAt+g.reqWidth], n)
	putDigits(g.body[g.codeAt:g.codeAt+g.codeWidth], n)
	return g.body
}

func putDigits(dst []byte, n uint64) {
	for i := len(dst) - 1; i >= 0; i-- {
		dst[i] = byte('0' + n%10)
		n /= 10
	}
}

// instantWallet is an engine.Wallet that answers every call with success
// at once: it isolates paycode's own cost from any wallet's.
type instantWallet struct{}

func (instantWallet) Pay(context.Context, *engine.WalletPay) (engine.WalletResult, error) {
	return engine.WalletResult{Outcome: engine.OutcomeSuccess, Code: codec.Success}, nil
}
func (instantWallet) Inquire(context.Context, string) (engine.WalletResult, error) {
	return engine.WalletResult{Outcome: engine.OutcomeSuccess, Code: codec.Success}, nil
}
func (instantWallet) Cancel(context.Context, string) (engine.WalletResult, error) {
	return engine.WalletResult{Outcome: engine.OutcomeSuccess, Code: codec.Success}, nil
}
func (instantWallet) Refund(context.Context, *engine.WalletRefund) (engine.WalletResult, error) {
	return engine.WalletResult{Outcome: engine.OutcomeSuccess, Code: codec.Success}, nil
}

// simWallet serves a simulated wallet (no latency) on an in-memory
// listener and returns a connector to it.
func simWallet(b testing.TB) engine.Wallet {
	w, err := mppsim.NewWallet(mppsim.WalletConfig{Name: "mpp-281001"}, mppsim.Config{})
	if err != nil {
		b.Fatal(err)
	}
	ln := fasthttputil.NewInmemoryListener()
	srv := mppsim.NewServer(w)
	go srv.Serve(ln)
	b.Cleanup(func() { w.Close(); ln.Close() })
	c, err := mpp.New(mpp.Config{Name: "mpp-281001", BaseURL: "http://wallet", AcquirerID: "PAYCODE", PSPID: "mpp-281001",
		MaxConns: 64, Timeout: 5 * time.Second,
		Dial: func(string, time.Duration) (net.Conn, error) { return ln.Dial() }})
	if err != nil {
		b.Fatal(err)
	}
	return c
}

// quietLog drops the per-payment log line, so the pay benchmarks and the
// allocation budget measure the pay path; BenchmarkPayHandlerLogged
// measures the line's own cost.
var quietLog = slog.New(slog.DiscardHandler)

func newAPI(b testing.TB, w engine.Wallet) *httpapi.Server {
	return newAPILog(b, w, quietLog)
}

func newAPILog(b testing.TB, w engine.Wallet, log *slog.Logger) *httpapi.Server {
	// Metrics on, as in production: the allocation budget includes them.
	return newEngineAPI(b, engine.Config{Wallets: map[string]engine.Wallet{"mpp-281001": w}, Logger: log}, true)
}

// newEngineAPI serves an engine of cfg, with a fresh identification
// service as its Identifier, and with the lane metrics on when withMetrics.
// Without a journal in cfg it runs on the in-memory one (what
// `serve -memory` runs).
func newEngineAPI(b testing.TB, cfg engine.Config, withMetrics bool) *httpapi.Server {
	if cfg.Journal == nil {
		j := journal.NewMem()
		cfg.Journal, cfg.CodeKey = j, j.CodeKey()
	}
	id, err := ident.New(ident.Config{})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { id.Close() })
	cfg.Identifier = id
	eng, err := engine.New(cfg)
	if err != nil {
		b.Fatal(err)
	}
	api := httpapi.New(eng, nil)
	if withMetrics {
		_, lane := metrics.NewRegistry(eng, id)
		api.SetMetrics(lane)
	}
	return api
}

// handlerPayer pays through the lane handler with one reused RequestCtx
// and a fresh request id and code each time.
type handlerPayer struct {
	api *httpapi.Server
	g   *bodyGen
	ctx fasthttp.RequestCtx
	n   uint64
}

func newHandlerPayer(api *httpapi.Server) *handlerPayer {
	return &handlerPayer{api: api, g: newBodyGen()}
}

func (h *handlerPayer) pay() {
	h.n++
	h.payN(h.n)
}

// payN pays with request id and code n (see bodyGen.next).
func (h *handlerPayer) payN(n uint64) {
	h.ctx.Request.Reset()
	h.ctx.Response.Reset()
	h.ctx.Request.Header.SetMethod("POST")
	h.ctx.Request.SetRequestURI("/ams/api/v1/payments/pay")
	h.ctx.Request.Header.Set("client-id", "BENCH_CLIENT")
	h.ctx.Request.SetBody(h.g.next(n))
	h.api.Handle(&h.ctx)
}

// succeeded reports whether the last pay was answered SUCCESS.
func (h *handlerPayer) succeeded() bool { return paySucceeded(h.ctx.Response.Body()) }

// paySucceeded reports whether a pay answer body is a SUCCESS (the
// engine writes resultCode first).
func paySucceeded(body []byte) bool {
	const prefix = `{"result":{"resultCode":"SUCCESS","resul`
	return len(body) >= len(prefix) && string(body[:len(prefix)]) == prefix
}

// runHandler calls the lane handler directly with a reused RequestCtx:
// everything paycode does for a pay except reading and writing sockets.
func runHandler(b *testing.B, api *httpapi.Server) {
	h := newHandlerPayer(api)
	check := func() {
		if !h.succeeded() {
			b.Fatalf("pay answered %s", h.ctx.Response.Body())
		}
	}
	pay := h.pay
	for i := 0; i < 100; i++ { // warm pools and the identification cache
		pay()
		check()
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		pay()
	}
	b.StopTimer()
	check()
}

// BenchmarkPayHandlerInstantWallet: the lane handler, codec, engine and
// identification, with a wallet that answers in-process at once.
func BenchmarkPayHandlerInstantWallet(b *testing.B) {
	runHandler(b, newAPI(b, instantWallet{}))
}

// BenchmarkPayHandlerLogged: the same with the per-payment log line on,
// as serve writes it (JSON, the line by engine.PaymentLineWriter; to a
// discarding writer): the line's cost.
func BenchmarkPayHandlerLogged(b *testing.B) {
	runHandler(b, newAPILog(b, instantWallet{}, slog.New(lineHandler{slog.NewJSONHandler(io.Discard, nil)})))
}

// lineHandler is serve's JSON logger (cmd/paycode's logHandler) as far as
// the pay path goes: slog's JSON handler, and the per-payment line written
// with engine.FinishedPayment.AppendJSONLine.
type lineHandler struct{ slog.Handler }

func (lineHandler) WritePaymentLine(o *engine.FinishedPayment) bool {
	var b [512]byte
	line, ok := o.AppendJSONLine(b[:0], time.Now())
	if ok {
		discardLine(line)
	}
	return ok
}

// discardLine is the log writer of lineHandler: it drops the line (a
// concrete function, so the line's buffer stays on the stack, as it does
// with serve's lineBuffer).
//
//go:noinline
func discardLine(line []byte) { lineBytes.Add(int64(len(line))) }

var lineBytes atomic.Int64

// BenchmarkPayHandlerSimWallet: the same plus the wallet connector and a
// simulated wallet server over an in-memory listener.
func BenchmarkPayHandlerSimWallet(b *testing.B) {
	runHandler(b, newAPI(b, simWallet(b)))
}

// BenchmarkPayHTTP: a lane client over an in-memory listener to the lane
// server, then the connector to a simulated wallet over another — every
// byte goes through fasthttp on both hops. Parallel, like many lanes.
func BenchmarkPayHTTP(b *testing.B) {
	runPayHTTP(b, newAPI(b, simWallet(b)), 0)
}

// runPayHTTP drives api over an in-memory listener from parallel lanes
// (parallelism × GOMAXPROCS goroutines; 0 keeps the default).
func runPayHTTP(b *testing.B, api *httpapi.Server, parallelism int) {
	ln := fasthttputil.NewInmemoryListener()
	srv := api.NewFastHTTPServer()
	go srv.Serve(ln)
	b.Cleanup(func() { ln.Close() })
	client := &fasthttp.HostClient{Addr: "lane", MaxConns: 256, Dial: func(string) (net.Conn, error) { return ln.Dial() }}
	var seq atomic.Uint64
	if parallelism > 0 {
		b.SetParallelism(parallelism)
	}
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		g := newBodyGen()
		req := fasthttp.AcquireRequest()
		resp := fasthttp.AcquireResponse()
		defer fasthttp.ReleaseRequest(req)
		defer fasthttp.ReleaseResponse(resp)
		for pb.Next() {
			req.Reset()
			req.Header.SetMethod("POST")
			req.SetRequestURI("http://lane/ams/api/v1/payments/pay")
			req.Header.Set("client-id", "BENCH_CLIENT")
			req.SetBody(g.next(seq.Add(1)))
			if err := client.Do(req, resp); err != nil {
				b.Error(err)
				return
			}
			if body := resp.Body(); !paySucceeded(body) {
				b.Errorf("pay answered %s", body)
				return
			}
		}
	})
}

// TestBodyGen keeps the generator honest: fresh ids and valid codes.
func TestBodyGen(t *testing.T) {
	g := newBodyGen()
	var a, c codec.PayRequest
	if err := codec.ParsePay(append([]byte(nil), g.next(1)...), &a); err != nil {
		t.Fatal(err)
	}
	if err := codec.ParsePay(append([]byte(nil), g.next(2)...), &c); err != nil {
		t.Fatal(err)
	}
	if string(a.PaymentRequestID) == string(c.PaymentRequestID) || a.Code.Equal(&c.Code) || a.CodeErr != nil {
		t.Fatal("ids or codes repeat")
	}
	if a.Code.LastTwo() != 0 || strconv.Itoa(a.Code.Len()) != "24" {
		t.Fatal(fmt.Sprint("code shape ", a.Code))
	}
}
