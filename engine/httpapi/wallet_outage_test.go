package httpapi_test

import (
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync/atomic"
	"testing"
	"time"

	"github.com/valyala/fasthttp"

	"github.com/paycode/paycode/codec"
	"github.com/paycode/paycode/engine"
	"github.com/paycode/paycode/engine/enginetest"
	"github.com/paycode/paycode/engine/server"
	"github.com/paycode/paycode/loadtest/mppsim"
	"github.com/paycode/paycode/loadtest/stack"
)

// TestWalletDiesMidPay: over real HTTP, the wallet charges a pay and
// dies before answering, and stays down. The lane is answered
// PAYMENT_IN_PROCESS (U) within the pay timeout, inquiries say
// PROCESSING while the wallet is down (never FAIL, never SUCCESS on a
// guess), and once the wallet is back the follow-up settles the payment
// SUCCESS as the wallet's ledger has it: nothing lost, nothing charged
// twice.
func TestWalletDiesMidPay(t *testing.T) {
	clock := enginetest.NewManualClock(t0)
	w, err := mppsim.NewWallet(mppsim.WalletConfig{Name: "mpp-281001"}, mppsim.Config{Seed: 1, Now: clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(w.Close)
	var down atomic.Bool
	api := w.Handler()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	drop := func(ctx *fasthttp.RequestCtx) {
		ctx.HijackSetNoResponse(true)
		ctx.Hijack(func(c net.Conn) { c.Close() })
	}
	srv := &fasthttp.Server{Handler: func(ctx *fasthttp.RequestCtx) {
		if down.Load() {
			drop(ctx) // a wallet that is gone: connections end unanswered
			return
		}
		api(ctx)
		if string(ctx.Path()) == codec.MPPPayPath {
			down.Store(true) // it charged, then died before answering
			drop(ctx)
		}
	}}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Shutdown() })

	log := slog.New(slog.NewTextHandler(&lockedBuffer{}, nil))
	st, err := stack.Start(stack.Config{
		Node: server.Config{
			Wallets: []server.WalletConfig{{Name: "mpp-281001", URL: "http://" + ln.Addr().String(), Timeout: 2 * time.Second}},
			Engine:  engine.Config{Clock: clock, PayTimeout: 2 * time.Second, WalletCallTimeout: time.Second},
			Logger:  log, NoDecoder: true,
		},
		Options: []server.Option{server.ManualFollowUps()},
	})
	if err != nil {
		t.Fatal(err)
	}
	e := &e2e{t: t, st: st, clock: clock, logs: &lockedBuffer{}, http: &http.Client{Timeout: 10 * time.Second}}
	t.Cleanup(func() { st.Close() })

	code := e.testCode("281001", 1, 0) // a code this wallet approves at once
	p := e.post("pay", "C1", payBody("wd-1", code, 4200))
	if p.Result.Code != "PAYMENT_IN_PROCESS" || p.Result.Status != "U" || p.PaymentID == "" {
		t.Fatalf("pay whose wallet died after charging: %+v", p)
	}
	if !down.Load() {
		t.Fatal("the pay never reached the wallet")
	}
	en, ok := w.Ledger().Payments[p.PaymentID]
	if !ok || en.Charged != 4200 {
		t.Fatalf("the wallet's ledger: %+v (found %v), want charged 4200", en, ok)
	}
	// The wallet stays down for a while: follow-ups fail, nothing is
	// decided on a guess.
	for range 5 {
		clock.Advance(2 * time.Second)
		st.Engine.ProcessDue(t.Context())
		q := e.post("inquiryPayment", "C1", fmt.Sprintf(`{"paymentId":%q}`, p.PaymentID))
		if q.PaymentStatus != "PROCESSING" {
			t.Fatalf("inquiry while the wallet is down: %s (%s)", q.PaymentStatus, q.PaymentResult)
		}
	}
	if r := e.post("pay", "C1", payBody("wd-1", code, 4200)); r.Result.Status != "U" || r.PaymentID != p.PaymentID {
		t.Fatalf("the lane's retry of the pay while the wallet is down: %+v", r)
	}
	down.Store(false)
	e.settle()
	a := e.post("inquiryPayment", "C1", fmt.Sprintf(`{"paymentId":%q}`, p.PaymentID))
	if a.PaymentStatus != "SUCCESS" {
		t.Fatalf("after the wallet came back: %s (%s)", a.PaymentStatus, a.PaymentResult)
	}
	if en := w.Ledger().Payments[p.PaymentID]; en.State != mppsim.StateSuccess || en.Charged != 4200 || len(w.Ledger().Payments) != 1 {
		t.Fatalf("the ledger after settling: %+v, %d entries", en, len(w.Ledger().Payments))
	}
}
