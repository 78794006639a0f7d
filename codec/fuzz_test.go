package codec_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/paycode/paycode/codec"
)

// Fuzz targets for the lane parsers and the payment-code classifier. Seed
// corpora live in testdata/fuzz/<Fuzz name>/; crashers found are added
// there. Run one with
//
//	go test -run='^$' -fuzz='^FuzzParsePay$' -fuzztime=30s ./codec/

// laneSentinels are the errors a lane parse error may unwrap to.
var laneSentinels = []error{
	codec.ErrSyntax, codec.ErrMissing, codec.ErrType, codec.ErrDuplicateKey, codec.ErrTooLong,
	codec.ErrValue, codec.ErrCurrency, codec.ErrAmountFormat, codec.ErrAmountRange,
}

// payPaths is every path a pay parse error may name ("" = the body); a
// path outside it would mean the error text came from the input.
var payPaths = func() map[string]bool {
	m := map[string]bool{"": true, "settlementStrategy": true, "settlementStrategy.settlementCurrency": true,
		"paymentNotifyUrl": true, "paymentExpiryTime": true, "merchantAccountId": true, "order.referenceOrderId": true}
	for _, p := range payMandatory {
		m[p] = true
	}
	return m
}()

// checkParseError is the invariant of every failed parse: a *FieldError
// at a known path, wrapping a known sentinel, that does not show the code.
func checkParseError(t *testing.T, err error, paths map[string]bool) {
	t.Helper()
	var fe *codec.FieldError
	if !errors.As(err, &fe) {
		t.Fatalf("error %T is not a *FieldError: %v", err, err)
	}
	if !paths[fe.Field] {
		t.Fatalf("error names unknown path %q", fe.Field)
	}
	known := false
	for _, s := range laneSentinels {
		known = known || errors.Is(err, s)
	}
	if !known {
		t.Fatalf("error wraps no sentinel: %v", err)
	}
	if strings.Contains(err.Error(), testCodeMiddle) {
		t.Fatalf("error shows the code: %v", err)
	}
}

// appendPayBody writes a parsed request back as a pay body, the way a
// lane would send it; the round trip must be the identity.
func appendPayBody(dst []byte, r *codec.PayRequest) []byte {
	str := func(key string, v []byte) {
		if v != nil {
			dst = codec.AppendStringField(dst, key, v)
		}
	}
	obj := func(key string) { dst = append(codec.AppendKey(dst, key), '{') }
	end := func() { dst = append(dst, '}') }
	dst = append(dst, '{')
	str("productCode", r.ProductCode)
	str("paymentRequestId", r.PaymentRequestID)
	obj("order")
	str("orderDescription", r.OrderDescription)
	dst = codec.AppendAmountField(dst, "orderAmount", r.OrderAmount)
	str("referenceOrderId", r.ReferenceOrderID)
	obj("merchant")
	str("referenceMerchantId", r.MerchantID)
	str("merchantMCC", r.MerchantMCC)
	str("merchantName", r.MerchantName)
	obj("store")
	str("referenceStoreId", r.StoreID)
	str("storeName", r.StoreName)
	str("storeMCC", r.StoreMCC)
	end()
	end()
	obj("env")
	str("storeTerminalId", r.TerminalID)
	str("storeTerminalRequestTime", r.TerminalRequestTime)
	end()
	end()
	dst = codec.AppendAmountField(dst, "paymentAmount", r.Amount)
	obj("paymentMethod")
	str("paymentMethodType", r.PaymentMethodType)
	var code []byte
	if r.CodeErr == nil {
		code = r.Code.AppendDigits(nil)
	}
	dst = codec.AppendStringField(dst, "paymentMethodId", code)
	end()
	obj("paymentFactor")
	str("inStorePaymentScenario", r.Scenario)
	end()
	str("paymentNotifyUrl", r.NotifyURL)
	str("paymentExpiryTime", r.ExpiryTime)
	if r.SettlementCurrency != 0 {
		obj("settlementStrategy")
		dst = codec.AppendStringField(dst, "settlementCurrency", r.SettlementCurrency.String())
		end()
	}
	str("merchantAccountId", r.MerchantAccountID)
	return append(dst, '}')
}

