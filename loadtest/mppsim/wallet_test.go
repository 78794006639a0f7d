package mppsim_test

import (
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/paycode/paycode/codec"
	"github.com/paycode/paycode/loadtest/mppsim"
	"github.com/valyala/fasthttp"
)

func TestOutcomeTable(t *testing.T) {
	want := map[mppsim.Outcome][2]int{
		mppsim.OutcomeSuccess: {0, 79}, mppsim.OutcomePassword: {80, 84}, mppsim.OutcomePasswordFail: {85, 86},
		mppsim.OutcomeBalance: {87, 89}, mppsim.OutcomeLimit: {90, 91}, mppsim.OutcomeLostResponse: {92, 93},
		mppsim.OutcomeSystemError: {94, 95}, mppsim.OutcomeInvalidCode: {96, 97}, mppsim.OutcomeRisk: {98, 99},
	}
	if len(mppsim.Outcomes()) != len(want) {
		t.Fatalf("Outcomes() has %d rows, want %d", len(mppsim.Outcomes()), len(want))
	}
	for _, o := range mppsim.Outcomes() {
		lo, hi := o.Range()
		if [2]int{lo, hi} != want[o] {
			t.Errorf("%v.Range() = %d..%d, want %v", o, lo, hi, want[o])
		}
		for n := lo; n <= hi; n++ {
			if got := mppsim.OutcomeOf(n); got != o {
				t.Errorf("OutcomeOf(%d) = %v, want %v", n, got, o)
			}
		}
	}
}

// TestPayOutcomes drives every row of the test-code table, at both ends
// of its range, through pay, inquiry before and after the password delay,
// a replayed pay, and the ledger.
func TestPayOutcomes(t *testing.T) {
	type step struct {
		code   codec.ResultCode // result (pay) or paymentResult (inquiry)
		status byte
	}
	cases := []struct {
		o        mppsim.Outcome
		pay      step // zero: no answer arrives
		before   step // inquiry just before PasswordDelay has passed
		after    step // inquiry, and replayed pay, after it
		state    mppsim.State
		charged  bool
		paidLate bool // charged at the end of the password delay
	}{
		{mppsim.OutcomeSuccess, step{codec.Success, 'S'}, step{codec.Success, 'S'}, step{codec.Success, 'S'}, mppsim.StateSuccess, true, false},
		{mppsim.OutcomePassword, step{codec.PaymentInProcess, 'U'}, step{codec.PaymentInProcess, 'U'}, step{codec.Success, 'S'}, mppsim.StateSuccess, true, true},
		{mppsim.OutcomePasswordFail, step{codec.PaymentInProcess, 'U'}, step{codec.PaymentInProcess, 'U'}, step{codec.UserPaymentVerificationFailed, 'F'}, mppsim.StateFail, false, false},
		{mppsim.OutcomeBalance, step{codec.UserBalanceNotEnough, 'F'}, step{codec.UserBalanceNotEnough, 'F'}, step{codec.UserBalanceNotEnough, 'F'}, mppsim.StateFail, false, false},
		{mppsim.OutcomeLimit, step{codec.PaymentAmountExceedLimit, 'F'}, step{codec.PaymentAmountExceedLimit, 'F'}, step{codec.PaymentAmountExceedLimit, 'F'}, mppsim.StateFail, false, false},
		{mppsim.OutcomeLostResponse, step{}, step{codec.Success, 'S'}, step{codec.Success, 'S'}, mppsim.StateSuccess, true, false},
		{mppsim.OutcomeSystemError, step{codec.UnknownException, 'U'}, step{codec.SystemError, 'F'}, step{codec.SystemError, 'F'}, mppsim.StateFail, false, false},
		{mppsim.OutcomeInvalidCode, step{codec.InvalidPaymentCode, 'F'}, step{codec.InvalidPaymentCode, 'F'}, step{codec.InvalidPaymentCode, 'F'}, mppsim.StateFail, false, false},
		{mppsim.OutcomeRisk, step{codec.RiskReject, 'F'}, step{codec.RiskReject, 'F'}, step{codec.RiskReject, 'F'}, mppsim.StateFail, false, false},
	}
	for _, c := range cases {
		lo, hi := c.o.Range()
		for _, last := range []int{lo, hi} {
			t.Run(fmt.Sprintf("%v/%02d", c.o, last), func(t *testing.T) {
				h := newHarness(t, mppsim.WalletConfig{Name: "A"}, nil)
				id, cd := "pay-1", code(last, last)
				t0 := h.clk.Now()
				if c.pay == (step{}) {
					st, _, err := h.post(codec.MPPPayPath, payBody(id, cd, 500))
					if err == nil {
						t.Fatalf("lost response answered: HTTP %d", st)
					}
				} else if got := h.pay(id, cd, 500); got.Result.Code != c.pay.code || got.Result.Status != c.pay.status {
					t.Fatalf("pay = %s %c, want %s %c", got.Result.Code, got.Result.Status, c.pay.code, c.pay.status)
				}
				h.clk.Add(mppsim.DefaultPasswordDelay - 1)
				if got := h.inquire(id); got.Result.Code != codec.Success || got.PaymentResult.Code != c.before.code || got.PaymentResult.Status != c.before.status {
					t.Fatalf("inquiry before the delay = %s / %s %c, want SUCCESS / %s %c", got.Result.Code, got.PaymentResult.Code, got.PaymentResult.Status, c.before.code, c.before.status)
				}
				h.clk.Add(1)
				got := h.inquire(id)
				if got.PaymentResult.Code != c.after.code || got.PaymentResult.Status != c.after.status {
					t.Fatalf("inquiry after the delay = %s %c, want %s %c", got.PaymentResult.Code, got.PaymentResult.Status, c.after.code, c.after.status)
				}
				if replay := h.pay(id, cd, 500); replay.Result.Code != c.after.code {
					t.Fatalf("replayed pay = %s, want %s", replay.Result.Code, c.after.code)
				}
				e := h.entry(id)
				wantCharged, wantPaid := int64(0), t0
				if c.charged {
					wantCharged = 500
					if c.paidLate {
						wantPaid = t0.Add(mppsim.DefaultPasswordDelay)
					}
					if !e.PaidAt.Equal(wantPaid) || !got.PaymentTime.Equal(wantPaid) {
						t.Errorf("paid at %v (inquiry says %v), want %v", e.PaidAt, got.PaymentTime, wantPaid)
					}
				}
				if e.State != c.state || e.Charged != wantCharged || e.Held() != wantCharged || e.Code.LastTwo() != last {
					t.Fatalf("ledger = %+v, want state %v charged %d", e, c.state, wantCharged)
				}
			})
		}
	}
}

