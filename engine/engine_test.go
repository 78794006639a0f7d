package engine_test

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/paycode/paycode/codec"
	"github.com/paycode/paycode/engine"
	"github.com/paycode/paycode/engine/enginetest"
	"github.com/paycode/paycode/engine/journal"
)

var (
	hkd    = codec.MustCurrency("HKD")
	client = []byte("client-1")
	t0     = time.Date(2026, 11, 26, 10, 0, 0, 0, time.UTC)
)

type rig struct {
	e     *engine.Engine
	w     *fakeWallet
	clock *enginetest.ManualClock
}

func newRig(t *testing.T) *rig {
	t.Helper()
	w := newFakeWallet()
	clock := enginetest.NewManualClock(t0)
	e, err := engine.New(engine.Config{
		Wallets:    map[string]engine.Wallet{"w1": w},
		Identifier: enginetest.StaticIdentifier{"281001": "w1", "281003": "nowallet"},
		Clock:      clock,
		Journal:    journal.NewMem(),
	})
	if err != nil {
		t.Fatal(err)
	}
	return &rig{e: e, w: w, clock: clock}
}

// code makes a 24-digit code on prefix 281001 whose last two digits are
// outcome and whose middle is n.
func code(n, outcome int) codec.Code {
	return codec.MustParseCode(fmt.Sprintf("28100102%014d%02d", n, outcome))
}

func payReq(id string, c codec.Code, amount int64) *codec.PayRequest {
	return &codec.PayRequest{
		ProductCode:       []byte("IN_STORE_PAYMENT"),
		PaymentRequestID:  []byte(id),
		Amount:            codec.Amount{Value: amount, Currency: hkd},
		OrderAmount:       codec.Amount{Value: amount, Currency: hkd},
		Code:              c,
		PaymentMethodType: []byte("CONNECT_WALLET"),
		Scenario:          []byte("PaymentCode"),
		OrderDescription:  []byte("coffee"),
		MerchantID:        []byte("M1"),
		StoreID:           []byte("S1"),
		TerminalID:        []byte("T1"),
	}
}

func (r *rig) pay(req *codec.PayRequest) codec.PaymentView {
	var v codec.PaymentView
	r.e.Pay(context.Background(), client, req, &v)
	return v
}

func (r *rig) inquire(id string) (codec.ResultCode, codec.PaymentView) {
	var v codec.PaymentView
	rc := r.e.Inquire(context.Background(), client, &codec.IDRequest{PaymentID: []byte(id)}, &v)
	return rc, v
}

func TestPayOutcomes(t *testing.T) {
	tests := []struct {
		name    string
		outcome int
		result  codec.ResultCode
		status  codec.PaymentStatus
	}{
		{"success", 5, codec.Success, codec.StatusSuccess},
		{"password", 81, codec.PaymentInProcess, codec.StatusProcessing},
		{"balance", 88, codec.UserBalanceNotEnough, codec.StatusFail},
		{"answer lost", 92, codec.PaymentInProcess, codec.StatusProcessing},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := newRig(t)
			v := r.pay(payReq("p1", code(i, tt.outcome), 500))
			if v.ResultCode != tt.result || v.Status != tt.status {
				t.Fatalf("got %v/%v, want %v/%v", v.ResultCode, v.Status, tt.result, tt.status)
			}
			if v.PaymentID == "" || len(v.PaymentID) != 32 {
				t.Fatalf("paymentId %q", v.PaymentID)
			}
			if got := r.w.count("pay"); got != 1 {
				t.Fatalf("pay calls %d", got)
			}
		})
	}
}

func TestIdempotentReplay(t *testing.T) {
	r := newRig(t)
	c := code(1, 10)
	first := r.pay(payReq("p1", c, 500))
	again := r.pay(payReq("p1", c, 500))
	if again.ResultCode != codec.Success || again.PaymentID != first.PaymentID {
		t.Fatalf("replay: %+v", again)
	}
	if n := r.w.count("pay"); n != 1 {
		t.Fatalf("dispatched %d times", n)
	}
	// Same id, different amount or code: inconsistent, nothing dispatched.
	if v := r.pay(payReq("p1", c, 501)); v.ResultCode != codec.RepeatReqInconsistent {
		t.Fatalf("amount changed: %v", v.ResultCode)
	}
	if v := r.pay(payReq("p1", code(2, 10), 500)); v.ResultCode != codec.RepeatReqInconsistent {
		t.Fatalf("code changed: %v", v.ResultCode)
	}
	// Another client with the same request id is another payment; its code
	// must differ since codes are single use.
	var v codec.PaymentView
	r.e.Pay(context.Background(), []byte("client-2"), payReq("p1", code(3, 10), 500), &v)
	if v.ResultCode != codec.Success || v.PaymentID == first.PaymentID {
		t.Fatalf("other client: %+v", v)
	}
}

