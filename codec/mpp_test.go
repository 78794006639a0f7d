package codec_test

import (
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/paycode/paycode/codec"
)

// mppCode is the code the wallet-message tests send; mppCodeMiddle is the
// part masking hides, which must never appear in an error.
const (
	mppCode       = "281001020123456789014567"
	mppCodeMiddle = "02012345678901"
)

var (
	mppHKD       = codec.MustCurrency("HKD")
	mppHK        = time.FixedZone("HKT", 8*3600)
	mppPayTime   = time.Date(2024, 5, 1, 12, 0, 3, 0, mppHK)
	mppExpiry    = time.Date(2024, 5, 1, 12, 5, 0, 0, mppHK)
	mppBytes     = func(s string) []byte { return []byte(s) }
	mppSomeCodes = []codec.ResultCode{codec.Success, codec.PaymentInProcess, codec.UserBalanceNotEnough}
)

func mppFullPay() codec.MPPPayRequest {
	return codec.MPPPayRequest{
		AcquirerID:       mppBytes("ACQ-1"),
		PSPID:            mppBytes("PSP-A"),
		PaymentRequestID: mppBytes("pay-0001"),
		Amount:           codec.Amount{Value: 11800, Currency: mppHKD},
		Code:             codec.MustParseCode(mppCode),
		OrderDescription: mppBytes(`2 x "flat white" <hot> & 1 croissant`),
		MerchantID:       mppBytes("M-42"),
		StoreID:          mppBytes("S-7"),
		TerminalID:       mppBytes("T-3"),
		ExpiryTime:       mppExpiry,
	}
}

// mppUTC normalises the time fields the way the parsers return them (the
// instant in UTC), so written-then-parsed values compare with DeepEqual.
func mppUTC(t time.Time) time.Time {
	if t.IsZero() {
		return t
	}
	return t.UTC()
}

// mppRoundTrip writes in, parses it back with parse into a fresh value and a
// value dirtied by a previous parse of dirty, and checks both equal want.
func mppRoundTrip[T any](t *testing.T, write func([]byte, *T) []byte, parse func([]byte, *T) error, in, want *T, dirty []byte) {
	t.Helper()
	body := write(nil, in)
	if !json.Valid(body) {
		t.Fatalf("written body is not valid JSON: %s", body)
	}
	var fresh T
	if err := parse(body, &fresh); err != nil {
		t.Fatalf("parse(%s): %v", body, err)
	}
	if !reflect.DeepEqual(&fresh, want) {
		t.Fatalf("round trip mismatch\n got %+v\nwant %+v\nbody %s", fresh, *want, body)
	}
	var reused T
	if err := parse(dirty, &reused); err != nil {
		t.Fatalf("parse dirty: %v", err)
	}
	if err := parse(body, &reused); err != nil {
		t.Fatalf("reparse: %v", err)
	}
	if again, exp := write(nil, &reused), write(nil, want); string(again) != string(exp) {
		t.Fatalf("reused value writes differently:\n got %s\nwant %s", again, exp)
	}
}

func TestMPPPayRequestRoundTrip(t *testing.T) {
	full := mppFullPay()
	fullWant := full
	fullWant.ExpiryTime = mppUTC(full.ExpiryTime)
	minimal := codec.MPPPayRequest{
		AcquirerID: mppBytes("A"), PSPID: mppBytes("P"), PaymentRequestID: mppBytes("p1"),
		Amount: codec.Amount{Value: 0, Currency: codec.MustCurrency("JPY")},
		Code:   codec.MustParseCode("2810010201234567"), MerchantID: mppBytes("m"), StoreID: mppBytes("s"),
	}
	dirty := codec.AppendMPPPayRequest(nil, &full)
	for name, c := range map[string]struct{ in, want codec.MPPPayRequest }{
		"full":    {full, fullWant},
		"minimal": {minimal, minimal},
	} {
		t.Run(name, func(t *testing.T) {
			mppRoundTrip(t, codec.AppendMPPPayRequest, codec.ParseMPPPayRequest, &c.in, &c.want, dirty)
		})
	}
}