func TestCodeIsSingleUse(t *testing.T) {
	for _, first := range []int{0, 87} { // reused after a success and after a failure
		t.Run(fmt.Sprint(first), func(t *testing.T) {
			h := newHarness(t, mppsim.WalletConfig{Name: "A"}, nil)
			cd := code(7, first)
			firstAnswer := h.pay("p1", cd, 100).Result.Code
			if got := h.pay("p2", cd, 100).Result.Code; got != codec.InvalidPaymentCode {
				t.Fatalf("second use = %s, want INVALID_PAYMENT_CODE", got)
			}
			if got := h.pay("p2", cd, 100).Result.Code; got != codec.InvalidPaymentCode {
				t.Fatalf("second use replayed = %s", got)
			}
			if got := h.pay("p1", cd, 100).Result.Code; got != firstAnswer {
				t.Fatalf("first payment changed: %s, was %s", got, firstAnswer)
			}
			l := h.w.Ledger()
			if e := l.Payments["p2"]; e.State != mppsim.StateFail || e.Result != codec.InvalidPaymentCode || e.Charged != 0 {
				t.Fatalf("p2 = %+v", e)
			}
			if e := l.Payments["p1"]; (first == 0) != (e.Charged == 100) {
				t.Fatalf("p1 = %+v", e)
			}
		})
	}
}

