package httpapi_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/valyala/fasthttp"

	"github.com/paycode/paycode/engine/sign/signtest"
)

// TestSignedLaneLikeTheSDKs: lanes that sign like the Go SDK (Client-Id
// casing, epoch-ms time), the Java SDK (epoch ms) and the Python SDK
// (lower-case headers, ISO 8601 time), on the production and the sandbox
// paths, pay, inquire, cancel, refund and inquire the refund, and verify
// every answer.
func TestSignedLaneLikeTheSDKs(t *testing.T) {
	e := newSignedE2E(t, signedOpts{})
	sdks := []struct {
		name                       string
		goCasing, isoTime, sandbox bool
	}{
		{"go", true, false, false},
		{"java", false, false, false},
		{"python", false, true, false},
		{"go sandbox", true, false, true},
		{"python sandbox", false, true, true},
	}
	for i, sdk := range sdks {
		t.Run(sdk.name, func(t *testing.T) {
			l := e.lane(merchantID)
			l.goCasing, l.isoTime, l.sandbox = sdk.goCasing, sdk.isoTime, sdk.sandbox
			id := fmt.Sprintf("sdk-%d", i)
			p := l.send("pay", payBody(id, e.testCode("281001", 100+i, 1), 1000)).mustVerify(t, "pay")
			if p.Result.Code != "SUCCESS" || p.clientID != merchantID {
				t.Fatalf("pay: %s", p.raw)
			}
			q := l.send("inquiryPayment", fmt.Sprintf(`{"paymentRequestId":%q}`, id)).mustVerify(t, "inquiry")
			if q.PaymentStatus != "SUCCESS" {
				t.Fatalf("inquiry: %s", q.raw)
			}
			r := l.send("refund", refundBody("rf-"+id, p.PaymentID, 400)).mustVerify(t, "refund")
			if r.Result.Code != "SUCCESS" {
				t.Fatalf("refund: %s", r.raw)
			}
			if r := l.send("inquiryRefund", fmt.Sprintf(`{"refundRequestId":"rf-%s"}`, id)).mustVerify(t, "inquiryRefund"); r.RefundStatus != "SUCCESS" {
				t.Fatalf("inquiryRefund: %s", r.raw)
			}
			// Cancel of another payment before it succeeds.
			l.send("pay", payBody(id+"c", e.testCode("281003", 100+i, 81), 500)).mustVerify(t, "pay 2")
			if c := l.send("cancel", fmt.Sprintf(`{"paymentRequestId":"%sc"}`, id)).mustVerify(t, "cancel"); c.Result.Code != "SUCCESS" {
				t.Fatalf("cancel: %s", c.raw)
			}
		})
	}
	// The trusted lane (policy none) is served unsigned.
	a := e.lane(trustedID)
	a.key = signtest.Other.Private
	if r := a.send("pay", payBody("trusted-1", e.testCode("281011", 1, 2), 100)); r.Result.Code != "SUCCESS" || r.sig != "" {
		t.Fatalf("trusted lane: %s sig=%q", r.raw, r.sig)
	}
}