// TestMPPPayRequestWireNames pins the JSON names and fixed values of the
// pay request (spec §7.1): a renamed field would pass a round trip.
func TestMPPPayRequestWireNames(t *testing.T) {
	r := mppFullPay()
	var m map[string]any
	if err := json.Unmarshal(codec.AppendMPPPayRequest(nil, &r), &m); err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"acquirerId":                            "ACQ-1",
		"pspId":                                 "PSP-A",
		"paymentRequestId":                      "pay-0001",
		"paymentAmount.currency":                "HKD",
		"paymentAmount.value":                   "11800",
		"paymentMethod.paymentMethodType":       "CONNECT_WALLET",
		"paymentMethod.paymentMethodId":         mppCode,
		"paymentFactor.inStorePaymentScenario":  "PaymentCode",
		"paymentFactor.isInStorePayment":        "true",
		"order.orderDescription":                `2 x "flat white" <hot> & 1 croissant`,
		"order.merchant.referenceMerchantId":    "M-42",
		"order.merchant.store.referenceStoreId": "S-7",
		"order.env.storeTerminalId":             "T-3",
		"paymentExpiryTime":                     "2024-05-01T12:05:00+08:00",
	}
	for path, v := range want {
		if got := mppLookup(m, path); got != v {
			t.Errorf("%s = %v, want %q", path, got, v)
		}
	}
}

func mppLookup(m map[string]any, path string) any {
	var cur any = m
	for _, k := range strings.Split(path, ".") {
		obj, ok := cur.(map[string]any)
		if !ok {
			return nil
		}
		cur = obj[k]
	}
	return cur
}

func mppResult(c codec.ResultCode, msg string) codec.MPPResult {
	r := codec.MPPResult{Code: c, Name: mppBytes(c.String()), Status: c.Status(), Message: mppBytes(msg)}
	if msg == "" {
		r.Message = mppBytes(c.Message())
	}
	return r
}

