package mpp_test

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/paycode/paycode/engine"
	"github.com/paycode/paycode/engine/mpp"
	"github.com/paycode/paycode/loadtest/mppsim"
)

// benchTimeout keeps a stall of a shared benchmark machine from failing
// a run: benchmarks measure cost, timeouts are tested elsewhere.
const benchTimeout = time.Minute

// BenchmarkClientPay is the connector's own cost: a Pay against an
// in-memory wallet that answers a canned success at once.
func BenchmarkClientPay(b *testing.B) {
	c := newClient(b, mpp.Config{BaseURL: "http://w", Timeout: benchTimeout, Dial: serve(b, fixed(`{"result":`+rS+`,`+paid+`}`))})
	p := walletPay("p1", code(1, 0), 100)
	ctx := context.Background()
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if r, err := c.Pay(ctx, p); err != nil || r.Outcome != engine.OutcomeSuccess {
				b.Errorf("pay: %+v %v", r, err)
				return
			}
		}
	})
}

// BenchmarkClientPaySim is a Pay end to end against a simulated wallet
// (in memory, no latency): connector plus simulator.
func BenchmarkClientPaySim(b *testing.B) {
	w, err := mppsim.NewWallet(mppsim.WalletConfig{Name: "A"}, mppsim.Config{})
	if err != nil {
		b.Fatal(err)
	}
	c := newClient(b, mpp.Config{BaseURL: "http://a", Timeout: benchTimeout, Dial: serve(b, w.Handler())})
	var n atomic.Int64
	ctx := context.Background()
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			i := int(n.Add(1))
			r, err := c.Pay(ctx, walletPay(fmt.Sprint("p", i), code(i, i%80), 100))
			if err != nil || r.Outcome != engine.OutcomeSuccess {
				b.Errorf("pay: %+v %v", r, err)
				return
			}
		}
	})
}
