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