func TestCodeSingleUse(t *testing.T) {
	r := newRig(t)
	c := code(1, 88) // fails at the wallet: still consumed
	if v := r.pay(payReq("p1", c, 500)); v.ResultCode != codec.UserBalanceNotEnough {
		t.Fatal(v.ResultCode)
	}
	v := r.pay(payReq("p2", c, 500))
	if v.ResultCode != codec.InvalidPaymentCode {
		t.Fatalf("reuse: %v", v.ResultCode)
	}
	if rc, _ := r.inquire(v.PaymentID); rc != codec.OrderNotExist {
		t.Fatal("reused code created a payment")
	}
	if n := r.w.count("pay"); n != 1 {
		t.Fatalf("dispatched %d", n)
	}
}

func TestRejectedBeforeDispatch(t *testing.T) {
	r := newRig(t)
	bad := payReq("p1", codec.Code{}, 500)
	bad.CodeErr = codec.ErrCodeNotDigit
	tests := []struct {
		name string
		req  *codec.PayRequest
		want codec.ResultCode
	}{
		{"malformed", bad, codec.InvalidPaymentCode},
		{"unknown prefix", payReq("p2", codec.MustParseCode("281999020000000000000001"), 5), codec.InvalidPaymentCode},
		{"wechat", payReq("p3", codec.MustParseCode("134567890123456789"), 5), codec.InvalidPaymentCode},
		{"no connector", payReq("p4", codec.MustParseCode("281003020000000000000001"), 5), codec.NoPayOptions},
		{"zero amount", payReq("p5", code(9, 1), 0), codec.ParamIllegal},
	}
	for _, tt := range tests {
		if v := r.pay(tt.req); v.ResultCode != tt.want {
			t.Errorf("%s: %v, want %v", tt.name, v.ResultCode, tt.want)
		}
	}
	if n := r.w.count("pay"); n != 0 {
		t.Fatalf("dispatched %d", n)
	}
}

func TestFollowUpToSuccess(t *testing.T) {
	r := newRig(t)
	v := r.pay(payReq("p1", code(1, 82), 500))
	if v.Status != codec.StatusProcessing {
		t.Fatal(v.Status)
	}
	// First poll: still waiting for the password.
	r.clock.Advance(time.Second)
	if n := r.e.ProcessDue(context.Background()); n != 1 {
		t.Fatalf("ran %d", n)
	}
	if _, iv := r.inquire(v.PaymentID); iv.Status != codec.StatusProcessing {
		t.Fatal(iv.Status)
	}
	r.w.approve(v.PaymentID)
	r.clock.Advance(2 * time.Second)
	r.e.ProcessDue(context.Background())
	rc, iv := r.inquire(v.PaymentID)
	if rc != codec.Success || iv.Status != codec.StatusSuccess || iv.ResultCode != codec.Success {
		t.Fatalf("%v %v %v", rc, iv.Status, iv.ResultCode)
	}
	if r.e.FollowUps() != 0 {
		t.Fatal("follow-up left queued")
	}
}

func TestLostAnswerSettledByInquiry(t *testing.T) {
	r := newRig(t)
	v := r.pay(payReq("p1", code(1, 92), 500))
	if v.ResultCode != codec.PaymentInProcess {
		t.Fatal(v.ResultCode)
	}
	r.clock.Advance(time.Second)
	r.e.ProcessDue(context.Background())
	if _, iv := r.inquire(v.PaymentID); iv.Status != codec.StatusSuccess {
		t.Fatal(iv.Status)
	}
	if n := r.w.count("pay"); n != 1 {
		t.Fatalf("paid again: %d pay calls", n)
	}
}

