package httpapi_test

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/paycode/paycode/codec"
	"github.com/paycode/paycode/engine"
	"github.com/paycode/paycode/engine/enginetest"
	"github.com/paycode/paycode/engine/httpapi"
	"github.com/paycode/paycode/engine/journal"
	"github.com/paycode/paycode/engine/metrics"
	"github.com/paycode/paycode/engine/server"
	"github.com/paycode/paycode/loadtest/mppsim"
	"github.com/paycode/paycode/loadtest/stack"
)

// slowJournal is an in-memory journal on a disk that the test makes
// slow: with slow set, every synced append takes perAppend on the
// engine's manual clock; an intent of a request id starting "hold-" waits
// until released, so the test keeps pays in flight.
type slowJournal struct {
	*journal.Mem
	clock     *enginetest.ManualClock
	perAppend time.Duration
	slow      atomic.Bool
	entered   chan string
	release   chan struct{}
}

func (j *slowJournal) Append(ctx context.Context, b *engine.Batch, sync bool) error {
	j.write(sync, b.Payments...)
	return j.Mem.Append(ctx, b, sync)
}

// ClaimPayment is the intent's write (synced).
func (j *slowJournal) ClaimPayment(ctx context.Context, rec *engine.PaymentRecord) (*engine.PaymentRecord, error) {
	j.write(true, rec)
	return j.Mem.ClaimPayment(ctx, rec)
}

func (j *slowJournal) write(sync bool, ps ...*engine.PaymentRecord) {
	if sync && j.slow.Load() {
		j.clock.Advance(j.perAppend)
	}
	for _, p := range ps {
		if p.Status == codec.StatusProcessing && strings.HasPrefix(p.RequestID, "hold-") {
			j.entered <- p.RequestID
			<-j.release
		}
	}
}

