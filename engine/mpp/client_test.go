package mpp_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/paycode/paycode/codec"
	"github.com/paycode/paycode/engine"
	"github.com/paycode/paycode/engine/mpp"
	"github.com/paycode/paycode/loadtest/mppsim"
	"github.com/valyala/fasthttp"
)

// TestOutcomesAgainstSim runs every row of the simulator's test-code
// table through a Client on loopback: the pay answer, then inquiry before
// and after the password delay.
func TestOutcomesAgainstSim(t *testing.T) {
	sim, clk := startSim(t, mppsim.WalletConfig{Name: "A", Brand: "Brand A"})
	c := newClient(t, mpp.Config{BaseURL: sim.URL("A")})
	short := newClient(t, mpp.Config{BaseURL: sim.URL("A"), Timeout: 100 * time.Millisecond})
	warm(t, short)
	type res struct {
		o    engine.Outcome // OutcomeUnknown: an error, outcome unknown
		code codec.ResultCode
	}
	cases := []struct {
		o             mppsim.Outcome
		pay, before   res
		after         res
		charged, late bool
	}{
		{mppsim.OutcomeSuccess, res{engine.OutcomeSuccess, codec.Success}, res{engine.OutcomeSuccess, codec.Success}, res{engine.OutcomeSuccess, codec.Success}, true, false},
		{mppsim.OutcomePassword, res{engine.OutcomeProcessing, codec.PaymentInProcess}, res{engine.OutcomeProcessing, codec.PaymentInProcess}, res{engine.OutcomeSuccess, codec.Success}, true, true},
		{mppsim.OutcomePasswordFail, res{engine.OutcomeProcessing, codec.PaymentInProcess}, res{engine.OutcomeProcessing, codec.PaymentInProcess}, res{engine.OutcomeFail, codec.UserPaymentVerificationFailed}, false, false},
		{mppsim.OutcomeBalance, res{engine.OutcomeFail, codec.UserBalanceNotEnough}, res{engine.OutcomeFail, codec.UserBalanceNotEnough}, res{engine.OutcomeFail, codec.UserBalanceNotEnough}, false, false},
		{mppsim.OutcomeLimit, res{engine.OutcomeFail, codec.PaymentAmountExceedLimit}, res{engine.OutcomeFail, codec.PaymentAmountExceedLimit}, res{engine.OutcomeFail, codec.PaymentAmountExceedLimit}, false, false},
		{mppsim.OutcomeLostResponse, res{}, res{engine.OutcomeSuccess, codec.Success}, res{engine.OutcomeSuccess, codec.Success}, true, false},
		{mppsim.OutcomeSystemError, res{engine.OutcomeProcessing, codec.UnknownException}, res{engine.OutcomeFail, codec.SystemError}, res{engine.OutcomeFail, codec.SystemError}, false, false},
		{mppsim.OutcomeInvalidCode, res{engine.OutcomeFail, codec.InvalidPaymentCode}, res{engine.OutcomeFail, codec.InvalidPaymentCode}, res{engine.OutcomeFail, codec.InvalidPaymentCode}, false, false},
		{mppsim.OutcomeRisk, res{engine.OutcomeFail, codec.RiskReject}, res{engine.OutcomeFail, codec.RiskReject}, res{engine.OutcomeFail, codec.RiskReject}, false, false},
	}
	ctx := context.Background()
	check := func(t *testing.T, step string, got engine.WalletResult, want res, charged bool, at time.Time) {
		t.Helper()
		if got.Outcome != want.o || got.Code != want.code || got.Message != want.code.Message() || got.Cancelled {
			t.Fatalf("%s = %+v, want %v %v", step, got, want.o, want.code)
		}
		if want.o == engine.OutcomeSuccess && (!got.At.Equal(at) || got.WalletTxnID == "" || got.CustomerID == "" || got.WalletBrand != "Brand A") {
			t.Fatalf("%s: success details %+v, want paid at %v by Brand A", step, got, at)
		}
	}
	for i, k := range cases {
		t.Run(k.o.String(), func(t *testing.T) {
			lo, _ := k.o.Range()
			id := fmt.Sprintf("pay-%d", i)
			t0 := clk.Now()
			paidAt := t0
			if k.late {
				paidAt = t0.Add(mppsim.DefaultPasswordDelay)
			}
			if k.pay.o == engine.OutcomeUnknown {
				_, err := short.Pay(ctx, walletPay(id, code(i, lo), 100))
				if !errors.Is(err, mpp.ErrTimeout) || errors.Is(err, mpp.ErrNotSent) {
					t.Fatalf("lost response: err = %v, want ErrTimeout and not ErrNotSent", err)
				}
			} else {
				got, err := c.Pay(ctx, walletPay(id, code(i, lo), 100))
				if err != nil {
					t.Fatal(err)
				}
				check(t, "pay", got, k.pay, k.charged, paidAt)
			}
			clk.Add(mppsim.DefaultPasswordDelay - 1)
			got, err := c.Inquire(ctx, id)
			if err != nil {
				t.Fatal(err)
			}
			check(t, "inquiry before", got, k.before, k.charged, paidAt)
			clk.Add(1)
			if got, err = c.Inquire(ctx, id); err != nil {
				t.Fatal(err)
			}
			check(t, "inquiry after", got, k.after, k.charged, paidAt)
			if e := sim.Ledger("A").Payments[id]; (e.Charged == 100) != k.charged {
				t.Fatalf("ledger = %+v, want charged %v", e, k.charged)
			}
		})
	}
}