// TestSignedNegativeTable: every bad signature is refused with its code,
// HTTP 200, a signed answer, and nothing reaches the engine.
func TestSignedNegativeTable(t *testing.T) {
	e := newSignedE2E(t, signedOpts{})
	body := payBody("neg-1", e.testCode("281001", 1, 1), 100)
	setHeader := func(k, v string) func(*fasthttp.Request) {
		return func(r *fasthttp.Request) { r.Header.Set(k, v) }
	}
	cases := []struct {
		name  string
		setup func(*lane)
		want  string
	}{
		{"tampered body", func(l *lane) {
			l.tweak = func(r *fasthttp.Request) { r.SetBodyString(strings.Replace(body, `"value":"100"`, `"value":"900"`, 2)) }
		}, "INVALID_SIGNATURE"},
		{"tampered path", func(l *lane) {
			l.tweak = func(r *fasthttp.Request) {
				r.SetRequestURI(strings.Replace(r.URI().String(), "/ams/api/", "/ams/sandbox/api/", 1))
			}
		}, "INVALID_SIGNATURE"},
		{"tampered client-id", func(l *lane) {
			l.clientID = "SANDBOX_OTHER"
			l.tweak = setHeader("client-id", merchantID)
		}, "INVALID_SIGNATURE"},
		{"tampered time", func(l *lane) {
			l.tweak = setHeader("request-time", fmt.Sprint(e.clock.Now().UnixMilli()+1))
		}, "INVALID_SIGNATURE"},
		{"wrong keyVersion", func(l *lane) { l.keyVer = "2" }, "KEY_NOT_FOUND"},
		{"wrong key", func(l *lane) { l.key = signtest.Other.Private }, "INVALID_SIGNATURE"},
		{"unknown client", func(l *lane) { l.clientID = "SANDBOX_NOBODY" }, "ACCESS_DENIED"},
		{"no client-id", func(l *lane) {
			l.tweak = func(r *fasthttp.Request) { r.Header.Del("client-id") }
		}, "ACCESS_DENIED"},
		{"algorithm RSA", func(l *lane) {
			l.tweak = func(r *fasthttp.Request) {
				r.Header.Set("signature", strings.Replace(string(r.Header.Peek("signature")), "RSA256", "RSA", 1))
			}
		}, "INVALID_SIGNATURE"},
		{"algorithm HS256", func(l *lane) {
			l.tweak = func(r *fasthttp.Request) {
				r.Header.Set("signature", strings.Replace(string(r.Header.Peek("signature")), "RSA256", "HS256", 1))
			}
		}, "INVALID_SIGNATURE"},
		{"stale time", func(l *lane) { l.timeShift = -2*time.Minute - time.Second }, "INVALID_SIGNATURE"},
		{"future time", func(l *lane) { l.timeShift = 2*time.Minute + time.Second }, "INVALID_SIGNATURE"},
		{"garbage time", func(l *lane) { l.tweak = setHeader("request-time", "yesterday") }, "INVALID_SIGNATURE"},
		{"truncated signature", func(l *lane) {
			l.tweak = func(r *fasthttp.Request) {
				s := string(r.Header.Peek("signature"))
				r.Header.Set("signature", s[:len(s)-12])
			}
		}, "INVALID_SIGNATURE"},
		{"non-base64 signature", func(l *lane) {
			l.tweak = setHeader("signature", "algorithm=RSA256,keyVersion=1,signature=@@@not-base64@@@")
		}, "INVALID_SIGNATURE"},
		{"no signature", func(l *lane) {
			l.tweak = func(r *fasthttp.Request) { r.Header.Del("signature") }
		}, "INVALID_SIGNATURE"},
		{"malformed header", func(l *lane) { l.tweak = setHeader("signature", "RSA256 abc") }, "INVALID_SIGNATURE"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			l := e.lane(merchantID)
			c.setup(l)
			a := l.send("pay", body)
			if a.Result.Code != c.want || a.Result.Status != "F" {
				t.Fatalf("got %s/%s (%s), want %s/F", a.Result.Code, a.Result.Status, a.Result.Message, c.want)
			}
			if a.sig == "" || a.respTime == "" {
				t.Fatalf("error answer not signed: %+v", a)
			}
			// The client verifies with the client-id it finds in the answer.
			if a.verifyErr != nil {
				t.Fatalf("error answer does not verify: %v", a.verifyErr)
			}
		})
	}
	if n := e.st.Engine.Stats().Pays.Load(); n != 0 {
		t.Fatalf("%d rejected pays reached the engine", n)
	}
	if n := e.st.Engine.Stats().Dispatched.Load(); n != 0 {
		t.Fatalf("rejected pays dispatched %d", n)
	}

	// Exact replay: served with the same answer (TestByteIdenticalReplays
	// covers every API); nothing more is dispatched.
	l := e.lane(merchantID)
	var saved *fasthttp.Request
	l.tweak = func(r *fasthttp.Request) {
		saved = new(fasthttp.Request)
		r.CopyTo(saved)
	}
	first := l.send("pay", body).mustVerify(t, "first")
	if first.Result.Code != "SUCCESS" {
		t.Fatalf("first: %s", first.raw)
	}
	resp := fasthttp.AcquireResponse()
	defer fasthttp.ReleaseResponse(resp)
	if a := l.do(saved, resp, "/ams/api/v1/payments/pay").mustVerify(t, "replay"); a.Result != first.Result || a.PaymentID != first.PaymentID {
		t.Fatalf("replay: %s", a.raw)
	}
	if p, d := e.st.Engine.Stats().Pays.Load(), e.st.Engine.Stats().Dispatched.Load(); p != 2 || d != 1 {
		t.Fatalf("pays %d dispatched %d, want 2 (the pay and its replay) and 1", p, d)
	}
	if _, rejected := e.st.API.SecurityStats(); rejected < int64(len(cases)) {
		t.Fatalf("rejected counter %d", rejected)
	}
}

