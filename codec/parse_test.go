package codec_test

import (
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/paycode/paycode/codec"
)

// replaceOnce edits fullPayBody (or another body) textually, failing the
// test when old is not there, so a table row cannot silently test nothing.
func replaceOnce(t testing.TB, body, old, new string) []byte {
	t.Helper()
	if !strings.Contains(body, old) {
		t.Fatalf("test body has no %q", old)
	}
	return []byte(strings.Replace(body, old, new, 1))
}

// withMember inserts a raw member at the start of the top-level object.
func withMember(body []byte, member string) []byte {
	return append([]byte("{"+member+","), body[1:]...)
}

func TestParsePayFull(t *testing.T) {
	var r codec.PayRequest
	if err := codec.ParsePay([]byte(fullPayBody), &r); err != nil {
		t.Fatal(err)
	}
	strs := []struct {
		name string
		got  []byte
		want string
	}{
		{"ProductCode", r.ProductCode, "IN_STORE_PAYMENT"},
		{"PaymentRequestID", r.PaymentRequestID, "pay-20240501-000123"},
		{"PaymentMethodType", r.PaymentMethodType, "CONNECT_WALLET"},
		{"Scenario", r.Scenario, "PaymentCode"},
		{"NotifyURL", r.NotifyURL, "https://pos.example.com/antom/notify"},
		{"ExpiryTime", r.ExpiryTime, "2024-05-01T12:05:00+08:00"},
		{"MerchantAccountID", r.MerchantAccountID, "ACC-1"},
		{"OrderDescription", r.OrderDescription, "2 x flat white, 1 x croissant"},
		{"ReferenceOrderID", r.ReferenceOrderID, "ORD-20240501-000123"},
		{"MerchantID", r.MerchantID, "M-000042"},
		{"MerchantMCC", r.MerchantMCC, "5812"},
		{"MerchantName", r.MerchantName, "Cafe Lumiere"},
		{"StoreID", r.StoreID, "S-0007"},
		{"StoreName", r.StoreName, "Cafe Lumiere Central"},
		{"StoreMCC", r.StoreMCC, "5812"},
		{"TerminalID", r.TerminalID, "T-3"},
		{"TerminalRequestTime", r.TerminalRequestTime, "2024-05-01T12:00:00+08:00"},
	}
	for _, s := range strs {
		if string(s.got) != s.want {
			t.Errorf("%s = %q, want %q", s.name, s.got, s.want)
		}
		if cap(s.got) != len(s.got) {
			t.Errorf("%s: cap %d != len %d: appending to it would clobber the next field", s.name, cap(s.got), len(s.got))
		}
	}
	hkd := codec.MustCurrency("HKD")
	if want := (codec.Amount{Value: 11800, Currency: hkd}); r.Amount != want || r.OrderAmount != want {
		t.Errorf("amounts = %+v / %+v, want %+v", r.Amount, r.OrderAmount, want)
	}
	if r.SettlementCurrency != codec.MustCurrency("USD") {
		t.Errorf("SettlementCurrency = %v", r.SettlementCurrency)
	}
	if r.CodeErr != nil {
		t.Fatalf("CodeErr = %v", r.CodeErr)
	}
	if want := codec.MustParseCode(testCode); !r.Code.Equal(&want) {
		t.Errorf("Code = %v, want %v", r.Code, want)
	}
}