func TestIdempotentReplay(t *testing.T) {
	h := newHarness(t, mppsim.WalletConfig{Name: "A"}, nil)
	a := h.pay("p1", code(1, 10), 100)
	b := h.pay("p1", code(1, 10), 100)
	if a.Result.Code != codec.Success || string(a.PaymentID) != string(b.PaymentID) || !a.PaymentTime.Equal(b.PaymentTime) || b.Result.Code != codec.Success {
		t.Fatalf("replay differs: %+v vs %+v", a, b)
	}
	for name, body := range map[string][]byte{
		"other amount": payBody("p1", code(1, 10), 101),
		"other code":   payBody("p1", code(2, 10), 100),
	} {
		var r codec.MPPPayResponse
		if err := codec.ParseMPPPayResponse(h.mustPost(codec.MPPPayPath, body), &r); err != nil || r.Result.Code != codec.RepeatReqInconsistent {
			t.Fatalf("%s: %s %v, want REPEAT_REQ_INCONSISTENT", name, r.Result.Code, err)
		}
	}
	if e := h.entry("p1"); e.Charged != 100 || e.Amount.Value != 100 || len(h.w.Ledger().Payments) != 1 {
		t.Fatalf("ledger after replays: %+v", h.w.Ledger())
	}
	// The inconsistent "other code" did not burn code 2.
	if got := h.pay("p2", code(2, 10), 100).Result.Code; got != codec.Success {
		t.Fatalf("code 2 = %s, want SUCCESS", got)
	}
}

func TestCancel(t *testing.T) {
	t.Run("processing closes, password later does not charge", func(t *testing.T) {
		h := newHarness(t, mppsim.WalletConfig{Name: "A"}, nil)
		h.pay("p1", code(1, 80), 100)
		h.clk.Add(mppsim.DefaultPasswordDelay / 2)
		if got := h.cancel("p1"); got != codec.Success {
			t.Fatalf("cancel = %s", got)
		}
		h.clk.Add(mppsim.DefaultPasswordDelay)
		if got := h.inquire("p1").PaymentResult.Code; got != codec.OrderIsClosed {
			t.Fatalf("inquiry = %s, want ORDER_IS_CLOSED", got)
		}
		if e := h.entry("p1"); e.State != mppsim.StateClosed || e.Charged != 0 {
			t.Fatalf("ledger = %+v", e)
		}
	})
	t.Run("success reverses", func(t *testing.T) {
		h := newHarness(t, mppsim.WalletConfig{Name: "A"}, nil)
		h.pay("p1", code(1, 0), 100)
		for range 2 { // a repeated cancel succeeds again and changes nothing
			if got := h.cancel("p1"); got != codec.Success {
				t.Fatalf("cancel = %s", got)
			}
		}
		if got := h.inquire("p1").PaymentResult.Code; got != codec.OrderIsClosed {
			t.Fatalf("inquiry = %s, want ORDER_IS_CLOSED", got)
		}
		if e := h.entry("p1"); e.State != mppsim.StateReversed || e.Charged != 100 || e.Held() != 0 {
			t.Fatalf("ledger = %+v", e)
		}
		if got := h.refund("p1", "r1", 10).Result.Code; got != codec.OrderStatusInvalid {
			t.Fatalf("refund after reversal = %s", got)
		}
	})
	t.Run("password settled before the cancel is reversed", func(t *testing.T) {
		h := newHarness(t, mppsim.WalletConfig{Name: "A"}, nil)
		h.pay("p1", code(1, 81), 100)
		h.clk.Add(mppsim.DefaultPasswordDelay)
		h.cancel("p1")
		if e := h.entry("p1"); e.State != mppsim.StateReversed || e.Charged != 100 || e.Held() != 0 {
			t.Fatalf("ledger = %+v", e)
		}
	})
	t.Run("lost response is reversed", func(t *testing.T) {
		h := newHarness(t, mppsim.WalletConfig{Name: "A"}, nil)
		if _, _, err := h.post(codec.MPPPayPath, payBody("p1", code(1, 92), 100)); err == nil {
			t.Fatal("lost response answered")
		}
		h.cancel("p1")
		if e := h.entry("p1"); e.State != mppsim.StateReversed || e.Held() != 0 {
			t.Fatalf("ledger = %+v", e)
		}
	})
	t.Run("unknown id leaves a tombstone", func(t *testing.T) {
		h := newHarness(t, mppsim.WalletConfig{Name: "A"}, nil)
		if got := h.cancel("p1"); got != codec.Success {
			t.Fatalf("cancel = %s", got)
		}
		if got := h.pay("p1", code(1, 0), 100).Result.Code; got != codec.OrderIsClosed {
			t.Fatalf("late pay = %s, want ORDER_IS_CLOSED", got)
		}
		if got := h.inquire("p1"); got.Result.Code != codec.Success || got.PaymentResult.Code != codec.OrderIsClosed {
			t.Fatalf("inquiry = %s / %s", got.Result.Code, got.PaymentResult.Code)
		}
		e := h.entry("p1")
		if !e.Tombstone || e.State != mppsim.StateClosed || e.Charged != 0 || !e.Code.IsZero() {
			t.Fatalf("ledger = %+v", e)
		}
		// The refused pay did not burn the code.
		if got := h.pay("p2", code(1, 0), 100).Result.Code; got != codec.Success {
			t.Fatalf("code after refused pay = %s", got)
		}
	})
	t.Run("partly refunded cannot be cancelled", func(t *testing.T) {
		h := newHarness(t, mppsim.WalletConfig{Name: "A"}, nil)
		h.pay("p1", code(1, 0), 100)
		h.refund("p1", "r1", 30)
		if got := h.cancel("p1"); got != codec.OrderStatusInvalid {
			t.Fatalf("cancel = %s, want ORDER_STATUS_INVALID", got)
		}
		if e := h.entry("p1"); e.State != mppsim.StateSuccess || e.Held() != 70 {
			t.Fatalf("ledger = %+v", e)
		}
	})
	t.Run("failed payment", func(t *testing.T) {
		h := newHarness(t, mppsim.WalletConfig{Name: "A"}, nil)
		h.pay("p1", code(1, 88), 100)
		if got := h.cancel("p1"); got != codec.Success {
			t.Fatalf("cancel = %s", got)
		}
		if e := h.entry("p1"); e.State != mppsim.StateFail || e.Result != codec.UserBalanceNotEnough {
			t.Fatalf("ledger = %+v", e)
		}
	})
}