// warm opens c's connection with an inquiry, so a short-timeout call
// that follows measures the wallet's answer, not a dial on a busy machine.
func warm(t *testing.T, c *mpp.Client) {
	t.Helper()
	if _, err := c.Inquire(context.Background(), "warm-up"); err != nil {
		t.Fatal(err)
	}
}

func TestCancelAndRefund(t *testing.T) {
	sim, _ := startSim(t, mppsim.WalletConfig{Name: "A"})
	c := newClient(t, mpp.Config{BaseURL: sim.URL("A")})
	ctx := context.Background()
	must := func(r engine.WalletResult, err error) engine.WalletResult {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return r
	}

	t.Run("reverse a success", func(t *testing.T) {
		must(c.Pay(ctx, walletPay("p1", code(1, 0), 100)))
		if r := must(c.Cancel(ctx, "p1")); r.Outcome != engine.OutcomeSuccess {
			t.Fatalf("cancel = %+v", r)
		}
		r := must(c.Inquire(ctx, "p1"))
		if r.Outcome != engine.OutcomeFail || r.Code != codec.OrderIsClosed || !r.Cancelled {
			t.Fatalf("inquiry after cancel = %+v, want Fail ORDER_IS_CLOSED cancelled", r)
		}
	})
	t.Run("cancel first, pay late", func(t *testing.T) {
		if r := must(c.Inquire(ctx, "p2")); r.Outcome != engine.OutcomeNotFound || r.Code != codec.OrderNotExist {
			t.Fatalf("inquiry of unknown = %+v", r)
		}
		must(c.Cancel(ctx, "p2"))
		if r := must(c.Pay(ctx, walletPay("p2", code(2, 0), 100))); r.Outcome != engine.OutcomeFail || r.Code != codec.OrderIsClosed {
			t.Fatalf("late pay = %+v, want Fail ORDER_IS_CLOSED", r)
		}
	})
	t.Run("lost response, cancel at timeout", func(t *testing.T) {
		short := newClient(t, mpp.Config{BaseURL: sim.URL("A"), Timeout: 100 * time.Millisecond})
		warm(t, short)
		_, err := short.Pay(ctx, walletPay("p3", code(3, 92), 100))
		if !errors.Is(err, mpp.ErrTimeout) || errors.Is(err, mpp.ErrNotSent) {
			t.Fatalf("err = %v", err)
		}
		must(c.Cancel(ctx, "p3"))
		if e := sim.Ledger("A").Payments["p3"]; e.State != mppsim.StateReversed || e.Held() != 0 {
			t.Fatalf("ledger = %+v", e)
		}
	})
	t.Run("refunds", func(t *testing.T) {
		must(c.Pay(ctx, walletPay("p4", code(4, 0), 100)))
		r1 := must(c.Refund(ctx, &engine.WalletRefund{RefundID: "r1", PaymentID: "p4", Amount: codec.Amount{Value: 60, Currency: hkd}, Reason: "cold"}))
		if r1.Outcome != engine.OutcomeSuccess || r1.WalletTxnID == "" || r1.At.IsZero() {
			t.Fatalf("refund = %+v", r1)
		}
		again := must(c.Refund(ctx, &engine.WalletRefund{RefundID: "r1", PaymentID: "p4", Amount: codec.Amount{Value: 60, Currency: hkd}}))
		if again != r1 {
			t.Fatalf("replayed refund = %+v, want %+v", again, r1)
		}
		over := must(c.Refund(ctx, &engine.WalletRefund{RefundID: "r2", PaymentID: "p4", Amount: codec.Amount{Value: 41, Currency: hkd}}))
		if over.Outcome != engine.OutcomeFail || over.Code != codec.RefundAmountExceed {
			t.Fatalf("over-refund = %+v", over)
		}
		if r := must(c.Cancel(ctx, "p4")); r.Outcome != engine.OutcomeFail || r.Code != codec.OrderStatusInvalid {
			t.Fatalf("cancel of a refunded payment = %+v", r)
		}
	})
}

