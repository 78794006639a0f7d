package httpapi_test

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/cockroachdb/pebble/v2/vfs"
	"github.com/valyala/fasthttp"

	"github.com/paycode/paycode/codec"
	"github.com/paycode/paycode/decode"
	"github.com/paycode/paycode/decode/decodetest"
	"github.com/paycode/paycode/engine"
	"github.com/paycode/paycode/engine/httpapi"
	"github.com/paycode/paycode/engine/ident"
	"github.com/paycode/paycode/engine/journal"
	"github.com/paycode/paycode/engine/sign"
	"github.com/paycode/paycode/engine/sign/signtest"
)

// FuzzLane drives the whole lane handler in process — security (an
// rsa256 client, a trusted one, unknown ids), routing, parsing (pay by
// image too, with a decoder), arrival checks, the engine over a memory journal and a counting in-process
// wallet — with a fuzzed method, path, client id, request-time,
// signature, content type and body. For every input:
//
//   - no panic;
//   - the answer is HTTP 200, JSON, with result.resultStatus S, F or U and
//     a non-empty resultCode (package doc: every answer is a result, bad
//     input and unknown paths included); the one documented exception is
//     a refusal beyond the signing allowance, dropped unanswered
//     (auth.go's dropUnanswered), which must not have reached a wallet;
//   - a pay or refund body codec cannot parse never reaches the wallet;
//   - the same request sent twice at once charges at most once, and sent
//     again after never charges again: no wallet pay or refund on the
//     repeat, and a successful pay's copies name the same paymentId,
//     which inquiry then finds paid (not lost);
//   - the request's payment code never appears whole in the log lines
//     written while it was served.
//
// When sign is set, the request is signed with the merchant's key the
// way the SDKs do, over the fuzzed method, path, client id, request-time
// and body, so the handler's work behind the signature check is reached.
//
//	go test -run '^$' -fuzz '^FuzzLane$' -fuzztime 10m -parallel 1 ./engine/httpapi/
func FuzzLane(f *testing.F) {
	paths := []string{"pay", "inquiryPayment", "cancel", "refund", "inquiryRefund"}
	code := "281001020000000000010300"
	pay := payBody("fz-1", code, 5600)
	seeds := [][]byte{[]byte(pay), []byte(`{"paymentRequestId":"fz-1"}`), []byte(refundBody("fz-r1", "x", 100)),
		[]byte(`{"refundRequestId":"fz-r1"}`), []byte(`{`), nil}
	if files, _ := filepath.Glob("testdata/sdk/*.json"); len(files) > 0 {
		for _, name := range files {
			b, err := os.ReadFile(name)
			if err != nil {
				f.Fatal(err)
			}
			seeds = append(seeds, b)
		}
	}
	for i, b := range seeds {
		for j := range paths {
			f.Add("POST", uint8(j), "", uint8(i%3), "", "", true, "", "application/json; charset=UTF-8", b)
		}
	}
	f.Add("GET", uint8(0), "", uint8(1), "", "", false, "", "", []byte(pay))
	f.Add("POST", uint8(200), "/ams/api/v1/payments/pay/../pay", uint8(1), "", "", false, "", "", []byte(pay))
	f.Add("POST", uint8(0), "", uint8(0), "", "1764151200000", false, "algorithm=RSA256,keyVersion=1,signature=AAAA", "", []byte(pay))
	f.Add("POST", uint8(6), "", uint8(1), "", "", false, "", "multipart/form-data; boundary=x", []byte("--x\r\nContent-Disposition: form-data; name=\"request\"\r\n\r\n"+pay+"\r\n--x--\r\n"))
	f.Add("POST", uint8(0), "", uint8(2), "LANE\x00", "", false, "", "", []byte(pay))
	// Pay by image: a whole request with a QR code of a payment code.
	imgBody, imgType := multipartBody(f, formPart{"request", "application/json", []byte(payBody("fz-img", "", 5600))},
		formPart{"image", "image/png", decodetest.PNG(f, decodetest.QR(f, "281001020000000000020400", 240))})
	f.Add("POST", uint8(0), "", uint8(1), "", "", false, "", imgType, imgBody)
	f.Add("POST", uint8(0), "", uint8(0), "", "", true, "", imgType, imgBody)

	h := newLaneHarness(f)
	f.Fuzz(func(t *testing.T, method string, pathSel uint8, path string, clientSel uint8, clientID, reqTime string, signIt bool, sigHeader, ctype string, body []byte) {
		// Paths: the five APIs, production (0-4) and sandbox (5-9)
		// spellings; anything else takes the fuzzed path.
		switch {
		case int(pathSel) < len(paths):
			path = "/ams/api/v1/payments/" + paths[pathSel]
		case int(pathSel) < 2*len(paths):
			path = "/ams/sandbox/api/v1/payments/" + paths[int(pathSel)-len(paths)]
		case pathSel == 10:
			path = httpapi.DecodePath
		}
		switch clientSel % 4 {
		case 0:
			clientID = merchantID
		case 1:
			clientID = trustedID
		case 2:
			clientID = "SANDBOX_" + clientID
		}
		req := laneRequest{method: method, path: path, clientID: clientID, reqTime: reqTime, sig: sigHeader, ctype: ctype, body: body}
		if signIt {
			h.sign(t, &req)
		}
		// The first copy races another (a lane's retry, or a proxy's,
		// while the first is in flight): together they charge at most
		// once, and name the same payment.
		before := h.wallet.snapshot()
		rival := newLaneCtx(req)
		done := make(chan struct{})
		go func() { h.api.Handle(rival); close(done) }()
		first := h.serve(t, req)
		<-done
		after := h.wallet.snapshot()
		if p, r := after.pays-before.pays, after.refunds-before.refunds; p > 1 || r > 1 {
			t.Fatalf("two copies at once made %d wallet pays and %d refunds: %q", p, r, body)
		}
		if !rival.Hijacked() {
			ra := checkAnswer(t, rival)
			if first.ok && first.ans.Result.Code == "SUCCESS" && ra.Result.Code == "SUCCESS" && ra.PaymentID != first.ans.PaymentID {
				t.Fatalf("two copies at once paid as %s and %s", first.ans.PaymentID, ra.PaymentID)
			}
		}
		second := h.serve(t, req)
		if second.pays+second.refunds != 0 {
			t.Fatalf("the repeated request charged the wallet again (%d pays, %d refunds): %q", second.pays, second.refunds, body)
		}
		if first.ok && second.ok && first.ans.Result.Code == "SUCCESS" && first.op == "pay" {
			if second.ans.Result.Code != "SUCCESS" || second.ans.PaymentID != first.ans.PaymentID {
				t.Fatalf("a successful pay repeated answered %s", second.raw)
			}
			// Not lost: the payment's inquiry finds it paid.
			q, _ := json.Marshal(map[string]string{"paymentRequestId": first.ans.PaymentRequestID})
			inq := laneRequest{method: "POST", path: "/ams/api/v1/payments/inquiryPayment", clientID: clientID, body: q}
			if clientID == merchantID {
				h.sign(t, &inq)
			}
			a := h.serve(t, inq)
			if a.ans.Result.Code != "SUCCESS" || a.ans.PaymentStatus != "SUCCESS" || a.ans.PaymentID != first.ans.PaymentID {
				t.Fatalf("the paid payment %s inquired answered %s", first.raw, a.raw)
			}
		}
	})
}

