package mpp_test

import (
	"context"
	"errors"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/valyala/fasthttp"

	"github.com/paycode/paycode/engine"
	"github.com/paycode/paycode/engine/mpp"
)

// flaky is a wallet that answers 503, hangs, or succeeds, as told.
type flaky struct {
	mode atomic.Int32 // 0 ok, 1 HTTP 503, 2 hang until released, 3 business failure
	hits atomic.Int64
	hang chan struct{}
}

func (f *flaky) handle(ctx *fasthttp.RequestCtx) {
	f.hits.Add(1)
	switch f.mode.Load() {
	case 1:
		ctx.SetStatusCode(fasthttp.StatusServiceUnavailable)
	case 2:
		<-f.hang
	case 3:
		ctx.SetBodyString(`{"result":{"resultCode":"USER_BALANCE_NOT_ENOUGH","resultStatus":"F","resultMessage":"no"}}`)
	default:
		ctx.SetBodyString(`{"result":` + rS + `,` + paid + `}`)
	}
}

// counting is an Observer that counts calls by kind.
type counting struct {
	mu       sync.Mutex
	inFlight int
	kinds    map[mpp.Kind]int
	ops      map[mpp.Op]int
	sentDur  int
}

func (c *counting) CallStarted(mpp.Op) { c.mu.Lock(); c.inFlight++; c.mu.Unlock() }
func (c *counting) CallFinished(o mpp.Op, d time.Duration, k mpp.Kind) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.inFlight--
	c.kinds[k]++
	c.ops[o]++
	if k.Sent() && d > 0 {
		c.sentDur++
	}
}

func (c *counting) get(k mpp.Kind) int { c.mu.Lock(); defer c.mu.Unlock(); return c.kinds[k] }

// waitState polls the breaker until it reaches want or a deadline passes.
func waitState(t *testing.T, c *mpp.Client, want mpp.BreakerState, within time.Duration) {
	t.Helper()
	deadline := time.Now().Add(within)
	for c.BreakerState() != want {
		if time.Now().After(deadline) {
			t.Fatalf("breaker %v after %v, want %v", c.BreakerState(), within, want)
		}
		time.Sleep(5 * time.Millisecond) // polling interval, not synchronisation
	}
}