func TestDeadlineCancels(t *testing.T) {
	r := newRig(t)
	v := r.pay(payReq("p1", code(1, 83), 500))
	for i := 0; i < 100 && r.e.FollowUps() > 0; i++ {
		next, _ := r.e.NextFollowUp()
		r.clock.Advance(next.Sub(r.clock.Now()))
		r.e.ProcessDue(context.Background())
	}
	_, iv := r.inquire(v.PaymentID)
	if iv.Status != codec.StatusFail || iv.ResultCode != codec.OrderIsClosed {
		t.Fatalf("%v %v", iv.Status, iv.ResultCode)
	}
	if got := r.clock.Now().Sub(t0); got != engine.DefaultFollowUpDeadline {
		t.Fatalf("closed after %v", got)
	}
	if p := r.w.pay(v.PaymentID); p.state != "closed" || p.charged != 0 {
		t.Fatalf("wallet: %+v", p)
	}
	// The user confirms too late: nothing is charged.
	r.w.approve(v.PaymentID)
	if p := r.w.pay(v.PaymentID); p.charged != 0 {
		t.Fatal("charged after close")
	}
}

func TestCancelWhileProcessingThenLateSuccess(t *testing.T) {
	r := newRig(t)
	v := r.pay(payReq("p1", code(1, 80), 500))
	// The wallet's cancel fails once (unknown): lane gets U, follow-up retries.
	r.w.errCalls["cancel"] = 1
	res := r.e.Cancel(context.Background(), client, &codec.IDRequest{PaymentRequestID: []byte("p1")})
	if res.Result != codec.UnknownException {
		t.Fatalf("cancel: %v", res.Result)
	}
	// Meanwhile the user confirms: the wallet charges.
	r.w.approve(v.PaymentID)
	r.clock.Advance(time.Second)
	r.e.ProcessDue(context.Background())
	_, iv := r.inquire(v.PaymentID)
	if iv.Status != codec.StatusCancelled {
		t.Fatalf("status %v", iv.Status)
	}
	if p := r.w.pay(v.PaymentID); p.state != "reversed" || p.charged != 0 {
		t.Fatalf("wallet: %+v", p)
	}
	// Repeat cancel: SUCCESS again, no new wallet call needed.
	if res := r.e.Cancel(context.Background(), client, &codec.IDRequest{PaymentID: []byte(v.PaymentID)}); res.Result != codec.Success || res.CancelTime.IsZero() {
		t.Fatalf("repeat cancel %+v", res)
	}
	// A success reported after the cancel (a stale inquiry) is reversed.
	rc, tx := r.inquire(v.PaymentID)
	if rc != codec.Success || len(tx.Transactions) != 1 || tx.Transactions[0].Type != codec.TxnCancel {
		t.Fatalf("transactions %+v", tx.Transactions)
	}
}

func TestCancelAfterSuccessAndRefundRules(t *testing.T) {
	r := newRig(t)
	v := r.pay(payReq("p1", code(1, 1), 500))
	res := r.e.Cancel(context.Background(), client, &codec.IDRequest{PaymentID: []byte(v.PaymentID)})
	if res.Result != codec.Success {
		t.Fatal(res.Result)
	}
	if p := r.w.pay(v.PaymentID); p.state != "reversed" {
		t.Fatal(p.state)
	}
	var rv codec.RefundView
	r.e.Refund(context.Background(), client, &codec.RefundRequest{RefundRequestID: []byte("r1"), PaymentID: []byte(v.PaymentID), Amount: codec.Amount{Value: 1, Currency: hkd}}, &rv)
	if rv.ResultCode != codec.OrderStatusInvalid {
		t.Fatalf("refund after cancel: %v", rv.ResultCode)
	}
	// Cancel outside the window.
	v2 := r.pay(payReq("p2", code(2, 1), 500))
	r.clock.Advance(engine.DefaultCancelWindow + time.Second)
	if res := r.e.Cancel(context.Background(), client, &codec.IDRequest{PaymentID: []byte(v2.PaymentID)}); res.Result != codec.CancelWindowExceed {
		t.Fatal(res.Result)
	}
	if res := r.e.Cancel(context.Background(), client, &codec.IDRequest{PaymentID: []byte("nope")}); res.Result != codec.OrderNotExist {
		t.Fatal(res.Result)
	}
}

