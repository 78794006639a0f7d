package httpapi_test

import (
	"fmt"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/valyala/fasthttp"

	"github.com/paycode/paycode/engine/httpapi"
)

// TestRefusalFloodSignsWithinBudget: requests that fail authentication
// with a new client id (or a new path) each time miss the signed-answer
// cache, and an RSA signature costs ~0.7 ms: a flood of them must not
// turn into a signature each. Over real HTTP, 300 refused requests with
// rotating client ids get at most the refusal budget of signed answers
// (httpapi.DefaultRefusalSigns a second, that many at once); the rest
// find their connection closed unanswered. A misconfigured lane that
// repeats its request keeps getting its signed ACCESS_DENIED (a cached
// signature), a registered merchant's refusal is signed from its own
// budget (httpapi.DefaultClientRefusalSigns) while the flood spends the
// shared one, and its pay is served and signed.
func TestRefusalFloodSignsWithinBudget(t *testing.T) {
	e := newSignedE2E(t, signedOpts{})
	send := badlySigned(e)
	// post sends a refused inquiry (a bad signature) for clientID to
	// path, a spelling of inquiryPayment's.
	post := func(clientID, path string) (signed, dropped bool) {
		_, signed, answered := send("POST", clientID, path)
		return signed, !answered
	}
	const inquiry = "/ams/api/v1/payments/inquiryPayment"
	const n = 300
	start := time.Now()
	signed, dropped := 0, 0
	for i := range n {
		s, d := post(fmt.Sprintf("FLOOD-%d", i), inquiry)
		if s {
			signed++
		}
		if d {
			dropped++
		}
	}
	elapsed := time.Since(start)
	budget := httpapi.DefaultRefusalSigns + int(elapsed.Seconds()*httpapi.DefaultRefusalSigns) + 1
	t.Logf("%d refused requests in %v: %d signed, %d dropped (budget %d)", n, elapsed, signed, dropped, budget)
	// signed ≤ budget < n means some were dropped; on a machine slow
	// enough for the budget to refill past n (5 s for 300) none need be.
	if signed > budget || signed+dropped != n {
		t.Fatalf("%d of %d refusals signed in %v, %d dropped; want at most %d signed and the rest dropped", signed, n, elapsed, dropped, budget)
	}
	// The same refused request again: its cached signature, however
	// spent the budget is.
	for range 20 {
		if s, _ := post("FLOOD-0", inquiry); !s {
			t.Fatal("a repeated refusal lost its cached signature")
		}
	}
	// A registered merchant whose signature fails gets its own budget:
	// each time the flood has just found the shared budget spent (a
	// request dropped), the merchant's refusal, new each time (another
	// API path: the same refusal would reuse its cached signature and
	// spend no budget), is signed.
	var paths []string
	for _, prefix := range []string{"/ams/api/v1/payments/", "/ams/sandbox/api/v1/payments/"} {
		for _, api := range []string{"inquiryPayment", "pay", "cancel", "refund", "inquiryRefund"} {
			paths = append(paths, prefix+api)
		}
	}
	for round := range httpapi.DefaultClientRefusalSigns {
		for i := 0; ; i++ {
			if _, d := post(fmt.Sprintf("FLOOD-%d-%d", round, i), inquiry); d {
				break
			}
		}
		s, d := post(merchantID, paths[round%len(paths)])
		if !s || d {
			t.Fatalf("round %d: a registered merchant's refusal during the flood: signed %v, dropped %v; want signed", round, s, d)
		}
	}
	if a := e.lane(merchantID).send("pay", payBody("after-flood", e.testCode("281001", 1, 0), 100)).mustVerify(t, "pay after the flood"); a.Result.Code != "SUCCESS" {
		t.Fatalf("a merchant's pay after the flood: %s", a.raw)
	}
}

// TestRefusalSpellingsCostNoSignature: an SDK signs and verifies over the
// path it sends, one of the API paths as routed; a refusal of a request
// sent another way (the path with more slashes, a dot segment or a
// percent-encoded letter, another method, a path with no API) is
// answered unsigned, so spelling a registered merchant's path anew each
// time neither buys a signature nor spends the merchant's budget: none of
// 200 such refusals is signed or dropped, and the merchant's own refusal
// afterwards is signed.
func TestRefusalSpellingsCostNoSignature(t *testing.T) {
	e := newSignedE2E(t, signedOpts{})
	badly := badlySigned(e)
	send := func(method, path string) (answered, signed bool) {
		body, signed, answered := badly(method, merchantID, path)
		if answered && !strings.Contains(body, "INVALID_SIGNATURE") {
			t.Fatalf("%s %s: %s; want INVALID_SIGNATURE", method, path, body)
		}
		return answered, signed
	}
	const api = "ams/api/v1/payments/inquiryPayment"
	spellings := []func(i int) (string, string){
		func(i int) (string, string) { return "POST", strings.Repeat("/", i%40+2) + api },
		func(i int) (string, string) { return "POST", "/" + strings.Repeat("./", i%40+1) + api },
		func(i int) (string, string) {
			return "POST", "/" + strings.Repeat("x/../", i%40+1) + api
		},
		func(i int) (string, string) {
			return "POST", "/" + strings.Replace(api, "q", "%71", 1) + strings.Repeat("/", i%3)
		},
		func(i int) (string, string) { return fmt.Sprintf("X%d", i), "/" + api },
		func(i int) (string, string) { return "POST", fmt.Sprintf("/no/api/%d", i) },
	}
	for i := range 200 {
		method, path := spellings[i%len(spellings)](i)
		answered, signed := send(method, path)
		if !answered || signed {
			t.Fatalf("refusal %d (%s %s): answered %v, signed %v; want answered unsigned", i, method, path, answered, signed)
		}
	}
	if answered, signed := send("POST", "/"+api); !answered || !signed {
		t.Fatalf("the merchant's refusal after 200 other spellings: answered %v, signed %v; want signed", answered, signed)
	}
}

// badlySigned returns a sender of requests with a bad signature, sent as
// written (the path is not normalised): it returns the answer's body and
// whether it was signed, or answered false when the connection closed
// unanswered.
func badlySigned(e *e2e) func(method, clientID, path string) (body string, signed, answered bool) {
	u, _ := url.Parse(e.st.URL())
	hc := &fasthttp.HostClient{Addr: u.Host, ReadTimeout: 10 * time.Second, MaxIdemponentCallAttempts: 1, DisablePathNormalizing: true}
	return func(method, clientID, path string) (string, bool, bool) {
		req, resp := fasthttp.AcquireRequest(), fasthttp.AcquireResponse()
		defer fasthttp.ReleaseRequest(req)
		defer fasthttp.ReleaseResponse(resp)
		req.SetRequestURI(e.st.URL() + path)
		req.Header.SetMethod(method)
		req.Header.Set("client-id", clientID)
		req.Header.Set("request-time", "1")
		req.Header.Set("signature", "algorithm=RSA256,keyVersion=1,signature=AAAA")
		req.SetBodyString(`{"paymentRequestId":"x"}`)
		if err := hc.DoTimeout(req, resp, 10*time.Second); err != nil {
			return "", false, false
		}
		return string(resp.Body()), len(resp.Header.Peek("signature")) > 0, true
	}
}
