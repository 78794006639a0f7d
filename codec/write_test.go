package codec_test

import (
	"bytes"
	"encoding/json"
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/paycode/paycode/codec"
)

var (
	hkt     = time.FixedZone("HKT", 8*3600)
	created = time.Date(2024, 5, 1, 12, 0, 0, 0, hkt)
	paidAt  = time.Date(2024, 5, 1, 12, 0, 3, 0, hkt)
)

// The SDKs' response shapes (alipay/global-open-sdk-go response structs,
// the fields UPM uses). Decoding with DisallowUnknownFields proves every
// name we write is one the SDK knows, and time.Time fields prove the
// datetimes parse as RFC 3339.
type (
	sdkResult struct {
		ResultCode    string `json:"resultCode"`
		ResultStatus  string `json:"resultStatus"`
		ResultMessage string `json:"resultMessage"`
	}
	sdkAmount struct {
		Currency string `json:"currency"`
		Value    string `json:"value"`
	}
	sdkPspCustomerInfo struct {
		PspName       string `json:"pspName"`
		PspCustomerID string `json:"pspCustomerId"`
	}
	sdkPayResponse struct {
		Result            *sdkResult          `json:"result"`
		PaymentRequestID  string              `json:"paymentRequestId"`
		PaymentID         string              `json:"paymentId"`
		PaymentAmount     *sdkAmount          `json:"paymentAmount"`
		PaymentCreateTime time.Time           `json:"paymentCreateTime"`
		PaymentTime       time.Time           `json:"paymentTime"`
		PspCustomerInfo   *sdkPspCustomerInfo `json:"pspCustomerInfo"`
	}
	sdkTransaction struct {
		TransactionResult    *sdkResult `json:"transactionResult"`
		TransactionID        string     `json:"transactionId"`
		TransactionType      string     `json:"transactionType"`
		TransactionStatus    string     `json:"transactionStatus"`
		TransactionAmount    *sdkAmount `json:"transactionAmount"`
		TransactionRequestID string     `json:"transactionRequestId"`
		TransactionTime      time.Time  `json:"transactionTime"`
	}
	sdkInquiryResponse struct {
		sdkPayResponse
		PaymentStatus        string           `json:"paymentStatus"`
		PaymentResultCode    string           `json:"paymentResultCode"`
		PaymentResultMessage string           `json:"paymentResultMessage"`
		Transactions         []sdkTransaction `json:"transactions"`
	}
	sdkNotify struct {
		sdkPayResponse
		NotifyType string `json:"notifyType"`
	}
	sdkCancelResponse struct {
		Result           *sdkResult `json:"result"`
		PaymentID        string     `json:"paymentId"`
		PaymentRequestID string     `json:"paymentRequestId"`
		CancelTime       time.Time  `json:"cancelTime"`
	}
	sdkRefundResponse struct {
		Result          *sdkResult `json:"result"`
		RefundRequestID string     `json:"refundRequestId"`
		RefundID        string     `json:"refundId"`
		PaymentID       string     `json:"paymentId"`
		RefundAmount    *sdkAmount `json:"refundAmount"`
		RefundTime      time.Time  `json:"refundTime"`
		RefundStatus    string     `json:"refundStatus"`
	}
)

// decodeStrict decodes b into v as an SDK would, refusing unknown names.
func decodeStrict(t *testing.T, b []byte, v any) {
	t.Helper()
	d := json.NewDecoder(bytes.NewReader(b))
	d.DisallowUnknownFields()
	if err := d.Decode(v); err != nil {
		t.Fatalf("SDK shape rejects the output: %v\n%s", err, b)
	}
	if d.More() {
		t.Fatalf("trailing data after the object:\n%s", b)
	}
}

// checkMembers fails t unless the top-level members of the JSON object b
// are exactly the space-separated names of want, in any order.
func checkMembers(t *testing.T, b []byte, want string) {
	t.Helper()
	got := slices.Sorted(maps.Keys(decodeMap(t, b)))
	exp := strings.Fields(want)
	slices.Sort(exp)
	if !slices.Equal(got, exp) {
		t.Errorf("members = %v, want %v\n%s", got, exp, b)
	}
}

func paidView() *codec.PaymentView {
	return &codec.PaymentView{
		PaymentRequestID: "pay-req-1",
		PaymentID:        "20240501120000000001",
		Amount:           codec.Amount{Value: 11800, Currency: codec.MustCurrency("HKD")},
		Status:           codec.StatusSuccess,
		ResultCode:       codec.Success,
		CreateTime:       created,
		PaymentTime:      paidAt,
		CustomerID:       "cust-77",
		WalletName:       "GCASH",
	}
}