// TestSignedErrorsOfTheAPI: answers the API itself refuses (unknown path,
// malformed JSON, oversized body) are signed too.
func TestSignedErrorsOfTheAPI(t *testing.T) {
	e := newSignedE2E(t, signedOpts{})
	l := e.lane(merchantID)
	if a := l.send("payy", `{}`).mustVerify(t, "unknown api"); a.Result.Code != "INVALID_API" {
		t.Fatalf("%s", a.raw)
	}
	if a := l.send("pay", `{"productCode":`).mustVerify(t, "malformed"); a.Result.Code != "PARAM_ILLEGAL" {
		t.Fatalf("%s", a.raw)
	}
	big := `{"pad":"` + strings.Repeat("a", 70<<10) + `"}`
	a := l.send("pay", big)
	if a.Result.Code != "PARAM_ILLEGAL" || a.sig == "" || a.verifyErr != nil {
		t.Fatalf("oversized: %s sig=%q err=%v", a.raw, a.sig, a.verifyErr)
	}
}

// TestAdminNotOnLaneListener: admin and profiling paths do not exist on
// the lane listener.
func TestAdminNotOnLaneListener(t *testing.T) {
	e := newSignedE2E(t, signedOpts{})
	l := e.lane(trustedID)
	for _, p := range []string{"/admin/stats", "/admin/reload", "/livez", "/readyz", "/status", "/debug/pprof/", "/metrics", "/sim/ledger"} {
		req, resp := fasthttp.AcquireRequest(), fasthttp.AcquireResponse()
		req.SetRequestURI(e.st.URL() + p)
		req.Header.SetMethod("POST")
		req.Header.Set("client-id", trustedID)
		if a := l.do(req, resp, p); a.Result.Code != "INVALID_API" {
			t.Errorf("%s: %s", p, a.raw)
		}
		fasthttp.ReleaseRequest(req)
		fasthttp.ReleaseResponse(resp)
	}
}

// TestSignedAnswerReused: an answer that repeats (an inquiry of a final
// payment, an idempotent replay) reuses its signature and response-time;
// a different answer is signed afresh. Both verify.
func TestSignedAnswerReused(t *testing.T) {
	e := newSignedE2E(t, signedOpts{})
	l := e.lane(merchantID)
	body := payBody("reuse-1", e.testCode("281001", 1, 1), 100)
	p := l.send("pay", body).mustVerify(t, "pay")
	e.clock.Advance(time.Millisecond) // a new request-time: a retry, not a replayed signature
	replay := l.send("pay", body).mustVerify(t, "replay")
	if replay.raw != p.raw || replay.sig != p.sig || replay.respTime != p.respTime {
		t.Fatalf("idempotent replay re-signed:\n%s %s\n%s %s", p.raw, p.sig, replay.raw, replay.sig)
	}
	q1 := l.send("inquiryPayment", `{"paymentRequestId":"reuse-1"}`).mustVerify(t, "inquiry 1")
	e.clock.Advance(time.Millisecond)
	q2 := l.send("inquiryPayment", `{"paymentRequestId":"reuse-1"}`).mustVerify(t, "inquiry 2")
	if q1.sig != q2.sig || q1.sig == p.sig {
		t.Fatal("inquiry signatures not reused, or shared with another answer")
	}
	// Another client's identical body is signed for that client.
	if r := e.lane(merchantID); true {
		r.sandbox = true
		q3 := r.send("inquiryPayment", `{"paymentRequestId":"reuse-1"}`).mustVerify(t, "sandbox path")
		if q3.sig == q1.sig {
			t.Fatal("a signature reused across paths")
		}
	}
}