// sign signs r with the merchant's key as the SDKs do, over its method,
// path, client id, request-time (now when empty) and body.
func (h *laneHarness) sign(t *testing.T, r *laneRequest) {
	if r.reqTime == "" {
		r.reqTime = strconv.FormatInt(time.Now().UnixMilli(), 10)
	}
	hdr, err := h.signer.AppendHeader(nil, []byte(r.method), []byte(r.path), []byte(r.clientID), []byte(r.reqTime), r.body)
	if err != nil {
		t.Fatal(err)
	}
	r.sig = string(hdr)
}

// TestLaneHarness: the fuzz harness reaches the wallet — a signed pay
// from the rsa256 client, a pay from the trusted one and a pay by image
// are charged once and succeed, repeats are not charged — so FuzzLane's checks are
// not vacuous.
func TestLaneHarness(t *testing.T) {
	h := newLaneHarness(t)
	for i, clientID := range []string{merchantID, trustedID} {
		body := []byte(payBody("harness-"+strconv.Itoa(i), "28100102000000000001030"+strconv.Itoa(i), 5600))
		req := laneRequest{method: "POST", path: "/ams/api/v1/payments/pay", clientID: clientID, body: body}
		if clientID == merchantID {
			h.sign(t, &req)
		}
		first := h.serve(t, req)
		if first.ans.Result.Code != "SUCCESS" || first.pays != 1 {
			t.Fatalf("%s: %d wallet pays, answer %s", clientID, first.pays, first.raw)
		}
		if again := h.serve(t, req); again.ans.PaymentID != first.ans.PaymentID || again.pays != 0 {
			t.Fatalf("%s: repeat made %d wallet pays, answer %s", clientID, again.pays, again.raw)
		}
	}
	body, ctype := multipartBody(t, formPart{"request", "application/json", []byte(payBody("harness-img", "", 5600))},
		formPart{"image", "image/png", decodetest.PNG(t, decodetest.QR(t, "281001020000000000020400", 240))})
	img := h.serve(t, laneRequest{method: "POST", path: "/ams/api/v1/payments/pay", clientID: trustedID, ctype: ctype, body: body})
	if img.ans.Result.Code != "SUCCESS" || img.pays != 1 {
		t.Fatalf("pay by image: %d wallet pays, answer %s", img.pays, img.raw)
	}
}