func TestMPPResponsesRoundTrip(t *testing.T) {
	unknown := codec.MPPResult{Name: mppBytes("WALLET_SPECIFIC_CODE"), Status: codec.StatusF, Message: mppBytes("wallet says no")}
	t.Run("pay", func(t *testing.T) {
		ok := codec.MPPPayResponse{
			Result: mppResult(codec.Success, ""), PSPID: mppBytes("PSP-A"), PaymentID: mppBytes("W-1"), PaymentTime: mppPayTime,
			Amount: codec.Amount{Value: 11800, Currency: mppHKD}, CustomerID: mppBytes("C-9"), WalletBrandName: mppBytes("Wallet A"),
		}
		okWant := ok
		okWant.PaymentTime = mppUTC(ok.PaymentTime)
		dirty := codec.AppendMPPPayResponse(nil, &ok)
		for name, c := range map[string]struct{ in, want codec.MPPPayResponse }{
			"success":    {ok, okWant},
			"processing": {codec.MPPPayResponse{Result: mppResult(codec.PaymentInProcess, ""), PaymentID: mppBytes("W-2")}, codec.MPPPayResponse{Result: mppResult(codec.PaymentInProcess, ""), PaymentID: mppBytes("W-2")}},
			"fail":       {codec.MPPPayResponse{Result: mppResult(codec.UserBalanceNotEnough, "poor")}, codec.MPPPayResponse{Result: mppResult(codec.UserBalanceNotEnough, "poor")}},
			"unknown":    {codec.MPPPayResponse{Result: unknown}, codec.MPPPayResponse{Result: unknown}},
		} {
			t.Run(name, func(t *testing.T) {
				mppRoundTrip(t, codec.AppendMPPPayResponse, codec.ParseMPPPayResponse, &c.in, &c.want, dirty)
			})
		}
	})
	t.Run("id request", func(t *testing.T) {
		in := codec.MPPIDRequest{PaymentRequestID: mppBytes("pay-0001")}
		mppRoundTrip(t, codec.AppendMPPIDRequest, codec.ParseMPPIDRequest, &in, &in, []byte(`{"paymentRequestId":"other"}`))
	})
	t.Run("inquiry", func(t *testing.T) {
		paid := codec.MPPInquiryResponse{
			Result: mppResult(codec.Success, ""), PaymentResult: mppResult(codec.Success, ""), PaymentID: mppBytes("W-1"),
			PaymentTime: mppPayTime, Amount: codec.Amount{Value: 5, Currency: mppHKD}, CustomerID: mppBytes("C"), WalletBrandName: mppBytes("B"),
		}
		paidWant := paid
		paidWant.PaymentTime = mppUTC(paid.PaymentTime)
		dirty := codec.AppendMPPInquiryResponse(nil, &paid)
		for name, c := range map[string]struct{ in, want codec.MPPInquiryResponse }{
			"paid":      {paid, paidWant},
			"closed":    {codec.MPPInquiryResponse{Result: mppResult(codec.Success, ""), PaymentResult: mppResult(codec.OrderIsClosed, "")}, codec.MPPInquiryResponse{Result: mppResult(codec.Success, ""), PaymentResult: mppResult(codec.OrderIsClosed, "")}},
			"not found": {codec.MPPInquiryResponse{Result: mppResult(codec.OrderNotExist, "")}, codec.MPPInquiryResponse{Result: mppResult(codec.OrderNotExist, "")}},
		} {
			t.Run(name, func(t *testing.T) {
				mppRoundTrip(t, codec.AppendMPPInquiryResponse, codec.ParseMPPInquiryResponse, &c.in, &c.want, dirty)
			})
		}
	})
	t.Run("cancel", func(t *testing.T) {
		for _, c := range mppSomeCodes {
			in := codec.MPPCancelResponse{Result: mppResult(c, "")}
			mppRoundTrip(t, codec.AppendMPPCancelResponse, codec.ParseMPPCancelResponse, &in, &in, []byte(`{"result":{"resultCode":"X","resultStatus":"U","resultMessage":"m"}}`))
		}
	})
	t.Run("refund request", func(t *testing.T) {
		in := codec.MPPRefundRequest{PaymentRequestID: mppBytes("pay-1"), RefundRequestID: mppBytes("ref-1"), Amount: codec.Amount{Value: 7, Currency: mppHKD}, Reason: mppBytes("broken cup")}
		minimal := codec.MPPRefundRequest{PaymentRequestID: mppBytes("pay-1"), RefundRequestID: mppBytes("ref-2"), Amount: codec.Amount{Value: 1, Currency: mppHKD}}
		dirty := codec.AppendMPPRefundRequest(nil, &in)
		mppRoundTrip(t, codec.AppendMPPRefundRequest, codec.ParseMPPRefundRequest, &in, &in, dirty)
		mppRoundTrip(t, codec.AppendMPPRefundRequest, codec.ParseMPPRefundRequest, &minimal, &minimal, dirty)
	})
	t.Run("refund response", func(t *testing.T) {
		ok := codec.MPPRefundResponse{Result: mppResult(codec.Success, ""), RefundID: mppBytes("R-1"), RefundTime: mppPayTime, Amount: codec.Amount{Value: 7, Currency: mppHKD}}
		okWant := ok
		okWant.RefundTime = mppUTC(ok.RefundTime)
		fail := codec.MPPRefundResponse{Result: mppResult(codec.RefundAmountExceed, "")}
		dirty := codec.AppendMPPRefundResponse(nil, &ok)
		mppRoundTrip(t, codec.AppendMPPRefundResponse, codec.ParseMPPRefundResponse, &ok, &okWant, dirty)
		mppRoundTrip(t, codec.AppendMPPRefundResponse, codec.ParseMPPRefundResponse, &fail, &fail, dirty)
	})
}

// TestMPPResultStatusFromWire checks that a wallet's status wins over the
// table's: the connector maps outcomes from what the wallet said.
func TestMPPResultStatusFromWire(t *testing.T) {
	var r codec.MPPCancelResponse
	body := `{"result":{"resultCode":"PROCESS_FAIL","resultStatus":"U"}}`
	if err := codec.ParseMPPCancelResponse([]byte(body), &r); err != nil {
		t.Fatal(err)
	}
	if r.Result.Code != codec.ProcessFail || r.Result.Status != codec.StatusU || len(r.Result.Message) != 0 {
		t.Fatalf("got %+v", r.Result)
	}
}

// mppPayBody is a valid pay request body with one edit applied: edits map a
// JSON fragment to its replacement.
func mppPayBody(from, to string) []byte {
	r := mppFullPay()
	body := string(codec.AppendMPPPayRequest(nil, &r))
	if from != "" {
		if !strings.Contains(body, from) {
			panic("payBody: fragment not found: " + from)
		}
		body = strings.Replace(body, from, to, 1)
	}
	return []byte(body)
}

