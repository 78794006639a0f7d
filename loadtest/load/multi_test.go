package load_test

import (
	"context"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/paycode/paycode/engine/server"
	"github.com/paycode/paycode/loadtest/load"
	"github.com/paycode/paycode/loadtest/stack"
)

// quietStack is fastStack logging nothing, with a pay timeout far above
// any pay's time on a loaded -race machine: these tests check which
// payments each run owns, not time, and a pay that times out before it
// finds a wallet connection is failed unsent (in no ledger).
func quietStack() stack.Config {
	c := fastStack()
	c.Node.Logger = slog.New(slog.DiscardHandler)
	c.Node.Engine.PayTimeout = 3 * time.Second
	return c
}

// heldScenario is a short run whose every pay holds money at the wallet
// at the end (successes, no cancels or refunds), so a check that counted
// another run's entries would call them orphans.
func heldScenario(t *testing.T, seed int) *load.Scenario {
	t.Helper()
	sc, err := load.ParseScenario([]byte("name: held\nstages: [{duration: 1s, rate: 100}]\noutcomes: {success: 1}\ndrain: 10s\n"))
	if err != nil {
		t.Fatal(err)
	}
	sc.Seed = uint64(seed)
	return sc
}

// TestBackToBackRuns: two runs one after the other (and with the same
// seed) against the same paycode and wallets each check only their own
// payments: no orphan charges, no collision of request ids or codes.
func TestBackToBackRuns(t *testing.T) {
	st, err := stack.Start(quietStack())
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	var prefixes []string
	for i := range 2 {
		o := load.Options{Scenario: heldScenario(t, 3), BaseURL: st.URL(), Ledgers: load.SimLedgers(st.Sim), MinAchieved: -1}
		s, err := load.Run(context.Background(), o)
		if err != nil {
			t.Fatal(err)
		}
		c := s.Check
		if !s.Passed || c == nil || c.Orphans != 0 || c.Success < 90 || c.Ledger != c.Found {
			var b strings.Builder
			s.WriteText(&b)
			t.Fatalf("run %d: %v\n%s", i+1, s.Failures, b.String())
		}
		prefixes = append(prefixes, s.Run)
	}
	if prefixes[0] == prefixes[1] || !strings.HasPrefix(prefixes[0], "LT") {
		t.Fatalf("run prefixes %q: want two different random ones", prefixes)
	}
	n := 0
	for _, name := range st.Sim.Names() {
		n += len(st.Sim.Ledger(name).Payments)
	}
	if n < 180 {
		t.Fatalf("the wallets hold %d payments, want both runs' (≥180)", n)
	}
}

// TestConcurrentRuns: two runs started at the same instant against the
// same paycode (as two load generators on one store would be) both pass.
func TestConcurrentRuns(t *testing.T) {
	st, err := stack.Start(quietStack())
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	errs := make(chan string, 2)
	for range 2 {
		go func() {
			s, err := load.Run(context.Background(), load.Options{Scenario: heldScenario(t, 9), BaseURL: st.URL(), Ledgers: load.SimLedgers(st.Sim), MinAchieved: -1})
			switch {
			case err != nil:
				errs <- err.Error()
			case !s.Passed:
				errs <- strings.Join(s.Failures, "; ")
			default:
				errs <- ""
			}
		}()
	}
	for range 2 {
		if e := <-errs; e != "" {
			t.Error(e)
		}
	}
}

// TestMultiTarget: lanes spread over two paycodes (separate engines and
// journals) sharing the same wallets; one check over both reads each
// payment back from the paycode its lane used, and the ledgers agree.
func TestMultiTarget(t *testing.T) {
	a, err := stack.Start(quietStack())
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	cfgB := quietStack()
	cfgB.Node.Engine.Node = 2 // two paycodes on the same wallets are two nodes: their payment ids must differ
	for _, n := range a.Sim.Names() {
		cfgB.Node.Wallets = append(cfgB.Node.Wallets, server.WalletConfig{Name: n, URL: a.Sim.URL(n)})
	}
	b, err := stack.Start(cfgB)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	sc, err := load.ParseScenario([]byte("name: two\nlanes: 10\nstages: [{duration: 1s, rate: 100}]\noutcomes: {success: 90, password: 5, balance: 5}\nfollowUp: {poll: 1, pollEvery: 300ms, cancel: 0.05, refund: 0.05}\ndrain: 10s\n"))
	if err != nil {
		t.Fatal(err)
	}
	s, err := load.Run(context.Background(), load.Options{Scenario: sc, Targets: []string{a.URL(), b.URL()}, Ledgers: load.SimLedgers(a.Sim), MinAchieved: -1})
	if err != nil {
		t.Fatal(err)
	}
	var text strings.Builder
	s.WriteText(&text)
	if !s.Passed || s.Check == nil || s.Check.Found < 80 {
		t.Fatalf("%v\n%s", s.Failures, text.String())
	}
	pa, pb := a.Engine.Stats().Pays.Load(), b.Engine.Stats().Pays.Load()
	if pa < 30 || pb < 30 {
		t.Fatalf("pays per target: %d and %d, want both used", pa, pb)
	}
	if !strings.Contains(s.Target, a.URL()) || !strings.Contains(s.Target, b.URL()) {
		t.Errorf("summary target %q", s.Target)
	}
}