func TestParsePayAccepts(t *testing.T) {
	hkd := codec.MustCurrency("HKD")
	cases := []struct {
		name  string
		body  []byte
		check func(t *testing.T, r *codec.PayRequest)
	}{
		{"optional fields absent", payBody(t,
			edit{"paymentNotifyUrl", deleted}, edit{"paymentExpiryTime", deleted},
			edit{"settlementStrategy", deleted}, edit{"merchantAccountId", deleted},
			edit{"order.referenceOrderId", deleted}),
			func(t *testing.T, r *codec.PayRequest) {
				if r.NotifyURL != nil || r.ExpiryTime != nil || r.SettlementCurrency != 0 ||
					r.MerchantAccountID != nil || r.ReferenceOrderID != nil {
					t.Errorf("optional fields not empty: %+v", r)
				}
			}},
		{"optional fields null", payBody(t,
			edit{"paymentNotifyUrl", nil}, edit{"paymentExpiryTime", nil},
			edit{"settlementStrategy", nil}, edit{"merchantAccountId", nil},
			edit{"order.referenceOrderId", nil}),
			func(t *testing.T, r *codec.PayRequest) {
				if r.NotifyURL != nil || r.SettlementCurrency != 0 || r.ReferenceOrderID != nil {
					t.Errorf("null optional fields not treated as absent: %+v", r)
				}
			}},
		{"optional strings empty", payBody(t, edit{"paymentNotifyUrl", ""}, edit{"merchantAccountId", ""}),
			func(t *testing.T, r *codec.PayRequest) {
				if r.NotifyURL != nil || r.MerchantAccountID != nil {
					t.Errorf("empty optional strings not treated as absent")
				}
			}},
		{"settlementCurrency null", payBody(t, edit{"settlementStrategy.settlementCurrency", nil}),
			func(t *testing.T, r *codec.PayRequest) {
				if r.SettlementCurrency != 0 {
					t.Errorf("SettlementCurrency = %v", r.SettlementCurrency)
				}
			}},
		{"amount values as JSON integers", payBody(t, edit{"paymentAmount.value", 3000}, edit{"order.orderAmount.value", 5000}),
			func(t *testing.T, r *codec.PayRequest) {
				if r.Amount != (codec.Amount{Value: 3000, Currency: hkd}) || r.OrderAmount.Value != 5000 {
					t.Errorf("amounts = %+v %+v, want 3000 and 5000", r.Amount, r.OrderAmount)
				}
			}},
		{"MCC as JSON integer", payBody(t, edit{"order.merchant.merchantMCC", 5812}, edit{"order.merchant.store.storeMCC", 742}),
			func(t *testing.T, r *codec.PayRequest) {
				if string(r.MerchantMCC) != "5812" || string(r.StoreMCC) != "0742" {
					t.Errorf("MCCs = %q %q, want 5812 0742", r.MerchantMCC, r.StoreMCC)
				}
			}},
		{"unknown fields everywhere", payBody(t,
			edit{"appId", "x"}, edit{"userRegion", "HK"}, edit{"metadata", map[string]any{"a": []any{1, true, nil}}},
			edit{"order.goods", []any{map[string]any{"goodsName": "x"}}}, edit{"order.merchant.merchantAddress", map[string]any{"city": "HK"}},
			edit{"order.merchant.store.storeTerminalId", "T"}, edit{"order.env.osType", "IOS"},
			edit{"paymentMethod.customerId", "c"}, edit{"paymentFactor.isAuthorization", true},
			edit{"paymentAmount.extra", 1}, edit{"settlementStrategy.x", false}),
			func(t *testing.T, r *codec.PayRequest) {
				if string(r.PaymentRequestID) != "pay-req-0001" {
					t.Errorf("PaymentRequestID = %q", r.PaymentRequestID)
				}
			}},
		{"duplicates inside ignored objects are not inspected",
			replaceOnce(t, fullPayBody, `"merchantAddress":{"region":"HK",`, `"merchantAddress":{"region":"HK","region":"MO",`),
			func(t *testing.T, r *codec.PayRequest) {}},
		{"order amount above payment amount, same currency", payBody(t, edit{"order.orderAmount.value", "5000"}),
			func(t *testing.T, r *codec.PayRequest) {
				if r.Amount != (codec.Amount{Value: 3000, Currency: hkd}) || r.OrderAmount.Value != 5000 {
					t.Errorf("amounts = %+v %+v", r.Amount, r.OrderAmount)
				}
			}},
		{"zero amount is syntactically valid", payBody(t, edit{"paymentAmount.value", "0"}),
			func(t *testing.T, r *codec.PayRequest) {
				if r.Amount.Value != 0 {
					t.Errorf("Value = %d", r.Amount.Value)
				}
			}},
		{"escapes are decoded", payBody(t, edit{"paymentRequestId", "p\u00e9-\U0001F600/\""}, edit{"order.merchant.merchantName", "caf\u00e9 \"x\"\n"}),
			func(t *testing.T, r *codec.PayRequest) {
				if string(r.PaymentRequestID) != "p\u00e9-\U0001F600/\"" || string(r.MerchantName) != "caf\u00e9 \"x\"\n" {
					t.Errorf("got %q %q", r.PaymentRequestID, r.MerchantName)
				}
			}},
		{"surrogate pair escape", replaceOnce(t, fullPayBody, `"Cafe Lumiere"`, `"Cafe \ud83d\ude00"`),
			func(t *testing.T, r *codec.PayRequest) {
				if string(r.MerchantName) != "Cafe \U0001F600" {
					t.Errorf("MerchantName = %q", r.MerchantName)
				}
			}},
		{"id of exactly 64 bytes", payBody(t, edit{"paymentRequestId", strings.Repeat("a", 64)}),
			func(t *testing.T, r *codec.PayRequest) {
				if len(r.PaymentRequestID) != 64 {
					t.Errorf("len = %d", len(r.PaymentRequestID))
				}
			}},
		{"names limited in characters, not bytes", payBody(t,
			edit{"order.merchant.merchantName", strings.Repeat("咖", codec.MaxShortFieldLen)},
			edit{"order.orderDescription", strings.Repeat("啡", codec.MaxDescriptionLen)}),
			func(t *testing.T, r *codec.PayRequest) {
				if len(r.MerchantName) != 3*codec.MaxShortFieldLen {
					t.Errorf("len = %d", len(r.MerchantName))
				}
			}},
		{"code with spaces", payBody(t, edit{"paymentMethod.paymentMethodId", "2810 0102 0123 4567 8901 4567"}),
			func(t *testing.T, r *codec.PayRequest) {
				want := codec.MustParseCode(testCode)
				if r.CodeErr != nil || !r.Code.Equal(&want) {
					t.Errorf("Code = %v, CodeErr = %v", r.Code, r.CodeErr)
				}
			}},
		{"whitespace around the body", []byte(" \n\t" + fullPayBody + "\r\n "),
			func(t *testing.T, r *codec.PayRequest) {}},
		// The enum spellings the official SDKs send, held as Antom's.
		{"Python SDK scenario PAYMENTCODE", payBody(t, edit{"paymentFactor.inStorePaymentScenario", "PAYMENTCODE"}),
			func(t *testing.T, r *codec.PayRequest) {
				if string(r.Scenario) != "PaymentCode" {
					t.Errorf("Scenario = %q", r.Scenario)
				}
			}},
		{"enums in another case", payBody(t, edit{"paymentFactor.inStorePaymentScenario", "paymentcode"}, edit{"productCode", "in_store_payment"}),
			func(t *testing.T, r *codec.PayRequest) {
				if string(r.Scenario) != "PaymentCode" || string(r.ProductCode) != "IN_STORE_PAYMENT" {
					t.Errorf("Scenario = %q, ProductCode = %q", r.Scenario, r.ProductCode)
				}
			}},
		{"notify URL forms", payBody(t, edit{"paymentNotifyUrl", "HTTPS://[2001:db8::1]:8443/n?a=b#f"}),
			func(t *testing.T, r *codec.PayRequest) {}},
		{"non-ASCII in an id (not a format character)", payBody(t, edit{"paymentRequestId", "pé-1"}),
			func(t *testing.T, r *codec.PayRequest) {}},
		{"ZWJ in a name", payBody(t, edit{"order.merchant.merchantName", "\U0001F468\u200d\U0001F373 Cafe"}),
			func(t *testing.T, r *codec.PayRequest) {}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var r codec.PayRequest
			if err := codec.ParsePay(c.body, &r); err != nil {
				t.Fatalf("ParsePay: %v\n%s", err, c.body)
			}
			c.check(t, &r)
		})
	}
}