func TestAppendPayResponse(t *testing.T) {
	cases := []struct {
		name       string
		edit       func(v *codec.PaymentView)
		code       string
		status     string
		message    string
		fields     string // top-level members expected, space separated
		wantPaidAt bool
	}{
		{"success", func(v *codec.PaymentView) {}, "SUCCESS", "S", "success",
			"result paymentRequestId paymentId paymentAmount paymentCreateTime paymentTime pspCustomerInfo", true},
		{"in process: no paymentTime", func(v *codec.PaymentView) {
			v.ResultCode, v.Status = codec.PaymentInProcess, codec.StatusProcessing
		}, "PAYMENT_IN_PROCESS", "U", "payment in process",
			"result paymentRequestId paymentId paymentAmount paymentCreateTime pspCustomerInfo", false},
		{"failed: ids only", func(v *codec.PaymentView) {
			v.ResultCode, v.Status, v.ResultMessage = codec.UserBalanceNotEnough, codec.StatusFail, "wallet says: balance <low> & \"empty\""
		}, "USER_BALANCE_NOT_ENOUGH", "F", "wallet says: balance <low> & \"empty\"",
			"result paymentRequestId paymentId", false},
		{"failed before a payment existed", func(v *codec.PaymentView) {
			*v = codec.PaymentView{PaymentRequestID: "r", ResultCode: codec.InvalidPaymentCode}
		}, "INVALID_PAYMENT_CODE", "F", "the payment code is invalid, ask the customer to refresh it",
			"result paymentRequestId", false},
		{"no result set is unknown, never invalid JSON", func(v *codec.PaymentView) {
			v.ResultCode = codec.ResultNone
		}, "UNKNOWN_EXCEPTION", "U", "unknown exception, inquire or retry with the same request id",
			"result paymentRequestId paymentId paymentAmount paymentCreateTime pspCustomerInfo", false},
		{"unknown payer, zero times", func(v *codec.PaymentView) {
			v.CustomerID, v.WalletName, v.CreateTime, v.PaymentTime = "", "", time.Time{}, time.Time{}
		}, "SUCCESS", "S", "success", "result paymentRequestId paymentId paymentAmount", false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			v := paidView()
			c.edit(v)
			out := codec.AppendPayResponse([]byte("prefix"), v)
			if !bytes.HasPrefix(out, []byte("prefix")) {
				t.Fatalf("dst prefix lost: %s", out)
			}
			out = out[len("prefix"):]
			var r sdkPayResponse
			decodeStrict(t, out, &r)
			if r.Result == nil || r.Result.ResultCode != c.code || r.Result.ResultStatus != c.status || r.Result.ResultMessage != c.message {
				t.Errorf("result = %+v, want %s/%s/%q", r.Result, c.code, c.status, c.message)
			}
			checkMembers(t, out, c.fields)
			if r.PaymentRequestID != v.PaymentRequestID || r.PaymentID != v.PaymentID {
				t.Errorf("ids = %q %q", r.PaymentRequestID, r.PaymentID)
			}
			if r.PaymentAmount != nil && (r.PaymentAmount.Currency != "HKD" || r.PaymentAmount.Value != "11800") {
				t.Errorf("paymentAmount = %+v", r.PaymentAmount)
			}
			if c.wantPaidAt && !r.PaymentTime.Equal(paidAt) {
				t.Errorf("paymentTime = %v", r.PaymentTime)
			}
			if r.PspCustomerInfo != nil && (r.PspCustomerInfo.PspName != "GCASH" || r.PspCustomerInfo.PspCustomerID != "cust-77") {
				t.Errorf("pspCustomerInfo = %+v", r.PspCustomerInfo)
			}
		})
	}
}

// Datetimes keep the offset they were given (spec §1.4).
func TestAppendPayResponseTimeFormat(t *testing.T) {
	out := codec.AppendPayResponse(nil, paidView())
	for _, want := range []string{`"paymentCreateTime":"2024-05-01T12:00:00+08:00"`, `"paymentTime":"2024-05-01T12:00:03+08:00"`} {
		if !bytes.Contains(out, []byte(want)) {
			t.Errorf("missing %s in %s", want, out)
		}
	}
}