func TestRefunds(t *testing.T) {
	h := newHarness(t, mppsim.WalletConfig{Name: "A"}, nil)
	h.pay("p1", code(1, 0), 100)
	h.pay("pw", code(2, 80), 100) // still waiting for the password
	r1 := h.refund("p1", "r1", 60)
	if r1.Result.Code != codec.Success || len(r1.RefundID) == 0 || r1.Amount.Value != 60 || !r1.RefundTime.Equal(h.clk.Now()) {
		t.Fatalf("r1 = %+v", r1)
	}
	if again := h.refund("p1", "r1", 60); again.Result.Code != codec.Success || string(again.RefundID) != string(r1.RefundID) {
		t.Fatalf("r1 replayed = %+v", again)
	}
	cases := []struct {
		name            string
		pay, ref        string
		amount          int64
		want            codec.ResultCode
		wantRefundedNow int64
	}{
		{"same id, other amount", "p1", "r1", 61, codec.RepeatReqInconsistent, 60},
		{"same id, other payment", "pw", "r1", 60, codec.RepeatReqInconsistent, 60},
		{"over the charge", "p1", "r2", 41, codec.RefundAmountExceed, 60},
		{"over, replayed", "p1", "r2", 41, codec.RefundAmountExceed, 60},
		{"exactly the rest", "p1", "r3", 40, codec.Success, 100},
		{"nothing left", "p1", "r4", 1, codec.RefundAmountExceed, 100},
		{"not paid yet", "pw", "r5", 1, codec.OrderStatusInvalid, 100},
		{"unknown payment", "nope", "r6", 1, codec.OrderNotExist, 100},
		{"zero amount", "p1", "r7", 0, codec.ParamIllegal, 100},
	}
	for _, c := range cases {
		if got := h.refund(c.pay, c.ref, c.amount).Result.Code; got != c.want {
			t.Errorf("%s: %s, want %s", c.name, got, c.want)
		}
		if e := h.entry("p1"); e.Refunded != c.wantRefundedNow {
			t.Errorf("%s: refunded %d, want %d", c.name, e.Refunded, c.wantRefundedNow)
		}
	}
	var r codec.MPPRefundResponse
	if err := codec.ParseMPPRefundResponse(h.mustPost(codec.MPPRefundPath, refundBody("p1", "r8", 1, codec.MustCurrency("USD"))), &r); err != nil || r.Result.Code != codec.ParamIllegal {
		t.Fatalf("other currency: %s %v", r.Result.Code, err)
	}
	e := h.entry("p1")
	if len(e.Refunds) != 4 || e.Refunds["r1"].Result != codec.Success || e.Refunds["r2"].Result != codec.RefundAmountExceed || e.Held() != 0 {
		t.Fatalf("ledger refunds = %+v", e.Refunds)
	}
}

