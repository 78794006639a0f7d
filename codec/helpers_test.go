package codec_test

import (
	"encoding/json"
	"strings"
	"testing"
)

// testCode is a 24-digit Alipay+ code (routing number 001). Its middle
// digits, testCodeMiddle, must never show in a log or an error.
const (
	testCode       = "281001020123456789014567"
	testCodeMiddle = "02012345678901"
)

// fullPayBody is a complete pay request the way an official SDK sends it:
// SDK key order, the mandatory UPM fields, the optional ones we read, and
// fields we ignore (env, goods, extendInfo). Benchmarks and fuzz seeds use
// it verbatim.
const fullPayBody = `{"productCode":"IN_STORE_PAYMENT","paymentRequestId":"pay-20240501-000123",` +
	`"order":{"referenceOrderId":"ORD-20240501-000123","orderDescription":"2 x flat white, 1 x croissant",` +
	`"orderAmount":{"currency":"HKD","value":"11800"},` +
	`"merchant":{"referenceMerchantId":"M-000042","merchantMCC":"5812","merchantName":"Cafe Lumiere",` +
	`"merchantAddress":{"region":"HK","city":"Hong Kong"},` +
	`"store":{"referenceStoreId":"S-0007","storeName":"Cafe Lumiere Central","storeMCC":"5812","storeTerminalId":"T-3"}},` +
	`"goods":[{"referenceGoodsId":"G1","goodsName":"flat white","goodsQuantity":"2"}],` +
	`"env":{"storeTerminalId":"T-3","storeTerminalRequestTime":"2024-05-01T12:00:00+08:00"}},` +
	`"paymentAmount":{"currency":"HKD","value":"11800"},` +
	`"paymentMethod":{"paymentMethodType":"CONNECT_WALLET","paymentMethodId":"` + testCode + `"},` +
	`"paymentFactor":{"inStorePaymentScenario":"PaymentCode","isAuthorization":false},` +
	`"paymentNotifyUrl":"https://pos.example.com/antom/notify","paymentExpiryTime":"2024-05-01T12:05:00+08:00",` +
	`"settlementStrategy":{"settlementCurrency":"USD"},"merchantAccountId":"ACC-1",` +
	`"env":{"terminalType":"APP"},"extendInfo":"{\"k\":\"v\"}"}`

// payFields returns the fields of a valid pay request as a fresh tree of
// maps, for tests to edit by path before encoding.
func payFields() map[string]any {
	return map[string]any{
		"productCode":      "IN_STORE_PAYMENT",
		"paymentRequestId": "pay-req-0001",
		"order": map[string]any{
			"referenceOrderId": "order-0001",
			"orderDescription": "Coffee",
			"orderAmount":      map[string]any{"currency": "HKD", "value": "3000"},
			"merchant": map[string]any{
				"referenceMerchantId": "M0001",
				"merchantMCC":         "5812",
				"merchantName":        "Cafe",
				"store": map[string]any{
					"referenceStoreId": "S01",
					"storeName":        "Cafe Central",
					"storeMCC":         "5812",
				},
			},
			"env": map[string]any{
				"storeTerminalId":          "T-07",
				"storeTerminalRequestTime": "2024-05-01T12:00:00+08:00",
			},
		},
		"paymentAmount": map[string]any{"currency": "HKD", "value": "3000"},
		"paymentMethod": map[string]any{
			"paymentMethodType": "CONNECT_WALLET",
			"paymentMethodId":   testCode,
		},
		"paymentFactor":      map[string]any{"inStorePaymentScenario": "PaymentCode"},
		"paymentNotifyUrl":   "https://merchant.example/notify",
		"paymentExpiryTime":  "2024-05-01T12:05:00+08:00",
		"settlementStrategy": map[string]any{"settlementCurrency": "USD"},
		"merchantAccountId":  "acct-1",
	}
}

// deleted, as an edit's value, removes the field.
var deleted = &struct{ deleted bool }{true}

// edit sets (or, with deleted, removes) the field at a dotted path.
type edit struct {
	path  string
	value any
}

// setPath applies one edit to a tree of maps, creating objects on the way.
func setPath(m map[string]any, path string, v any) {
	parts := strings.Split(path, ".")
	for _, p := range parts[:len(parts)-1] {
		next, ok := m[p].(map[string]any)
		if !ok {
			next = map[string]any{}
			m[p] = next
		}
		m = next
	}
	last := parts[len(parts)-1]
	if v == deleted {
		delete(m, last)
		return
	}
	m[last] = v
}

// encode marshals fields with the edits applied.
func encode(t testing.TB, m map[string]any, edits ...edit) []byte {
	t.Helper()
	for _, e := range edits {
		setPath(m, e.path, e.value)
	}
	b, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// payBody is a valid pay body with edits applied.
func payBody(t testing.TB, edits ...edit) []byte { return encode(t, payFields(), edits...) }

// decodeMap decodes JSON with encoding/json, failing the test on error.
func decodeMap(t testing.TB, b []byte) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatalf("not valid JSON: %v\n%s", err, b)
	}
	return m
}

// get walks a decoded JSON tree by dotted path ("result.resultCode").
func get(m map[string]any, path string) (any, bool) {
	var cur any = m
	for _, p := range strings.Split(path, ".") {
		mm, ok := cur.(map[string]any)
		if !ok {
			return nil, false
		}
		cur, ok = mm[p]
		if !ok {
			return nil, false
		}
	}
	return cur, true
}