func TestAppendInquiryPaymentResponse(t *testing.T) {
	hkd := codec.MustCurrency("HKD")
	cases := []struct {
		name                  string
		edit                  func(v *codec.PaymentView)
		status, code, message string
		fields                string
	}{
		{"paid with a refund and a cancel", func(v *codec.PaymentView) {
			v.Transactions = []codec.TransactionView{
				{Type: codec.TxnRefund, Status: codec.StatusSuccess, Result: codec.Success, ID: "rf-1", RequestID: "rr-1",
					Amount: codec.Amount{Value: 100, Currency: hkd}, Time: paidAt.Add(time.Hour)},
				{Type: codec.TxnCancel, Status: codec.StatusProcessing, ID: "c-1"},
			}
		}, "SUCCESS", "SUCCESS", "success",
			"result paymentStatus paymentResultCode paymentResultMessage paymentRequestId paymentId paymentAmount paymentCreateTime paymentTime pspCustomerInfo transactions"},
		{"waiting for the user", func(v *codec.PaymentView) {
			v.Status, v.ResultCode, v.CustomerID, v.WalletName = codec.StatusProcessing, codec.PaymentInProcess, "", ""
		}, "PROCESSING", "PAYMENT_IN_PROCESS", "payment in process",
			"result paymentStatus paymentResultCode paymentResultMessage paymentRequestId paymentId paymentAmount paymentCreateTime"},
		{"failed, message from the wallet", func(v *codec.PaymentView) {
			v.Status, v.ResultCode, v.ResultMessage = codec.StatusFail, codec.RiskReject, "declined\u2028by risk"
		}, "FAIL", "RISK_REJECT", "declined\u2028by risk",
			"result paymentStatus paymentResultCode paymentResultMessage paymentRequestId paymentId paymentAmount paymentCreateTime pspCustomerInfo"},
		{"cancelled after success", func(v *codec.PaymentView) {
			v.Status, v.ResultCode = codec.StatusCancelled, codec.OrderIsClosed
		}, "CANCELLED", "ORDER_IS_CLOSED", "the order is closed",
			"result paymentStatus paymentResultCode paymentResultMessage paymentRequestId paymentId paymentAmount paymentCreateTime pspCustomerInfo"},
		{"status derived from the result code", func(v *codec.PaymentView) {
			v.Status, v.ResultCode = codec.StatusNone, codec.UserNotExist
		}, "FAIL", "USER_NOT_EXIST", "the user does not exist",
			"result paymentStatus paymentResultCode paymentResultMessage paymentRequestId paymentId paymentAmount paymentCreateTime pspCustomerInfo"},
		{"nothing known: processing, no result code", func(v *codec.PaymentView) {
			*v = codec.PaymentView{PaymentID: "p"}
		}, "PROCESSING", "", "", "result paymentStatus paymentId"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			v := paidView()
			c.edit(v)
			out := codec.AppendInquiryPaymentResponse(nil, v)
			var r sdkInquiryResponse
			decodeStrict(t, out, &r)
			if r.Result == nil || r.Result.ResultCode != "SUCCESS" || r.Result.ResultStatus != "S" {
				t.Errorf("query result = %+v, want SUCCESS/S", r.Result)
			}
			if r.PaymentStatus != c.status || r.PaymentResultCode != c.code || r.PaymentResultMessage != c.message {
				t.Errorf("payment = %s %s %q, want %s %s %q", r.PaymentStatus, r.PaymentResultCode, r.PaymentResultMessage, c.status, c.code, c.message)
			}
			checkMembers(t, out, c.fields)
			if len(r.Transactions) != len(v.Transactions) {
				t.Fatalf("transactions = %d, want %d", len(r.Transactions), len(v.Transactions))
			}
			for i, tx := range v.Transactions {
				got := r.Transactions[i]
				if got.TransactionType != tx.Type.String() || got.TransactionStatus != tx.Status.String() ||
					got.TransactionID != tx.ID || got.TransactionRequestID != tx.RequestID || !got.TransactionTime.Equal(tx.Time) {
					t.Errorf("transaction %d = %+v, want %+v", i, got, tx)
				}
				if (got.TransactionResult != nil) != (tx.Result != codec.ResultNone) {
					t.Errorf("transaction %d: transactionResult presence wrong", i)
				}
				if (got.TransactionAmount != nil) != tx.Amount.Currency.Valid() {
					t.Errorf("transaction %d: transactionAmount presence wrong", i)
				}
			}
		})
	}
}

