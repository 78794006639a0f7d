package metrics_test

import (
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

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
	var pay float64
	for i := range 256 {
		if rc := codec.ResultCode(i); rc.String() != "" && rc != codec.ResultNone {
			pay += testutil.ToFloat64(l.Requests(metrics.EndpointPay, rc))
		}
	}
	pay += testutil.ToFloat64(l.Requests(metrics.EndpointPay, codec.ResultNone)) // every unnamed code's one series
	if decodeOK := testutil.ToFloat64(l.Requests(metrics.EndpointDecode, codec.Success)); pay != 256 || decodeOK != 1 {
		t.Fatalf("pay %v (want 256), decode SUCCESS %v (want 1)", pay, decodeOK)
	}
	if n, err := testutil.GatherAndCount(reg, "paycode_lane_requests_total"); err != nil || n > 7*64 {
		t.Fatalf("%d series (%v): unbounded", n, err)
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