func TestNotSent(t *testing.T) {
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	url := "http://" + ln.Addr().String()
	ln.Close() // nothing listens there now
	c := newClient(t, mpp.Config{BaseURL: url, Timeout: 2 * time.Second})
	ctx := context.Background()
	calls := map[string]func(context.Context) error{
		"pay":     func(ctx context.Context) error { _, err := c.Pay(ctx, walletPay("p1", code(1, 0), 1)); return err },
		"inquiry": func(ctx context.Context) error { _, err := c.Inquire(ctx, "p1"); return err },
		"cancel":  func(ctx context.Context) error { _, err := c.Cancel(ctx, "p1"); return err },
		"refund": func(ctx context.Context) error {
			_, err := c.Refund(ctx, &engine.WalletRefund{RefundID: "r", PaymentID: "p1", Amount: codec.Amount{Value: 1, Currency: hkd}})
			return err
		},
	}
	for name, call := range calls {
		err := call(ctx)
		if !errors.Is(err, mpp.ErrNotSent) || !errors.Is(err, mpp.ErrTransport) {
			t.Errorf("%s on a closed port: %v, want ErrNotSent and ErrTransport", name, err)
		}
		var e *mpp.Error
		if !errors.As(err, &e) || e.Wallet != "A" || !strings.Contains(err.Error(), name[:3]) {
			t.Errorf("%s: error does not say where: %v", name, err)
		}
	}
	done, cancel := context.WithCancel(ctx)
	cancel()
	if err := calls["pay"](done); !errors.Is(err, mpp.ErrNotSent) || !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled context: %v", err)
	}
}

// blocking is a wallet whose handler holds every request until released,
// reporting each arrival.
type blocking struct {
	entered chan struct{}
	release chan struct{}
}

func newBlocking(t testing.TB) *blocking {
	b := &blocking{entered: make(chan struct{}, 64), release: make(chan struct{})}
	t.Cleanup(func() {
		select {
		case <-b.release:
		default:
			close(b.release)
		}
	})
	return b
}

func (b *blocking) handler(inner fasthttp.RequestHandler) fasthttp.RequestHandler {
	return func(ctx *fasthttp.RequestCtx) {
		b.entered <- struct{}{}
		<-b.release
		inner(ctx)
	}
}

