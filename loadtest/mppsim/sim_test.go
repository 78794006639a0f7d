package mppsim_test

import (
	"context"
	"errors"
	"fmt"
	"math"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/paycode/paycode/codec"
	"github.com/paycode/paycode/loadtest/mppsim"
	"github.com/valyala/fasthttp"
)

func TestConfigValidate(t *testing.T) {
	cases := []struct {
		name string
		cfg  mppsim.Config
		ok   bool
	}{
		{"one wallet", mppsim.Config{Wallets: []mppsim.WalletConfig{{Name: "A"}}}, true},
		{"typical latency", mppsim.Config{Wallets: []mppsim.WalletConfig{{Name: "A", Latency: mppsim.TypicalLatency()}}}, true},
		{"none", mppsim.Config{}, false},
		{"no name", mppsim.Config{Wallets: []mppsim.WalletConfig{{}}}, false},
		{"slash", mppsim.Config{Wallets: []mppsim.WalletConfig{{Name: "a/b"}}}, false},
		{"twice", mppsim.Config{Wallets: []mppsim.WalletConfig{{Name: "A"}, {Name: "A"}}}, false},
		{"p99 below median", mppsim.Config{Wallets: []mppsim.WalletConfig{{Name: "A", Latency: mppsim.Latency{Median: 10, P99: 5}}}}, false},
		{"min above median", mppsim.Config{Wallets: []mppsim.WalletConfig{{Name: "A", Latency: mppsim.Latency{Min: 20, Median: 10}}}}, false},
		{"max below median", mppsim.Config{Wallets: []mppsim.WalletConfig{{Name: "A", Latency: mppsim.Latency{Median: 10, Max: 5}}}}, false},
		{"negative hang", mppsim.Config{Wallets: []mppsim.WalletConfig{{Name: "A", HangFor: -1}}}, false},
	}
	for _, c := range cases {
		if err := c.cfg.WithDefaults().Validate(); (err == nil) != c.ok {
			t.Errorf("%s: Validate() = %v, want ok=%v", c.name, err, c.ok)
		}
	}
	s := mppsim.Config{Seed: 3, Wallets: []mppsim.WalletConfig{{Name: "A"}}}.WithDefaults().String()
	if !strings.Contains(s, "A latency=") || !strings.Contains(s, "password=2s") {
		t.Errorf("String() = %s", s)
	}
}

func TestLatencyDistribution(t *testing.T) {
	l := mppsim.Latency{Min: 5 * time.Millisecond, Median: 100 * time.Millisecond, P99: 800 * time.Millisecond, Max: 2 * time.Second}
	if got := l.At(0); got != l.Median {
		t.Errorf("At(0) = %v, want the median", got)
	}
	if got := l.At(2.3263478740408408); math.Abs(float64(got-l.P99)) > float64(time.Microsecond) {
		t.Errorf("At(z99) = %v, want the p99", got)
	}
	if l.At(-10) != l.Min || l.At(10) != l.Max {
		t.Errorf("clamps: At(-10) = %v, At(10) = %v", l.At(-10), l.At(10))
	}
	if (mppsim.Latency{}).At(1) != 0 || (mppsim.Latency{Median: 7, P99: 7}).At(3) != 7 {
		t.Error("zero latency or constant median misbehave")
	}
	// The draws of a wallet follow the fit: empirical median and p99
	// within 10% over 20000 seeded draws.
	w, err := mppsim.NewWallet(mppsim.WalletConfig{Name: "A", Latency: l}, mppsim.Config{Seed: 42})
	if err != nil {
		t.Fatal(err)
	}
	draws := make([]time.Duration, 20000)
	for i := range draws {
		draws[i] = w.Delay(mppsim.OpPay, fmt.Appendf(nil, "pay-%d", i))
	}
	slices.Sort(draws)
	med, p99 := draws[len(draws)/2], draws[len(draws)*99/100]
	if r := float64(med) / float64(l.Median); r < 0.9 || r > 1.1 {
		t.Errorf("empirical median %v, want ~%v", med, l.Median)
	}
	if r := float64(p99) / float64(l.P99); r < 0.9 || r > 1.1 {
		t.Errorf("empirical p99 %v, want ~%v", p99, l.P99)
	}
}

