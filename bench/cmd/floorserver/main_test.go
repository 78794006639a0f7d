package main

import (
	"net"
	"strings"
	"testing"

	"github.com/cockroachdb/pebble/v2"
	"github.com/valyala/fasthttp"
	"github.com/valyala/fastjson"

	"github.com/paycode/paycode/codec"
	"github.com/paycode/paycode/loadtest/mppsim"
)

// startWallet serves a simulated wallet on a loopback port.
func startWallet(t *testing.T) (*mppsim.Wallet, string) {
	t.Helper()
	w, err := mppsim.NewWallet(mppsim.WalletConfig{Name: "mpp-281001"}, mppsim.Config{})
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := mppsim.NewServer(w)
	go srv.Serve(ln)
	t.Cleanup(func() { w.Close(); _ = srv.Shutdown() })
	return w, "http://" + ln.Addr().String()
}

func laneBody(reqID, code string) string {
	return `{"productCode":"IN_STORE_PAYMENT","paymentRequestId":"` + reqID +
		`","order":{"orderDescription":"x","orderAmount":{"currency":"USD","value":"1000"}},` +
		`"paymentAmount":{"currency":"USD","value":"1000"},` +
		`"paymentMethod":{"paymentMethodType":"CONNECT_WALLET","paymentMethodId":"` + code +
		`"},"paymentFactor":{"inStorePaymentScenario":"PaymentCode"}}`
}

// newTestFloor is a floor with one wallet (prefix 281001 at url) and
// serve's record sizes, closed at the test's end.
func newTestFloor(t *testing.T, url string, bgSync bool) *floor {
	t.Helper()
	f, err := newFloor(t.TempDir(), "281001="+url, 0, bgSync, 451, 353, 4)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(f.close)
	return f
}

// successCode is a fresh test code the wallet of prefix 281001 charges.
func successCode(t *testing.T) string {
	t.Helper()
	code, err := mppsim.NewTestCode("281001", mppsim.OutcomeSuccess)
	if err != nil {
		t.Fatal(err)
	}
	return code
}

func pay(f *floor, body string) *fasthttp.RequestCtx {
	ctx := &fasthttp.RequestCtx{}
	ctx.Request.Header.SetMethod(fasthttp.MethodPost)
	ctx.Request.SetRequestURI("/ams/api/v1/payments/pay")
	ctx.Request.SetBodyString(body)
	f.handle(ctx)
	return ctx
}

// TestFloorPay: a pay goes to the code's wallet with the lane's
// paymentRequestId (the simulator books and charges it), both records
// are in the store, the answer is an Antom success echoing the request.
func TestFloorPay(t *testing.T) {
	w, url := startWallet(t)
	f := newTestFloor(t, url, true)
	code := successCode(t)
	ctx := pay(f, laneBody("REQ-1", code))
	v, err := fastjson.ParseBytes(ctx.Response.Body())
	if err != nil {
		t.Fatalf("answer %q: %v", ctx.Response.Body(), err)
	}
	if got := string(v.GetStringBytes("result", "resultStatus")); got != "S" {
		t.Fatalf("answer %s: resultStatus %q, want S", ctx.Response.Body(), got)
	}
	if got := string(v.GetStringBytes("paymentRequestId")); got != "REQ-1" {
		t.Errorf("paymentRequestId %q, want REQ-1", got)
	}
	e, ok := w.Ledger().Payments["REQ-1"]
	if !ok || e.State != mppsim.StateSuccess || e.Amount != (codec.Amount{Currency: codec.MustCurrency("USD"), Value: 1000}) {
		t.Errorf("wallet ledger entry %+v (found %v), want a success of USD 1000", e, ok)
	}
	val, closer, err := f.db.Get([]byte("p/REQ-1"))
	if err != nil {
		t.Fatalf("outcome record: %v", err)
	}
	if len("p/REQ-1")+len(val) != 353 {
		t.Errorf("outcome record is %d bytes, want 353", len("p/REQ-1")+len(val))
	}
	_ = closer.Close()
	if f.pays.Load() != 1 || f.walletErrs.Load() != 0 {
		t.Errorf("pays %d, wallet errors %d; want 1, 0", f.pays.Load(), f.walletErrs.Load())
	}
}

// TestFloorEscapes: a paymentRequestId holding a quote, a backslash
// and a '<' (valid for paycode, which escapes it) reaches the wallet
// intact, and the answer is JSON echoing it.
func TestFloorEscapes(t *testing.T) {
	w, url := startWallet(t)
	f := newTestFloor(t, url, false)
	code := successCode(t)
	const reqID = `R"1\x<y>`
	ctx := pay(f, laneBody(`R\"1\\x<y>`, code))
	v, err := fastjson.ParseBytes(ctx.Response.Body())
	if err != nil {
		t.Fatalf("answer %q is not JSON: %v", ctx.Response.Body(), err)
	}
	if got := string(v.GetStringBytes("paymentRequestId")); got != reqID || string(v.GetStringBytes("result", "resultStatus")) != "S" {
		t.Errorf("answer %s: paymentRequestId %q, want %q with S", ctx.Response.Body(), got, reqID)
	}
	if e, ok := w.Ledger().Payments[reqID]; !ok || e.State != mppsim.StateSuccess {
		t.Errorf("wallet ledger entry %+v (found %v), want a success under %q", e, ok, reqID)
	}
}

// TestFloorRefuses: what the floor cannot forward is answered, never
// sent: a body that is not JSON, a missing field, a prefix with no
// wallet (after its intent, as a pay whose wallet call fails).
func TestFloorRefuses(t *testing.T) {
	_, url := startWallet(t)
	f := newTestFloor(t, url, false)
	for _, tc := range []struct{ name, body, want string }{
		{"not JSON", "{", `"PARAM_ILLEGAL"`},
		{"no request id", laneBody("", "281001000000000000000001"), `"PARAM_ILLEGAL"`},
		{"unknown prefix", laneBody("REQ-2", "999999000000000000000001"), `"UNKNOWN_EXCEPTION"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := pay(f, tc.body)
			if !strings.Contains(string(ctx.Response.Body()), tc.want) {
				t.Errorf("answer %s, want %s", ctx.Response.Body(), tc.want)
			}
		})
	}
	if _, _, err := f.db.Get([]byte("p/")); err != pebble.ErrNotFound {
		t.Errorf("a pay without a request id left a record: %v", err)
	}
}

// TestWalletsFlag: -wallets wants 6-digit prefixes and http URLs.
func TestWalletsFlag(t *testing.T) {
	for _, bad := range []string{"", "28100=http://x:1", "281001=https://x:1", "281001"} {
		if _, err := newFloor(t.TempDir(), bad, 0, false, 451, 353, 4); err == nil {
			t.Errorf("-wallets %q accepted", bad)
		}
	}
}
