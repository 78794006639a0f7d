package engine_test

import (
	"context"
	"testing"

	"github.com/paycode/paycode/codec"
)

// TestInquiryForAnotherAmountNeverSettles: a wallet whose inquiry answers
// SUCCESS for another amount (its bug, or a mixed-up answer) does not make
// the payment SUCCESS; the engine keeps asking and, at the deadline,
// closes it. An answer naming the payment's own amount settles it.
func TestInquiryForAnotherAmountNeverSettles(t *testing.T) {
	r := newRig(t)
	r.w.inquiryAmount = codec.Amount{Value: 1, Currency: hkd}
	v := r.pay(payReq("p1", code(1, 83), 500))
	r.w.approve(v.PaymentID) // charged at the wallet; the answers name 1, not 500
	for i := 0; i < 100 && r.e.FollowUps() > 0; i++ {
		next, _ := r.e.NextFollowUp()
		r.clock.Advance(next.Sub(r.clock.Now()))
		r.e.ProcessDue(context.Background())
		if _, iv := r.inquire(v.PaymentID); iv.Status == codec.StatusSuccess {
			t.Fatalf("settled SUCCESS on an answer for another amount after %d follow-ups", i+1)
		}
	}
	if _, iv := r.inquire(v.PaymentID); iv.Status != codec.StatusFail || iv.ResultCode != codec.OrderIsClosed {
		t.Fatalf("%v %v, want FAIL ORDER_IS_CLOSED (closed and reversed at the deadline)", iv.Status, iv.ResultCode)
	}
	if r.w.count("inquire") < 2 || r.w.count("cancel") < 1 {
		t.Fatalf("inquiries %d, cancels %d", r.w.count("inquire"), r.w.count("cancel"))
	}

	ok := newRig(t)
	ok.w.inquiryAmount = codec.Amount{Value: 500, Currency: hkd}
	v = ok.pay(payReq("p2", code(2, 83), 500))
	ok.w.approve(v.PaymentID)
	next, _ := ok.e.NextFollowUp()
	ok.clock.Advance(next.Sub(ok.clock.Now()))
	ok.e.ProcessDue(context.Background())
	if _, iv := ok.inquire(v.PaymentID); iv.Status != codec.StatusSuccess {
		t.Fatalf("an answer naming the payment's own amount: %v", iv.Status)
	}
}