// A code that is present but malformed is the engine's INVALID_PAYMENT_CODE,
// not a parse error.
func TestParsePayCodeErr(t *testing.T) {
	cases := []struct {
		code string
		want error
	}{
		{"", codec.ErrCodeEmpty},
		{"   ", codec.ErrCodeEmpty},
		{"28100102012345678901456x", codec.ErrCodeNotDigit},
		{"２８１００１０２０１２３４５６７８９０１４５６７", codec.ErrCodeNotDigit}, // full-width digits
		{"123456789012345", codec.ErrCodeLength},
		{strings.Repeat("1", 33), codec.ErrCodeLength},
	}
	for _, c := range cases {
		t.Run(fmt.Sprintf("%q", c.code), func(t *testing.T) {
			var r codec.PayRequest
			if err := codec.ParsePay(payBody(t, edit{"paymentMethod.paymentMethodId", c.code}), &r); err != nil {
				t.Fatalf("ParsePay: %v", err)
			}
			if !errors.Is(r.CodeErr, c.want) {
				t.Errorf("CodeErr = %v, want %v", r.CodeErr, c.want)
			}
			if !r.Code.IsZero() {
				t.Errorf("Code set despite CodeErr")
			}
			if string(r.PaymentRequestID) != "pay-req-0001" {
				t.Errorf("rest of the request not parsed")
			}
		})
	}
}

// rejectCase is one body a parser must refuse: the sentinel it must match
// and the JSON path it must name.
type rejectCase struct {
	name  string
	body  []byte
	want  error
	field string
}

// payMandatory lists every mandatory path of a pay request (spec §2.1).
var payMandatory = []string{
	"productCode", "paymentRequestId", "order", "order.orderDescription", "order.orderAmount",
	"order.orderAmount.currency", "order.orderAmount.value", "order.merchant",
	"order.merchant.referenceMerchantId", "order.merchant.merchantMCC", "order.merchant.merchantName",
	"order.merchant.store", "order.merchant.store.referenceStoreId", "order.merchant.store.storeName",
	"order.merchant.store.storeMCC", "order.env", "order.env.storeTerminalId",
	"order.env.storeTerminalRequestTime", "paymentAmount", "paymentAmount.currency", "paymentAmount.value",
	"paymentMethod", "paymentMethod.paymentMethodType", "paymentMethod.paymentMethodId",
	"paymentFactor", "paymentFactor.inStorePaymentScenario",
}

