package httpapi_test

import (
	"testing"
	"time"

	"github.com/valyala/fasthttp"

	"github.com/paycode/paycode/engine"
	"github.com/paycode/paycode/engine/journal"
	"github.com/paycode/paycode/loadtest/stack"
)

// TestReplayToAnotherNode: a signed pay and a signed refund captured on
// their way to node A and sent, byte for byte and inside the
// request-time window, to node B of the same shared journal get A's
// answers (the same paymentId and refundId): B dispatches nothing, and
// the wallet holds one charge and one refund. The signature does not
// name a node; idempotency in the shared journal is what makes the
// replay harmless.
func TestReplayToAnotherNode(t *testing.T) {
	db := journal.NewMemDB(nil)
	node := func(name string, n int) *e2e {
		j := db.Node(name, 10*time.Second)
		return newSignedE2E(t, signedOpts{
			engine: func(c *engine.Config) { c.Node = n },
			stack:  func(c *stack.Config) { c.Node.Journal, c.Node.CodeKey = j, j.CodeKey() },
		})
	}
	a, b := node("a", 1), node("b", 2)
	l := a.lane(merchantID)
	var captured []*fasthttp.Request
	l.tweak = func(r *fasthttp.Request) {
		c := new(fasthttp.Request)
		r.CopyTo(c)
		captured = append(captured, c)
	}
	pay := l.send("pay", payBody("rn-1", a.testCode("281001", 1, 0), 500)).mustVerify(t, "pay on A")
	ref := l.send("refund", refundBody("rn-1-r", pay.PaymentID, 200)).mustVerify(t, "refund on A")
	if pay.Result.Code != "SUCCESS" || ref.Result.Code != "SUCCESS" {
		t.Fatalf("on A: pay %s, refund %s", pay.raw, ref.raw)
	}
	lb := b.lane(merchantID)
	resp := fasthttp.AcquireResponse()
	defer fasthttp.ReleaseResponse(resp)
	for i, want := range []signedAnswer{pay, ref} {
		req := new(fasthttp.Request)
		captured[i].CopyTo(req)
		req.SetHost(lb.hc.Addr) // the same bytes, another node's address
		got := lb.do(req, resp, string(req.URI().PathOriginal())).mustVerify(t, "replay on B")
		if got.Result != want.Result || got.PaymentID != want.PaymentID || got.RefundID != want.RefundID {
			t.Errorf("replay %d on B: %s, want A's %s", i, got.raw, want.raw)
		}
	}
	if n := b.st.Engine.Stats().Dispatched.Load(); n != 0 {
		t.Fatalf("B dispatched %d pays for a replay", n)
	}
	if en, ok := a.entry(pay.PaymentID); !ok || en.Charged != 500 || en.Refunded != 200 {
		t.Fatalf("A's wallet: %+v (found %v), want 500 charged, 200 refunded once", en, ok)
	}
	if _, ok := b.entry(pay.PaymentID); ok {
		t.Fatal("B's wallet got the replayed pay")
	}
}
