package httpapi_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/paycode/paycode/engine"
	"github.com/paycode/paycode/engine/httpapi"
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

// TestVoidBudgetRotatingClientIDs: under a trusting default policy a
// client id is whatever the lane writes, so rotating it must not buy new
// cancel-before-pay budgets. Over real HTTP with engine.maxVoidsPerHour
// 2: ten unlisted ids void 2 requests between them, the rest answered
// REQUEST_TRAFFIC_EXCEED_LIMIT (U) with nothing recorded; a listed
// trusted id and a signing merchant keep budgets of their own.
func TestVoidBudgetRotatingClientIDs(t *testing.T) {
	e := newSignedE2E(t, signedOpts{
		security: func(s *httpapi.Security) { s.Default = &httpapi.Client{Policy: httpapi.PolicyNone} },
		engine:   func(c *engine.Config) { c.MaxVoidsPerHour = 2 },
	})
	voided := 0
	for i := range 10 {
		cid := fmt.Sprintf("ROTATED-%d", i)
		c := e.post("cancel", cid, `{"paymentRequestId":"void-1"}`)
		switch {
		case c.Result.Code == "SUCCESS":
			voided++
		case c.Result.Code != "REQUEST_TRAFFIC_EXCEED_LIMIT" || c.Result.Status != "U" || !strings.Contains(c.Result.Message, "maxVoidsPerHour"):
			t.Fatalf("cancel-before-pay from %s: %+v", cid, c.Result)
		default:
			if q := e.post("inquiryPayment", cid, `{"paymentRequestId":"void-1"}`); q.Result.Code != "ORDER_NOT_EXIST" {
				t.Fatalf("inquiry of a refused void from %s: %+v, want ORDER_NOT_EXIST (nothing recorded)", cid, q.Result)
			}
		}
	}
	if voided != 2 {
		t.Fatalf("ten rotated client ids voided %d requests, want 2 (one budget for every unlisted id)", voided)
	}
	for i := range 2 {
		body := fmt.Sprintf(`{"paymentRequestId":"void-%d"}`, i)
		if c := e.post("cancel", trustedID, body); c.Result.Code != "SUCCESS" {
			t.Fatalf("listed trusted client's void %d: %+v", i, c.Result)
		}
		if c := e.lane(merchantID).send("cancel", body).mustVerify(t, "cancel"); c.Result.Code != "SUCCESS" {
			t.Fatalf("signing merchant's void %d: %+v", i, c.Result)
		}
	}
}