type laneRequest struct {
	method, path, clientID, reqTime, sig, ctype string
	body                                        []byte
}

// laneHarness is one lane handler over an engine with the Pebble journal
// (in memory) and a countingWallet behind every wallet of the default routing rules.
type laneHarness struct {
	api    *httpapi.Server
	wallet *countingWallet
	logs   *lockedBuffer
	signer *sign.Signer
}

func newLaneHarness(tb testing.TB) *laneHarness {
	tb.Helper()
	id, err := ident.New(ident.Config{})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { id.Close() })
	w := &countingWallet{}
	wallets := map[string]engine.Wallet{}
	for _, name := range []string{"mpp-281001", "mpp-281003", "mpp-281010", "mpp-281011"} {
		wallets[name] = w
	}
	logs := &lockedBuffer{}
	log := slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	// The journal serve runs (Pebble, with serve's sync options), on an
	// in-memory filesystem so that a fuzz execution costs no fsync: the
	// claim path, its key filter and the index keys are production's.
	j, err := journal.Open("/lane", journal.Options{FS: vfs.NewMem(), Logger: slog.New(slog.DiscardHandler),
		WALMinSyncInterval: time.Millisecond, BackgroundSync: true})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { j.Close() })
	eng, err := engine.New(engine.Config{Wallets: wallets, Identifier: id, Journal: j, Logger: log,
		PayTimeout: time.Second, WalletCallTimeout: time.Second})
	if err != nil {
		tb.Fatal(err)
	}
	dec, err := decode.New(decode.Config{})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(dec.Close)
	api := httpapi.New(eng, log)
	api.SetDecoder(dec)
	if err := api.SetSecurity(httpapi.Security{
		Clients: map[string]*httpapi.Client{
			merchantID: {Policy: httpapi.PolicyRSA256, Verifier: signtest.Merchant.Verifier("1")},
			trustedID:  {Policy: httpapi.PolicyNone},
		},
		Default: &httpapi.Client{Policy: httpapi.PolicyNone},
		Signer:  signtest.Paycode.Signer("1"),
	}); err != nil {
		tb.Fatal(err)
	}
	return &laneHarness{api: api, wallet: w, logs: logs, signer: signtest.Merchant.Signer("1")}
}