func TestParseMPPPayRequestRejects(t *testing.T) {
	cases := []struct {
		name  string
		body  []byte
		err   error
		field string
	}{
		{"not json", []byte(`{"paymentMethod":{"paymentMethodId":"` + mppCode + `"`), codec.ErrSyntax, ""},
		{"not an object", []byte(`["` + mppCode + `"]`), codec.ErrType, ""},
		{"not utf-8", mppPayBody(`"2 x`, "\"\xff"), codec.ErrSyntax, ""},
		{"missing id", mppPayBody(`"paymentRequestId":"pay-0001",`, ""), codec.ErrMissing, "paymentRequestId"},
		{"empty id", mppPayBody(`"paymentRequestId":"pay-0001"`, `"paymentRequestId":""`), codec.ErrMissing, "paymentRequestId"},
		{"long id", mppPayBody(`"pay-0001"`, `"`+strings.Repeat("x", codec.MaxIDLen+1)+`"`), codec.ErrTooLong, "paymentRequestId"},
		{"id number", mppPayBody(`"pay-0001"`, `1`), codec.ErrType, "paymentRequestId"},
		{"missing acquirer", mppPayBody(`"acquirerId":"ACQ-1",`, ""), codec.ErrMissing, "acquirerId"},
		{"missing amount", mppPayBody(`"paymentAmount":{"currency":"HKD","value":"11800"},`, ""), codec.ErrMissing, "paymentAmount"},
		{"unknown currency", mppPayBody(`"HKD"`, `"HKX"`), codec.ErrCurrency, "paymentAmount.currency"},
		{"decimal amount", mppPayBody(`"11800"`, `"118.00"`), codec.ErrAmountFormat, "paymentAmount.value"},
		{"negative amount", mppPayBody(`"11800"`, `"-1"`), codec.ErrAmountFormat, "paymentAmount.value"},
		{"huge amount", mppPayBody(`"11800"`, `"99999999999999999999"`), codec.ErrAmountRange, "paymentAmount.value"},
		{"numeric amount", mppPayBody(`"11800"`, `11800`), codec.ErrType, "paymentAmount.value"},
		{"method type", mppPayBody(`"CONNECT_WALLET"`, `"CARD"`), codec.ErrValue, "paymentMethod.paymentMethodType"},
		{"missing code", mppPayBody(`,"paymentMethodId":"`+mppCode+`"`, ""), codec.ErrMissing, "paymentMethod.paymentMethodId"},
		{"scenario", mppPayBody(`"PaymentCode"`, `"OrderCode"`), codec.ErrValue, "paymentFactor.inStorePaymentScenario"},
		{"not in store", mppPayBody(`"isInStorePayment":"true"`, `"isInStorePayment":"false"`), codec.ErrValue, "paymentFactor.isInStorePayment"},
		{"in store missing", mppPayBody(`,"isInStorePayment":"true"`, ``), codec.ErrMissing, "paymentFactor.isInStorePayment"},
		{"missing store", mppPayBody(`,"store":{"referenceStoreId":"S-7"}`, ""), codec.ErrMissing, "order.merchant.store"},
		{"merchant not object", mppPayBody(`"merchant":{"referenceMerchantId":"M-42","store":{"referenceStoreId":"S-7"}}`, `"merchant":"M-42"`), codec.ErrType, "order.merchant"},
		{"expiry not rfc3339", mppPayBody(`"2024-05-01T12:05:00+08:00"`, `"2024-05-01 12:05"`), codec.ErrMPPTime, "paymentExpiryTime"},
		{"long description", mppPayBody(`"2 x`, `"`+strings.Repeat("d", codec.MaxDescriptionLen)), codec.ErrTooLong, "order.orderDescription"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var r codec.MPPPayRequest
			err := codec.ParseMPPPayRequest(c.body, &r)
			mppCheckErr(t, err, c.err, c.field)
		})
	}
}

func mppCheckErr(t *testing.T, err, want error, field string) {
	t.Helper()
	if !errors.Is(err, want) {
		t.Fatalf("err = %v, want %v", err, want)
	}
	var fe *codec.FieldError
	if !errors.As(err, &fe) || fe.Field != field {
		t.Fatalf("err = %#v, want a FieldError at %q", err, field)
	}
	if strings.Contains(err.Error(), mppCodeMiddle) {
		t.Fatalf("error leaks the payment code: %v", err)
	}
}

