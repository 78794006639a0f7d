package ident_test

import (
	"context"
	"errors"
	"net"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/valyala/fasthttp"

	"github.com/paycode/paycode/codec"
	"github.com/paycode/paycode/engine/ident"
)

// Codes used across the tests. Each is built from its parts so the reader
// sees why it routes where it does.
var (
	code281001   = mustCode("281001" + "02" + "0123456789012345") // mainstream, routing 001
	code281003   = mustCode("281003" + "02" + "0123456789012345")
	code281010   = mustCode("281010" + "89" + "7274821897274821") // the spec's CGCP example
	code281011   = mustCode("281011" + "02" + "0123456789012345")
	code281002   = mustCode("281002" + "02" + "0123456789012345") // routing 002: nobody's
	codeLegacy17 = mustCode("28" + "123456789012345")
	codeLegacy18 = mustCode("28" + "1234567890123456")
	codeLegacy19 = mustCode("2893612204263667830") // the spec's Alipay+ 19-digit example
	codeAlipayCN = mustCode("25024456785672301")   // 17 digits, 25: the AlipayCN/HK bucket
	codeWeChat   = mustCode("134567890123456789")
	codeLen20    = mustCode("28100102012345678901") // reserved length: unknown class
)

func mustCode(s string) codec.Code { return codec.MustParseCode(s) }

// manualClock is a clock tests move by hand.
type manualClock struct {
	base time.Time
	ns   atomic.Int64
}

func newManualClock() *manualClock {
	return &manualClock{base: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)}
}

func (c *manualClock) Now() time.Time          { return c.base.Add(time.Duration(c.ns.Load())) }
func (c *manualClock) Advance(d time.Duration) { c.ns.Add(int64(d)) }

// stubSource is an in-memory Source whose answers a test swaps, that
// counts its calls and can hold each call until the test releases it.
type stubSource struct {
	calls atomic.Int64
	table atomic.Pointer[ident.Table]
	err   atomic.Pointer[error]
	// hold, when set, is called inside every Identify after the answer is
	// decided: a test blocks there to keep a call in flight.
	hold func()
}

func newStub(t *ident.Table) *stubSource {
	s := &stubSource{}
	s.table.Store(t)
	return s
}

func (s *stubSource) Identify(_ context.Context, digits []byte, length int) (ident.Answer, error) {
	s.calls.Add(1)
	var (
		ans ident.Answer
		err error
	)
	if p := s.err.Load(); p != nil {
		err = *p
	} else {
		ans.Wallet, _ = s.table.Load().LookupDigits(digits, length)
	}
	if s.hold != nil {
		s.hold()
	}
	return ans, err
}

func (s *stubSource) fail(err error) { s.err.Store(&err) }
func (s *stubSource) heal()          { s.err.Store(nil) }

// gate holds calls: each entering call announces itself on entered and
// waits for one release.
type gate struct {
	entered chan struct{}
	release chan struct{}
}

func newGate() *gate {
	return &gate{entered: make(chan struct{}, 64), release: make(chan struct{}, 64)}
}

func (g *gate) hold() {
	g.entered <- struct{}{}
	<-g.release
}

// missTogether has n callers identify code281001 at once. It waits until
// every one is on the miss path, lets the one source call held at g
// through, and fails the test unless every caller gets mpp-281001. The
// caller then checks how many times the source was asked.
func missTogether(t *testing.T, id *ident.Identifier, g *gate, n int) {
	t.Helper()
	var missed sync.WaitGroup
	missed.Add(n)
	id.SetMissHook(missed.Done)

	results := make(chan error, n)
	for range n {
		go func() {
			w, err := id.Identify(ctx, &code281001)
			if err == nil && w != "mpp-281001" {
				err = errors.New("wrong wallet " + w)
			}
			results <- err
		}()
	}
	missed.Wait() // every caller is on the miss path
	<-g.entered
	g.release <- struct{}{}
	for range n {
		if err := <-results; err != nil {
			t.Error(err)
		}
	}
}

func mustTable(t testing.TB, rules ...ident.Rule) *ident.Table {
	t.Helper()
	tb, err := ident.NewTable(rules)
	if err != nil {
		t.Fatal(err)
	}
	return tb
}

// newIdentifier builds an Identifier over src with a manual clock and
// closes it at the end of the test.
func newIdentifier(t testing.TB, cfg ident.Config, src ident.Source) (*ident.Identifier, *manualClock) {
	t.Helper()
	clk := newManualClock()
	cfg.Clock = clk.Now
	if cfg.MaxEntries == 0 {
		cfg.MaxEntries = 1024 // the default sizes ristretto's sketch for 1M counters: heavy for a test
	}
	id, err := ident.NewWithSource(cfg, src)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { id.Close() })
	return id, clk
}

// hub is an identification service on a loopback listener, running the
// real handler, counting the requests it receives.
type hub struct {
	url      string
	requests atomic.Int64
	table    atomic.Pointer[ident.Table]
}

// startHub serves NewServiceHandler over tb. latency may be nil.
func startHub(t testing.TB, tb *ident.Table, latency func() time.Duration) *hub {
	t.Helper()
	h := &hub{}
	h.table.Store(tb)
	inner := ident.NewServiceHandler(h.table.Load, latency)
	h.url = serve(t, func(ctx *fasthttp.RequestCtx) {
		h.requests.Add(1)
		inner(ctx)
	})
	return h
}

// serve runs handler on 127.0.0.1:0 until the test ends and returns its URL.
func serve(t testing.TB, handler fasthttp.RequestHandler) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &fasthttp.Server{Handler: handler}
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		srv.Serve(ln)
	}()
	t.Cleanup(func() {
		srv.Shutdown()
		wg.Wait()
	})
	return "http://" + ln.Addr().String()
}

var longDigitRun = regexp.MustCompile(`[0-9]{9,}`)

// assertNoCode fails if err's text holds a run of more than 8 digits (a
// payment code or most of one) or the given code's digits.
func assertNoCode(t testing.TB, err error, codes ...codec.Code) {
	t.Helper()
	if err == nil {
		return
	}
	msg := err.Error()
	if m := longDigitRun.FindString(msg); m != "" {
		t.Errorf("error %q carries a digit run %q", msg, m)
	}
	for _, c := range codes {
		if strings.Contains(msg, c.Reveal()) {
			t.Errorf("error %q carries the code", msg)
		}
	}
}
