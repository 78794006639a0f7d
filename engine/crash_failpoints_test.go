//go:build failpoints

package engine_test

import (
	"context"
	"errors"
	"testing"

	"github.com/paycode/paycode/codec"
	"github.com/paycode/paycode/engine"
	"github.com/paycode/paycode/engine/enginetest"
)

// Crash tests through the engine's failpoints, which exist only in
// builds with -tags failpoints (.ci/run runs them).

// TestCrashAfterIntentRecoversWithoutPaying: the process dies right after
// the intent is synced; the wallet never heard of the payment. After the
// restart the payment is settled by inquiry and cancel, never paid.
func TestCrashAfterIntentRecoversWithoutPaying(t *testing.T) {
	j, w := newMemJournal(), newFakeWallet()
	clock := enginetest.NewManualClock(t0)
	crashDuringPay(t, newDurableRig(t, j, w, clock, crashAt(engine.FailAfterIntent)), payReq("p1", code(1, 1), 500))
	b := newDurableRig(t, j, w, clock, nil)
	if b.e.FollowUps() != 1 {
		t.Fatalf("recovered follow-ups %d", b.e.FollowUps())
	}
	// Same request again after the restart: answered from the journal.
	again := b.pay(payReq("p1", code(1, 1), 500))
	if again.Status != codec.StatusProcessing {
		t.Fatalf("replay after restart: %v", again.Status)
	}
	for i := 0; i < 100 && b.e.FollowUps() > 0; i++ {
		next, _ := b.e.NextFollowUp()
		if d := next.Sub(clock.Now()); d > 0 {
			clock.Advance(d)
		}
		b.e.ProcessDue(context.Background())
	}
	_, iv := b.inquire(again.PaymentID)
	if iv.Status != codec.StatusFail || iv.ResultCode != codec.OrderIsClosed {
		t.Fatalf("final %v %v", iv.Status, iv.ResultCode)
	}
	if w.count("pay") != 0 {
		t.Fatalf("recovery paid: %d pay calls", w.count("pay"))
	}
	// The code stays used across the restart.
	if v := b.pay(payReq("p2", code(1, 1), 500)); v.ResultCode != codec.InvalidPaymentCode {
		t.Fatalf("code reuse after restart: %v", v.ResultCode)
	}
}

// TestLostOutcomeFoundAgainPastDeadline: the outcome write was lost in
// the crash and the restart comes after the payment's deadline: recovery
// must ask the wallet before cancelling, so the success the lane saw
// stands.
func TestLostOutcomeFoundAgainPastDeadline(t *testing.T) {
	j, w := newMemJournal(), newFakeWallet()
	clock := enginetest.NewManualClock(t0)
	crashDuringPay(t, newDurableRig(t, j, w, clock, crashAt(engine.FailAfterWallet)), payReq("p1", code(1, 1), 500))
	clock.Advance(engine.DefaultFollowUpDeadline * 3)
	b := newDurableRig(t, j, w, clock, nil)
	// The wallet is unreachable at first: the inquiry fails, and the
	// payment must still not be cancelled at its (long past) deadline.
	w.errCalls["inquire"] = 2
	for i := 0; i < 3; i++ {
		b.e.ProcessDue(context.Background())
		next, _ := b.e.NextFollowUp()
		clock.Advance(next.Sub(clock.Now()))
	}
	b.e.ProcessDue(context.Background())
	var v codec.PaymentView
	b.e.Inquire(context.Background(), client, &codec.IDRequest{PaymentRequestID: []byte("p1")}, &v)
	if v.Status != codec.StatusSuccess {
		t.Fatalf("status %v: a success was lost", v.Status)
	}
	if w.count("cancel") != 0 {
		t.Fatal("cancelled a payment the wallet reported paid")
	}
}