func payRejects(t *testing.T) []rejectCase {
	cases := []rejectCase{
		{"empty body", nil, codec.ErrSyntax, ""},
		{"blank body", []byte(" \n"), codec.ErrSyntax, ""},
		{"truncated", []byte(fullPayBody[:len(fullPayBody)-1]), codec.ErrSyntax, ""},
		{"two objects", []byte(fullPayBody + "{}"), codec.ErrSyntax, ""},
		{"trailing comma", replaceOnce(t, fullPayBody, `"ACC-1",`, `"ACC-1",,`), codec.ErrSyntax, ""},
		{"NaN", withMember([]byte(fullPayBody), `"x":NaN`), codec.ErrSyntax, ""},
		{"leading zero", withMember([]byte(fullPayBody), `"x":01`), codec.ErrSyntax, ""},
		{"bad escape", withMember([]byte(fullPayBody), `"x":"\q"`), codec.ErrSyntax, ""},
		{"raw control character", withMember([]byte(fullPayBody), "\"x\":\"a\x01b\""), codec.ErrSyntax, ""},
		{"single quotes", withMember([]byte(fullPayBody), `'x':1`), codec.ErrSyntax, ""},
		{"invalid UTF-8", replaceOnce(t, fullPayBody, "Cafe Lumiere\"", "Cafe \xffLumiere\""), codec.ErrSyntax, ""},
		{"lone high surrogate", replaceOnce(t, fullPayBody, "Cafe Lumiere\"", `Cafe \ud83d"`), codec.ErrSyntax, ""},
		{"lone low surrogate", replaceOnce(t, fullPayBody, "Cafe Lumiere\"", `Cafe \ude00"`), codec.ErrSyntax, ""},
		{"high surrogate then letter", replaceOnce(t, fullPayBody, "Cafe Lumiere\"", `Cafe \ud83d\u0041"`), codec.ErrSyntax, ""},
		{"nested deeper than fastjson.MaxDepth", withMember([]byte(fullPayBody),
			`"x":`+strings.Repeat("[", 400)+strings.Repeat("]", 400)), codec.ErrSyntax, ""},
		{"array body", []byte(`[` + fullPayBody + `]`), codec.ErrType, ""},
		{"string body", []byte(`"x"`), codec.ErrType, ""},
		{"null body", []byte(`null`), codec.ErrType, ""},

		{"duplicate top-level key", withMember([]byte(fullPayBody), `"paymentRequestId":"other"`), codec.ErrDuplicateKey, "paymentRequestId"},
		{"duplicate unknown top-level key", withMember(withMember([]byte(fullPayBody), `"x":1`), `"x":2`), codec.ErrDuplicateKey, ""},
		{"duplicate key spelled with an escape", withMember([]byte(fullPayBody), `"\u0070aymentRequestId":"other"`), codec.ErrDuplicateKey, "paymentRequestId"},
		{"duplicate in store", replaceOnce(t, fullPayBody, `"storeMCC":"5812"`, `"storeMCC":"5812","storeMCC":"5999"`), codec.ErrDuplicateKey, "order.merchant.store.storeMCC"},
		{"duplicate in amount", replaceOnce(t, fullPayBody, `"paymentAmount":{"currency":"HKD","value":"11800"}`,
			`"paymentAmount":{"currency":"HKD","value":"11800","value":"1"}`), codec.ErrDuplicateKey, "paymentAmount.value"},
		{"duplicate unknown key in env", replaceOnce(t, fullPayBody, `"storeTerminalId":"T-3",`, `"storeTerminalId":"T-3","x":1,"x":1,`), codec.ErrDuplicateKey, "order.env"},
		{"duplicate in a large object", withMember([]byte(fullPayBody), manyKeys(40)+`,"k7":0`), codec.ErrDuplicateKey, ""},

		{"productCode other", payBody(t, edit{"productCode", "CASHIER_PAYMENT"}), codec.ErrValue, "productCode"},
		{"productCode with a space", payBody(t, edit{"productCode", "IN_STORE_PAYMENT "}), codec.ErrValue, "productCode"},
		{"scenario spelt with an underscore", payBody(t, edit{"paymentFactor.inStorePaymentScenario", "PAYMENT_CODE"}), codec.ErrValue, "paymentFactor.inStorePaymentScenario"},
		{"leading zero in paymentAmount", payBody(t, edit{"paymentAmount.value", "007"}), codec.ErrAmountFormat, "paymentAmount.value"},
		{"leading zero in orderAmount", payBody(t, edit{"order.orderAmount.value", "0100"}), codec.ErrAmountFormat, "order.orderAmount.value"},
		{"zeros only", payBody(t, edit{"paymentAmount.value", "00"}), codec.ErrAmountFormat, "paymentAmount.value"},
		{"RLO in paymentRequestId", payBody(t, edit{"paymentRequestId", "pay-\u202e1-yap"}), codec.ErrValue, "paymentRequestId"},
		{"zero-width space in paymentRequestId", payBody(t, edit{"paymentRequestId", "pay\u200b-1"}), codec.ErrValue, "paymentRequestId"},
		{"LRI in referenceOrderId", payBody(t, edit{"order.referenceOrderId", "o\u2066-1"}), codec.ErrValue, "order.referenceOrderId"},
		{"BOM in terminal id", payBody(t, edit{"order.env.storeTerminalId", "\ufeffT-3"}), codec.ErrValue, "order.env.storeTerminalId"},
		{"ZWJ in merchant id", payBody(t, edit{"order.merchant.referenceMerchantId", "M\u200d1"}), codec.ErrValue, "order.merchant.referenceMerchantId"},
		{"C1 control in store id", payBody(t, edit{"order.merchant.store.referenceStoreId", "S\u00850"}), codec.ErrValue, "order.merchant.store.referenceStoreId"},
		{"notify URL not a URL", payBody(t, edit{"paymentNotifyUrl", "not a url"}), codec.ErrValue, "paymentNotifyUrl"},
		{"notify URL ftp", payBody(t, edit{"paymentNotifyUrl", "ftp://merchant.example/notify"}), codec.ErrValue, "paymentNotifyUrl"},
		{"notify URL relative", payBody(t, edit{"paymentNotifyUrl", "/notify"}), codec.ErrValue, "paymentNotifyUrl"},
		{"notify URL without host", payBody(t, edit{"paymentNotifyUrl", "https:///notify"}), codec.ErrValue, "paymentNotifyUrl"},
		{"notify URL with user-info", payBody(t, edit{"paymentNotifyUrl", "https://u:p@merchant.example/notify"}), codec.ErrValue, "paymentNotifyUrl"},
		{"notify URL with a bad port", payBody(t, edit{"paymentNotifyUrl", "https://merchant.example:8o/notify"}), codec.ErrValue, "paymentNotifyUrl"},
		{"notify URL with a backslash", payBody(t, edit{"paymentNotifyUrl", "https://merchant.example\\@evil/"}), codec.ErrValue, "paymentNotifyUrl"},
		{"scenario OrderCode", payBody(t, edit{"paymentFactor.inStorePaymentScenario", "OrderCode"}), codec.ErrValue, "paymentFactor.inStorePaymentScenario"},
		{"empty paymentRequestId", payBody(t, edit{"paymentRequestId", ""}), codec.ErrValue, "paymentRequestId"},
		{"empty storeName", payBody(t, edit{"order.merchant.store.storeName", ""}), codec.ErrValue, "order.merchant.store.storeName"},
		{"control character in id", payBody(t, edit{"paymentRequestId", "a\x00b"}), codec.ErrValue, "paymentRequestId"},
		{"DEL in terminal id", payBody(t, edit{"order.env.storeTerminalId", "T\x7f"}), codec.ErrValue, "order.env.storeTerminalId"},
		{"currency lower case", payBody(t, edit{"paymentAmount.currency", "hkd"}), codec.ErrCurrency, "paymentAmount.currency"},
		{"currency unknown", payBody(t, edit{"order.orderAmount.currency", "XXX"}), codec.ErrCurrency, "order.orderAmount.currency"},
		{"currency empty", payBody(t, edit{"paymentAmount.currency", ""}), codec.ErrCurrency, "paymentAmount.currency"},
		{"settlement currency unknown", payBody(t, edit{"settlementStrategy.settlementCurrency", "ZZZ"}), codec.ErrCurrency, "settlementStrategy.settlementCurrency"},
		{"currencies differ", payBody(t, edit{"order.orderAmount.currency", "USD"}), codec.ErrValue, "order.orderAmount.currency"},
		{"value with decimal point", payBody(t, edit{"paymentAmount.value", "30.00"}), codec.ErrAmountFormat, "paymentAmount.value"},
		{"value negative", payBody(t, edit{"paymentAmount.value", "-1"}), codec.ErrAmountFormat, "paymentAmount.value"},
		{"value empty", payBody(t, edit{"order.orderAmount.value", ""}), codec.ErrAmountFormat, "order.orderAmount.value"},
		{"value with spaces", payBody(t, edit{"paymentAmount.value", " 1"}), codec.ErrAmountFormat, "paymentAmount.value"},
		{"value above int64", payBody(t, edit{"paymentAmount.value", "9223372036854775808"}), codec.ErrAmountRange, "paymentAmount.value"},
		{"value huge", payBody(t, edit{"paymentAmount.value", strings.Repeat("9", 400)}), codec.ErrAmountRange, "paymentAmount.value"},

		{"value as fraction", payBody(t, edit{"paymentAmount.value", 30.5}), codec.ErrType, "paymentAmount.value"},
		{"value as whole fraction", replaceOnce(t, fullPayBody, `"value":"11800"}`, `"value":11800.00}`), codec.ErrType, "order.orderAmount.value"},
		{"value as exponent", replaceOnce(t, fullPayBody, `"value":"11800"}`, `"value":118e2}`), codec.ErrType, "order.orderAmount.value"},
		{"value as negative number", payBody(t, edit{"paymentAmount.value", -3000}), codec.ErrType, "paymentAmount.value"},
		{"value as number above int64", replaceOnce(t, fullPayBody, `"value":"11800"}`, `"value":9223372036854775808}`), codec.ErrAmountRange, "order.orderAmount.value"},
		{"value as huge number", replaceOnce(t, fullPayBody, `"value":"11800"}`, `"value":1e999999}`), codec.ErrType, "order.orderAmount.value"},
		{"value as long integer", replaceOnce(t, fullPayBody, `"value":"11800"}`, `"value":`+strings.Repeat("9", 400)+`}`), codec.ErrAmountRange, "order.orderAmount.value"},
		{"currency as number", payBody(t, edit{"paymentAmount.currency", 344}), codec.ErrType, "paymentAmount.currency"},
		{"paymentRequestId as number", payBody(t, edit{"paymentRequestId", 12345}), codec.ErrType, "paymentRequestId"},
		{"productCode as bool", payBody(t, edit{"productCode", true}), codec.ErrType, "productCode"},
		{"order as string", payBody(t, edit{"order", "x"}), codec.ErrType, "order"},
		{"paymentAmount as array", payBody(t, edit{"paymentAmount", []any{"HKD", "1"}}), codec.ErrType, "paymentAmount"},
		{"paymentMethodId as number", payBody(t, edit{"paymentMethod.paymentMethodId", 2810010201234567}), codec.ErrType, "paymentMethod.paymentMethodId"},
		{"paymentMethodType as object", payBody(t, edit{"paymentMethod.paymentMethodType", map[string]any{}}), codec.ErrType, "paymentMethod.paymentMethodType"},
		{"MCC as bool", payBody(t, edit{"order.merchant.merchantMCC", true}), codec.ErrType, "order.merchant.merchantMCC"},
		{"MCC as fraction", payBody(t, edit{"order.merchant.store.storeMCC", 58.12}), codec.ErrType, "order.merchant.store.storeMCC"},
		{"MCC above 9999", payBody(t, edit{"order.merchant.merchantMCC", 10000}), codec.ErrType, "order.merchant.merchantMCC"},
		{"MCC negative", payBody(t, edit{"order.merchant.merchantMCC", -1}), codec.ErrType, "order.merchant.merchantMCC"},
		{"MCC exponent", replaceOnce(t, fullPayBody, `"merchantMCC":"5812"`, `"merchantMCC":5.812e3`), codec.ErrType, "order.merchant.merchantMCC"},
		{"settlementStrategy as string", payBody(t, edit{"settlementStrategy", "USD"}), codec.ErrType, "settlementStrategy"},
		{"notify URL as number", payBody(t, edit{"paymentNotifyUrl", 1}), codec.ErrType, "paymentNotifyUrl"},

		{"paymentRequestId too long", payBody(t, edit{"paymentRequestId", strings.Repeat("a", 65)}), codec.ErrTooLong, "paymentRequestId"},
		{"referenceOrderId too long", payBody(t, edit{"order.referenceOrderId", strings.Repeat("a", 65)}), codec.ErrTooLong, "order.referenceOrderId"},
		{"orderDescription too long", payBody(t, edit{"order.orderDescription", strings.Repeat("啡", 257)}), codec.ErrTooLong, "order.orderDescription"},
		{"merchantName too long", payBody(t, edit{"order.merchant.merchantName", strings.Repeat("m", 129)}), codec.ErrTooLong, "order.merchant.merchantName"},
		{"storeTerminalId too long", payBody(t, edit{"order.env.storeTerminalId", strings.Repeat("t", 129)}), codec.ErrTooLong, "order.env.storeTerminalId"},
		{"paymentNotifyUrl too long", payBody(t, edit{"paymentNotifyUrl", "https://x/" + strings.Repeat("u", 2039)}), codec.ErrTooLong, "paymentNotifyUrl"},
		{"merchantAccountId too long", payBody(t, edit{"merchantAccountId", strings.Repeat("a", 33)}), codec.ErrTooLong, "merchantAccountId"},
		{"MCC string too long", payBody(t, edit{"order.merchant.merchantMCC", strings.Repeat("5", 129)}), codec.ErrTooLong, "order.merchant.merchantMCC"},
	}
	for _, p := range payMandatory {
		cases = append(cases,
			rejectCase{"missing " + p, payBody(t, edit{p, deleted}), codec.ErrMissing, p},
			rejectCase{"null " + p, payBody(t, edit{p, nil}), codec.ErrMissing, p})
	}
	return cases
}

