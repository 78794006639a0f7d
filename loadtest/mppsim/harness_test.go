package mppsim_test

import (
	"context"
	"fmt"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/paycode/paycode/codec"
	"github.com/paycode/paycode/loadtest/mppsim"
	"github.com/valyala/fasthttp"
	"github.com/valyala/fasthttp/fasthttputil"
)

// clock is an injected clock that tests move by hand.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock { return &clock{t: time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// noSleep makes latency and holds cost nothing.
func noSleep(context.Context, time.Duration) {}

var hkd = codec.MustCurrency("HKD")

// code makes a distinct 24-digit Alipay+ code number n ending in lastTwo.
func code(n, lastTwo int) string { return fmt.Sprintf("281001%016d%02d", n, lastTwo) }

// harness is one wallet served on an in-memory listener, spoken to over
// real HTTP with the codec's messages.
type harness struct {
	t   testing.TB
	w   *mppsim.Wallet
	clk *clock
	hc  *fasthttp.HostClient
}

func newHarness(t testing.TB, wc mppsim.WalletConfig, sleep func(context.Context, time.Duration)) *harness {
	t.Helper()
	if sleep == nil {
		sleep = noSleep
	}
	clk := newClock()
	w, err := mppsim.NewWallet(wc, mppsim.Config{Seed: 1, Now: clk.Now, Sleep: sleep})
	if err != nil {
		t.Fatal(err)
	}
	ln := fasthttputil.NewInmemoryListener()
	srv := mppsim.NewServer(w)
	done := make(chan struct{})
	go func() { _ = srv.Serve(ln); close(done) }()
	hc := &fasthttp.HostClient{Addr: "wallet", MaxConns: 1024, Dial: func(string) (net.Conn, error) { return ln.Dial() }}
	t.Cleanup(func() {
		w.Close()
		hc.CloseIdleConnections()
		_ = ln.Close() // Serve returns; Shutdown would poll for the closed connections
		<-done
	})
	return &harness{t: t, w: w, clk: clk, hc: hc}
}

// post sends body to path and returns the HTTP status and body.
func (h *harness) post(path string, body []byte) (int, []byte, error) {
	req, resp := fasthttp.AcquireRequest(), fasthttp.AcquireResponse()
	defer fasthttp.ReleaseRequest(req)
	defer fasthttp.ReleaseResponse(resp)
	req.SetRequestURI("http://wallet" + path)
	req.Header.SetMethod(fasthttp.MethodPost)
	req.SetBody(body)
	if err := h.hc.Do(req, resp); err != nil {
		return 0, nil, err
	}
	return resp.StatusCode(), append([]byte(nil), resp.Body()...), nil
}

func (h *harness) mustPost(path string, body []byte) []byte {
	h.t.Helper()
	st, b, err := h.post(path, body)
	if err != nil || st != fasthttp.StatusOK {
		h.t.Fatalf("POST %s: status %d, err %v", path, st, err)
	}
	return b
}

func payBody(id, c string, amount int64) []byte {
	r := codec.MPPPayRequest{
		AcquirerID: []byte("ACQ"), PSPID: []byte("PSP"), PaymentRequestID: []byte(id),
		Amount: codec.Amount{Value: amount, Currency: hkd}, Code: codec.MustParseCode(c),
		MerchantID: []byte("M1"), StoreID: []byte("S1"),
	}
	return codec.AppendMPPPayRequest(nil, &r)
}

func (h *harness) pay(id, c string, amount int64) codec.MPPPayResponse {
	h.t.Helper()
	var r codec.MPPPayResponse
	if err := codec.ParseMPPPayResponse(h.mustPost(codec.MPPPayPath, payBody(id, c, amount)), &r); err != nil {
		h.t.Fatal(err)
	}
	return r
}

func (h *harness) inquire(id string) codec.MPPInquiryResponse {
	h.t.Helper()
	var r codec.MPPInquiryResponse
	body := codec.AppendMPPIDRequest(nil, &codec.MPPIDRequest{PaymentRequestID: []byte(id)})
	if err := codec.ParseMPPInquiryResponse(h.mustPost(codec.MPPInquiryPath, body), &r); err != nil {
		h.t.Fatal(err)
	}
	return r
}

func (h *harness) cancel(id string) codec.ResultCode {
	h.t.Helper()
	var r codec.MPPCancelResponse
	body := codec.AppendMPPIDRequest(nil, &codec.MPPIDRequest{PaymentRequestID: []byte(id)})
	if err := codec.ParseMPPCancelResponse(h.mustPost(codec.MPPCancelPath, body), &r); err != nil {
		h.t.Fatal(err)
	}
	return r.Result.Code
}

func refundBody(payID, refundID string, amount int64, cur codec.Currency) []byte {
	r := codec.MPPRefundRequest{PaymentRequestID: []byte(payID), RefundRequestID: []byte(refundID), Amount: codec.Amount{Value: amount, Currency: cur}}
	return codec.AppendMPPRefundRequest(nil, &r)
}

func (h *harness) refund(payID, refundID string, amount int64) codec.MPPRefundResponse {
	h.t.Helper()
	var r codec.MPPRefundResponse
	if err := codec.ParseMPPRefundResponse(h.mustPost(codec.MPPRefundPath, refundBody(payID, refundID, amount, hkd)), &r); err != nil {
		h.t.Fatal(err)
	}
	return r
}

func (h *harness) entry(id string) mppsim.Entry {
	h.t.Helper()
	e, ok := h.w.Ledger().Payments[id]
	if !ok {
		h.t.Fatalf("ledger has no payment %s", id)
	}
	return e
}
