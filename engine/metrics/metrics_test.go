package metrics_test

import (
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/paycode/paycode/codec"
	"github.com/paycode/paycode/engine/metrics"
)

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
	})
	if allocs != 0 {
		t.Fatalf("Observe allocates %.1f times", allocs)
	}
	var nilLane *metrics.Lane
	nilLane.Observe(metrics.EndpointPay, codec.Success, 0)
}