// TestParseMPPPayRequestBadCode: a malformed code is the wallet's
// INVALID_PAYMENT_CODE, not a parse error, and the code stays out of the
// error.
func TestParseMPPPayRequestBadCode(t *testing.T) {
	for name, bad := range map[string]string{"letter": "28100102012345678901456X", "short": "281001020"} {
		t.Run(name, func(t *testing.T) {
			var r codec.MPPPayRequest
			if err := codec.ParseMPPPayRequest(mppPayBody(mppCode, bad), &r); err != nil {
				t.Fatalf("parse: %v", err)
			}
			if r.CodeErr == nil || !r.Code.IsZero() {
				t.Fatalf("CodeErr = %v, Code = %v; want an error and no code", r.CodeErr, r.Code)
			}
			if strings.Contains(r.CodeErr.Error(), bad) {
				t.Fatalf("CodeErr leaks the code: %v", r.CodeErr)
			}
		})
	}
}

func TestParseMPPResponsesReject(t *testing.T) {
	cases := []struct {
		name  string
		parse func([]byte) error
		body  string
		err   error
		field string
	}{
		{"pay no result", mppParsePay, `{"paymentId":"W"}`, codec.ErrMissing, "result"},
		{"pay mppResult not object", mppParsePay, `{"result":"SUCCESS"}`, codec.ErrType, "result"},
		{"pay no code", mppParsePay, `{"result":{"resultStatus":"F"}}`, codec.ErrMissing, "result.resultCode"},
		{"pay bad status", mppParsePay, `{"result":{"resultCode":"SUCCESS","resultStatus":"X"}}`, codec.ErrValue, "result.resultStatus"},
		{"pay long status", mppParsePay, `{"result":{"resultCode":"SUCCESS","resultStatus":"SS"}}`, codec.ErrValue, "result.resultStatus"},
		{"pay success without id", mppParsePay, `{"result":{"resultCode":"SUCCESS","resultStatus":"S"},"paymentTime":"2024-05-01T12:00:00Z"}`, codec.ErrMissing, "paymentId"},
		{"pay success without time", mppParsePay, `{"result":{"resultCode":"SUCCESS","resultStatus":"S"},"paymentId":"W"}`, codec.ErrMissing, "paymentTime"},
		{"pay bad amount", mppParsePay, `{"result":{"resultCode":"X","resultStatus":"F"},"paymentAmount":{"currency":"HKD","value":"1e3"}}`, codec.ErrAmountFormat, "paymentAmount.value"},
		{"inquiry no payment result", mppParseInquiry, `{"result":{"resultCode":"SUCCESS","resultStatus":"S"}}`, codec.ErrMissing, "paymentResult"},
		{"inquiry paid without id", mppParseInquiry, `{"result":{"resultCode":"SUCCESS","resultStatus":"S"},"paymentResult":{"resultCode":"SUCCESS","resultStatus":"S"},"paymentTime":"2024-05-01T12:00:00Z"}`, codec.ErrMissing, "paymentId"},
		{"cancel empty", mppParseCancel, `{}`, codec.ErrMissing, "result"},
		{"cancel garbage", mppParseCancel, `<html>502</html>`, codec.ErrSyntax, ""},
		{"refund success without id", mppParseRefund, `{"result":{"resultCode":"SUCCESS","resultStatus":"S"},"refundTime":"2024-05-01T12:00:00Z"}`, codec.ErrMissing, "refundId"},
		{"refund bad currency", mppParseRefund, `{"result":{"resultCode":"SUCCESS","resultStatus":"S"},"refundId":"R","refundTime":"2024-05-01T12:00:00Z","refundAmount":{"currency":"hkd","value":"1"}}`, codec.ErrCurrency, "refundAmount.currency"},
		{"id request missing", mppParseID, `{"paymentId":"x"}`, codec.ErrMissing, "paymentRequestId"},
		{"refund request no amount", mppParseRefundReq, `{"paymentRequestId":"p","refundRequestId":"r"}`, codec.ErrMissing, "refundAmount"},
		{"refund request no refund id", mppParseRefundReq, `{"paymentRequestId":"p","refundAmount":{"currency":"HKD","value":"1"}}`, codec.ErrMissing, "refundRequestId"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) { mppCheckErr(t, c.parse([]byte(c.body)), c.err, c.field) })
	}
}