func TestAppendCancelResponse(t *testing.T) {
	at := time.Date(2024, 5, 1, 4, 1, 0, 0, time.UTC)
	cases := []struct {
		r              codec.ResultCode
		msg, id, reqID string
		fields         string
		wantTime       bool
	}{
		{codec.Success, "", "p1", "r1", "result paymentId paymentRequestId cancelTime", true},
		{codec.CancelWindowExceed, "", "p1", "r1", "result paymentId paymentRequestId", false},
		{codec.OrderNotExist, "", "", "r1", "result paymentRequestId", false},
		{codec.UnknownException, "try again", "p1", "", "result paymentId", false},
	}
	for _, c := range cases {
		t.Run(c.r.String(), func(t *testing.T) {
			out := codec.AppendCancelResponse(nil, c.r, c.msg, c.id, c.reqID, at)
			var r sdkCancelResponse
			decodeStrict(t, out, &r)
			if r.Result.ResultCode != c.r.String() || r.Result.ResultStatus != string(c.r.Status()) {
				t.Errorf("result = %+v", r.Result)
			}
			if c.msg != "" && r.Result.ResultMessage != c.msg {
				t.Errorf("message = %q", r.Result.ResultMessage)
			}
			checkMembers(t, out, c.fields)
			if c.wantTime && !r.CancelTime.Equal(at) {
				t.Errorf("cancelTime = %v", r.CancelTime)
			}
			if !bytes.Contains(out, []byte(`"2024-05-01T04:01:00Z"`)) && c.wantTime {
				t.Errorf("UTC time not RFC 3339: %s", out)
			}
		})
	}
}

func refundView() *codec.RefundView {
	return &codec.RefundView{
		RefundRequestID: "rr-1",
		RefundID:        "rf-1",
		PaymentID:       "p-1",
		Amount:          codec.Amount{Value: 500, Currency: codec.MustCurrency("JPY")},
		Status:          codec.StatusSuccess,
		ResultCode:      codec.Success,
		RefundTime:      paidAt,
	}
}

func TestAppendRefundResponses(t *testing.T) {
	cases := []struct {
		name                 string
		edit                 func(v *codec.RefundView)
		refund, inquiry      string // member sets
		code, status, refSts string
	}{
		{"success", func(v *codec.RefundView) {},
			"result refundRequestId refundId paymentId refundAmount refundTime",
			"result refundId refundRequestId refundAmount refundStatus refundTime", "SUCCESS", "S", "SUCCESS"},
		{"in process", func(v *codec.RefundView) { v.ResultCode, v.Status = codec.RefundInProcess, codec.StatusProcessing },
			"result refundRequestId refundId paymentId refundAmount",
			"result refundId refundRequestId refundAmount refundStatus", "REFUND_IN_PROCESS", "U", "PROCESSING"},
		{"exceeds", func(v *codec.RefundView) {
			v.ResultCode, v.Status, v.RefundID = codec.RefundAmountExceed, codec.StatusFail, ""
		},
			"result refundRequestId paymentId",
			"result refundRequestId refundAmount refundStatus", "REFUND_AMOUNT_EXCEED", "F", "FAIL"},
		{"status derived", func(v *codec.RefundView) { v.Status = codec.StatusNone },
			"result refundRequestId refundId paymentId refundAmount refundTime",
			"result refundId refundRequestId refundAmount refundStatus refundTime", "SUCCESS", "S", "SUCCESS"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			v := refundView()
			c.edit(v)
			out := codec.AppendRefundResponse(nil, v)
			var r sdkRefundResponse
			decodeStrict(t, out, &r)
			if r.Result.ResultCode != c.code || r.Result.ResultStatus != c.status {
				t.Errorf("refund result = %+v", r.Result)
			}
			checkMembers(t, out, c.refund)
			if r.RefundAmount != nil && (r.RefundAmount.Currency != "JPY" || r.RefundAmount.Value != "500") {
				t.Errorf("refundAmount = %+v", r.RefundAmount)
			}

			out = codec.AppendInquiryRefundResponse(nil, v)
			r = sdkRefundResponse{}
			decodeStrict(t, out, &r)
			if r.Result.ResultCode != "SUCCESS" || r.RefundStatus != c.refSts {
				t.Errorf("inquiry = %+v status %s, want SUCCESS %s", r.Result, r.RefundStatus, c.refSts)
			}
			checkMembers(t, out, c.inquiry)
		})
	}
}