// manyKeys is n distinct members "k0":0,"k1":0,...
func manyKeys(n int) string {
	var b strings.Builder
	for i := range n {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `"k%d":0`, i)
	}
	return b.String()
}

// checkReject runs one reject case against any parser.
func checkReject(t *testing.T, c rejectCase, err error, reset bool) {
	t.Helper()
	if err == nil {
		t.Fatalf("accepted:\n%s", c.body)
	}
	if !errors.Is(err, c.want) {
		t.Fatalf("err = %v, want %v", err, c.want)
	}
	var fe *codec.FieldError
	if !errors.As(err, &fe) {
		t.Fatalf("err %T is not a *FieldError", err)
	}
	if fe.Field != c.field {
		t.Errorf("Field = %q, want %q (%v)", fe.Field, c.field, err)
	}
	label := c.field
	if label == "" {
		label = "body"
	}
	msg := err.Error()
	if !strings.HasPrefix(msg, "codec: "+label+": ") || strings.Count(msg, "codec:") != 1 {
		t.Errorf("message %q does not read codec: %s: ...", msg, label)
	}
	if strings.Contains(msg, testCodeMiddle) {
		t.Errorf("message leaks the payment code: %q", msg)
	}
	if !reset {
		t.Errorf("request not reset after the error")
	}
}