// payStrings is a comparable view of a request's byte fields.
func payStrings(r *codec.PayRequest) string {
	return fmt.Sprintf("%q", [][]byte{r.ProductCode, r.PaymentRequestID, r.PaymentMethodType, r.Scenario,
		r.NotifyURL, r.ExpiryTime, r.MerchantAccountID, r.OrderDescription, r.ReferenceOrderID, r.MerchantID,
		r.MerchantMCC, r.MerchantName, r.StoreID, r.StoreName, r.StoreMCC, r.TerminalID, r.TerminalRequestTime})
}

func FuzzParsePay(f *testing.F) {
	f.Add([]byte(fullPayBody))
	f.Add(withMember([]byte(fullPayBody), `"paymentRequestId":"dup"`))
	f.Add(replaceOnce(f, fullPayBody, `"merchantMCC":"5812"`, `"merchantMCC":742`))
	f.Add(replaceOnce(f, fullPayBody, `"value":"11800"}`, `"value":1e400}`))
	f.Add([]byte(`{"a":` + strings.Repeat("[", 299) + strings.Repeat("]", 299) + `}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		var r codec.PayRequest
		err := codec.ParsePay(body, &r)
		if err != nil {
			checkParseError(t, err, payPaths)
			if r.PaymentRequestID != nil || !r.Code.IsZero() || r.CodeErr != nil {
				t.Fatal("request not reset after an error")
			}
			return
		}
		// What we accept, encoding/json accepts, and reads the same way.
		if !json.Valid(body) {
			t.Fatal("accepted a body encoding/json says is not JSON")
		}
		// UseNumber: a number too big for float64 is valid JSON all the same.
		var m map[string]any
		d := json.NewDecoder(bytes.NewReader(body))
		d.UseNumber()
		if err := d.Decode(&m); err != nil {
			t.Fatalf("encoding/json cannot read an accepted body: %v", err)
		}
		if id, _ := get(m, "paymentRequestId"); id != string(r.PaymentRequestID) {
			t.Fatalf("paymentRequestId %q, encoding/json reads %q", r.PaymentRequestID, id)
		}
		if name, _ := get(m, "order.merchant.merchantName"); name != string(r.MerchantName) {
			t.Fatalf("merchantName %q, encoding/json reads %q", r.MerchantName, name)
		}
		if string(r.ProductCode) != "IN_STORE_PAYMENT" || string(r.Scenario) != "PaymentCode" {
			t.Fatal("fixed values not enforced")
		}
		if !r.Amount.Currency.Valid() || r.Amount.Currency != r.OrderAmount.Currency || r.Amount.Value < 0 {
			t.Fatalf("amounts %+v %+v", r.Amount, r.OrderAmount)
		}
		if len(r.PaymentRequestID) == 0 || len(r.PaymentRequestID) > codec.MaxIDLen ||
			utf8.RuneCount(r.OrderDescription) > codec.MaxDescriptionLen {
			t.Fatal("length limits not enforced")
		}
		if r.CodeErr == nil && (r.Code.Len() < codec.MinCodeLen || r.Code.Len() > codec.MaxCodeLen) {
			t.Fatalf("code of length %d accepted", r.Code.Len())
		}
		// Round trip: written back with our JSON writer, it parses the same.
		out := appendPayBody(nil, &r)
		var back codec.PayRequest
		if err := codec.ParsePay(out, &back); err != nil {
			t.Fatalf("re-parse: %v\n%s", err, out)
		}
		if payStrings(&r) != payStrings(&back) || r.Amount != back.Amount || r.OrderAmount != back.OrderAmount ||
			r.SettlementCurrency != back.SettlementCurrency || !r.Code.Equal(&back.Code) || (r.CodeErr == nil) != (back.CodeErr == nil) {
			t.Fatalf("round trip differs\n%s\n%s", payStrings(&r), payStrings(&back))
		}
	})
}

func FuzzParseIDRequest(f *testing.F) {
	f.Add([]byte(`{"paymentRequestId":"pay-1","paymentId":"2024050112","merchantAccountId":"a"}`))
	f.Add([]byte(`{"paymentId":"p","paymentId":"q"}`))
	f.Add([]byte(`{"paymentId":12345678901234567890}`))
	f.Add([]byte(`{"paymentRequestId":"\ud83d\ude00","x":[[[[{}]]]]}`))
	paths := map[string]bool{"": true, "paymentId": true, "paymentRequestId": true, "merchantAccountId": true}
	f.Fuzz(func(t *testing.T, body []byte) {
		var r codec.IDRequest
		if err := codec.ParseIDRequest(body, &r); err != nil {
			checkParseError(t, err, paths)
			return
		}
		if r.PaymentID == nil && r.PaymentRequestID == nil {
			t.Fatal("accepted without an id")
		}
		out := []byte{'{'}
		for _, kv := range []struct {
			k string
			v []byte
		}{{"paymentRequestId", r.PaymentRequestID}, {"paymentId", r.PaymentID}, {"merchantAccountId", r.MerchantAccountID}} {
			if kv.v != nil {
				out = codec.AppendStringField(out, kv.k, kv.v)
			}
		}
		out = append(out, '}')
		var back codec.IDRequest
		if err := codec.ParseIDRequest(out, &back); err != nil {
			t.Fatalf("re-parse: %v\n%s", err, out)
		}
		if !bytes.Equal(r.PaymentID, back.PaymentID) || !bytes.Equal(r.PaymentRequestID, back.PaymentRequestID) ||
			!bytes.Equal(r.MerchantAccountID, back.MerchantAccountID) {
			t.Fatalf("round trip differs: %q %q", r.PaymentID, back.PaymentID)
		}
	})
}

func FuzzParseRefund(f *testing.F) {
	f.Add([]byte(refundBody))
	f.Add([]byte(`{"refundRequestId":"r","paymentId":"p","refundAmount":{"currency":"JPY","value":"99999999999999999999"}}`))
	f.Add([]byte(`{"refundRequestId":"r","paymentId":"p","refundAmount":{"currency":"JPY","value":5}}`))
	paths := map[string]bool{"": true, "refundRequestId": true, "paymentId": true, "refundAmount": true,
		"refundAmount.currency": true, "refundAmount.value": true, "refundReason": true, "refundNotifyUrl": true, "referenceRefundId": true}
	f.Fuzz(func(t *testing.T, body []byte) {
		var r codec.RefundRequest
		if err := codec.ParseRefund(body, &r); err != nil {
			checkParseError(t, err, paths)
			return
		}
		out := []byte{'{'}
		out = codec.AppendStringField(out, "refundRequestId", r.RefundRequestID)
		out = codec.AppendStringField(out, "paymentId", r.PaymentID)
		out = codec.AppendAmountField(out, "refundAmount", r.Amount)
		for _, kv := range []struct {
			k string
			v []byte
		}{{"refundReason", r.Reason}, {"refundNotifyUrl", r.NotifyURL}, {"referenceRefundId", r.ReferenceRefundID}} {
			if kv.v != nil {
				out = codec.AppendStringField(out, kv.k, kv.v)
			}
		}
		out = append(out, '}')
		var back codec.RefundRequest
		if err := codec.ParseRefund(out, &back); err != nil {
			t.Fatalf("re-parse: %v\n%s", err, out)
		}
		if fmt.Sprintf("%q", [][]byte{r.RefundRequestID, r.PaymentID, r.Reason, r.NotifyURL, r.ReferenceRefundID}) !=
			fmt.Sprintf("%q", [][]byte{back.RefundRequestID, back.PaymentID, back.Reason, back.NotifyURL, back.ReferenceRefundID}) ||
			r.Amount != back.Amount {
			t.Fatalf("round trip differs")
		}
	})
}

func FuzzParseInquiryRefund(f *testing.F) {
	f.Add([]byte(`{"refundRequestId":"rr-1","refundId":"rf-1","merchantAccountId":"m"}`))
	f.Add([]byte(`{"refundId":"a","refundId":"a"}`))
	f.Add([]byte(`{"refundId":null}`))
	paths := map[string]bool{"": true, "refundId": true, "refundRequestId": true, "merchantAccountId": true}
	f.Fuzz(func(t *testing.T, body []byte) {
		var r codec.InquiryRefundRequest
		if err := codec.ParseInquiryRefund(body, &r); err != nil {
			checkParseError(t, err, paths)
			return
		}
		if r.RefundID == nil && r.RefundRequestID == nil {
			t.Fatal("accepted without an id")
		}
		for _, f := range [][]byte{r.RefundID, r.RefundRequestID, r.MerchantAccountID} {
			if len(f) > codec.MaxIDLen || !utf8.Valid(f) {
				t.Fatalf("field %q breaks the limits", f)
			}
		}
	})
}

// FuzzParseCode: a parsed code keeps its digits, its masked form hides the
// middle under every formatting path, and classification never panics.
func FuzzParseCode(f *testing.F) {
	for _, s := range []string{testCode, "2893612204263667830", "2810 0102 0123 4567 8901 4567",
		"134567890123456789", "12345", strings.Repeat("9", 33), "28100102012345678901456x", ""} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		c, err := codec.ParseCode(in)
		if err != nil {
			if !errors.Is(err, codec.ErrCodeEmpty) && !errors.Is(err, codec.ErrCodeNotDigit) &&
				!errors.Is(err, codec.ErrCodeLength) {
				t.Fatalf("unexpected error %v", err)
			}
			if !c.IsZero() {
				t.Fatal("code returned with an error")
			}
			return
		}
		digits := strings.ReplaceAll(string(in), " ", "")
		n := len(digits)
		if c.Reveal() != digits || c.Len() != n || n < codec.MinCodeLen || n > codec.MaxCodeLen {
			t.Fatalf("digits %q, want %q", c.Reveal(), digits)
		}
		masked := c.String()
		if len(masked) != n || masked[:6] != digits[:6] || masked[n-4:] != digits[n-4:] ||
			strings.Trim(masked[6:n-4], "*") != "" {
			t.Fatalf("masked %q of %d digits", masked, n)
		}
		for _, verb := range []string{"%s", "%v", "%+v", "%#v", "%q", "%x", "%d"} {
			if got := strings.Trim(fmt.Sprintf(verb, c), `"`); got != masked {
				t.Fatalf("%s prints %q, want %q", verb, got, masked)
			}
		}
		cl := c.Class()
		if cl.String() == "invalid" || (cl.Routable() && cl == codec.ClassWeChat) {
			t.Fatalf("class %v", cl)
		}
		if cl == codec.ClassAlipayPlus && n != 24 {
			t.Fatalf("Alipay+ class for %d digits", n)
		}
	})
}

// FuzzAppendJSONString: byte for byte what encoding/json writes.
func FuzzAppendJSONString(f *testing.F) {
	for _, s := range nastyStrings {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		want, err := json.Marshal(s)
		if err != nil {
			t.Fatal(err)
		}
		if got := codec.AppendJSONString(nil, []byte(s)); !bytes.Equal(got, want) {
			t.Fatalf("%q:\n got %s\nwant %s", s, got, want)
		}
	})
}

// FuzzCheckClientID: whatever the bytes, CheckClientID accepts only 1 to
// 128 bytes of printable ASCII.
func FuzzCheckClientID(f *testing.F) {
	for _, s := range []string{"SANDBOX_5YEXAMPLE00001", "a\xffb", "a b", "\u202eX", strings.Repeat("a", 129)} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		err := codec.CheckClientID(b)
		ok := len(b) >= 1 && len(b) <= codec.MaxClientIDLen
		for _, c := range b {
			ok = ok && c > ' ' && c < 0x7f
		}
		if (err == nil) != ok {
			t.Fatalf("%q: %v", b, err)
		}
	})
}
