package httpapi_test

import (
	"crypto/rsa"
	"crypto/tls"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/valyala/fasthttp"

	"github.com/paycode/paycode/engine"
	"github.com/paycode/paycode/engine/enginetest"
	"github.com/paycode/paycode/engine/httpapi"
	"github.com/paycode/paycode/engine/server"
	"github.com/paycode/paycode/engine/sign"
	"github.com/paycode/paycode/engine/sign/signtest"
	"github.com/paycode/paycode/loadtest/mppsim"
	"github.com/paycode/paycode/loadtest/stack"
)

// The signed harness: the e2e stack with lane signatures on (merchant
// clients rsa256, paycode signing every answer), and optionally the
// wallets signed too. Lanes here sign the way the official SDKs do and
// verify every answer with their view of paycode's public key.

const (
	merchantID = "SANDBOX_5YEXAMPLE00001" // rsa256, key version 1
	trustedID  = "LANE-TRUSTED"           // policy none
)

type signedOpts struct {
	simSigning bool
	tls        *tls.Config
	security   func(*httpapi.Security)
	sim        func(*mppsim.Config)
	engine     func(*engine.Config)
	stack      func(*stack.Config)
}

func newSignedE2E(t *testing.T, o signedOpts) *e2e {
	t.Helper()
	logs := &lockedBuffer{}
	log := slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	st, clock := startSigned(t, o, log)
	e := &e2e{t: t, st: st, clock: clock, logs: logs, http: &http.Client{Timeout: 10 * time.Second}}
	t.Cleanup(func() {
		st.Close()
		e.checkLogsMasked()
	})
	return e
}

// startSigned starts the signed stack (the caller closes it).
func startSigned(tb testing.TB, o signedOpts, log *slog.Logger) (*stack.Stack, *enginetest.ManualClock) {
	tb.Helper()
	clock := enginetest.NewManualClock(t0)
	wallets := stack.DefaultSimWallets()
	for i := range wallets {
		wallets[i].Latency = mppsim.Latency{}
		wallets[i].HangFor = 5 * time.Second
	}
	sec := &httpapi.Security{
		Clients: map[string]*httpapi.Client{
			merchantID: {Policy: httpapi.PolicyRSA256, Verifier: signtest.Merchant.Verifier("1")},
			trustedID:  {Policy: httpapi.PolicyNone},
		},
		Signer: signtest.Paycode.Signer("1"),
	}
	if o.security != nil {
		o.security(sec)
	}
	sc := mppsim.Config{Wallets: wallets, Seed: 1, Now: clock.Now}
	if o.sim != nil {
		o.sim(&sc)
	}
	ec := engine.Config{Clock: clock, PayTimeout: 300 * time.Millisecond, WalletCallTimeout: 2 * time.Second}
	if o.engine != nil {
		o.engine(&ec)
	}
	cfg := stack.Config{
		Sim:     sc,
		Node:    server.Config{Engine: ec, Logger: log, NoDecoder: true, Security: sec, TLS: o.tls},
		Options: []server.Option{server.ManualFollowUps(), server.UndeliveredNotifications()},
	}
	if o.stack != nil {
		o.stack(&cfg)
	}
	if o.simSigning {
		cfg.Node.WalletSigner, cfg.SimSigning, cfg.SimWalletKey = signtest.Paycode.Signer("1"), true, signtest.Wallet.Private
	}
	st, err := stack.Start(cfg)
	if err != nil {
		tb.Fatal(err)
	}
	return st, clock
}

// lane is a client that signs like an official SDK.
type lane struct {
	e         *e2e
	clientID  string
	key       *rsa.PrivateKey
	keyVer    string
	sandbox   bool                    // /ams/sandbox/api paths
	isoTime   bool                    // request-time as ISO 8601 (Python SDK), else epoch ms (Go, Java)
	goCasing  bool                    // header names as the Go SDK sends them (Client-Id, Request-Time, Signature)
	paycode   *sign.Verifier          // the lane's view of paycode's public key
	hc        *fasthttp.HostClient    // keeps header names as they are on the wire
	tweak     func(*fasthttp.Request) // runs after signing: tamper
	timeShift time.Duration
}

func (e *e2e) lane(clientID string) *lane {
	u, _ := url.Parse(e.st.URL())
	return &lane{e: e, clientID: clientID, key: signtest.Merchant.Private, keyVer: "1", paycode: signtest.Paycode.Verifier("1"),
		hc: &fasthttp.HostClient{Addr: u.Host, DisableHeaderNamesNormalizing: true, IsTLS: u.Scheme == "https", ReadTimeout: 10 * time.Second}}
}