func TestParsePayRejects(t *testing.T) {
	for _, c := range payRejects(t) {
		t.Run(c.name, func(t *testing.T) {
			var r codec.PayRequest
			// Parse a valid body first, so a reset failure would show.
			if err := codec.ParsePay([]byte(fullPayBody), &r); err != nil {
				t.Fatal(err)
			}
			err := codec.ParsePay(c.body, &r)
			checkReject(t, c, err, r.PaymentRequestID == nil && r.Code.IsZero() && r.Amount == (codec.Amount{}))
		})
	}
}

// Error texts go back to the lane as resultMessage and into logs: they
// must not quote what the lane sent.
func TestParseErrorsDoNotQuoteValues(t *testing.T) {
	const marker = "MARKER7f3a"
	bodies := [][]byte{
		payBody(t, edit{"paymentRequestId", marker + strings.Repeat("x", 80)}),
		payBody(t, edit{"paymentRequestId", marker + "\x01"}),
		payBody(t, edit{"productCode", marker}),
		payBody(t, edit{"paymentAmount.value", marker}),
		payBody(t, edit{"paymentAmount.currency", marker}),
		payBody(t, edit{"paymentFactor.inStorePaymentScenario", marker}),
		withMember([]byte(fullPayBody), `"`+marker+`":1,"`+marker+`":2`),
		withMember([]byte(fullPayBody), `"x":"`+marker+`\q"`),
		[]byte(`{"x":"` + marker + `"`),
		[]byte(`["` + marker + `"]`),
	}
	for i, b := range bodies {
		var r codec.PayRequest
		err := codec.ParsePay(b, &r)
		if err == nil {
			t.Fatalf("body %d accepted", i)
		}
		if strings.Contains(err.Error(), marker) {
			t.Errorf("body %d: error quotes the value: %q", i, err)
		}
	}
}

// The request must own its bytes: neither the body nor the parser's
// memory may be shared with it.
func TestParsePayOwnsItsBytes(t *testing.T) {
	body := []byte(fullPayBody)
	var r codec.PayRequest
	if err := codec.ParsePay(body, &r); err != nil {
		t.Fatal(err)
	}
	want := string(r.PaymentRequestID) + "|" + string(r.StoreName) + "|" + string(r.MerchantMCC)
	for i := range body {
		body[i] = 'X'
	}
	// Reuse the pooled parsers many times with other content.
	other := payBody(t, edit{"paymentRequestId", "zzzzzzzzzzzzzzzzzzz"}, edit{"order.merchant.store.storeName", "yyyyyyyyyyyy"},
		edit{"order.merchant.merchantMCC", 1234})
	for range 10 {
		var r2 codec.PayRequest
		if err := codec.ParsePay(other, &r2); err != nil {
			t.Fatal(err)
		}
	}
	if got := string(r.PaymentRequestID) + "|" + string(r.StoreName) + "|" + string(r.MerchantMCC); got != want {
		t.Errorf("fields changed under the request: %q, want %q", got, want)
	}
}

// A warm request parses a second body without leftovers from the first.
func TestParsePayReuse(t *testing.T) {
	var r codec.PayRequest
	if err := codec.ParsePay(payBody(t, edit{"paymentMethod.paymentMethodId", "x"}), &r); err != nil {
		t.Fatal(err)
	}
	if r.CodeErr == nil {
		t.Fatal("CodeErr not set")
	}
	small := payBody(t, edit{"paymentNotifyUrl", deleted}, edit{"settlementStrategy", deleted}, edit{"paymentRequestId", "second"})
	if err := codec.ParsePay(small, &r); err != nil {
		t.Fatal(err)
	}
	if r.CodeErr != nil || r.Code.IsZero() || r.NotifyURL != nil || r.SettlementCurrency != 0 || string(r.PaymentRequestID) != "second" {
		t.Errorf("leftovers after reuse: CodeErr=%v NotifyURL=%q Settlement=%v ID=%q", r.CodeErr, r.NotifyURL, r.SettlementCurrency, r.PaymentRequestID)
	}
}

// Printing a parsed request (as a careless log line would) shows the code
// masked only.
func TestParsePayPrintsNoCode(t *testing.T) {
	var r codec.PayRequest
	if err := codec.ParsePay([]byte(fullPayBody), &r); err != nil {
		t.Fatal(err)
	}
	for _, verb := range []string{"%v", "%+v", "%#v", "%s"} {
		if s := fmt.Sprintf(verb, r); strings.Contains(s, testCodeMiddle) {
			t.Errorf("%s leaks the code: %s", verb, s)
		}
	}
}

