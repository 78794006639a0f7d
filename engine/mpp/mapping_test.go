package mpp_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/paycode/paycode/codec"
	"github.com/paycode/paycode/engine"
	"github.com/paycode/paycode/engine/mpp"
	"github.com/valyala/fasthttp"
)

// canned is a wallet that answers every request with one status and body,
// and keeps what it received.
type canned struct {
	mu          sync.Mutex
	status      int
	body        string
	path, ctype string
	method      string
	got         []byte
	host, uri   string // the Host header and the request line's target
}

func (k *canned) set(status int, body string) {
	k.mu.Lock()
	k.status, k.body = status, body
	k.mu.Unlock()
}

func (k *canned) handle(ctx *fasthttp.RequestCtx) {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.path, k.ctype, k.method = string(ctx.Path()), string(ctx.Request.Header.ContentType()), string(ctx.Method())
	k.host, k.uri = string(ctx.Host()), string(ctx.Request.Header.RequestURI())
	k.got = append(k.got[:0], ctx.PostBody()...)
	ctx.SetStatusCode(k.status)
	ctx.SetBodyString(k.body)
}

// fixed answers body to everything without allocating, so allocation
// counts measure the Client alone.
func fixed(body string) fasthttp.RequestHandler {
	b := []byte(body)
	return func(ctx *fasthttp.RequestCtx) { ctx.SetBody(b) }
}

func cannedClient(t testing.TB) (*mpp.Client, *canned) {
	k := &canned{status: 200}
	return newClient(t, mpp.Config{BaseURL: "http://wallet.test/prefix/", Dial: serve(t, k.handle)}), k
}

const (
	rS   = `{"resultCode":"SUCCESS","resultStatus":"S","resultMessage":"success"}`
	paid = `"paymentId":"W-9","paymentTime":"2024-05-01T20:00:00+08:00","customerId":"C-1","walletBrandName":"Brand"`
)

var at = time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)