func mppParsePay(b []byte) error { var r codec.MPPPayResponse; return codec.ParseMPPPayResponse(b, &r) }
func mppParseInquiry(b []byte) error {
	var r codec.MPPInquiryResponse
	return codec.ParseMPPInquiryResponse(b, &r)
}
func mppParseCancel(b []byte) error {
	var r codec.MPPCancelResponse
	return codec.ParseMPPCancelResponse(b, &r)
}
func mppParseRefund(b []byte) error {
	var r codec.MPPRefundResponse
	return codec.ParseMPPRefundResponse(b, &r)
}
func mppParseID(b []byte) error { var r codec.MPPIDRequest; return codec.ParseMPPIDRequest(b, &r) }
func mppParseRefundReq(b []byte) error {
	var r codec.MPPRefundRequest
	return codec.ParseMPPRefundRequest(b, &r)
}

// TestMPPTimes checks the RFC 3339 reader through refundTime.
func TestMPPTimes(t *testing.T) {
	cases := []struct {
		in   string
		want time.Time // zero: rejected
	}{
		{"2024-05-01T12:00:00Z", time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)},
		{"2024-05-01t12:00:00z", time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)},
		{"2024-05-01T12:00:00+08:00", time.Date(2024, 5, 1, 4, 0, 0, 0, time.UTC)},
		{"2024-05-01T00:30:00-05:30", time.Date(2024, 5, 1, 6, 0, 0, 0, time.UTC)},
		{"2024-05-01T12:00:00.5Z", time.Date(2024, 5, 1, 12, 0, 0, 500_000_000, time.UTC)},
		{"2024-05-01T12:00:00.123456789123+00:00", time.Date(2024, 5, 1, 12, 0, 0, 123456789, time.UTC)},
		{"2024-02-29T00:00:00Z", time.Date(2024, 2, 29, 0, 0, 0, 0, time.UTC)},
		{"2023-02-29T00:00:00Z", time.Time{}},
		{"2024-13-01T00:00:00Z", time.Time{}},
		{"2024-05-01T24:00:00Z", time.Time{}},
		{"2024-05-01T12:00:60Z", time.Time{}},
		{"2024-05-01T12:00:00", time.Time{}},
		{"2024-05-01T12:00:00.Z", time.Time{}},
		{"2024-05-01T12:00:00+0800", time.Time{}},
		{"2024-05-01T12:00:00+08:00x", time.Time{}},
		{"2024-05-01 12:00:00Z", time.Time{}},
		{"2024-O5-01T12:00:00Z", time.Time{}},
		{"0000-01-01T00:00:00+01:00", time.Time{}}, // year -1 in UTC (found by FuzzMPPPayRequest)
		{"9999-12-31T23:30:00-01:00", time.Time{}},
		{"0001-01-01T00:00:01Z", time.Date(1, 1, 1, 0, 0, 1, 0, time.UTC)},
	}
	for _, c := range cases {
		t.Run(c.in, func(t *testing.T) {
			body := `{"result":{"resultCode":"SUCCESS","resultStatus":"S"},"refundId":"R","refundTime":"` + c.in + `"}`
			var r codec.MPPRefundResponse
			err := codec.ParseMPPRefundResponse([]byte(body), &r)
			if c.want.IsZero() {
				mppCheckErr(t, err, codec.ErrMPPTime, "refundTime")
				if !errors.Is(err, codec.ErrValue) {
					t.Fatalf("ErrMPPTime should match ErrValue: %v", err)
				}
				return
			}
			if err != nil || !r.RefundTime.Equal(c.want) || r.RefundTime.Location() != time.UTC {
				t.Fatalf("got %v (%v), want %v UTC", r.RefundTime, err, c.want)
			}
		})
	}
}