// TestConcurrentRefunds: 100 one-unit refunds race for a 50-unit payment;
// exactly 50 may win.
func TestConcurrentRefunds(t *testing.T) {
	h := newHarness(t, mppsim.WalletConfig{Name: "A"}, nil)
	h.pay("p1", code(1, 0), 50)
	var wg sync.WaitGroup
	results := make([]codec.ResultCode, 100)
	for i := range results {
		wg.Go(func() { results[i] = h.refund("p1", fmt.Sprintf("r%03d", i), 1).Result.Code })
	}
	wg.Wait()
	won := 0
	for _, r := range results {
		switch r {
		case codec.Success:
			won++
		case codec.RefundAmountExceed:
		default:
			t.Fatalf("unexpected result %s", r)
		}
	}
	e := h.entry("p1")
	if won != 50 || e.Refunded != 50 || e.Held() != 0 || len(e.Refunds) != 100 {
		t.Fatalf("won %d, ledger refunded %d held %d refunds %d; want 50, 50, 0, 100", won, e.Refunded, e.Held(), len(e.Refunds))
	}
}

func TestBadRequests(t *testing.T) {
	h := newHarness(t, mppsim.WalletConfig{Name: "A"}, nil)
	cd := code(1, 0)
	cases := []struct {
		name   string
		path   string
		body   string
		status int
		want   codec.ResultCode
	}{
		{"unknown path", "/aps/api/v1/payments/capture", `{}`, 404, codec.InvalidAPI},
		{"broken json", codec.MPPPayPath, `{"paymentMethod":{"paymentMethodId":"` + cd + `"`, 200, codec.ParamIllegal},
		{"missing field", codec.MPPPayPath, strings.Replace(string(payBody("p1", cd, 5)), `"pspId":"PSP",`, "", 1), 200, codec.ParamIllegal},
		{"zero amount", codec.MPPPayPath, string(payBody("p1", cd, 0)), 200, codec.ParamIllegal},
		{"bad code", codec.MPPPayPath, strings.Replace(string(payBody("p2", cd, 5)), cd, cd[:10]+"X"+cd[11:], 1), 200, codec.InvalidPaymentCode},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			st, body, err := h.post(c.path, []byte(c.body))
			var r codec.MPPCancelResponse // any message's result
			if err != nil || st != c.status || codec.ParseMPPCancelResponse(body, &r) != nil || r.Result.Code != c.want {
				t.Fatalf("HTTP %d %s (%v), want %d %s", st, body, err, c.status, c.want)
			}
			if strings.Contains(string(body), cd[6:20]) {
				t.Fatalf("answer leaks the code: %s", body)
			}
		})
	}
	req, resp := fasthttp.AcquireRequest(), fasthttp.AcquireResponse()
	defer fasthttp.ReleaseRequest(req)
	defer fasthttp.ReleaseResponse(resp)
	req.SetRequestURI("http://wallet" + codec.MPPPayPath)
	if err := h.hc.Do(req, resp); err != nil || resp.StatusCode() != fasthttp.StatusMethodNotAllowed {
		t.Fatalf("GET pay: %d %v", resp.StatusCode(), err)
	}
	if _, ok := h.w.Ledger().Payments["p1"]; ok {
		t.Fatal("a rejected request reached the ledger")
	}
}