func TestRefunds(t *testing.T) {
	r := newRig(t)
	v := r.pay(payReq("p1", code(1, 1), 500))
	refund := func(id string, amt int64) codec.RefundView {
		var rv codec.RefundView
		r.e.Refund(context.Background(), client, &codec.RefundRequest{RefundRequestID: []byte(id), PaymentID: []byte(v.PaymentID), Amount: codec.Amount{Value: amt, Currency: hkd}}, &rv)
		return rv
	}
	if rv := refund("r1", 200); rv.ResultCode != codec.Success || rv.Status != codec.StatusSuccess || rv.RefundID == "" {
		t.Fatalf("%+v", rv)
	}
	if rv := refund("r1", 200); rv.ResultCode != codec.Success {
		t.Fatalf("replay %v", rv.ResultCode)
	}
	if rv := refund("r1", 300); rv.ResultCode != codec.RepeatReqInconsistent {
		t.Fatalf("inconsistent %v", rv.ResultCode)
	}
	if rv := refund("r2", 301); rv.ResultCode != codec.RefundAmountExceed {
		t.Fatalf("over %v", rv.ResultCode)
	}
	if rv := refund("r3", 300); rv.ResultCode != codec.Success {
		t.Fatalf("rest %v", rv.ResultCode)
	}
	var iv codec.RefundView
	if rc := r.e.InquireRefund(context.Background(), client, &codec.InquiryRefundRequest{RefundRequestID: []byte("r3")}, &iv); rc != codec.Success || iv.Amount.Value != 300 {
		t.Fatalf("inquiry %v %+v", rc, iv)
	}
	if res := r.e.Cancel(context.Background(), client, &codec.IDRequest{PaymentID: []byte(v.PaymentID)}); res.Result != codec.OrderStatusInvalid {
		t.Fatalf("cancel with refunds %v", res.Result)
	}
	if p := r.w.pay(v.PaymentID); p.refunded != 500 {
		t.Fatalf("wallet refunded %d", p.refunded)
	}
}

func TestConcurrentPartialRefunds(t *testing.T) {
	r := newRig(t)
	v := r.pay(payReq("p1", code(1, 1), 50))
	var ok atomic.Int64
	var wg sync.WaitGroup
	for i := 0; i < 100; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			var rv codec.RefundView
			r.e.Refund(context.Background(), client, &codec.RefundRequest{RefundRequestID: []byte(fmt.Sprint("r", i)), PaymentID: []byte(v.PaymentID), Amount: codec.Amount{Value: 1, Currency: hkd}}, &rv)
			if rv.ResultCode == codec.Success {
				ok.Add(1)
			} else if rv.ResultCode != codec.RefundAmountExceed {
				t.Errorf("refund %d: %v %s", i, rv.ResultCode, rv.ResultMessage)
			}
		}(i)
	}
	wg.Wait()
	if ok.Load() != 50 {
		t.Fatalf("%d refunds succeeded, want 50", ok.Load())
	}
	if p := r.w.pay(v.PaymentID); p.refunded != 50 {
		t.Fatalf("wallet refunded %d", p.refunded)
	}
}

func TestConcurrentDuplicatesDispatchOnce(t *testing.T) {
	r := newRig(t)
	// Hold the wallet until every duplicate has arrived.
	release := make(chan struct{})
	var once sync.Once
	r.w.payHook = func(string) { <-release }
	const ids, dups = 200, 5
	var wg sync.WaitGroup
	results := make([][]codec.PaymentView, ids)
	var arrived atomic.Int64
	for i := 0; i < ids; i++ {
		results[i] = make([]codec.PaymentView, dups)
		for d := 0; d < dups; d++ {
			wg.Add(1)
			go func(i, d int) {
				defer wg.Done()
				if arrived.Add(1) == ids*dups {
					once.Do(func() { close(release) })
				}
				r.e.Pay(context.Background(), client, payReq(fmt.Sprint("p", i), code(i, 1), 100), &results[i][d])
			}(i, d)
		}
	}
	wg.Wait()
	if n := r.w.count("pay"); n != ids {
		t.Fatalf("dispatched %d, want %d", n, ids)
	}
	for i := range results {
		for d := range results[i] {
			v := results[i][d]
			if v.PaymentID != results[i][0].PaymentID {
				t.Fatalf("request %d: different payment ids", i)
			}
			if v.ResultCode != codec.Success && v.ResultCode != codec.PaymentInProcess {
				t.Fatalf("request %d dup %d: %v", i, d, v.ResultCode)
			}
		}
	}
}