func TestParsePayConcurrent(t *testing.T) {
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			id := fmt.Sprintf("req-%d", g)
			body := payBody(t, edit{"paymentRequestId", id})
			var r codec.PayRequest
			for range 200 {
				if err := codec.ParsePay(body, &r); err != nil {
					t.Error(err)
					return
				}
				if string(r.PaymentRequestID) != id {
					t.Errorf("got %q, want %q", r.PaymentRequestID, id)
					return
				}
			}
		}()
	}
	wg.Wait()
}

func TestParseIDRequest(t *testing.T) {
	accepts := []struct {
		body               string
		reqID, id, account string
	}{
		{`{"paymentRequestId":"r1"}`, "r1", "", ""},
		{`{"paymentId":"p1"}`, "", "p1", ""},
		{`{"paymentId":"p1","paymentRequestId":"r1","merchantAccountId":"a"}`, "r1", "p1", "a"},
		{`{"paymentId":"","paymentRequestId":"r1"}`, "r1", "", ""},
		{`{"paymentId":null,"paymentRequestId":"r1","extendInfo":{"x":1}}`, "r1", "", ""},
		{`{"paymentId":"` + strings.Repeat("p", 64) + `"}`, "", strings.Repeat("p", 64), ""},
	}
	for _, c := range accepts {
		var r codec.IDRequest
		if err := codec.ParseIDRequest([]byte(c.body), &r); err != nil {
			t.Errorf("%s: %v", c.body, err)
			continue
		}
		if string(r.PaymentRequestID) != c.reqID || string(r.PaymentID) != c.id || string(r.MerchantAccountID) != c.account {
			t.Errorf("%s: got %q %q %q", c.body, r.PaymentRequestID, r.PaymentID, r.MerchantAccountID)
		}
	}
	rejects := []rejectCase{
		{"no id", []byte(`{}`), codec.ErrMissing, ""},
		{"both null", []byte(`{"paymentId":null,"paymentRequestId":null}`), codec.ErrMissing, ""},
		{"both empty", []byte(`{"paymentId":"","paymentRequestId":""}`), codec.ErrMissing, ""},
		{"id as number", []byte(`{"paymentId":12}`), codec.ErrType, "paymentId"},
		{"request id too long", []byte(`{"paymentRequestId":"` + strings.Repeat("r", 65) + `"}`), codec.ErrTooLong, "paymentRequestId"},
		{"account too long", []byte(`{"paymentId":"p","merchantAccountId":"` + strings.Repeat("a", 33) + `"}`), codec.ErrTooLong, "merchantAccountId"},
		{"duplicate", []byte(`{"paymentId":"p","paymentId":"q"}`), codec.ErrDuplicateKey, "paymentId"},
		{"control character", []byte(`{"paymentId":"p\n"}`), codec.ErrValue, "paymentId"},
		{"not an object", []byte(`["p"]`), codec.ErrType, ""},
		{"malformed", []byte(`{"paymentId":"p"`), codec.ErrSyntax, ""},
	}
	for _, c := range rejects {
		t.Run(c.name, func(t *testing.T) {
			var r codec.IDRequest
			err := codec.ParseIDRequest(c.body, &r)
			checkReject(t, c, err, r.PaymentID == nil && r.PaymentRequestID == nil)
		})
	}
}

const refundBody = `{"refundRequestId":"rr-1","paymentId":"pay-1","refundAmount":{"currency":"JPY","value":"500"},` +
	`"refundReason":"customer returned 1 item","refundNotifyUrl":"https://pos.example/refund","referenceRefundId":"R-9",` +
	`"isAsyncRefund":true,"extendInfo":"x"}`

func TestParseRefund(t *testing.T) {
	var r codec.RefundRequest
	if err := codec.ParseRefund([]byte(refundBody), &r); err != nil {
		t.Fatal(err)
	}
	if string(r.RefundRequestID) != "rr-1" || string(r.PaymentID) != "pay-1" || string(r.Reason) != "customer returned 1 item" ||
		string(r.NotifyURL) != "https://pos.example/refund" || string(r.ReferenceRefundID) != "R-9" ||
		r.Amount != (codec.Amount{Value: 500, Currency: codec.MustCurrency("JPY")}) {
		t.Errorf("parsed %+v", r)
	}
	minimal := `{"refundRequestId":"rr-1","paymentId":"pay-1","refundAmount":{"currency":"JPY","value":"500"}}`
	if err := codec.ParseRefund([]byte(minimal), &r); err != nil || r.Reason != nil || r.NotifyURL != nil {
		t.Errorf("minimal refund: err=%v, leftovers %q %q", err, r.Reason, r.NotifyURL)
	}
	numeric := `{"refundRequestId":"rr-1","paymentId":"pay-1","refundAmount":{"currency":"JPY","value":500}}`
	if err := codec.ParseRefund([]byte(numeric), &r); err != nil || r.Amount.Value != 500 {
		t.Errorf("refund value as a JSON integer: err=%v, value %d, want 500", err, r.Amount.Value)
	}
	rejects := []rejectCase{
		{"missing refundRequestId", []byte(`{"paymentId":"p","refundAmount":{"currency":"JPY","value":"5"}}`), codec.ErrMissing, "refundRequestId"},
		{"missing paymentId", []byte(`{"refundRequestId":"r","refundAmount":{"currency":"JPY","value":"5"}}`), codec.ErrMissing, "paymentId"},
		{"missing amount", []byte(`{"refundRequestId":"r","paymentId":"p"}`), codec.ErrMissing, "refundAmount"},
		{"missing value", []byte(`{"refundRequestId":"r","paymentId":"p","refundAmount":{"currency":"JPY"}}`), codec.ErrMissing, "refundAmount.value"},
		{"value as fraction", []byte(`{"refundRequestId":"r","paymentId":"p","refundAmount":{"currency":"JPY","value":5.0}}`), codec.ErrType, "refundAmount.value"},
		{"bad currency", []byte(`{"refundRequestId":"r","paymentId":"p","refundAmount":{"currency":"JP","value":"5"}}`), codec.ErrCurrency, "refundAmount.currency"},
		{"reason too long", replaceOnce(t, refundBody, `"customer returned 1 item"`, `"`+strings.Repeat("r", 257)+`"`), codec.ErrTooLong, "refundReason"},
		{"notify URL too long", replaceOnce(t, refundBody, `"https://pos.example/refund"`, `"`+strings.Repeat("u", 1025)+`"`), codec.ErrTooLong, "refundNotifyUrl"},
		{"reference id too long", replaceOnce(t, refundBody, `"R-9"`, `"`+strings.Repeat("r", 65)+`"`), codec.ErrTooLong, "referenceRefundId"},
		{"duplicate", replaceOnce(t, refundBody, `"paymentId":"pay-1"`, `"paymentId":"pay-1","paymentId":"pay-2"`), codec.ErrDuplicateKey, "paymentId"},
		{"empty id", replaceOnce(t, refundBody, `"rr-1"`, `""`), codec.ErrValue, "refundRequestId"},
	}
	for _, c := range rejects {
		t.Run(c.name, func(t *testing.T) {
			var r codec.RefundRequest
			err := codec.ParseRefund(c.body, &r)
			checkReject(t, c, err, r.RefundRequestID == nil && r.Amount == (codec.Amount{}))
		})
	}
}

