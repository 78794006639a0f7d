package httpapi

import (
	"testing"

	"github.com/paycode/paycode/codec"
	"github.com/paycode/paycode/engine/metrics"
)

func TestRoute(t *testing.T) {
	for _, tc := range []struct {
		path     string
		op       operation
		followUp bool
		endpoint metrics.Endpoint
	}{
		{"/ams/api/v1/payments/pay", opPay, false, metrics.EndpointPay},
		{"/ams/sandbox/api/v1/payments/pay", opPay, false, metrics.EndpointPay},
		{"/ams/api/v1/payments/inquiryPayment", opInquiryPayment, true, metrics.EndpointInquiryPayment},
		{"/ams/api/v1/payments/cancel", opCancel, true, metrics.EndpointCancel},
		{"/ams/sandbox/api/v1/payments/refund", opRefund, true, metrics.EndpointRefund},
		{"/ams/api/v1/payments/inquiryRefund", opInquiryRefund, true, metrics.EndpointInquiryRefund},
		{DecodePath, opDecode, false, metrics.EndpointDecode},
		{"/ams/api/v1/payments/capture", opNone, false, metrics.EndpointOther},
		{"/ams/api/v1/payments/", opNone, false, metrics.EndpointOther},
		{"/ams/api/v1/payments/pay/", opNone, false, metrics.EndpointOther},
		{"/ams/api/v1/payments/Pay", opNone, false, metrics.EndpointOther},
		// Work on a payment only under the API prefix: a path that merely
		// ends like one is nothing (it used to count as a follow-up).
		{"/elsewhere/cancel", opNone, false, metrics.EndpointOther},
		{"/elsewhere/pay", opNone, false, metrics.EndpointOther},
		{"/", opNone, false, metrics.EndpointOther},
		{"", opNone, false, metrics.EndpointOther},
	} {
		op := route([]byte(tc.path))
		if op != tc.op || op.followUp() != tc.followUp || op.endpoint() != tc.endpoint {
			t.Errorf("route(%q) = %d (follow-up %v, endpoint %v), want %d (%v, %v)",
				tc.path, op, op.followUp(), op.endpoint(), tc.op, tc.followUp, tc.endpoint)
		}
	}
	if got := operation(200).endpoint(); got != metrics.EndpointOther {
		t.Errorf("an operation out of range has endpoint %v", got)
	}
}

// TestAnswerWritesItsCode: the code answer reports is the one in the body
// it wrote, codes outside the table included (written as
// UNKNOWN_EXCEPTION).
func TestAnswerWritesItsCode(t *testing.T) {
	for _, rc := range []codec.ResultCode{codec.Success, codec.ParamIllegal, codec.InvalidAPI, codec.ResultNone, codec.ResultCode(250)} {
		body, got := answer(nil, rc, "")
		want := rc
		if rc == codec.ResultNone || rc == 250 {
			want = codec.UnknownException
		}
		if got != want {
			t.Errorf("answer(%v) reports %v, want %v", rc, got, want)
		}
		if w := `{"result":{"resultCode":"` + want.String() + `"`; string(body[:len(w)]) != w {
			t.Errorf("answer(%v) wrote %s", rc, body)
		}
	}
	allocs := testing.AllocsPerRun(100, func() { route([]byte("/ams/api/v1/payments/inquiryRefund")) })
	if allocs != 0 {
		t.Errorf("route allocates %.1f times", allocs)
	}
}