// TestPaysShedByQueueingDelay: over real HTTP, with paycode's own time per
// pay (journal waits here) above the target, the pay limit falls and new
// pays above it are shed with REQUEST_TRAFFIC_EXCEED_LIMIT (U, nothing
// recorded, nothing dispatched), while inquiries are still answered;
// before that, with quick pays, as many pays as the floor plus one are in
// flight at once without a shed: the count alone sheds nothing.
func TestPaysShedByQueueingDelay(t *testing.T) {
	const target, interval, perAppend = 5 * time.Millisecond, 100 * time.Millisecond, 10 * time.Millisecond
	clock := enginetest.NewManualClock(t0)
	jn := &slowJournal{Mem: journal.NewMem(), clock: clock, perAppend: perAppend,
		entered: make(chan string), release: make(chan struct{})}
	wallets := stack.DefaultSimWallets()
	for i := range wallets {
		wallets[i].Latency = mppsim.Latency{}
	}
	logs := &lockedBuffer{}
	st, err := stack.Start(stack.Config{
		Sim: mppsim.Config{Wallets: wallets, Seed: 1, Now: clock.Now},
		Node: server.Config{
			Engine:    engine.Config{Clock: clock, PayTimeout: 5 * time.Second, WalletCallTimeout: 2 * time.Second},
			NoDecoder: true,
			Journal:   jn,
			CodeKey:   jn.CodeKey(),
			Logger:    slog.New(slog.NewTextHandler(logs, nil)),
			Security: &httpapi.Security{Default: &httpapi.Client{Policy: httpapi.PolicyNone},
				PayDelayTarget: target, PayDelayInterval: interval},
		},
		Options: []server.Option{server.ManualFollowUps(), server.UndeliveredNotifications()},
	})
	if err != nil {
		t.Fatal(err)
	}
	e := &e2e{t: t, st: st, clock: clock, logs: logs, http: &http.Client{Timeout: 10 * time.Second}}
	t.Cleanup(func() {
		st.Close()
		e.checkLogsMasked()
	})
	reg := prometheus.NewRegistry()
	lane := metrics.NewLane(reg)
	st.API.SetMetrics(lane)
	shedMetric := func() float64 {
		mfs, err := reg.Gather()
		if err != nil {
			t.Fatal(err)
		}
		for _, mf := range mfs {
			if mf.GetName() != "paycode_lane_shed_total" {
				continue
			}
			for _, m := range mf.GetMetric() {
				if m.GetLabel()[0].GetValue() == "pay_delay" {
					return m.GetCounter().GetValue()
				}
			}
		}
		return 0
	}
	ceiling, _ := st.API.PayLimit()
	const code = "LANE1"

	// hold keeps n pays in flight at their intent; answers come on the
	// returned channel once released.
	n := 0
	hold := func(k int) chan answer {
		out := make(chan answer, k)
		for range k {
			n++
			id := fmt.Sprint("hold-", n)
			body := payBody(id, e.testCode("281001", n, 1), 100)
			go func() { out <- e.post("pay", code, body) }()
			<-jn.entered
		}
		return out
	}
	releaseAll := func(out chan answer, k int) {
		for range k {
			jn.release <- struct{}{}
		}
		for range k {
			if a := <-out; a.Result.Code != "SUCCESS" {
				t.Errorf("held pay: %+v", a.Result)
			}
		}
	}

	// Quick pays: more in flight than the floor, none shed.
	const many = httpapi.MinPayLimit + 1
	out := hold(many)
	if l, f := st.API.PayLimit(); l != ceiling || f != many {
		t.Fatalf("quick pays: limit %d (ceiling %d), %d in flight", l, ceiling, f)
	}
	releaseAll(out, many)

	// Slow pays, one after another: each spends two synced appends,
	// 20 ms, in paycode. The first interval also holds the quick pays
	// (a healthy median); the second is all slow, and its end cuts the
	// limit to the floor.
	jn.slow.Store(true)
	var limit int64
	for i := 0; ; i++ {
		if a := e.post("pay", code, payBody(fmt.Sprint("slow-", i), e.testCode("281003", i, 1), 100)); a.Result.Code != "SUCCESS" {
			t.Fatalf("slow pay %d: %+v", i, a.Result)
		}
		if limit, _ = st.API.PayLimit(); limit < ceiling {
			break
		}
		if el := clock.Now().Sub(t0); el > 3*interval {
			t.Fatalf("the limit did not move in %v of 20 ms pays", el)
		}
	}
	if limit >= many {
		t.Fatalf("after an interval of 20 ms pays the limit is %d", limit)
	}

	// The limit is full: the next pay is shed at once, an inquiry is
	// answered, and the shed pay left no trace.
	out = hold(int(limit))
	shed := e.post("pay", code, payBody("shed-1", e.testCode("281010", 1, 1), 100))
	if shed.Result.Code != "REQUEST_TRAFFIC_EXCEED_LIMIT" || shed.Result.Status != "U" {
		t.Fatalf("pay over the limit: %+v", shed.Result)
	}
	if q := e.post("inquiryPayment", code, `{"paymentRequestId":"slow-0"}`); q.Result.Code != "SUCCESS" || q.PaymentStatus != "SUCCESS" {
		t.Fatalf("inquiry under the limit: %+v %s", q.Result, q.PaymentStatus)
	}
	if q := e.post("inquiryPayment", code, `{"paymentRequestId":"shed-1"}`); q.Result.Code != "ORDER_NOT_EXIST" {
		t.Fatalf("the shed pay was recorded: %+v", q.Result)
	}
	releaseAll(out, int(limit))
	if s, _ := st.API.SecurityStats(); s != 1 {
		t.Fatalf("shed counter %d", s)
	}
	if v := shedMetric(); v != 1 {
		t.Fatalf("paycode_lane_shed_total{reason=pay_delay} = %v", v)
	}
	// The lane retries the shed pay once there is room: it succeeds, and
	// the wallets charged exactly the pays answered SUCCESS.
	if a := e.post("pay", code, payBody("shed-1", e.testCode("281010", 1, 1), 100)); a.Result.Code != "SUCCESS" {
		t.Fatalf("retry of the shed pay: %+v", a.Result)
	}
	if d, p := st.Engine.Stats().Dispatched.Load(), st.Engine.Stats().Pays.Load(); d != p {
		t.Fatalf("dispatched %d of %d pays", d, p)
	}
}
