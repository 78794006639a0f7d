package mppsim_test

import (
	"sync/atomic"
	"testing"
	"time"

	"github.com/paycode/paycode/codec"
	"github.com/paycode/paycode/loadtest/mppsim"
	"github.com/valyala/fasthttp"
)

// payLoop sends successful pays with fresh ids and codes through do until
// the benchmark ends; n numbers them across goroutines.
func payLoop(b *testing.B, pb *testing.PB, n *atomic.Int64, do func(req *fasthttp.Request, resp *fasthttp.Response) error, uri string) {
	req, resp := fasthttp.AcquireRequest(), fasthttp.AcquireResponse()
	defer fasthttp.ReleaseRequest(req)
	defer fasthttp.ReleaseResponse(resp)
	var pr codec.MPPPayRequest
	pr.AcquirerID, pr.PSPID, pr.MerchantID, pr.StoreID = []byte("ACQ"), []byte("PSP"), []byte("M1"), []byte("S1")
	pr.Amount = codec.Amount{Value: 100, Currency: hkd}
	var digits, body []byte
	var res codec.MPPPayResponse
	for pb.Next() {
		i := n.Add(1)
		digits = append(digits[:0], "281001"...)
		for d, v := 0, i; d < 16; d++ { // 16 digits of i, then 00–79: a success
			digits = append(digits, byte('0'+(v/pow10[15-d])%10))
		}
		digits = append(digits, byte('0'+i%80/10), byte('0'+i%10))
		pr.Code, _ = codec.ParseCode(digits)
		pr.PaymentRequestID = append(pr.PaymentRequestID[:0], digits[6:]...)
		body = codec.AppendMPPPayRequest(body[:0], &pr)
		req.SetRequestURI(uri)
		req.Header.SetMethod(fasthttp.MethodPost)
		req.SetBodyRaw(body)
		if err := do(req, resp); err != nil {
			b.Error(err)
			return
		}
		if err := codec.ParseMPPPayResponse(resp.Body(), &res); err != nil || res.Result.Code != codec.Success {
			b.Errorf("pay: %v %s", err, resp.Body())
			return
		}
	}
}

var pow10 = func() (p [16]int64) {
	p[0] = 1
	for i := 1; i < 16; i++ {
		p[i] = p[i-1] * 10
	}
	return p
}()

// BenchmarkSimPay measures one wallet's pay path over an in-memory
// connection: parse, ledger, answer (the client's cost is included).
func BenchmarkSimPay(b *testing.B) {
	h := newHarness(b, mppsim.WalletConfig{Name: "A"}, nil)
	var n atomic.Int64
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		payLoop(b, pb, &n, h.hc.Do, "http://wallet"+codec.MPPPayPath)
	})
}

// BenchmarkSimLoopback is four wallets on real loopback TCP, pays spread
// across them, reporting requests per second: the load tool's budget is
// ~20k/s.
func BenchmarkSimLoopback(b *testing.B) {
	names := []string{"A", "B", "C", "D"}
	cfg := mppsim.Config{Seed: 1}
	for _, name := range names {
		cfg.Wallets = append(cfg.Wallets, mppsim.WalletConfig{Name: name})
	}
	sim, err := mppsim.Start(cfg)
	if err != nil {
		b.Fatal(err)
	}
	defer sim.Close()
	clients := make([]*fasthttp.HostClient, len(names))
	for i, name := range names {
		clients[i] = &fasthttp.HostClient{Addr: sim.URL(name)[len("http://"):], MaxConns: 4096}
	}
	var n, worker atomic.Int64
	b.ReportAllocs()
	b.SetParallelism(16)
	start := time.Now()
	b.RunParallel(func(pb *testing.PB) {
		i := int(worker.Add(1)) % len(names)
		payLoop(b, pb, &n, clients[i].Do, sim.URL(names[i])+codec.MPPPayPath)
	})
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "req/s")
}

// payCtx is a pay request for code number i (a success row) on a
// RequestCtx, as the server hands it to the wallet's handler.
func payCtx(ctx *fasthttp.RequestCtx, pr *codec.MPPPayRequest, body []byte, i int64) []byte {
	var digits [24]byte
	d := append(digits[:0], "281001"...)
	for k := 0; k < 16; k++ {
		d = append(d, byte('0'+(i/pow10[15-k])%10))
	}
	d = append(d, byte('0'+i%80/10), byte('0'+i%10))
	pr.Code, _ = codec.ParseCode(d)
	pr.PaymentRequestID = append(pr.PaymentRequestID[:0], d[6:]...)
	pr.OrderDescription = append(append(pr.OrderDescription[:0], "load test "...), d[6:]...)
	body = codec.AppendMPPPayRequest(body[:0], pr)
	ctx.Request.Reset()
	ctx.Response.Reset()
	ctx.Request.Header.SetMethod(fasthttp.MethodPost)
	ctx.Request.SetRequestURI(codec.MPPPayPath)
	ctx.Request.SetBodyRaw(body)
	return body
}

func newPayRequest() *codec.MPPPayRequest {
	pr := &codec.MPPPayRequest{AcquirerID: []byte("ACQ"), PSPID: []byte("PSP"), MerchantID: []byte("M1"), StoreID: []byte("S1")}
	pr.Amount = codec.Amount{Value: 100, Currency: hkd}
	return pr
}

// BenchmarkWalletPay is the simulated wallet's per-pay path without the
// network: the handler parses a fresh pay, books it and writes the
// answer (what `paycode sim` adds to fasthttp's own cost per request).
func BenchmarkWalletPay(b *testing.B) {
	w, err := mppsim.NewWallet(mppsim.WalletConfig{Name: "A"}, mppsim.Config{Seed: 1})
	if err != nil {
		b.Fatal(err)
	}
	defer w.Close()
	h := w.Handler()
	var ctx fasthttp.RequestCtx
	pr := newPayRequest()
	var body []byte
	b.ReportAllocs()
	for i := int64(0); b.Loop(); i++ {
		body = payCtx(&ctx, pr, body, i)
		h(&ctx)
		if ctx.Response.StatusCode() != fasthttp.StatusOK {
			b.Fatal(string(ctx.Response.Body()))
		}
	}
}

// TestWalletPayAllocs holds the wallet's per-pay allocations to what the
// ledger keeps: the payment record and the one string behind its ids
// (the maps' growth, amortized, is below one per pay).
func TestWalletPayAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("allocation counts are meaningless under -race")
	}
	w, err := mppsim.NewWallet(mppsim.WalletConfig{Name: "A"}, mppsim.Config{Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	h := w.Handler()
	var ctx fasthttp.RequestCtx
	pr := newPayRequest()
	var body []byte
	var i int64
	allocs := testing.AllocsPerRun(2000, func() {
		i++
		body = payCtx(&ctx, pr, body, i)
		h(&ctx)
	})
	var res codec.MPPPayResponse
	if err := codec.ParseMPPPayResponse(ctx.Response.Body(), &res); err != nil || res.Result.Code != codec.Success || len(res.PaymentID) == 0 {
		t.Fatalf("last answer %v %s", err, ctx.Response.Body())
	}
	const budget = 2
	if allocs > budget {
		t.Fatalf("%.1f allocations per pay, budget %d", allocs, budget)
	}
	t.Logf("%.2f allocations per pay", allocs)
}