// TestBreakerLifecycle: a wallet answering 503 trips the breaker after
// Consecutive failures; pays then fail at once, not sent, without reaching
// the wallet; follow-up calls fail fast too; after OpenTimeout the breaker
// lets Probes calls through and closes when they succeed.
func TestBreakerLifecycle(t *testing.T) {
	t.Cleanup(func() {
		// Registered first, so it runs last: once the clients and servers
		// are closed, no goroutine is left in a wallet call or handler
		// (fasthttp's own background sleepers are not ours to count).
		deadline := time.Now().Add(5 * time.Second)
		for {
			leaked := ourGoroutines()
			if leaked == "" {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("goroutines left behind:\n%s", leaked)
			}
			time.Sleep(10 * time.Millisecond) // polling interval
		}
	})
	f := &flaky{hang: make(chan struct{})}
	obs := &counting{kinds: map[mpp.Kind]int{}, ops: map[mpp.Op]int{}}
	const openFor = 150 * time.Millisecond
	c := newClient(t, mpp.Config{BaseURL: "http://w", Dial: serve(t, f.handle),
		Breaker: mpp.BreakerConfig{Consecutive: 4, OpenTimeout: openFor, Probes: 2}})
	c.SetObserver(obs)
	ctx := context.Background()
	n := 0
	pay := func() (engine.WalletResult, error) {
		n++
		return c.Pay(ctx, walletPay("p"+string(rune('a'+n%26))+strings.Repeat("x", n%5), code(n, 0), 100))
	}
	if _, err := pay(); err != nil || c.BreakerState() != mpp.BreakerClosed {
		t.Fatalf("healthy pay: %v, breaker %v", err, c.BreakerState())
	}

	// Business failures and 4xx say the wallet is up: no trip.
	f.mode.Store(3)
	for range 10 {
		if r, err := pay(); err != nil || r.Outcome != engine.OutcomeFail {
			t.Fatalf("business failure: %+v %v", r, err)
		}
	}
	if s := c.BreakerState(); s != mpp.BreakerClosed {
		t.Fatalf("breaker %v after business failures", s)
	}

	// 503s: the fourth in a row opens it.
	f.mode.Store(1)
	for i := range 4 {
		_, err := pay()
		if !errors.Is(err, mpp.ErrHTTPStatus) || errors.Is(err, engine.ErrNotSent) {
			t.Fatalf("503 #%d: %v", i, err)
		}
	}
	if s := c.BreakerState(); s != mpp.BreakerOpen {
		t.Fatalf("breaker %v after 4 failures, want open", s)
	}
	hits := f.hits.Load()
	openedAt := time.Now()
	for range 5 {
		_, err := pay()
		if !errors.Is(err, engine.ErrNotSent) || !errors.Is(err, mpp.ErrBreakerOpen) {
			t.Fatalf("pay with the breaker open: %v", err)
		}
	}
	if _, err := c.Inquire(ctx, "p1"); !errors.Is(err, mpp.ErrBreakerOpen) {
		t.Fatalf("inquiry with the breaker open: %v", err)
	}
	if _, err := c.Cancel(ctx, "p1"); !errors.Is(err, mpp.ErrBreakerOpen) {
		t.Fatalf("cancel with the breaker open: %v", err)
	}
	if got := f.hits.Load(); got != hits {
		t.Fatalf("the wallet got %d calls while the breaker was open", got-hits)
	}
	if time.Since(openedAt) < openFor && obs.get(mpp.KindBreakerOpen) != 7 {
		t.Fatalf("breaker_open kind counted %d, want 7", obs.get(mpp.KindBreakerOpen))
	}

	// Still failing when half-open: a failed probe reopens it.
	waitState(t, c, mpp.BreakerHalfOpen, 10*openFor)
	if _, err := pay(); !errors.Is(err, mpp.ErrHTTPStatus) {
		t.Fatalf("probe: %v", err)
	}
	if s := c.BreakerState(); s != mpp.BreakerOpen {
		t.Fatalf("breaker %v after a failed probe, want open", s)
	}

	// The wallet recovers: half-open, two good probes, closed.
	f.mode.Store(0)
	waitState(t, c, mpp.BreakerHalfOpen, 10*openFor)
	for i := range 2 {
		if r, err := pay(); err != nil || r.Outcome != engine.OutcomeSuccess {
			t.Fatalf("probe %d: %+v %v", i, r, err)
		}
	}
	if s := c.BreakerState(); s != mpp.BreakerClosed {
		t.Fatalf("breaker %v after good probes, want closed", s)
	}
	if _, err := pay(); err != nil {
		t.Fatalf("pay after recovery: %v", err)
	}

	obs.mu.Lock()
	if obs.inFlight != 0 || obs.ops[mpp.OpInquiry] != 1 || obs.ops[mpp.OpCancel] != 1 || obs.kinds[mpp.KindHTTP] != 5 {
		t.Errorf("observer: in flight %d, ops %v, kinds %v", obs.inFlight, obs.ops, obs.kinds)
	}
	obs.mu.Unlock()

	// Hanging wallet: timeouts trip it too.
	f.mode.Store(2)
	short := newClient(t, mpp.Config{Name: "B", BaseURL: "http://w", Dial: serve(t, f.handle), Timeout: 30 * time.Millisecond,
		Breaker: mpp.BreakerConfig{Consecutive: 3, OpenTimeout: time.Minute}})
	for range 3 {
		if _, err := short.Inquire(ctx, "p1"); !errors.Is(err, mpp.ErrTimeout) {
			t.Fatalf("hanging wallet: %v", err)
		}
	}
	if s := short.BreakerState(); s != mpp.BreakerOpen {
		t.Fatalf("breaker %v after 3 timeouts", s)
	}
	close(f.hang)

}

// TestBreakerRatio: a failure ratio opens the breaker even without a long
// run of consecutive failures; Disabled never opens.
func TestBreakerRatio(t *testing.T) {
	f := &flaky{}
	c := newClient(t, mpp.Config{BaseURL: "http://w", Dial: serve(t, f.handle),
		Breaker: mpp.BreakerConfig{Consecutive: 100, FailureRatio: 0.5, MinCalls: 10, Window: time.Minute}})
	off := newClient(t, mpp.Config{Name: "off", BaseURL: "http://w", Dial: serve(t, f.handle), Breaker: mpp.BreakerConfig{Disabled: true}})
	ctx := context.Background()
	for i := range 10 {
		f.mode.Store(int32(i % 2)) // ok, 503, ok, 503…
		c.Pay(ctx, walletPay("p", code(i, 0), 100))
		off.Pay(ctx, walletPay("p", code(i, 0), 100))
	}
	if s := c.BreakerState(); s != mpp.BreakerOpen {
		t.Fatalf("breaker %v at 50%% failures of 10, want open", s)
	}
	if s := off.BreakerState(); s != mpp.BreakerClosed {
		t.Fatalf("disabled breaker %v", s)
	}
	if _, err := off.Inquire(ctx, "p"); errors.Is(err, mpp.ErrBreakerOpen) {
		t.Fatal("disabled breaker refused a call")
	}
}

