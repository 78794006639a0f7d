package httpapi_test

import (
	"bytes"
	"fmt"
	"testing"
	"time"

	"github.com/valyala/fasthttp"

	"github.com/paycode/paycode/engine/sign"
)

// TestReplayOutsideWindowOrEdited: what an attacker can do with a
// captured signed request. Its exact bytes get the idempotent answer
// inside the request-time window (TestByteIdenticalReplays) and
// INVALID_SIGNATURE past it; edited — a captured refund given a new
// refundRequestId, so it would refund again — it is INVALID_SIGNATURE
// at once, and nothing more is refunded.
func TestReplayOutsideWindowOrEdited(t *testing.T) {
	e := newSignedE2E(t, signedOpts{})
	l := e.lane(merchantID)
	p := l.send("pay", payBody("rw-1", e.testCode("281001", 1, 0), 900)).mustVerify(t, "pay")
	var captured *fasthttp.Request
	l.tweak = func(r *fasthttp.Request) {
		captured = new(fasthttp.Request)
		r.CopyTo(captured)
	}
	if a := l.send("refund", refundBody("rw-r1", p.PaymentID, 300)).mustVerify(t, "refund"); a.Result.Code != "SUCCESS" {
		t.Fatalf("refund: %s", a.raw)
	}
	l.tweak = nil
	resp := fasthttp.AcquireResponse()
	defer fasthttp.ReleaseResponse(resp)
	replay := func(edit func(*fasthttp.Request)) signedAnswer {
		t.Helper()
		req := new(fasthttp.Request)
		captured.CopyTo(req)
		if edit != nil {
			edit(req)
		}
		return l.do(req, resp, string(req.URI().PathOriginal()))
	}
	edited := replay(func(r *fasthttp.Request) {
		r.SetBody(bytes.Replace(r.Body(), []byte(`"rw-r1"`), []byte(`"rw-r2"`), 1))
	})
	if edited.Result.Code != "INVALID_SIGNATURE" || edited.Result.Status != "F" {
		t.Fatalf("the captured refund with a new refundRequestId: %s, want INVALID_SIGNATURE", edited.raw)
	}
	if a := replay(nil).mustVerify(t, "replay inside the window"); a.Result.Code != "SUCCESS" || a.RefundID == "" {
		t.Fatalf("byte-identical replay inside the window: %s", a.raw)
	}
	e.clock.Advance(sign.DefaultWindow + time.Second)
	if a := replay(nil); a.Result.Code != "INVALID_SIGNATURE" {
		t.Fatalf("byte-identical replay %s after signing: %s, want INVALID_SIGNATURE", sign.DefaultWindow+time.Second, a.raw)
	}
	a := l.send("inquiryRefund", fmt.Sprintf(`{"refundRequestId":%q}`, "rw-r2")).mustVerify(t, "inquiry of the edited refund")
	if a.Result.Code == "SUCCESS" {
		t.Fatalf("the edited refund was made: %s", a.raw)
	}
	in := l.send("inquiryPayment", fmt.Sprintf(`{"paymentId":%q}`, p.PaymentID)).mustVerify(t, "inquiry")
	if n := bytes.Count([]byte(in.raw), []byte(`"transactionType":"REFUND"`)); n != 1 {
		t.Fatalf("refunds of the payment: %d, want 1: %s", n, in.raw)
	}
}