func TestDeterminism(t *testing.T) {
	mk := func(seed int64, name string) *mppsim.Wallet {
		w, err := mppsim.NewWallet(mppsim.WalletConfig{Name: name, Latency: mppsim.TypicalLatency()}, mppsim.Config{Seed: seed})
		if err != nil {
			t.Fatal(err)
		}
		return w
	}
	a, b, other, otherName := mk(7, "A"), mk(7, "A"), mk(8, "A"), mk(7, "B")
	same, diffSeed, diffName, diffOp := 0, 0, 0, 0
	for i := range 200 {
		id := fmt.Appendf(nil, "pay-%d", i)
		if a.Delay(mppsim.OpPay, id) == b.Delay(mppsim.OpPay, id) {
			same++
		}
		if a.Delay(mppsim.OpPay, id) != other.Delay(mppsim.OpPay, id) {
			diffSeed++
		}
		if a.Delay(mppsim.OpPay, id) != otherName.Delay(mppsim.OpPay, id) {
			diffName++
		}
		if a.Delay(mppsim.OpPay, id) != a.Delay(mppsim.OpInquiry, id) {
			diffOp++
		}
	}
	if same != 200 || diffSeed < 190 || diffName < 190 || diffOp < 190 {
		t.Fatalf("same seed equal %d/200; differing seed %d, name %d, op %d (want ~200)", same, diffSeed, diffName, diffOp)
	}
}

// TestLatencyApplied: the handler waits exactly Delay(op, id) through the
// injected Sleep, whatever the concurrency.
func TestLatencyApplied(t *testing.T) {
	var mu sync.Mutex
	var slept []time.Duration
	rec := func(_ context.Context, d time.Duration) {
		mu.Lock()
		slept = append(slept, d)
		mu.Unlock()
	}
	h := newHarness(t, mppsim.WalletConfig{Name: "A", Latency: mppsim.TypicalLatency()}, rec)
	var want []time.Duration
	var wg sync.WaitGroup
	for i := range 50 {
		id := fmt.Sprintf("pay-%d", i)
		want = append(want, h.w.Delay(mppsim.OpPay, []byte(id)), h.w.Delay(mppsim.OpInquiry, []byte(id)))
		wg.Go(func() {
			h.pay(id, code(i, 0), 10)
			h.inquire(id)
		})
	}
	wg.Wait()
	slices.Sort(want)
	slices.Sort(slept)
	if !slices.Equal(want, slept) {
		t.Fatalf("slept %v\nwant  %v", slept, want)
	}
}

// TestLostResponseHeld: the charge is booked before the hold, other
// requests go on during it, and the client gets no answer at the end.
func TestLostResponseHeld(t *testing.T) {
	held, release := make(chan struct{}), make(chan struct{})
	sleep := func(ctx context.Context, d time.Duration) {
		if d == time.Hour { // HangFor below; latency is zero
			close(held)
			<-release
		}
	}
	h := newHarness(t, mppsim.WalletConfig{Name: "A", HangFor: time.Hour}, sleep)
	type answer struct {
		status int
		err    error
	}
	done := make(chan answer, 1)
	go func() {
		st, _, err := h.post(codec.MPPPayPath, payBody("p1", code(1, 93), 100))
		done <- answer{st, err}
	}()
	<-held
	if got := h.inquire("p1").PaymentResult.Code; got != codec.Success {
		t.Fatalf("inquiry during the hold = %s, want SUCCESS", got)
	}
	select {
	case a := <-done:
		t.Fatalf("pay answered during the hold: %+v", a)
	default:
	}
	close(release)
	if a := <-done; a.err == nil {
		t.Fatalf("lost response reached the client: HTTP %d", a.status)
	}
	if e := h.entry("p1"); e.State != mppsim.StateSuccess || e.Charged != 100 {
		t.Fatalf("ledger = %+v", e)
	}
}

