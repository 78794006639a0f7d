package httpapi_test

import (
	"testing"
)

// TestCancelBeforePay: a lane's pay times out on the network, the lane
// voids the sale with a cancel, and the delayed pay arrives afterwards.
// The cancel of the unknown paymentRequestId answers SUCCESS (voided);
// the late pay is refused ORDER_IS_CANCELED (F) and never reaches the
// wallet; the code is not consumed; inquiries say CANCELLED; the void is
// per client.
func TestCancelBeforePay(t *testing.T) {
	e := newE2E(t)
	c := e.post("cancel", "C1", `{"paymentRequestId":"late-1"}`)
	if c.Result.Code != "SUCCESS" || c.Result.Status != "S" || c.PaymentID != "" || c.CancelTime == "" {
		t.Fatalf("cancel of an unknown request: %+v", c)
	}
	code := e.testCode("281010", 1, 1) // a code the wallet would approve
	p := e.post("pay", "C1", payBody("late-1", code, 5600))
	if p.Result.Code != "ORDER_IS_CANCELED" || p.Result.Status != "F" || p.PaymentID != "" {
		t.Fatalf("pay after its cancel: %+v", p)
	}
	if n := e.st.Engine.Stats().Dispatched.Load(); n != 0 {
		t.Fatalf("dispatched %d pays, want 0", n)
	}
	if c := e.post("cancel", "C1", `{"paymentRequestId":"late-1"}`); c.Result.Code != "SUCCESS" {
		t.Fatalf("repeat cancel: %+v", c.Result)
	}
	q := e.post("inquiryPayment", "C1", `{"paymentRequestId":"late-1"}`)
	if q.Result.Code != "SUCCESS" || q.PaymentStatus != "CANCELLED" || q.PaymentResult != "ORDER_IS_CANCELED" {
		t.Fatalf("inquiry of a voided request: %+v", q)
	}
	// The refused pay did not use the code up.
	ok := e.post("pay", "C1", payBody("new-1", code, 5600))
	if ok.Result.Code != "SUCCESS" {
		t.Fatalf("the code under a new request id: %+v", ok.Result)
	}
	// Another client's request with the same id is its own.
	if p := e.post("pay", "C2", payBody("late-1", e.testCode("281010", 2, 1), 100)); p.Result.Code != "SUCCESS" {
		t.Fatalf("another client's late-1: %+v", p.Result)
	}
	// A cancel that finds the pay already there cancels it as usual.
	s := e.post("pay", "C1", payBody("race-1", e.testCode("281010", 3, 1), 300))
	if c := e.post("cancel", "C1", `{"paymentRequestId":"race-1"}`); c.Result.Code != "SUCCESS" || c.PaymentID != s.PaymentID {
		t.Fatalf("cancel of a paid request: %+v", c)
	}
	if a := e.agree("C1", s.PaymentID, 300); a.PaymentStatus != "CANCELLED" {
		t.Fatalf("status %s", a.PaymentStatus)
	}
	if n := e.st.Engine.Stats().Dispatched.Load(); n != 3 {
		t.Fatalf("dispatched %d pays, want 3", n)
	}
}
