package metrics_test

import (
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/paycode/paycode/codec"
	"github.com/paycode/paycode/engine/metrics"
)

func TestResultOf(t *testing.T) {
	for _, tc := range []struct {
		body string
		want codec.ResultCode
	}{
		{string(codec.AppendErrorResponse(nil, codec.ParamIllegal, "x")), codec.ParamIllegal},
		{`{"result":{"resultCode":"SUCCESS","resultStatus":"S"}}`, codec.Success},
		{`{"result":{"resultCode":"NOT_A_CODE"}}`, codec.ResultNone},
		{`{"result":{"resultCode":"SUCC`, codec.ResultNone},
		{`{"codes":[]}`, codec.ResultNone},
		{``, codec.ResultNone},
	} {
		if got := metrics.ResultOf([]byte(tc.body)); got != tc.want {
			t.Errorf("ResultOf(%q) = %v, want %v", tc.body, got, tc.want)
		}
	}
}

func TestEndpointOf(t *testing.T) {
	for op, want := range map[string]metrics.Endpoint{
		"pay": metrics.EndpointPay, "inquiryPayment": metrics.EndpointInquiryPayment,
		"cancel": metrics.EndpointCancel, "refund": metrics.EndpointRefund,
		"inquiryRefund": metrics.EndpointInquiryRefund, "capture": metrics.EndpointOther,
	} {
		if got := metrics.EndpointOf([]byte(op)); got != want || got.String() != map[bool]string{true: op, false: "other"}[want != metrics.EndpointOther] {
			t.Errorf("EndpointOf(%q) = %v", op, got)
		}
	}
}

// TestLaneObserve: counts land on the pre-resolved series, every result
// code (in the table or not) has one, and observing does not allocate.
func TestLaneObserve(t *testing.T) {
	reg := prometheus.NewRegistry()
	l := metrics.NewLane(reg)
	for i := 0; i < 256; i++ {
		l.Observe(metrics.EndpointPay, codec.ResultCode(i), time.Millisecond)
	}
	l.Observe(metrics.EndpointDecode, codec.Success, time.Millisecond)
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != "paycode_lane_requests_total" {
			continue
		}
		var pay, decodeOK float64
		for _, m := range mf.GetMetric() {
			lbl := map[string]string{}
			for _, lp := range m.GetLabel() {
				lbl[lp.GetName()] = lp.GetValue()
			}
			if lbl["endpoint"] == "pay" {
				pay += m.GetCounter().GetValue()
			}
			if lbl["endpoint"] == "decode" && lbl["result"] == "SUCCESS" {
				decodeOK = m.GetCounter().GetValue()
			}
		}
		if pay != 256 || decodeOK != 1 {
			t.Fatalf("pay %v (want 256), decode SUCCESS %v (want 1)", pay, decodeOK)
		}
		if n := len(mf.GetMetric()); n > 7*64 {
			t.Fatalf("%d series: unbounded", n)
		}
	}
	allocs := testing.AllocsPerRun(1000, func() {
		l.Observe(metrics.EndpointPay, codec.Success, time.Millisecond)
		_ = metrics.ResultOf([]byte(`{"result":{"resultCode":"SUCCESS"}}`))
	})
	if allocs != 0 {
		t.Fatalf("Observe allocates %.1f times", allocs)
	}
	var nilLane *metrics.Lane
	nilLane.Observe(metrics.EndpointPay, codec.Success, 0)
}