// signedAnswer is an answer and what its headers said.
type signedAnswer struct {
	answer
	raw                     string
	clientID, respTime, sig string
	verifyErr               error
	status                  int
}

func (l *lane) path(api string) string {
	if l.sandbox {
		return "/ams/sandbox/api/v1/payments/" + api
	}
	return "/ams/api/v1/payments/" + api
}

// send signs and posts body to api, and verifies the answer's signature
// over the request's method and path and the answer's client-id and
// response-time, as the Go SDK does.
func (l *lane) send(api, body string) signedAnswer {
	l.e.t.Helper()
	req, resp := fasthttp.AcquireRequest(), fasthttp.AcquireResponse()
	defer fasthttp.ReleaseRequest(req)
	defer fasthttp.ReleaseResponse(resp)
	req.Header.DisableNormalizing()
	path := l.path(api)
	req.SetRequestURI(l.e.st.URL() + path)
	req.Header.SetMethod("POST")
	req.Header.SetContentType("application/json; charset=UTF-8")
	now := l.e.clock.Now().Add(l.timeShift)
	rt := sign.AppendEpochMillis(nil, now)
	if l.isoTime {
		rt = []byte(now.In(time.FixedZone("", 8*3600)).Format(time.RFC3339))
	}
	names := [3]string{"client-id", "request-time", "signature"}
	if l.goCasing {
		names = [3]string{"Client-Id", "Request-Time", "Signature"}
	}
	s, err := sign.NewSigner(l.key, l.keyVer)
	if err != nil {
		l.e.t.Fatal(err)
	}
	h, err := s.AppendHeader(nil, []byte("POST"), []byte(path), []byte(l.clientID), rt, []byte(body))
	if err != nil {
		l.e.t.Fatal(err)
	}
	req.Header.Set(names[0], l.clientID)
	req.Header.SetBytesV(names[1], rt)
	req.Header.SetBytesV(names[2], h)
	req.SetBodyString(body)
	if l.tweak != nil {
		l.tweak(req)
	}
	return l.do(req, resp, path)
}

func (l *lane) do(req *fasthttp.Request, resp *fasthttp.Response, path string) signedAnswer {
	l.e.t.Helper()
	if err := l.hc.DoTimeout(req, resp, 10*time.Second); err != nil {
		l.e.t.Fatalf("%s: %v", path, err)
	}
	a := signedAnswer{raw: string(resp.Body()), status: resp.StatusCode(),
		clientID: string(resp.Header.Peek("client-id")), respTime: string(resp.Header.Peek("response-time")), sig: string(resp.Header.Peek("signature"))}
	if a.status != 200 {
		l.e.t.Fatalf("%s: HTTP %d %s", path, a.status, a.raw)
	}
	if err := json.Unmarshal(resp.Body(), &a.answer); err != nil || a.Result.Code == "" {
		l.e.t.Fatalf("%s: %v in %s", path, err, a.raw)
	}
	// The path the request went to (a tampered one included).
	sent := req.URI().PathOriginal()
	a.verifyErr = l.paycode.VerifyHeader([]byte(a.sig), []byte("POST"), sent, []byte(a.clientID), []byte(a.respTime), resp.Body())
	return a
}

// mustVerify fails unless the answer carries lower-case client-id,
// response-time and a signature that verifies with paycode's key.
func (a signedAnswer) mustVerify(t *testing.T, what string) signedAnswer {
	t.Helper()
	if a.clientID == "" || a.respTime == "" || a.sig == "" {
		t.Fatalf("%s: missing lower-case headers: client-id=%q response-time=%q signature=%q", what, a.clientID, a.respTime, a.sig)
	}
	if a.verifyErr != nil {
		t.Fatalf("%s: answer signature: %v (%s)", what, a.verifyErr, a.raw)
	}
	// The Java SDK: third ','-item, exactly two '='-parts.
	if items := strings.Split(a.sig, ","); len(items) != 3 || len(strings.Split(items[2], "=")) != 2 {
		t.Fatalf("%s: Java SDK cannot split %q", what, a.sig)
	}
	return a
}

func refundBody(id, paymentID string, amount int64) string {
	return fmt.Sprintf(`{"refundRequestId":%q,"paymentId":%q,"refundAmount":{"currency":"HKD","value":"%d"}}`, id, paymentID, amount)
}

// agree is e2e.agree over the signed lane: paycode's final view of a
// payment must match the wallet's ledger.
func (l *lane) agree(paymentID string, amount int64) signedAnswer {
	e := l.e
	e.t.Helper()
	a := l.send("inquiryPayment", fmt.Sprintf(`{"paymentId":%q}`, paymentID)).mustVerify(e.t, "inquiry")
	e.agreeStatus(paymentID, a.PaymentStatus, amount)
	return a
}