func TestBusy(t *testing.T) {
	w, err := mppsim.NewWallet(mppsim.WalletConfig{Name: "A"}, mppsim.Config{})
	if err != nil {
		t.Fatal(err)
	}
	blk := newBlocking(t)
	c := newClient(t, mpp.Config{BaseURL: "http://a", MaxInFlight: 1, Dial: serve(t, blk.handler(w.Handler()))})
	first := make(chan error, 1)
	go func() { _, err := c.Pay(context.Background(), walletPay("p1", code(1, 0), 1)); first <- err }()
	<-blk.entered
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	_, err = c.Pay(ctx, walletPay("p2", code(2, 0), 1))
	if !errors.Is(err, mpp.ErrBusy) || !errors.Is(err, mpp.ErrNotSent) || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("second call: %v, want ErrBusy, ErrNotSent", err)
	}
	if c.InFlight() != 1 {
		t.Fatalf("InFlight = %d, want 1", c.InFlight())
	}
	close(blk.release)
	if err := <-first; err != nil {
		t.Fatal(err)
	}
	if _, ok := w.Ledger().Payments["p2"]; ok {
		t.Fatal("a busy-refused call reached the wallet")
	}
}

// TestPastDeadline: a pay whose deadline (WalletPay.Deadline) has passed
// is refused before anything is sent, with a free slot too: ErrTimeout,
// NotSent, and the wallet never hears of it.
func TestPastDeadline(t *testing.T) {
	w, err := mppsim.NewWallet(mppsim.WalletConfig{Name: "A"}, mppsim.Config{})
	if err != nil {
		t.Fatal(err)
	}
	c := newClient(t, mpp.Config{BaseURL: "http://a", Dial: serve(t, w.Handler())})
	p := walletPay("p1", code(1, 0), 1)
	p.Deadline = time.Now().Add(-time.Millisecond)
	_, err = c.Pay(context.Background(), p)
	if !errors.Is(err, mpp.ErrTimeout) || !errors.Is(err, mpp.ErrNotSent) {
		t.Fatalf("pay past its deadline: %v, want ErrTimeout, ErrNotSent", err)
	}
	if _, ok := w.Ledger().Payments["p1"]; ok {
		t.Fatal("a pay past its deadline reached the wallet")
	}
	if c.InFlight() != 0 {
		t.Fatalf("InFlight = %d, want 0", c.InFlight())
	}
}

// TestIsolation: wallet A hangs with all its slots taken and more calls
// queued; wallet B still answers every call at once.
func TestIsolation(t *testing.T) {
	sim, _ := startSim(t, mppsim.WalletConfig{Name: "B"})
	wa, err := mppsim.NewWallet(mppsim.WalletConfig{Name: "A"}, mppsim.Config{})
	if err != nil {
		t.Fatal(err)
	}
	blk := newBlocking(t)
	const limit = 4
	a := newClient(t, mpp.Config{Name: "A", BaseURL: "http://a", MaxInFlight: limit, Timeout: time.Minute, Dial: serve(t, blk.handler(wa.Handler()))})
	b := newClient(t, mpp.Config{Name: "B", BaseURL: sim.URL("B")})

	aDone := make(chan error, 2*limit)
	for i := range 2 * limit { // limit in the wallet, limit waiting for a slot
		go func() {
			_, err := a.Pay(context.Background(), walletPay(fmt.Sprintf("a%d", i), code(i, 0), 1))
			aDone <- err
		}()
	}
	for range limit {
		<-blk.entered
	}
	var wg sync.WaitGroup
	bErr := make(chan error, 100)
	for i := range 100 {
		wg.Go(func() {
			r, err := b.Pay(context.Background(), walletPay(fmt.Sprintf("b%d", i), code(1000+i, 0), 1))
			if err == nil && r.Outcome != engine.OutcomeSuccess {
				err = fmt.Errorf("b%d: %v", i, r.Outcome)
			}
			bErr <- err
		})
	}
	wg.Wait()
	close(bErr)
	for err := range bErr {
		if err != nil {
			t.Fatal(err)
		}
	}
	if a.InFlight() != limit || len(aDone) != 0 || len(blk.entered) != 0 {
		t.Fatalf("A moved while B worked: in flight %d, done %d, extra arrivals %d", a.InFlight(), len(aDone), len(blk.entered))
	}
	close(blk.release)
	for range 2 * limit {
		if err := <-aDone; err != nil {
			t.Fatal(err)
		}
	}
	if n := len(wa.Ledger().Payments); n != 2*limit {
		t.Fatalf("A's ledger has %d payments, want %d", n, 2*limit)
	}
}
