package httpapi_test

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/paycode/paycode/codec"
)

// TestLenientInputsRefused: over real HTTP, inputs that
// were accepted with SUCCESS are refused with PARAM_ILLEGAL naming the
// field, and nothing is recorded or charged: an amount with a leading
// zero, an amount above the currency's maximum (int64's largest in HKD),
// bidirectional and zero-width characters in ids, a client-id with a
// non-printable byte.
func TestLenientInputsRefused(t *testing.T) {
	e := newE2E(t)
	code := func(n int) string { return e.testCode("281001", n, 0) }
	withAmount := func(id string, n int, v string) string {
		return strings.ReplaceAll(payBody(id, code(n), 1), `"value":"1"`, `"value":"`+v+`"`)
	}
	for i, c := range []struct {
		name, id, body, field string
	}{
		{"leading zero", "lz-1", withAmount("lz-1", 1, "007"), "value"},
		{"int64 max HKD", "big-1", withAmount("big-1", 2, "9223372036854775807"), "paymentAmount.value"},
		{"above the 12-digit default", "big-2", withAmount("big-2", 3, "1000000000000"), "paymentAmount.value"},
		{"U+202E in paymentRequestId", "rlo-\u202e1", payBody("rlo-\u202e1", code(4), 100), "paymentRequestId"},
		{"U+200B in paymentRequestId", "zw\u200b-1", payBody("zw\u200b-1", code(5), 100), "paymentRequestId"},
		{"U+FEFF in paymentRequestId", "\ufeffbom-1", payBody("\ufeffbom-1", code(6), 100), "paymentRequestId"},
	} {
		a := e.post("pay", "C1", c.body)
		if a.Result.Code != "PARAM_ILLEGAL" || a.Result.Status != "F" || !strings.Contains(a.Result.Message, c.field) {
			t.Errorf("%d %s: %+v", i, c.name, a.Result)
		}
		if q := e.post("inquiryPayment", "C1", fmt.Sprintf(`{"paymentRequestId":%q}`, c.id)); q.Result.Code == "SUCCESS" {
			t.Errorf("%s: recorded", c.name)
		}
	}
	// The largest default amount is accepted.
	if a := e.post("pay", "C1", withAmount("max-1", 7, "999999999999")); a.Result.Code != "SUCCESS" {
		t.Errorf("999999999999: %+v", a.Result)
	}
	// Refund: leading zero, above the maximum.
	p := e.post("pay", "C1", payBody("rf-base", code(8), 5000))
	for _, v := range []string{"0100", "1000000000000"} {
		if r := e.post("refund", "C1", fmt.Sprintf(`{"refundRequestId":"rf-%s","paymentId":%q,"refundAmount":{"currency":"HKD","value":%q}}`, v, p.PaymentID, v)); r.Result.Code != "PARAM_ILLEGAL" || !strings.Contains(r.Result.Message, "refundAmount.value") {
			t.Errorf("refund %s: %+v", v, r.Result)
		}
	}
	// A client-id with byte 0xFF, sent raw (HTTP clients refuse to).
	for _, id := range []string{"C\xff1", "C 1", "C\u202e1"} {
		body := payBody("cid-"+fmt.Sprint(len(id)), code(9), 100)
		raw := rawPost(t, e.st.Addr, "/ams/api/v1/payments/pay", id, body)
		if !strings.Contains(raw, `"resultCode":"PARAM_ILLEGAL"`) || !strings.Contains(raw, "client-id") {
			t.Errorf("client-id %q: %s", id, raw)
		}
	}
	if n := e.st.Engine.Stats().Dispatched.Load(); n != 2 {
		t.Errorf("%d pays dispatched, want the 2 valid ones", n)
	}
}

// TestAmountLimitsConfigured: a per-currency maximum set on the server
// refuses larger pays and refunds in that currency only.
func TestAmountLimitsConfigured(t *testing.T) {
	e := newE2E(t)
	l, err := codec.NewAmountLimits(map[string]int64{"HKD": 100000})
	if err != nil {
		t.Fatal(err)
	}
	e.st.API.SetAmountLimits(l)
	if a := e.post("pay", "C1", payBody("lim-1", e.testCode("281001", 1, 0), 100001)); a.Result.Code != "PARAM_ILLEGAL" || !strings.Contains(a.Result.Message, "maximum") {
		t.Errorf("above HKD max: %+v", a.Result)
	}
	if a := e.post("pay", "C1", payBody("lim-2", e.testCode("281001", 2, 0), 100000)); a.Result.Code != "SUCCESS" {
		t.Errorf("at HKD max: %+v", a.Result)
	}
}

// rawPost sends one HTTP/1.1 request written by hand and returns the
// answer's body.
func rawPost(t *testing.T, addr, path, clientID, body string) string {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(10 * time.Second))
	fmt.Fprintf(c, "POST %s HTTP/1.1\r\nHost: %s\r\nContent-Type: application/json\r\nclient-id: %s\r\nContent-Length: %d\r\nConnection: close\r\n\r\n%s", path, addr, clientID, len(body), body)
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return string(b)
}

// TestSDKBodies: the pay bodies the official SDKs send, as
// their serialisers write them (testdata/sdk: the Python SDK's
// json.dumps(indent=3) with the InStorePaymentScenario.PAYMENTCODE enum
// and with its UserPresentedCodePaymentRequest helper's "PaymentCode";
// the Go SDK's encoding/json in struct order; the Java SDK's fastjson in
// field-name order), are paid over real HTTP on the production and
// sandbox paths.
func TestSDKBodies(t *testing.T) {
	e := newE2E(t)
	files, _ := filepath.Glob("testdata/sdk/*-pay*.json")
	if len(files) < 4 {
		t.Fatalf("SDK bodies: %v", files)
	}
	for i, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var m struct {
			ID     string `json:"paymentRequestId"`
			Method struct {
				Code string `json:"paymentMethodId"`
			} `json:"paymentMethod"`
		}
		if err := json.Unmarshal(b, &m); err != nil {
			t.Fatal(err)
		}
		e.mu.Lock()
		e.codes = append(e.codes, m.Method.Code)
		e.mu.Unlock()
		path := "/ams/api/v1/payments/pay"
		if i%2 == 1 {
			path = "/ams/sandbox/api/v1/payments/pay"
		}
		raw := rawPost(t, e.st.Addr, path, "SANDBOX_5YEXAMPLE00001", string(b))
		var a answer
		if err := json.Unmarshal([]byte(raw), &a); err != nil || a.Result.Code != "SUCCESS" {
			t.Errorf("%s: %v %s", f, err, raw)
			continue
		}
		e.agree("SANDBOX_5YEXAMPLE00001", a.PaymentID, 5600)
	}
}