// TestAnswerMapping is the outcome table of the package doc, one row per
// kind of answer, against a canned wallet.
func TestAnswerMapping(t *testing.T) {
	c, k := cannedClient(t)
	ctx := context.Background()
	ops := map[string]func() (engine.WalletResult, error){
		"pay":     func() (engine.WalletResult, error) { return c.Pay(ctx, walletPay("p1", code(1, 0), 100)) },
		"inquiry": func() (engine.WalletResult, error) { return c.Inquire(ctx, "p1") },
		"cancel":  func() (engine.WalletResult, error) { return c.Cancel(ctx, "p1") },
		"refund": func() (engine.WalletResult, error) {
			return c.Refund(ctx, &engine.WalletRefund{RefundID: "r1", PaymentID: "p1", Amount: codec.Amount{Value: 1, Currency: hkd}})
		},
	}
	cases := []struct {
		name, op string
		status   int
		body     string
		want     engine.WalletResult
		err      error // expected error kind instead
	}{
		{"pay success", "pay", 200, `{"result":` + rS + `,` + paid + `}`,
			engine.WalletResult{Outcome: engine.OutcomeSuccess, Code: codec.Success, Message: "success", WalletTxnID: "W-9", At: at, CustomerID: "C-1", WalletBrand: "Brand"}, nil},
		{"pay in process", "pay", 200, `{"result":{"resultCode":"PAYMENT_IN_PROCESS","resultStatus":"U"},"paymentId":"W-9"}`,
			engine.WalletResult{Outcome: engine.OutcomeProcessing, Code: codec.PaymentInProcess, Message: codec.PaymentInProcess.Message(), WalletTxnID: "W-9"}, nil},
		{"pay unknown U", "pay", 200, `{"result":{"resultCode":"BUSY_NOW","resultStatus":"U","resultMessage":"later"}}`,
			engine.WalletResult{Outcome: engine.OutcomeProcessing, Code: codec.UnknownException, Message: "BUSY_NOW: later"}, nil},
		{"pay failed", "pay", 200, `{"result":{"resultCode":"RISK_REJECT","resultStatus":"F","resultMessage":"risky"}}`,
			engine.WalletResult{Outcome: engine.OutcomeFail, Code: codec.RiskReject, Message: "risky"}, nil},
		{"pay unknown F keeps message", "pay", 200, `{"result":{"resultCode":"WALLET_ON_FIRE","resultStatus":"F","resultMessage":"smoke"}}`,
			engine.WalletResult{Outcome: engine.OutcomeFail, Code: codec.ProcessFail, Message: "WALLET_ON_FIRE: smoke"}, nil},
		{"pay F with SUCCESS code", "pay", 200, `{"result":{"resultCode":"SUCCESS","resultStatus":"F"}}`,
			engine.WalletResult{Outcome: engine.OutcomeFail, Code: codec.ProcessFail, Message: "success"}, nil},
		{"pay HTTP 500", "pay", 500, `{"result":` + rS + `,` + paid + `}`, engine.WalletResult{}, mpp.ErrHTTPStatus},
		{"pay garbage", "pay", 200, `<html>gateway</html>`, engine.WalletResult{}, mpp.ErrBadAnswer},
		{"pay S without id", "pay", 200, `{"result":` + rS + `}`, engine.WalletResult{}, mpp.ErrBadAnswer},
		{"pay S naming itself", "pay", 200, `{"result":` + rS + `,"paymentRequestId":"p1","paymentAmount":{"currency":"HKD","value":"100"},` + paid + `}`,
			engine.WalletResult{Outcome: engine.OutcomeSuccess, Code: codec.Success, Message: "success", WalletTxnID: "W-9", At: at, CustomerID: "C-1", WalletBrand: "Brand"}, nil},
		{"pay S for another id", "pay", 200, `{"result":` + rS + `,"paymentRequestId":"p2",` + paid + `}`, engine.WalletResult{}, mpp.ErrOtherPayment},
		{"pay S for another amount", "pay", 200, `{"result":` + rS + `,"paymentAmount":{"currency":"HKD","value":"1"},` + paid + `}`, engine.WalletResult{}, mpp.ErrOtherPayment},
		{"pay S in another currency", "pay", 200, `{"result":` + rS + `,"paymentAmount":{"currency":"USD","value":"100"},` + paid + `}`, engine.WalletResult{}, mpp.ErrOtherPayment},
		{"pay F for another id", "pay", 200, `{"result":{"resultCode":"RISK_REJECT","resultStatus":"F"},"paymentRequestId":"p2"}`, engine.WalletResult{}, mpp.ErrOtherPayment},
		{"inquiry paid", "inquiry", 200, `{"result":` + rS + `,"paymentResult":` + rS + `,` + paid + `}`,
			engine.WalletResult{Outcome: engine.OutcomeSuccess, Code: codec.Success, Message: "success", WalletTxnID: "W-9", At: at, CustomerID: "C-1", WalletBrand: "Brand"}, nil},
		{"inquiry closed", "inquiry", 200, `{"result":` + rS + `,"paymentResult":{"resultCode":"ORDER_IS_CLOSED","resultStatus":"F"},"paymentId":"W-9"}`,
			engine.WalletResult{Outcome: engine.OutcomeFail, Code: codec.OrderIsClosed, Message: codec.OrderIsClosed.Message(), WalletTxnID: "W-9", Cancelled: true}, nil},
		{"inquiry failed payment", "inquiry", 200, `{"result":` + rS + `,"paymentResult":{"resultCode":"USER_BALANCE_NOT_ENOUGH","resultStatus":"F"}}`,
			engine.WalletResult{Outcome: engine.OutcomeFail, Code: codec.UserBalanceNotEnough, Message: codec.UserBalanceNotEnough.Message()}, nil},
		{"inquiry not found", "inquiry", 200, `{"result":{"resultCode":"ORDER_NOT_EXIST","resultStatus":"F"}}`,
			engine.WalletResult{Outcome: engine.OutcomeNotFound, Code: codec.OrderNotExist, Message: codec.OrderNotExist.Message()}, nil},
		{"inquiry query U", "inquiry", 200, `{"result":{"resultCode":"REQUEST_TRAFFIC_EXCEED_LIMIT","resultStatus":"U"}}`,
			engine.WalletResult{Outcome: engine.OutcomeProcessing, Code: codec.RequestTrafficExceedLimit, Message: codec.RequestTrafficExceedLimit.Message()}, nil},
		{"inquiry refused", "inquiry", 200, `{"result":{"resultCode":"PARAM_ILLEGAL","resultStatus":"F"}}`, engine.WalletResult{}, mpp.ErrRefused},
		{"inquiry S without paymentResult", "inquiry", 200, `{"result":` + rS + `}`, engine.WalletResult{}, mpp.ErrBadAnswer},
		{"inquiry paid, amount for the engine to check", "inquiry", 200, `{"result":` + rS + `,"paymentResult":` + rS + `,"paymentRequestId":"p1","paymentAmount":{"currency":"HKD","value":"7"},` + paid + `}`,
			engine.WalletResult{Outcome: engine.OutcomeSuccess, Code: codec.Success, Message: "success", WalletTxnID: "W-9", At: at, CustomerID: "C-1", WalletBrand: "Brand", Amount: codec.Amount{Value: 7, Currency: hkd}}, nil},
		{"inquiry paid, another id", "inquiry", 200, `{"result":` + rS + `,"paymentResult":` + rS + `,"paymentRequestId":"p2",` + paid + `}`, engine.WalletResult{}, mpp.ErrOtherPayment},
		{"cancel ok", "cancel", 200, `{"result":` + rS + `}`, engine.WalletResult{Outcome: engine.OutcomeSuccess, Code: codec.Success, Message: "success"}, nil},
		{"cancel window", "cancel", 200, `{"result":{"resultCode":"CANCEL_WINDOW_EXCEED","resultStatus":"F"}}`,
			engine.WalletResult{Outcome: engine.OutcomeFail, Code: codec.CancelWindowExceed, Message: codec.CancelWindowExceed.Message()}, nil},
		{"cancel not found", "cancel", 200, `{"result":{"resultCode":"ORDER_NOT_EXIST","resultStatus":"F"}}`,
			engine.WalletResult{Outcome: engine.OutcomeNotFound, Code: codec.OrderNotExist, Message: codec.OrderNotExist.Message()}, nil},
		{"cancel HTTP 404", "cancel", 404, ``, engine.WalletResult{}, mpp.ErrHTTPStatus},
		{"refund ok", "refund", 200, `{"result":` + rS + `,"refundId":"R-1","refundTime":"2024-05-01T12:00:00Z"}`,
			engine.WalletResult{Outcome: engine.OutcomeSuccess, Code: codec.Success, Message: "success", WalletTxnID: "R-1", At: at}, nil},
		{"refund exceed", "refund", 200, `{"result":{"resultCode":"REFUND_AMOUNT_EXCEED","resultStatus":"F"}}`,
			engine.WalletResult{Outcome: engine.OutcomeFail, Code: codec.RefundAmountExceed, Message: codec.RefundAmountExceed.Message()}, nil},
		{"refund ok, another amount", "refund", 200, `{"result":` + rS + `,"refundId":"R-1","refundTime":"2024-05-01T12:00:00Z","refundAmount":{"currency":"HKD","value":"2"}}`, engine.WalletResult{}, mpp.ErrOtherPayment},
		{"refund bad time", "refund", 200, `{"result":` + rS + `,"refundId":"R-1","refundTime":"yesterday"}`, engine.WalletResult{}, mpp.ErrBadAnswer},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			k.set(tc.status, tc.body)
			got, err := ops[tc.op]()
			if tc.err != nil {
				if !errors.Is(err, tc.err) || errors.Is(err, mpp.ErrNotSent) || got != (engine.WalletResult{}) {
					t.Fatalf("got %+v, %v; want error %v (sent)", got, err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !got.At.Equal(tc.want.At) {
				t.Fatalf("At = %v, want %v", got.At, tc.want.At)
			}
			got.At = tc.want.At
			if got != tc.want {
				t.Fatalf("got  %+v\nwant %+v", got, tc.want)
			}
		})
	}
}

// TestRequestsOnTheWire checks what the Client sends: path under the base
// URL's prefix, method, content type, and every field.
func TestRequestsOnTheWire(t *testing.T) {
	c, k := cannedClient(t)
	ctx := context.Background()
	k.set(200, `{"result":`+rS+`,`+paid+`}`)
	p := walletPay("pay-77", code(77, 0), 1234)
	if _, err := c.Pay(ctx, p); err != nil {
		t.Fatal(err)
	}
	if k.path != "/prefix"+codec.MPPPayPath || k.method != "POST" || !strings.HasPrefix(k.ctype, "application/json") {
		t.Fatalf("sent %s %s (%s)", k.method, k.path, k.ctype)
	}
	// The URL is parsed once (New) and copied into each request: the
	// request line carries the path alone, the host goes in Host.
	if k.uri != "/prefix"+codec.MPPPayPath || k.host != "wallet.test" {
		t.Fatalf("sent request target %q, Host %q", k.uri, k.host)
	}
	var r codec.MPPPayRequest
	if err := codec.ParseMPPPayRequest(k.got, &r); err != nil {
		t.Fatal(err)
	}
	if string(r.AcquirerID) != "ACQ-1" || string(r.PSPID) != "PSP-A" || string(r.PaymentRequestID) != p.PaymentID ||
		r.Amount != p.Amount || !r.Code.Equal(&p.Code) || string(r.MerchantID) != string(p.MerchantID) || string(r.StoreID) != string(p.StoreID) ||
		string(r.TerminalID) != string(p.TerminalID) || string(r.OrderDescription) != string(p.Description) || !r.ExpiryTime.Equal(p.ExpiresAt) {
		t.Fatalf("pay request %+v does not carry %+v", r, p)
	}

	k.set(200, `{"result":`+rS+`,"paymentResult":`+rS+`,`+paid+`}`)
	c.Inquire(ctx, "pay-77")
	var id codec.MPPIDRequest
	if err := codec.ParseMPPIDRequest(k.got, &id); err != nil || string(id.PaymentRequestID) != "pay-77" || k.path != "/prefix"+codec.MPPInquiryPath {
		t.Fatalf("inquiry sent %s %s (%v)", k.path, k.got, err)
	}
	k.set(200, `{"result":`+rS+`}`)
	c.Cancel(ctx, "pay-77")
	if err := codec.ParseMPPIDRequest(k.got, &id); err != nil || string(id.PaymentRequestID) != "pay-77" || k.path != "/prefix"+codec.MPPCancelPath {
		t.Fatalf("cancel sent %s %s (%v)", k.path, k.got, err)
	}
	k.set(200, `{"result":`+rS+`,"refundId":"R","refundTime":"2024-05-01T12:00:00Z"}`)
	c.Refund(ctx, &engine.WalletRefund{RefundID: "ref-1", PaymentID: "pay-77", Amount: codec.Amount{Value: 5, Currency: hkd}, Reason: "cold"})
	var rr codec.MPPRefundRequest
	if err := codec.ParseMPPRefundRequest(k.got, &rr); err != nil || string(rr.RefundRequestID) != "ref-1" || string(rr.PaymentRequestID) != "pay-77" ||
		rr.Amount.Value != 5 || string(rr.Reason) != "cold" || k.path != "/prefix"+codec.MPPRefundPath {
		t.Fatalf("refund sent %s %s (%v)", k.path, k.got, err)
	}
}

// TestErrorsKeepTheCodeOut: a wallet that echoes the request (with the
// code) in a broken answer must not get the code into the error.
func TestErrorsKeepTheCodeOut(t *testing.T) {
	echo := func(status int) func(*fasthttp.RequestCtx) {
		return func(ctx *fasthttp.RequestCtx) {
			ctx.SetStatusCode(status)
			ctx.SetBody(append([]byte("oops "), ctx.PostBody()...))
		}
	}
	for _, status := range []int{200, 500} {
		c := newClient(t, mpp.Config{BaseURL: "http://w", Dial: serve(t, echo(status))})
		cd := code(42, 0)
		_, err := c.Pay(context.Background(), walletPay("p1", cd, 1))
		if err == nil || strings.Contains(err.Error(), cd.Reveal()[6:20]) {
			t.Fatalf("HTTP %d: error %v leaks the code or is nil", status, err)
		}
	}
}

func TestConfig(t *testing.T) {
	ok := mpp.Config{Name: "A", BaseURL: "http://127.0.0.1:9000", AcquirerID: "a", PSPID: "p"}
	cases := []struct {
		name string
		edit func(*mpp.Config)
		ok   bool
	}{
		{"defaults", func(*mpp.Config) {}, true},
		{"https no port", func(c *mpp.Config) { c.BaseURL = "https://wallet.example/api" }, true},
		{"only in-flight", func(c *mpp.Config) { c.MaxInFlight = 8 }, true},
		{"no name", func(c *mpp.Config) { c.Name = "" }, false},
		{"bad scheme", func(c *mpp.Config) { c.BaseURL = "ftp://x" }, false},
		{"no host", func(c *mpp.Config) { c.BaseURL = "http://" }, false},
		{"query", func(c *mpp.Config) { c.BaseURL = "http://x/?a=1" }, false},
		{"in-flight above conns", func(c *mpp.Config) { c.MaxConns, c.MaxInFlight = 2, 3 }, false},
		{"negative timeout", func(c *mpp.Config) { c.Timeout = -1 }, false},
		{"no psp", func(c *mpp.Config) { c.PSPID = "" }, false},
		{"long acquirer", func(c *mpp.Config) { c.AcquirerID = strings.Repeat("a", codec.MaxShortFieldLen+1) }, false},
	}
	for _, tc := range cases {
		cfg := ok
		tc.edit(&cfg)
		_, err := mpp.New(cfg)
		if (err == nil) != tc.ok {
			t.Errorf("%s: New = %v, want ok=%v", tc.name, err, tc.ok)
		}
	}
	d := ok.WithDefaults()
	if d.MaxConns != mpp.DefaultMaxConns || d.MaxInFlight != mpp.DefaultMaxConns || d.Timeout != mpp.DefaultTimeout {
		t.Errorf("defaults: %v", d)
	}
	if o := (mpp.Config{MaxInFlight: 8}).WithDefaults(); o.MaxConns != 8 {
		t.Errorf("MaxConns should follow MaxInFlight: %v", o)
	}
	if s := d.String(); !strings.Contains(s, "Name: A") || !strings.Contains(s, "Timeout: 3s") {
		t.Errorf("String() = %s", s)
	}
}

// TestPayAllocs is the pay path's budget, measured against an in-memory
// wallet whose handler allocates nothing: the two strings of the answer
// the engine keeps (paymentId, customerId). Pools, the in-flight slot, the
// timer-free fast path and the interned brand account for the rest.
func TestPayAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector allocates")
	}
	c := newClient(t, mpp.Config{BaseURL: "http://w", Dial: serve(t, fixed(`{"result":`+rS+`,`+paid+`}`))})
	p := walletPay("p1", code(1, 0), 100)
	ctx := context.Background()
	for range 100 { // warm pools and connections
		if _, err := c.Pay(ctx, p); err != nil {
			t.Fatal(err)
		}
	}
	const budget = 2
	if n := testing.AllocsPerRun(500, func() { c.Pay(ctx, p) }); n > budget {
		t.Fatalf("Pay: %v allocs/op, budget %d", n, budget)
	}
}
