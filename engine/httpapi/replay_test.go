package httpapi_test

import (
	"fmt"
	"log/slog"
	"net/http"
	"testing"
	"time"

	"github.com/valyala/fasthttp"

	"github.com/paycode/paycode/engine/journal"
	"github.com/paycode/paycode/loadtest/stack"
)

// TestByteIdenticalReplays: the exact bytes of a signed request sent
// again — a lane's or a proxy's retry — get the idempotent answer, never
// INVALID_SIGNATURE: pays that ended S, U and F, a cancel, a refund and
// an inquiry, replayed at once and again after a restart on the same
// journal, all inside the request-time window.
func TestByteIdenticalReplays(t *testing.T) {
	dir := t.TempDir()
	quiet := slog.New(slog.DiscardHandler)
	open := func() *journal.Pebble {
		j, err := journal.Open(dir, journal.Options{Logger: quiet})
		if err != nil {
			t.Fatal(err)
		}
		return j
	}
	logs := &lockedBuffer{}
	log := slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	start := func(listen string) *e2e {
		j := open()
		st, clock := startSigned(t, signedOpts{stack: func(c *stack.Config) {
			c.Node.Journal, c.Node.CodeKey, c.Node.Listen = j, j.CodeKey(), listen
		}}, log)
		return &e2e{t: t, st: st, clock: clock, logs: logs, http: &http.Client{Timeout: 10 * time.Second}}
	}
	e := start("127.0.0.1:0")
	defer func() { e.st.Close(); e.checkLogsMasked() }()

	// want is the idempotent answer: the first one, but a pay that was
	// cancelled since answers as cancelled.
	type sent struct {
		name string
		req  *fasthttp.Request
		want result
		pid  string
		rid  string
	}
	var all []sent
	l := e.lane(merchantID)
	send := func(name, api, body string) signedAnswer {
		t.Helper()
		var saved *fasthttp.Request
		l.tweak = func(r *fasthttp.Request) {
			saved = new(fasthttp.Request)
			r.CopyTo(saved)
		}
		a := l.send(api, body).mustVerify(t, name)
		all = append(all, sent{name, saved, a.Result, a.PaymentID, a.RefundID})
		return a
	}
	s := send("pay S", "pay", payBody("rp-s", e.testCode("281001", 1, 0), 500))
	u := send("pay U", "pay", payBody("rp-u", e.testCode("281001", 2, 92), 600))
	f := send("pay F", "pay", payBody("rp-f", e.testCode("281001", 3, 98), 700))
	for _, c := range []struct {
		a          signedAnswer
		code, stat string
	}{{s, "SUCCESS", "S"}, {u, "PAYMENT_IN_PROCESS", "U"}, {f, "RISK_REJECT", "F"}} {
		if c.a.Result.Code != c.code || c.a.Result.Status != c.stat {
			t.Fatalf("first pay: want %s/%s: %s", c.code, c.stat, c.a.raw)
		}
	}
	c := send("pay to cancel", "pay", payBody("rp-c", e.testCode("281001", 4, 0), 800))
	send("cancel", "cancel", `{"paymentRequestId":"rp-c"}`)
	all[3].want = result{"ORDER_IS_CANCELED", "F", "the payment was cancelled"}
	r := send("pay to refund", "pay", payBody("rp-r", e.testCode("281001", 5, 0), 900))
	send("refund", "refund", refundBody("rp-r-1", r.PaymentID, 300))
	send("inquiry", "inquiryPayment", fmt.Sprintf(`{"paymentId":%q}`, s.PaymentID))
	if c.Result.Code != "SUCCESS" || r.Result.Code != "SUCCESS" {
		t.Fatalf("pays: %s %s", c.raw, r.raw)
	}
	dispatched := e.st.Engine.Stats().Dispatched.Load()

	replay := func(when string) {
		t.Helper()
		resp := fasthttp.AcquireResponse()
		defer fasthttp.ReleaseResponse(resp)
		for _, x := range all {
			req := new(fasthttp.Request)
			x.req.CopyTo(req)
			a := l.do(req, resp, string(x.req.URI().PathOriginal())).mustVerify(t, when+" "+x.name)
			if a.Result != x.want || a.PaymentID != x.pid || a.RefundID != x.rid {
				t.Errorf("%s %s: replay answered %s, want %+v for payment %s refund %q", when, x.name, a.raw, x.want, x.pid, x.rid)
			}
		}
	}
	replay("at once:")
	replay("again:")
	if n := e.st.Engine.Stats().Dispatched.Load(); n != dispatched {
		t.Fatalf("replays dispatched %d more pays", n-dispatched)
	}

	addr := e.st.Addr
	if err := e.st.Close(); err != nil {
		t.Fatal(err)
	}
	e = start(addr) // the same address: the saved requests' bytes name it
	l.e = e
	l.hc = &fasthttp.HostClient{Addr: addr, DisableHeaderNamesNormalizing: true, ReadTimeout: 10 * time.Second}
	replay("after a restart:")
	if n := e.st.Engine.Stats().Dispatched.Load(); n != 0 {
		t.Fatalf("replays after the restart dispatched %d pays", n)
	}
}
