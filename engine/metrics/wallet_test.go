package metrics_test

import (
	"context"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/valyala/fasthttp"
	"github.com/valyala/fasthttp/fasthttputil"

	"github.com/paycode/paycode/codec"
	"github.com/paycode/paycode/engine"
	"github.com/paycode/paycode/engine/metrics"
	"github.com/paycode/paycode/engine/mpp"
)

const paidAnswer = `{"result":{"resultCode":"SUCCESS","resultStatus":"S","resultMessage":"success"},"paymentId":"W-9","paymentTime":"2024-05-01T20:00:00+08:00","customerId":"C-1","walletBrandName":"Brand"}`

// walletClient is a connector to an in-memory wallet answering a paid
// pay, or 503 while *fail is set.
func walletClient(t *testing.T, name string, fail *bool) *mpp.Client {
	t.Helper()
	ln := fasthttputil.NewInmemoryListener()
	body := []byte(paidAnswer)
	srv := &fasthttp.Server{Handler: func(ctx *fasthttp.RequestCtx) {
		if *fail {
			ctx.SetStatusCode(fasthttp.StatusServiceUnavailable)
			return
		}
		ctx.SetBody(body)
	}}
	go srv.Serve(ln)
	t.Cleanup(func() { ln.Close() })
	c, err := mpp.New(mpp.Config{Name: name, BaseURL: "http://w", AcquirerID: "A", PSPID: "P",
		Breaker: mpp.BreakerConfig{Consecutive: 3, OpenTimeout: time.Minute},
		Dial:    func(string, time.Duration) (net.Conn, error) { return ln.Dial() }})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	return c
}

// TestWalletMetrics: calls land on their wallet's and operation's series,
// errors on their kind, the breaker gauge follows the breaker, and a
// pay observed costs no allocation beyond the connector's own.
func TestWalletMetrics(t *testing.T) {
	reg := prometheus.NewRegistry()
	var failA, failB bool
	a, b := walletClient(t, "A", &failA), walletClient(t, "B", &failB)
	metrics.RegisterWallets(reg, map[string]*mpp.Client{"A": a, "B": b})
	ctx := context.Background()
	pay := &engine.WalletPay{PaymentID: "p1", Code: codec.MustParseCode("2810010000000000000001" + "00"),
		Amount: codec.Amount{Value: 100, Currency: codec.MustCurrency("HKD")}}
	for range 5 {
		if _, err := a.Pay(ctx, pay); err != nil {
			t.Fatal(err)
		}
	}
	failB = true
	for range 5 {
		b.Pay(ctx, pay) // 3 × 503, then the breaker refuses 2
	}
	b.Inquire(ctx, "p1")
	for _, tc := range []struct {
		series string
		want   float64
	}{
		{`paycode_wallet_errors_total{kind="http",op="pay",wallet="B"}`, 3},
		{`paycode_wallet_errors_total{kind="breaker_open",op="pay",wallet="B"}`, 2},
		{`paycode_wallet_errors_total{kind="breaker_open",op="inquiry",wallet="B"}`, 1},
		{`paycode_wallet_errors_total{kind="http",op="pay",wallet="A"}`, 0},
		{`paycode_wallet_breaker_state{wallet="A"}`, 0},
		{`paycode_wallet_breaker_state{wallet="B"}`, 2},
		{`paycode_wallet_requests_in_flight{op="pay",wallet="A"}`, 0},
	} {
		if got := gathered(t, reg, tc.series); got != tc.want {
			t.Errorf("%s = %v, want %v", tc.series, got, tc.want)
		}
	}
	// Latency: the 5 pays of A and the 3 sent pays of B, not the refused.
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() == "paycode_wallet_request_duration_seconds" && len(mf.GetMetric()) != 2*int(mpp.NumOps) {
			t.Errorf("%d latency series, want %d (pre-resolved)", len(mf.GetMetric()), 2*mpp.NumOps)
		}
	}
	if got := histCount(t, reg, "A", "pay"); got != 5 {
		t.Errorf("A pay latency count %d, want 5", got)
	}
	if got := histCount(t, reg, "B", "pay"); got != 3 {
		t.Errorf("B pay latency count %d, want 3", got)
	}
	if raceEnabled {
		return
	}
	for range 50 {
		a.Pay(ctx, pay)
	}
	if n := testing.AllocsPerRun(300, func() { a.Pay(ctx, pay) }); n > 2 {
		t.Fatalf("an observed pay allocates %v times, the connector's budget is 2", n)
	}
}

// gathered is the value of one series, written as in the exposition.
func gathered(t *testing.T, reg *prometheus.Registry, series string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		for _, m := range mf.GetMetric() {
			var lbl []string
			for _, lp := range m.GetLabel() {
				lbl = append(lbl, lp.GetName()+`="`+lp.GetValue()+`"`)
			}
			if mf.GetName()+"{"+strings.Join(lbl, ",")+"}" != series {
				continue
			}
			switch {
			case m.GetCounter() != nil:
				return m.GetCounter().GetValue()
			case m.GetGauge() != nil:
				return m.GetGauge().GetValue()
			}
		}
	}
	t.Fatalf("no series %s", series)
	return 0
}

func histCount(t *testing.T, reg *prometheus.Registry, wallet, op string) uint64 {
	t.Helper()
	mfs, _ := reg.Gather()
	for _, mf := range mfs {
		if mf.GetName() != "paycode_wallet_request_duration_seconds" {
			continue
		}
		for _, m := range mf.GetMetric() {
			l := map[string]string{}
			for _, lp := range m.GetLabel() {
				l[lp.GetName()] = lp.GetValue()
			}
			if l["wallet"] == wallet && l["op"] == op {
				return m.GetHistogram().GetSampleCount()
			}
		}
	}
	t.Fatalf("no latency series for %s %s", wallet, op)
	return 0
}