// TestSimOnLoopback: Start serves each wallet on its own port, Close
// releases a held request at once, and the ledger travels as JSON.
func TestSimOnLoopback(t *testing.T) {
	clk := newClock()
	holding := make(chan struct{}, 1)
	sleep := func(ctx context.Context, d time.Duration) {
		if d == mppsim.DefaultHangFor {
			holding <- struct{}{}
		}
		mppsim.SleepContext(ctx, d) // a real wait: only Close can end it
	}
	sim, err := mppsim.Start(mppsim.Config{Wallets: []mppsim.WalletConfig{{Name: "A"}, {Name: "B", Brand: "Bee"}}, Now: clk.Now, Sleep: sleep})
	if err != nil {
		t.Fatal(err)
	}
	closed := false
	t.Cleanup(func() {
		if !closed {
			sim.Close()
		}
	})
	if !slices.Equal(sim.Names(), []string{"A", "B"}) || sim.URL("A") == sim.URL("B") || sim.URL("C") != "" || sim.Wallet("C") != nil {
		t.Fatalf("names %v, URLs %q %q", sim.Names(), sim.URL("A"), sim.URL("B"))
	}
	post := func(name, path string, body []byte) (*fasthttp.Response, error) {
		req, resp := fasthttp.AcquireRequest(), fasthttp.AcquireResponse()
		defer fasthttp.ReleaseRequest(req)
		req.SetRequestURI(sim.URL(name) + path)
		req.Header.SetMethod(fasthttp.MethodPost)
		req.SetBody(body)
		return resp, fasthttp.DoTimeout(req, resp, 5*time.Second)
	}
	resp, err := post("B", codec.MPPPayPath, payBody("p1", code(1, 5), 100))
	if err != nil {
		t.Fatal(err)
	}
	var pr codec.MPPPayResponse
	if err := codec.ParseMPPPayResponse(resp.Body(), &pr); err != nil || string(pr.WalletBrandName) != "Bee" {
		t.Fatalf("pay on B: %s %v", resp.Body(), err)
	}
	fasthttp.ReleaseResponse(resp)
	if _, ok := sim.Ledger("A").Payments["p1"]; ok {
		t.Fatal("wallet A saw B's payment")
	}
	post("B", codec.MPPRefundPath, refundBody("p1", "r1", 30, hkd))
	post("B", codec.MPPCancelPath, codec.AppendMPPIDRequest(nil, &codec.MPPIDRequest{PaymentRequestID: []byte("ghost")}))
	post("B", codec.MPPPayPath, payBody("p2", code(2, 82), 100))

	got, err := mppsim.FetchLedger(sim.URL("B"), 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	want := sim.Ledger("B")
	for id, e := range want.Payments {
		e.Code = codec.Code{} // only the masked form travels
		want.Payments[id] = e
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("ledger over HTTP differs\n got %+v\nwant %+v", got, want)
	}
	if body := want.AppendJSON(nil); strings.Contains(string(body), code(1, 5)[6:20]) {
		t.Fatalf("ledger JSON leaks a code: %s", body)
	}
	if got.Payments["p1"].CodeMasked != codec.Mask(code(1, 5)) || got.Payments["p1"].Held() != 70 || !got.Payments["ghost"].Tombstone {
		t.Fatalf("ledger content: %+v", got.Payments)
	}

	errc := make(chan error, 1)
	go func() {
		_, err := post("A", codec.MPPPayPath, payBody("p3", code(3, 92), 100))
		errc <- err
	}()
	<-holding
	if err := sim.Close(); err != nil {
		t.Fatal(err)
	}
	closed = true
	if err := <-errc; err == nil {
		t.Fatal("a held pay was answered at Close")
	}
	if e := sim.Ledger("A").Payments["p3"]; e.State != mppsim.StateSuccess {
		t.Fatalf("ledger after close: %+v", e)
	}
}

func TestParseLedgerRejects(t *testing.T) {
	for _, body := range []string{`{`, `{"payments":[{"state":"MAYBE","amount":null,"result":"SUCCESS"}]}`, `{"payments":[{"state":"SUCCESS","amount":{"currency":"XXX","value":"1"},"result":"SUCCESS"}]}`} {
		if _, err := mppsim.ParseLedger([]byte(body)); !errors.Is(err, mppsim.ErrLedger) {
			t.Errorf("ParseLedger(%s) = %v, want ErrLedger", body, err)
		}
	}
}