// TestMPPEngineSideAllocs guards the connector's budget: writing requests
// into a warm buffer and parsing responses into a warm value allocate
// nothing.
func TestMPPEngineSideAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector allocates")
	}
	pay := mppFullPay()
	id := codec.MPPIDRequest{PaymentRequestID: mppBytes("pay-0001")}
	ref := codec.MPPRefundRequest{PaymentRequestID: mppBytes("pay-1"), RefundRequestID: mppBytes("ref-1"), Amount: codec.Amount{Value: 7, Currency: mppHKD}, Reason: mppBytes("r")}
	payResp := codec.MPPPayResponse{Result: mppResult(codec.Success, ""), PaymentID: mppBytes("W-1"), PaymentTime: mppPayTime, Amount: pay.Amount, CustomerID: mppBytes("C"), WalletBrandName: mppBytes("B")}
	mppPayBody := codec.AppendMPPPayResponse(nil, &payResp)
	inq := codec.MPPInquiryResponse{Result: mppResult(codec.Success, ""), PaymentResult: mppResult(codec.Success, ""), PaymentID: mppBytes("W-1"), PaymentTime: mppPayTime}
	inqBody := codec.AppendMPPInquiryResponse(nil, &inq)
	buf := make([]byte, 0, 1024)
	var pr codec.MPPPayResponse
	var ir codec.MPPInquiryResponse
	cases := map[string]func(){
		"AppendMPPPayRequest":     func() { buf = codec.AppendMPPPayRequest(buf[:0], &pay) },
		"AppendMPPIDRequest":      func() { buf = codec.AppendMPPIDRequest(buf[:0], &id) },
		"AppendMPPRefundRequest":  func() { buf = codec.AppendMPPRefundRequest(buf[:0], &ref) },
		"ParseMPPPayResponse":     func() { mppMust(t, codec.ParseMPPPayResponse(mppPayBody, &pr)) },
		"ParseMPPInquiryResponse": func() { mppMust(t, codec.ParseMPPInquiryResponse(inqBody, &ir)) },
	}
	for name, f := range cases {
		f() // warm the buffer, the value and the parser pool
		if n := testing.AllocsPerRun(200, f); n != 0 {
			t.Errorf("%s: %v allocs/op, want 0", name, n)
		}
	}
}

// TestMPPWalletSideAllocs does the same for the simulated wallets' side:
// parsing requests and writing responses, and the engine's remaining
// parsers.
func TestMPPWalletSideAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector allocates")
	}
	pay := mppFullPay()
	payBody := codec.AppendMPPPayRequest(nil, &pay)
	idBody := []byte(`{"paymentRequestId":"pay-0001"}`)
	ref := codec.MPPRefundRequest{PaymentRequestID: mppBytes("pay-1"), RefundRequestID: mppBytes("ref-1"), Amount: codec.Amount{Value: 7, Currency: mppHKD}, Reason: mppBytes("r")}
	refBody := codec.AppendMPPRefundRequest(nil, &ref)
	payResp := codec.MPPPayResponse{Result: mppResult(codec.Success, ""), PaymentID: mppBytes("W-1"), PaymentTime: mppPayTime, Amount: pay.Amount}
	inq := codec.MPPInquiryResponse{Result: mppResult(codec.Success, ""), PaymentResult: mppResult(codec.Success, ""), PaymentID: mppBytes("W-1"), PaymentTime: mppPayTime}
	cancel := codec.MPPCancelResponse{Result: mppResult(codec.Success, "")}
	cancelBody := codec.AppendMPPCancelResponse(nil, &cancel)
	refResp := codec.MPPRefundResponse{Result: mppResult(codec.Success, ""), RefundID: mppBytes("R-1"), RefundTime: mppPayTime, Amount: ref.Amount}
	refRespBody := codec.AppendMPPRefundResponse(nil, &refResp)
	buf := make([]byte, 0, 1024)
	var (
		pr  codec.MPPPayRequest
		ir  codec.MPPIDRequest
		rr  codec.MPPRefundRequest
		cr  codec.MPPCancelResponse
		rfr codec.MPPRefundResponse
	)
	cases := map[string]func(){
		"ParseMPPPayRequest":       func() { mppMust(t, codec.ParseMPPPayRequest(payBody, &pr)) },
		"ParseMPPIDRequest":        func() { mppMust(t, codec.ParseMPPIDRequest(idBody, &ir)) },
		"ParseMPPRefundRequest":    func() { mppMust(t, codec.ParseMPPRefundRequest(refBody, &rr)) },
		"ParseMPPCancelResponse":   func() { mppMust(t, codec.ParseMPPCancelResponse(cancelBody, &cr)) },
		"ParseMPPRefundResponse":   func() { mppMust(t, codec.ParseMPPRefundResponse(refRespBody, &rfr)) },
		"AppendMPPPayResponse":     func() { buf = codec.AppendMPPPayResponse(buf[:0], &payResp) },
		"AppendMPPInquiryResponse": func() { buf = codec.AppendMPPInquiryResponse(buf[:0], &inq) },
		"AppendMPPCancelResponse":  func() { buf = codec.AppendMPPCancelResponse(buf[:0], &cancel) },
		"AppendMPPRefundResponse":  func() { buf = codec.AppendMPPRefundResponse(buf[:0], &refResp) },
	}
	for name, f := range cases {
		f() // warm the buffer, the value and the parser pool
		if n := testing.AllocsPerRun(200, f); n != 0 {
			t.Errorf("%s: %v allocs/op, want 0", name, n)
		}
	}
}