func TestParseInquiryRefund(t *testing.T) {
	accepts := []struct{ body, reqID, id string }{
		{`{"refundRequestId":"rr"}`, "rr", ""},
		{`{"refundId":"rf"}`, "", "rf"},
		{`{"refundId":"rf","refundRequestId":"rr","merchantAccountId":"m"}`, "rr", "rf"},
	}
	for _, c := range accepts {
		var r codec.InquiryRefundRequest
		if err := codec.ParseInquiryRefund([]byte(c.body), &r); err != nil {
			t.Errorf("%s: %v", c.body, err)
			continue
		}
		if string(r.RefundRequestID) != c.reqID || string(r.RefundID) != c.id {
			t.Errorf("%s: got %q %q", c.body, r.RefundRequestID, r.RefundID)
		}
	}
	rejects := []rejectCase{
		{"no id", []byte(`{"merchantAccountId":"m"}`), codec.ErrMissing, ""},
		{"id as object", []byte(`{"refundId":{}}`), codec.ErrType, "refundId"},
		{"too long", []byte(`{"refundId":"` + strings.Repeat("f", 65) + `"}`), codec.ErrTooLong, "refundId"},
		{"duplicate", []byte(`{"refundId":"a","refundId":"a"}`), codec.ErrDuplicateKey, "refundId"},
	}
	for _, c := range rejects {
		t.Run(c.name, func(t *testing.T) {
			var r codec.InquiryRefundRequest
			err := codec.ParseInquiryRefund(c.body, &r)
			checkReject(t, c, err, r.RefundID == nil && r.RefundRequestID == nil)
		})
	}
}

func BenchmarkParsePay(b *testing.B) {
	body := []byte(fullPayBody)
	var r codec.PayRequest
	b.ReportAllocs()
	b.SetBytes(int64(len(body)))
	for b.Loop() {
		if err := codec.ParsePay(body, &r); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkParseIDRequest(b *testing.B) {
	body := []byte(`{"paymentRequestId":"pay-20240501-000123","paymentId":"202405011200000000000123"}`)
	var r codec.IDRequest
	b.ReportAllocs()
	for b.Loop() {
		if err := codec.ParseIDRequest(body, &r); err != nil {
			b.Fatal(err)
		}
	}
}

// The exact texts lanes receive as resultMessage for PARAM_ILLEGAL.
func TestParseErrorMessages(t *testing.T) {
	cases := []struct {
		body []byte
		want string
	}{
		{payBody(t, edit{"order.orderAmount.value", "1.5"}), "codec: order.orderAmount.value: amount value is not a string of ASCII digits"},
		{payBody(t, edit{"order.merchant.store.storeMCC", deleted}), "codec: order.merchant.store.storeMCC: mandatory field is missing"},
		{payBody(t, edit{"paymentRequestId", strings.Repeat("a", 65)}), "codec: paymentRequestId: longer than 64 bytes"},
		{payBody(t, edit{"order.orderAmount.currency", "USD"}), "codec: order.orderAmount.currency: must be the currency of paymentAmount"},
		{payBody(t, edit{"paymentAmount.value", 1.5}), "codec: paymentAmount.value: must be minor units: a JSON string or an integer, not a fraction or an exponent"},
		{withMember([]byte(fullPayBody), `"x":`+strings.Repeat("[", 301)+strings.Repeat("]", 301)), "codec: body: malformed JSON: nested deeper than 300 levels"},
		{[]byte(`{"x":1,}`), "codec: body: malformed JSON"},
	}
	for _, c := range cases {
		var r codec.PayRequest
		if err := codec.ParsePay(c.body, &r); err == nil || err.Error() != c.want {
			t.Errorf("got %v\nwant %s", err, c.want)
		}
	}
	var r codec.IDRequest
	if err := codec.ParseIDRequest([]byte(`{}`), &r); err == nil || err.Error() != "codec: body: one of paymentId and paymentRequestId is required" {
		t.Errorf("IDRequest: %v", err)
	}
}

// A body far above any lane request still parses (the HTTP layer bounds
// sizes); its scanner is not kept in the pool.
func TestParsePayHugeBody(t *testing.T) {
	body := withMember([]byte(fullPayBody), `"extendInfo2":"`+strings.Repeat("x", 1<<20)+`"`)
	var r codec.PayRequest
	for range 3 {
		if err := codec.ParsePay(body, &r); err != nil {
			t.Fatal(err)
		}
	}
	if string(r.PaymentRequestID) != "pay-20240501-000123" {
		t.Errorf("PaymentRequestID = %q", r.PaymentRequestID)
	}
}
