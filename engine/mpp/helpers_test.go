package mpp_test

import (
	"fmt"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/paycode/paycode/codec"
	"github.com/paycode/paycode/engine"
	"github.com/paycode/paycode/engine/mpp"
	"github.com/paycode/paycode/loadtest/mppsim"
	"github.com/valyala/fasthttp"
	"github.com/valyala/fasthttp/fasthttputil"
)

var hkd = codec.MustCurrency("HKD")

// clock is the simulator's injected clock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// startSim runs simulated wallets on loopback with an injected clock and
// real sleeping (latency is zero; only lost responses wait, until Close).
func startSim(t testing.TB, wallets ...mppsim.WalletConfig) (*mppsim.Sim, *clock) {
	t.Helper()
	clk := &clock{t: time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)}
	sim, err := mppsim.Start(mppsim.Config{Wallets: wallets, Seed: 1, Now: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := sim.Close(); err != nil {
			t.Error(err)
		}
	})
	return sim, clk
}

func newClient(t testing.TB, cfg mpp.Config) *mpp.Client {
	t.Helper()
	if cfg.Name == "" {
		cfg.Name = "A"
	}
	cfg.AcquirerID, cfg.PSPID = "ACQ-1", "PSP-"+cfg.Name
	c, err := mpp.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	return c
}

// serve runs handler on an in-memory listener and returns a Dial for
// Config.Dial.
func serve(t testing.TB, handler fasthttp.RequestHandler) func(string, time.Duration) (net.Conn, error) {
	t.Helper()
	ln := fasthttputil.NewInmemoryListener()
	srv := &fasthttp.Server{Handler: handler}
	done := make(chan struct{})
	go func() { _ = srv.Serve(ln); close(done) }()
	t.Cleanup(func() {
		_ = ln.Close()
		<-done
	})
	return func(string, time.Duration) (net.Conn, error) { return ln.Dial() }
}

// code makes a distinct 24-digit code number n ending in lastTwo.
func code(n, lastTwo int) codec.Code {
	return codec.MustParseCode(fmt.Sprintf("281001%016d%02d", n, lastTwo))
}

func walletPay(id string, c codec.Code, amount int64) *engine.WalletPay {
	return &engine.WalletPay{
		PaymentID: id, Code: c, Amount: codec.Amount{Value: amount, Currency: hkd},
		MerchantID: []byte("M-1"), StoreID: []byte("S-1"), TerminalID: []byte("T-1"), Description: []byte("coffee"),
		ExpiresAt: time.Date(2024, 5, 1, 12, 5, 0, 0, time.UTC),
	}
}