func mppMust(t *testing.T, err error) {
	if err != nil {
		t.Fatal(err)
	}
}

// FuzzMPPPayRequest: whatever parses must write back to a body that parses
// to the same value, and no error may quote the input.
func FuzzMPPPayRequest(f *testing.F) {
	full := mppFullPay()
	f.Add(codec.AppendMPPPayRequest(nil, &full))
	f.Add(mppPayBody(`"2 x`, `"\u00e9\"\\ x`))
	f.Add(mppPayBody(`"isInStorePayment":"true"`, `"isInStorePayment":true`))
	f.Add(mppPayBody(`"2024-05-01T12:05:00+08:00"`, `"0000-01-01T00:00:00+01:00"`))
	f.Add(mppPayBody(`"2 x`, "\"\xff"))
	f.Fuzz(func(t *testing.T, body []byte) {
		var a, b codec.MPPPayRequest
		if err := codec.ParseMPPPayRequest(body, &a); err != nil {
			var fe *codec.FieldError
			if !errors.As(err, &fe) {
				t.Fatalf("error is not a FieldError: %v", err)
			}
			return
		}
		if a.CodeErr != nil {
			return // a bad code cannot be written back
		}
		out := codec.AppendMPPPayRequest(nil, &a)
		if err := codec.ParseMPPPayRequest(out, &b); err != nil {
			t.Fatalf("reparse: %v\n%s", err, out)
		}
		a.ExpiryTime, b.ExpiryTime = a.ExpiryTime.Truncate(time.Second), b.ExpiryTime.Truncate(time.Second)
		if !reflect.DeepEqual(a, b) {
			t.Fatalf("round trip differs\n%+v\n%+v", a, b)
		}
	})
}

func BenchmarkAppendMPPPayRequest(b *testing.B) {
	r := mppFullPay()
	buf := make([]byte, 0, 1024)
	b.ReportAllocs()
	for b.Loop() {
		buf = codec.AppendMPPPayRequest(buf[:0], &r)
	}
	b.SetBytes(int64(len(buf)))
}

func BenchmarkParseMPPPayRequest(b *testing.B) {
	r := mppFullPay()
	body := codec.AppendMPPPayRequest(nil, &r)
	var v codec.MPPPayRequest
	b.ReportAllocs()
	b.SetBytes(int64(len(body)))
	for b.Loop() {
		if err := codec.ParseMPPPayRequest(body, &v); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkParseMPPPayResponse(b *testing.B) {
	resp := codec.MPPPayResponse{Result: mppResult(codec.Success, ""), PSPID: mppBytes("PSP-A"), PaymentID: mppBytes("W-1"), PaymentTime: mppPayTime,
		Amount: codec.Amount{Value: 11800, Currency: mppHKD}, CustomerID: mppBytes("C-9"), WalletBrandName: mppBytes("Wallet A")}
	body := codec.AppendMPPPayResponse(nil, &resp)
	var v codec.MPPPayResponse
	b.ReportAllocs()
	b.SetBytes(int64(len(body)))
	for b.Loop() {
		if err := codec.ParseMPPPayResponse(body, &v); err != nil {
			b.Fatal(err)
		}
	}
}