// op is the API a path names, as a lane would read it ("" for none).
func (h *laneHarness) op(path string) string {
	for _, p := range []string{"/ams/api/v1/payments/", "/ams/sandbox/api/v1/payments/"} {
		if name, ok := bytes.CutPrefix([]byte(path), []byte(p)); ok {
			return string(name)
		}
	}
	return ""
}

type laneResult struct {
	op          string // the API the path names, as served
	ok          bool   // answered (not dropped)
	raw         []byte
	ans         answer
	pays        int
	refunds     int
	walletCalls int
}

// serve sends req through the handler once and checks the answer, the
// wallet calls and the logs written meanwhile.
func (h *laneHarness) serve(t *testing.T, req laneRequest) laneResult {
	t.Helper()
	ctx := newLaneCtx(req)
	h.logs.Reset()
	before := h.wallet.snapshot()
	op := h.op(string(ctx.Path())) // what the server routes on (route.go)
	h.api.Handle(ctx)
	after := h.wallet.snapshot()
	r := laneResult{op: op, pays: after.pays - before.pays, refunds: after.refunds - before.refunds,
		walletCalls: after.total() - before.total()}
	if r.pays > 1 || r.refunds > 1 {
		t.Fatalf("one request made %d wallet pays and %d refunds", r.pays, r.refunds)
	}

	// Bodies codec refuses never reach the wallet.
	switch op {
	case "pay":
		var p codec.PayRequest
		if boundary := ctx.Request.Header.MultipartFormBoundary(); len(boundary) > 0 {
			// Pay by image: a form that does not parse, even without
			// the image size limit, never reaches the wallet.
			if _, _, _, _, err := httpapi.ParsePayForm(req.body, boundary, 1<<30); err != nil && r.walletCalls != 0 {
				t.Fatalf("an unparsable pay-by-image form reached the wallet: %v", err)
			}
		} else if codec.ParsePay(req.body, &p) != nil && r.walletCalls != 0 {
			t.Fatalf("an unparsable pay body reached the wallet: %q", req.body)
		}
		logged := []byte(h.logs.String())
		if c := p.Code.AppendDigits(nil); len(c) > 10 && bytes.Contains(logged, c) {
			t.Fatalf("a whole payment code is in the logs: %s", codec.Mask(string(c)))
		}
		// A malformed code is still a secret if it looks like one.
		if raw := rawPaymentMethodID(req.body); len(raw) >= 16 && bytes.Trim(raw, "0123456789") == nil && bytes.Contains(logged, raw) {
			t.Fatalf("a whole code-like paymentMethodId is in the logs: %s", codec.Mask(string(raw)))
		}
	case "refund":
		var rf codec.RefundRequest
		if codec.ParseRefund(req.body, &rf) != nil && r.walletCalls != 0 {
			t.Fatalf("an unparsable refund body reached the wallet: %q", req.body)
		}
	}

	if ctx.Hijacked() {
		// A refusal past the signing allowance goes unanswered; it was
		// refused before anything was served.
		if r.walletCalls != 0 {
			t.Fatalf("a request dropped unanswered had called the wallet %d times", r.walletCalls)
		}
		return r
	}
	r.ok = true
	r.raw = append([]byte(nil), ctx.Response.Body()...)
	r.ans = checkAnswer(t, ctx)
	return r
}

// newLaneCtx is req as fasthttp hands it to the handler.
func newLaneCtx(req laneRequest) *fasthttp.RequestCtx {
	var ctx fasthttp.RequestCtx
	ctx.Request.Header.SetMethod(req.method)
	ctx.Request.SetRequestURI(req.path)
	if req.clientID != "" {
		ctx.Request.Header.Set(httpapi.HeaderClientID, req.clientID)
	}
	if req.reqTime != "" {
		ctx.Request.Header.Set(httpapi.HeaderRequestTime, req.reqTime)
	}
	if req.sig != "" {
		ctx.Request.Header.Set(httpapi.HeaderSignature, req.sig)
	}
	if req.ctype != "" {
		ctx.Request.Header.SetContentType(req.ctype)
	}
	ctx.Request.SetBody(req.body)
	return &ctx
}