func TestBreakerConfig(t *testing.T) {
	d := mpp.BreakerConfig{}.WithDefaults()
	if d.Consecutive != mpp.DefaultBreakerConsecutive || d.OpenTimeout != mpp.DefaultBreakerOpenTimeout || d.Probes != mpp.DefaultBreakerProbes {
		t.Fatalf("defaults: %+v", d)
	}
	bad := mpp.Config{Name: "A", BaseURL: "http://w", AcquirerID: "a", PSPID: "p", Breaker: mpp.BreakerConfig{FailureRatio: 1.5}}
	if _, err := mpp.New(bad); err == nil || !strings.Contains(err.Error(), "FailureRatio") {
		t.Fatalf("ratio 1.5: %v", err)
	}
	for s, want := range map[mpp.BreakerState]string{mpp.BreakerClosed: "closed", mpp.BreakerHalfOpen: "half-open", mpp.BreakerOpen: "open"} {
		if s.String() != want {
			t.Errorf("%d.String() = %s", s, s)
		}
	}
}

// TestKindOf: every error a Client returns has one bounded kind.
func TestKindOf(t *testing.T) {
	for _, tc := range []struct {
		err  error
		want mpp.Kind
	}{
		{nil, mpp.KindNone},
		{&mpp.Error{Kind: mpp.ErrTimeout}, mpp.KindTimeout},
		{&mpp.Error{Kind: mpp.ErrTimeout, NotSent: true}, mpp.KindNotSent},
		{&mpp.Error{Kind: mpp.ErrTransport}, mpp.KindTransport},
		{&mpp.Error{Kind: mpp.ErrTransport, NotSent: true}, mpp.KindConnect},
		{&mpp.Error{Kind: mpp.ErrBusy, NotSent: true}, mpp.KindBusy},
		{&mpp.Error{Kind: mpp.ErrBreakerOpen, NotSent: true}, mpp.KindBreakerOpen},
		{&mpp.Error{Kind: context.Canceled, NotSent: true}, mpp.KindNotSent},
		{&mpp.Error{Kind: mpp.ErrHTTPStatus, Status: 502}, mpp.KindHTTP},
		{&mpp.Error{Kind: mpp.ErrBadAnswer}, mpp.KindBadAnswer},
		{&mpp.Error{Kind: mpp.ErrRefused}, mpp.KindRefused},
	} {
		if got := mpp.KindOf(tc.err); got != tc.want {
			t.Errorf("KindOf(%v) = %v, want %v", tc.err, got, tc.want)
		}
	}
	for k := mpp.KindNone; k < mpp.NumKinds; k++ {
		if k.String() == "invalid" || k.String() == "" {
			t.Errorf("kind %d has no label", k)
		}
	}
}

// TestPayAllocsObserved: the breaker and an observer add no allocation to
// the pay path (same budget as TestPayAllocs).
func TestPayAllocsObserved(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector allocates")
	}
	c := newClient(t, mpp.Config{BaseURL: "http://w", Dial: serve(t, fixed(`{"result":`+rS+`,`+paid+`}`))})
	c.SetObserver(nopObserver{})
	p := walletPay("p1", code(1, 0), 100)
	ctx := context.Background()
	for range 100 {
		if _, err := c.Pay(ctx, p); err != nil {
			t.Fatal(err)
		}
	}
	const budget = 2
	if n := testing.AllocsPerRun(500, func() { c.Pay(ctx, p) }); n > budget {
		t.Fatalf("Pay: %v allocs/op, budget %d", n, budget)
	}
}

type nopObserver struct{}

func (nopObserver) CallStarted(mpp.Op)                           {}
func (nopObserver) CallFinished(mpp.Op, time.Duration, mpp.Kind) {}

// ourGoroutines is the stacks of goroutines inside a Client call or a
// test wallet handler.
func ourGoroutines() string {
	buf := make([]byte, 1<<20)
	var out []string
	for _, g := range strings.Split(string(buf[:runtime.Stack(buf, true)]), "\n\n") {
		if strings.Contains(g, "engine/mpp.(*Client)") || strings.Contains(g, "mpp_test.(*flaky)") {
			out = append(out, g)
		}
	}
	return strings.Join(out, "\n\n")
}

// BenchmarkClientPayBreaker is BenchmarkClientPay's cost split: the
// connector with the breaker off, on (the default), and on with an
// observer, against an in-memory wallet answering at once.
func BenchmarkClientPayBreaker(b *testing.B) {
	for _, bc := range []struct {
		name     string
		breaker  mpp.BreakerConfig
		observer bool
	}{
		{"off", mpp.BreakerConfig{Disabled: true}, false},
		{"on", mpp.BreakerConfig{}, false},
		{"on+observer", mpp.BreakerConfig{}, true},
	} {
		b.Run(bc.name, func(b *testing.B) {
			c := newClient(b, mpp.Config{BaseURL: "http://w", Timeout: benchTimeout, Breaker: bc.breaker,
				Dial: serve(b, fixed(`{"result":`+rS+`,`+paid+`}`))})
			if bc.observer {
				c.SetObserver(nopObserver{})
			}
			p := walletPay("p1", code(1, 0), 100)
			ctx := context.Background()
			b.ReportAllocs()
			for b.Loop() {
				if _, err := c.Pay(ctx, p); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