func TestAppendNotifyPayment(t *testing.T) {
	cases := []struct {
		name   string
		edit   func(v *codec.PaymentView)
		fields string
	}{
		{"paid", func(v *codec.PaymentView) {},
			"notifyType result paymentRequestId paymentId paymentAmount paymentCreateTime paymentTime pspCustomerInfo"},
		{"closed", func(v *codec.PaymentView) { v.ResultCode, v.Status = codec.OrderIsClosed, codec.StatusFail },
			"notifyType result paymentRequestId paymentId paymentAmount paymentCreateTime"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			v := paidView()
			c.edit(v)
			out := codec.AppendNotifyPayment(nil, v)
			var n sdkNotify
			decodeStrict(t, out, &n)
			if n.NotifyType != "PAYMENT_RESULT" || n.Result.ResultCode != v.ResultCode.String() {
				t.Errorf("notify = %s %+v", n.NotifyType, n.Result)
			}
			checkMembers(t, out, c.fields)
		})
	}
}

func TestAppendErrorResponse(t *testing.T) {
	var r codec.PayRequest
	perr := codec.ParsePay([]byte(`{"productCode":1}`), &r)
	cases := []struct {
		r        codec.ResultCode
		msg      string
		wantMsg  string
		wantCode string
	}{
		{codec.ParamIllegal, perr.Error(), perr.Error(), "PARAM_ILLEGAL"},
		{codec.OrderNotExist, "", "the order does not exist", "ORDER_NOT_EXIST"},
		{codec.Success, "success", "success", "SUCCESS"},
		{codec.ResultCode(250), "", codec.UnknownException.Message(), "UNKNOWN_EXCEPTION"},
	}
	for _, c := range cases {
		out := codec.AppendErrorResponse(nil, c.r, c.msg)
		var resp struct {
			Result *sdkResult `json:"result"`
		}
		decodeStrict(t, out, &resp)
		if resp.Result.ResultCode != c.wantCode || resp.Result.ResultMessage != c.wantMsg {
			t.Errorf("%v: got %+v", c.r, resp.Result)
		}
	}
}

// A warm request and buffer make the whole lane exchange: parse, echo the
// request's ids, write the answer.
func parseAndWrite(body []byte, r *codec.PayRequest, v *codec.PaymentView, dst []byte) ([]byte, error) {
	if err := codec.ParsePay(body, r); err != nil {
		return codec.AppendErrorResponse(dst, codec.ParamIllegal, err.Error()), err
	}
	v.Amount = r.Amount
	return codec.AppendPayResponse(dst, v), nil
}

func TestParseThenWriteEchoes(t *testing.T) {
	body := payBody(t, edit{"paymentRequestId", `id "quoted" <&> ` + "\u2029"})
	var r codec.PayRequest
	if err := codec.ParsePay(body, &r); err != nil {
		t.Fatal(err)
	}
	v := paidView()
	v.PaymentRequestID = string(r.PaymentRequestID)
	out := codec.AppendPayResponse(nil, v)
	var resp sdkPayResponse
	decodeStrict(t, out, &resp)
	if resp.PaymentRequestID != string(r.PaymentRequestID) {
		t.Errorf("echoed id %q, want %q", resp.PaymentRequestID, r.PaymentRequestID)
	}
}

func BenchmarkAppendPayResponse(b *testing.B) {
	v := paidView()
	dst := make([]byte, 0, 1024)
	b.ReportAllocs()
	for b.Loop() {
		dst = codec.AppendPayResponse(dst[:0], v)
	}
	b.SetBytes(int64(len(dst)))
}

func BenchmarkAppendInquiryPaymentResponse(b *testing.B) {
	v := paidView()
	v.Transactions = []codec.TransactionView{{Type: codec.TxnRefund, Status: codec.StatusSuccess, Result: codec.Success,
		ID: "rf-1", RequestID: "rr-1", Amount: v.Amount, Time: paidAt}}
	dst := make([]byte, 0, 2048)
	b.ReportAllocs()
	for b.Loop() {
		dst = codec.AppendInquiryPaymentResponse(dst[:0], v)
	}
}

func BenchmarkParseAndWritePay(b *testing.B) {
	body := []byte(fullPayBody)
	var r codec.PayRequest
	v := paidView()
	dst := make([]byte, 0, 1024)
	b.ReportAllocs()
	b.SetBytes(int64(len(body)))
	for b.Loop() {
		var err error
		if dst, err = parseAndWrite(body, &r, v, dst[:0]); err != nil {
			b.Fatal(err)
		}
	}
}