// checkAnswer checks an answered request's answer is an Antom result
// (package doc): HTTP 200, JSON, resultStatus S, F or U, a resultCode.
func checkAnswer(t *testing.T, ctx *fasthttp.RequestCtx) answer {
	t.Helper()
	if sc := ctx.Response.StatusCode(); sc != fasthttp.StatusOK {
		t.Fatalf("HTTP status %d", sc)
	}
	if ct := string(ctx.Response.Header.ContentType()); ct != "application/json; charset=UTF-8" {
		t.Fatalf("content type %q", ct)
	}
	var a answer
	if err := json.Unmarshal(ctx.Response.Body(), &a); err != nil {
		t.Fatalf("the answer is not JSON (%v): %q", err, ctx.Response.Body())
	}
	switch a.Result.Status {
	case "S", "F", "U":
	default:
		t.Fatalf("resultStatus %q: %s", a.Result.Status, ctx.Response.Body())
	}
	if a.Result.Code == "" {
		t.Fatalf("no resultCode: %s", ctx.Response.Body())
	}
	return a
}

// countingWallet answers in process and counts calls. A pay's outcome
// follows the code's last two digits: 70-79 fail, the rest success (a
// processing answer would hold each input for the pay timeout).
type countingWallet struct {
	mu                                sync.Mutex
	pays, inquiries, cancels, refunds int
}

type walletCounts struct{ pays, inquiries, cancels, refunds int }

func (c walletCounts) total() int { return c.pays + c.inquiries + c.cancels + c.refunds }

func (w *countingWallet) snapshot() walletCounts {
	w.mu.Lock()
	defer w.mu.Unlock()
	return walletCounts{w.pays, w.inquiries, w.cancels, w.refunds}
}

func (w *countingWallet) Pay(_ context.Context, p *engine.WalletPay) (engine.WalletResult, error) {
	w.mu.Lock()
	w.pays++
	w.mu.Unlock()
	switch d := p.Code.LastTwo(); {
	case d >= 70 && d < 80:
		return engine.WalletResult{Outcome: engine.OutcomeFail, Code: codec.UserBalanceNotEnough}, nil
	}
	return engine.WalletResult{Outcome: engine.OutcomeSuccess, Code: codec.Success}, nil
}

func (w *countingWallet) Inquire(context.Context, string) (engine.WalletResult, error) {
	w.mu.Lock()
	w.inquiries++
	w.mu.Unlock()
	return engine.WalletResult{Outcome: engine.OutcomeSuccess, Code: codec.Success}, nil
}

func (w *countingWallet) Cancel(context.Context, string) (engine.WalletResult, error) {
	w.mu.Lock()
	w.cancels++
	w.mu.Unlock()
	return engine.WalletResult{Outcome: engine.OutcomeSuccess, Code: codec.Success}, nil
}

func (w *countingWallet) Refund(context.Context, *engine.WalletRefund) (engine.WalletResult, error) {
	w.mu.Lock()
	w.refunds++
	w.mu.Unlock()
	return engine.WalletResult{Outcome: engine.OutcomeSuccess, Code: codec.Success}, nil
}

// rawPaymentMethodID is paymentMethod.paymentMethodId as sent, if the body
// is JSON that has it.
func rawPaymentMethodID(body []byte) []byte {
	var v struct {
		PaymentMethod struct {
			ID string `json:"paymentMethodId"`
		} `json:"paymentMethod"`
	}
	if json.Unmarshal(body, &v) != nil {
		return nil
	}
	return []byte(v.PaymentMethod.ID)
}

// Reset drops what was written (a fuzz run would otherwise keep every
// line of millions of requests).
func (l *lockedBuffer) Reset() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.b.Reset()
}
