package engine_test

import (
	"context"
	"testing"

	"github.com/paycode/paycode/codec"
	"github.com/paycode/paycode/engine"
	"github.com/paycode/paycode/engine/enginetest"
)

// cancelAnswerWallet is a fakeWallet whose cancels can lose their answer
// after taking effect (the wallet reversed, paycode never heard) or be
// refused with F (a wallet that will not reverse).
type cancelAnswerWallet struct {
	*fakeWallet
	lose   int  // cancels that take effect but answer with an error
	refuse bool // cancels answer F ORDER_STATUS_INVALID without effect
}

func (w *cancelAnswerWallet) Cancel(ctx context.Context, id string) (engine.WalletResult, error) {
	if w.refuse {
		return engine.WalletResult{Outcome: engine.OutcomeFail, Code: codec.OrderStatusInvalid}, nil
	}
	res, err := w.fakeWallet.Cancel(ctx, id)
	if w.lose > 0 {
		w.lose--
		return engine.WalletResult{}, errLost
	}
	return res, err
}

func withWallet(w engine.Wallet) func(*engine.Config) {
	return func(c *engine.Config) { c.Wallets = map[string]engine.Wallet{"w1": w} }
}

// TestPendingCancelIsNotAnsweredAsSuccess is the kill test's "paycode
// says SUCCESS, wallet has it REVERSED": a lane cancels a success, the
// wallet reverses it but the answer is lost (then the process dies). The
// cancel is durable and paycode will finish it, so until the wallet
// confirms, no answer — before the crash, or after the restart before the
// recovered follow-up has run — may call the payment SUCCESS: the
// merchant would hand over goods for money that is going back.
func TestPendingCancelIsNotAnsweredAsSuccess(t *testing.T) {
	j := newMemJournal()
	w := &cancelAnswerWallet{fakeWallet: newFakeWallet(), lose: 1}
	clock := enginetest.NewManualClock(t0)
	a := newDurableRig(t, j, w.fakeWallet, clock, withWallet(w))
	v := a.pay(payReq("p1", code(1, 1), 500))
	if v.Status != codec.StatusSuccess {
		t.Fatalf("pay: %v", v.Status)
	}
	res := a.e.Cancel(context.Background(), client, &codec.IDRequest{PaymentID: []byte(v.PaymentID)})
	if res.Result != codec.UnknownException {
		t.Fatalf("cancel with a lost answer: %v", res.Result)
	}
	if p := w.pay(v.PaymentID); p.state != "reversed" {
		t.Fatalf("wallet state %q, want reversed", p.state)
	}
	notSuccess := func(when string, e *engine.Engine) {
		t.Helper()
		var iv codec.PaymentView
		if rc := e.Inquire(context.Background(), client, &codec.IDRequest{PaymentID: []byte(v.PaymentID)}, &iv); rc != codec.Success {
			t.Fatalf("%s: inquiry %v", when, rc)
		}
		if iv.Status != codec.StatusProcessing || iv.ResultCode.Status() != codec.StatusU || !iv.PaymentTime.IsZero() {
			t.Fatalf("%s: inquiry answers %v/%v (paid at %v) while the wallet has reversed it and paycode's cancel is pending",
				when, iv.Status, iv.ResultCode, iv.PaymentTime)
		}
		var pv codec.PaymentView
		e.Pay(context.Background(), client, payReq("p1", code(1, 1), 500), &pv)
		if pv.Status == codec.StatusSuccess || pv.ResultCode == codec.Success {
			t.Fatalf("%s: a replayed pay answers %v/%v", when, pv.Status, pv.ResultCode)
		}
	}
	notSuccess("cancel pending", a.e)

	// The process dies; the restart recovers the pending cancel. A lane
	// (or the kill test) inquiring before the follow-up has run must not
	// read SUCCESS as final.
	b := newDurableRig(t, j, w.fakeWallet, clock, withWallet(w))
	if rec := j.payment(v.PaymentID); rec.Status != codec.StatusSuccess || !rec.CancelWanted {
		t.Fatalf("journal before the follow-up: %+v", rec)
	}
	notSuccess("recovered, follow-up not run", b.e)

	b.e.ProcessDue(context.Background())
	_, iv := b.inquire(v.PaymentID)
	if iv.Status != codec.StatusCancelled || iv.ResultCode != codec.OrderIsCanceled {
		t.Fatalf("after the follow-up: %v/%v", iv.Status, iv.ResultCode)
	}
	if rec := j.payment(v.PaymentID); rec.Status != codec.StatusCancelled || rec.CancelWanted {
		t.Fatalf("journal after the follow-up: %+v", rec)
	}
}

// TestRefusedCancelAnswersSuccessAgain: when the wallet refuses to reverse
// (F), the pending cancel is dropped and the payment is SUCCESS again.
func TestRefusedCancelAnswersSuccessAgain(t *testing.T) {
	j := newMemJournal()
	w := &cancelAnswerWallet{fakeWallet: newFakeWallet()}
	clock := enginetest.NewManualClock(t0)
	r := newDurableRig(t, j, w.fakeWallet, clock, withWallet(w))
	v := r.pay(payReq("p1", code(1, 1), 500))
	// First attempt: unknown (the wallet is unreachable), then refused.
	w.errCalls["cancel"] = 1
	if res := r.e.Cancel(context.Background(), client, &codec.IDRequest{PaymentID: []byte(v.PaymentID)}); res.Result != codec.UnknownException {
		t.Fatalf("cancel: %v", res.Result)
	}
	if _, iv := r.inquire(v.PaymentID); iv.Status != codec.StatusProcessing {
		t.Fatalf("cancel pending: %v", iv.Status)
	}
	w.refuse = true
	next, _ := r.e.NextFollowUp()
	clock.Advance(next.Sub(clock.Now()))
	r.e.ProcessDue(context.Background())
	_, iv := r.inquire(v.PaymentID)
	if iv.Status != codec.StatusSuccess || iv.ResultCode != codec.Success || iv.PaymentTime.IsZero() {
		t.Fatalf("after the wallet refused: %v/%v paid at %v", iv.Status, iv.ResultCode, iv.PaymentTime)
	}
	if p := w.pay(v.PaymentID); p.state != "success" || p.charged != 500 {
		t.Fatalf("wallet: %+v", p)
	}
}