// TestRefundOfLostOutcomeIsUnknown: the success write was lost in the
// crash (a lane may have been told SUCCESS) and the wallet is unreachable
// at the restart: a refund is answered U and not recorded, never a final
// ORDER_STATUS_INVALID, and the same refund goes through once the wallet
// has confirmed the success.
func TestRefundOfLostOutcomeIsUnknown(t *testing.T) {
	j, w := newMemJournal(), newFakeWallet()
	clock := enginetest.NewManualClock(t0)
	crashDuringPay(t, newDurableRig(t, j, w, clock, crashAt(engine.FailAfterWallet)), payReq("p1", code(1, 1), 500))
	b := newDurableRig(t, j, w, clock, nil)
	w.errCalls["inquire"] = 1
	b.e.ProcessDue(context.Background())
	inquire := func() codec.PaymentView {
		var v codec.PaymentView
		b.e.Inquire(context.Background(), client, &codec.IDRequest{PaymentRequestID: []byte("p1")}, &v)
		return v
	}
	iv := inquire()
	if iv.PaymentID == "" || iv.Status == codec.StatusSuccess {
		t.Fatalf("after a failed recovery inquiry: %q %v", iv.PaymentID, iv.Status)
	}
	refund := func() codec.RefundView {
		var rv codec.RefundView
		b.e.Refund(context.Background(), client, &codec.RefundRequest{RefundRequestID: []byte("r1"), PaymentID: []byte(iv.PaymentID), Amount: codec.Amount{Value: 100, Currency: hkd}}, &rv)
		return rv
	}
	if rv := refund(); rv.ResultCode != codec.UnknownException {
		t.Fatalf("refund while the outcome is unconfirmed: %v (want U UNKNOWN_EXCEPTION)", rv.ResultCode)
	}
	if w.count("refund") != 0 {
		t.Fatal("the wallet was asked to refund an unconfirmed payment")
	}
	for i := 0; i < 10 && b.e.FollowUps() > 0; i++ {
		next, _ := b.e.NextFollowUp()
		if d := next.Sub(clock.Now()); d > 0 {
			clock.Advance(d)
		}
		b.e.ProcessDue(context.Background())
	}
	if iv = inquire(); iv.Status != codec.StatusSuccess {
		t.Fatalf("recovered: %v", iv.Status)
	}
	if rv := refund(); rv.ResultCode.Status() == 'F' {
		t.Fatalf("the same refund after the wallet confirmed: %v", rv.ResultCode)
	}
}

// TestCrashAfterWalletCharged: the wallet charged but the process died
// before journaling the outcome; recovery finds the success by inquiry.
func TestCrashAfterWalletCharged(t *testing.T) {
	j, w := newMemJournal(), newFakeWallet()
	clock := enginetest.NewManualClock(t0)
	crashDuringPay(t, newDurableRig(t, j, w, clock, crashAt(engine.FailAfterWallet)), payReq("p1", code(1, 1), 500))
	b := newDurableRig(t, j, w, clock, nil)
	b.e.ProcessDue(context.Background())
	var v codec.PaymentView
	if rc := b.e.Inquire(context.Background(), client, &codec.IDRequest{PaymentRequestID: []byte("p1")}, &v); rc != codec.Success || v.Status != codec.StatusSuccess {
		t.Fatalf("after recovery: %v %v", rc, v.Status)
	}
	if w.count("pay") != 1 {
		t.Fatalf("pay calls %d", w.count("pay"))
	}
	if rec := j.payment(v.PaymentID); rec.Status != codec.StatusSuccess {
		t.Fatalf("journal %v", rec.Status)
	}
}

// errCrash is what a crashAt failpoint panics with: the process "dies"
// there, abandoning the engine's in-memory state like a SIGKILL would.
var errCrash = errors.New("crash")

// crashAt returns a config tweak whose failpoint crashes at point.
func crashAt(point string) func(*engine.Config) {
	return func(c *engine.Config) {
		c.Failpoint = func(name string) {
			if name == point {
				panic(errCrash)
			}
		}
	}
}

// crashDuringPay pays req on r, whose failpoint must crash during it.
func crashDuringPay(t *testing.T, r *rig, req *codec.PayRequest) {
	t.Helper()
	defer func() {
		if recover() != errCrash {
			t.Fatal("the failpoint did not fire")
		}
	}()
	r.pay(req)
}