// TestLateSuccessAfterCancelIsReversed: the lane cancels while the pay is
// still in flight; the cancel is confirmed first, then the wallet (one that
// does not honour the close) answers the pay with a success. The payment
// stays CANCELLED and the engine reverses the charge at the wallet.
func TestLateSuccessAfterCancelIsReversed(t *testing.T) {
	r := newRig(t)
	r.w.ignoreTombstones = true
	inPay := make(chan string)
	release := make(chan struct{})
	r.w.payHook = func(id string) { inPay <- id; <-release }
	done := make(chan codec.PaymentView)
	go func() { done <- r.pay(payReq("p1", code(1, 1), 500)) }()
	id := <-inPay
	res := r.e.Cancel(context.Background(), client, &codec.IDRequest{PaymentRequestID: []byte("p1")})
	if res.Result != codec.Success {
		t.Fatalf("cancel: %v", res.Result)
	}
	close(release)
	v := <-done
	if v.Status != codec.StatusCancelled {
		t.Fatalf("pay answered %v after the cancel", v.Status)
	}
	if p := r.w.pay(id); p.state != "success" || p.charged != 500 {
		t.Fatalf("setup: the wallet should hold the late charge: %+v", p)
	}
	r.clock.Advance(time.Second)
	r.e.ProcessDue(context.Background())
	if p := r.w.pay(id); p.state != "reversed" || p.charged != 0 {
		t.Fatalf("late success not reversed: %+v", p)
	}
	if _, iv := r.inquire(id); iv.Status != codec.StatusCancelled {
		t.Fatalf("status %v", iv.Status)
	}
	if n := r.e.Stats().Reversals.Load(); n != 1 {
		t.Fatalf("reversals %d", n)
	}
}

// TestNotSentFailsAtOnce: a pay that never left the process fails at once
// (nothing can be charged), instead of being polled until the deadline.
func TestNotSentFailsAtOnce(t *testing.T) {
	r := newRig(t)
	r.w.notSent = true
	v := r.pay(payReq("p1", code(1, 1), 500))
	if v.ResultCode != codec.ProcessFail || v.Status != codec.StatusFail {
		t.Fatalf("answer %v %v, want FAIL at once: nothing was sent", v.ResultCode, v.Status)
	}
	if n := r.e.FollowUps(); n != 0 {
		t.Fatalf("%d follow-ups queued for a payment that is over", n)
	}
	if _, iv := r.inquire(v.PaymentID); iv.Status != codec.StatusFail || iv.ResultCode != codec.ProcessFail {
		t.Fatalf("%v %v", iv.Status, iv.ResultCode)
	}
	if p := r.w.pay(v.PaymentID); p.state != "" {
		t.Fatalf("the wallet knows a payment it never got: %+v", p)
	}
}

// TestNotFoundLongAfterPayCloses: the pay timed out and the wallet, asked
// well after, has never heard of it: closed without waiting for the deadline.
func TestNotFoundLongAfterPayCloses(t *testing.T) {
	r2 := newRig(t)
	// A pay lost before reaching the wallet: the fake's lost answer (92)
	// with the wallet's record of it erased.
	v2 := r2.pay(payReq("p2", code(2, 92), 500))
	r2.w.mu.Lock()
	delete(r2.w.pays, v2.PaymentID)
	r2.w.mu.Unlock()
	r2.clock.Advance(time.Second) // first poll: not found, but the pay timeout is 5 s
	r2.e.ProcessDue(context.Background())
	if _, iv := r2.inquire(v2.PaymentID); iv.Status != codec.StatusProcessing {
		t.Fatalf("closed too early: %v", iv.Status)
	}
	for i := 0; i < 10; i++ {
		next, _ := r2.e.NextFollowUp()
		r2.clock.Advance(next.Sub(r2.clock.Now()))
		r2.e.ProcessDue(context.Background())
		if _, iv := r2.inquire(v2.PaymentID); iv.Status != codec.StatusProcessing {
			break
		}
	}
	_, iv := r2.inquire(v2.PaymentID)
	if iv.Status != codec.StatusFail || iv.ResultCode != codec.OrderIsClosed {
		t.Fatalf("%v %v", iv.Status, iv.ResultCode)
	}
	if elapsed := r2.clock.Now().Sub(t0); elapsed >= engine.DefaultFollowUpDeadline {
		t.Fatalf("closed only at the deadline (%v)", elapsed)
	}
}
