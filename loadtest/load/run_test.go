package load_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"

	"github.com/paycode/paycode/engine"
	"github.com/paycode/paycode/engine/httpapi"
	"github.com/paycode/paycode/engine/server"
	"github.com/paycode/paycode/loadtest/load"
	"github.com/paycode/paycode/loadtest/mppsim"
	"github.com/paycode/paycode/loadtest/stack"
)

// fastStack is the embedded stack with instant wallets and short
// business delays, so follow-ups settle within a second.
func fastStack() stack.Config {
	wallets := stack.DefaultSimWallets()
	for i := range wallets {
		wallets[i].Latency = mppsim.Latency{}
		wallets[i].PasswordDelay = 200 * time.Millisecond
		wallets[i].HangFor = time.Second
	}
	return stack.Config{
		Sim: mppsim.Config{Wallets: wallets, Seed: 1},
		Node: server.Config{Engine: engine.Config{PayTimeout: 300 * time.Millisecond, PollSchedule: []time.Duration{100 * time.Millisecond}},
			// These tests are about the load tool: admission by delay off,
			// so a busy -race machine does not shed their pays (the
			// admission tests are engine/httpapi's).
			Security: &httpapi.Security{Default: &httpapi.Client{Policy: httpapi.PolicyNone}, PayDelayTarget: -time.Millisecond}},
	}
}

// TestRunEmbedded: a short run (2 s at 200 req/s) of every kind of
// traffic against the embedded paycode passes, the check sees every
// payment, and the outputs are there and readable.
func TestRunEmbedded(t *testing.T) {
	sc, err := load.ParseScenario([]byte(`
name: e2e
seed: 5
stages: [{duration: 2s, rate: 200}]
outcomes: {success: 85, password: 4, password_fail: 2, balance: 2, lost_response: 2, system_error: 2, risk: 3}
invalid: 0.03
image: 0.02
followUp: {poll: 1, pollEvery: 400ms, polls: 2, cancel: 0.03, refund: 0.03, replay: 0.03}
drain: 15s
budgets: [pay.success>=99%, all.errors<=0%]
`))
	if err != nil {
		t.Fatal(err)
	}
	out := t.TempDir()
	var live strings.Builder
	o := load.Options{Scenario: sc, OutDir: out, Live: &live, MinAchieved: -1}
	// Time is not what this test checks: a pay timeout far above any
	// pay's time on a loaded -race machine, so the pays answered U are
	// those the wallet keeps (password, lost response: held longer
	// still), and every pay reaches its wallet (a pay that finds no
	// connection within the timeout is failed unsent, in no ledger, and
	// the check's Ledger would fall short of Found).
	cfg := fastStack()
	cfg.Node.Engine.PayTimeout = 3 * time.Second
	for i := range cfg.Sim.Wallets {
		cfg.Sim.Wallets[i].HangFor = 5 * time.Second
	}
	st, err := load.Embed(&o, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	began := time.Now()
	s, err := load.Run(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("attack %.2fs + wait %.2fs, run with check %v", s.Duration, s.Wait, time.Since(began))
	var text strings.Builder
	s.WriteText(&text)
	if !s.Passed {
		t.Fatalf("run failed: %v\n%s", s.Failures, text.String())
	}
	if s.Achieved.Requests != 400 || s.Requested.Rate != 200 {
		t.Fatalf("requested %+v achieved %+v", s.Requested, s.Achieved)
	}
	c := s.Check
	if c == nil || !c.OK() || c.Payments < 300 || c.Found < 280 || c.Success == 0 || c.Failed == 0 || c.Ledger != c.Found {
		t.Fatalf("check: %v", c)
	}
	for _, sel := range []string{"all", "pay", "invalid", "image", "inquiry", "pay/SUCCESS", "pay/PAYMENT_IN_PROCESS", "pay/success", "invalid/INVALID_PAYMENT_CODE"} {
		r, ok := s.Row(sel)
		if !ok || r.Requests == 0 || r.Latency.P50 <= 0 || r.Latency.Max < r.Latency.P99 || r.Engine.P50 <= 0 {
			t.Errorf("row %s: %+v (found %v)", sel, r, ok)
		}
	}
	if pay, _ := s.Row("pay"); pay.Success < 0.99 {
		t.Errorf("pay success %v", pay.Success)
	}
	if s.CPU.ProcessSecs <= 0 || s.CPU.PerRequestUS <= 0 || !strings.Contains(s.CPU.Scope, "embedded") {
		t.Errorf("cpu %+v", s.CPU)
	}
	if len(s.Budgets) != 2 || !s.Budgets[0].OK {
		t.Errorf("budgets %+v", s.Budgets)
	}
	for _, want := range []string{"by kind", "pays by test code", "correctness: OK", "pay/lost_response", "budgets:"} {
		if !strings.Contains(text.String(), want) {
			t.Errorf("report lacks %q:\n%s", want, text.String())
		}
	}
	if !strings.Contains(live.String(), "p99") {
		t.Errorf("no live line: %q", live.String())
	}
	// vegeta's own decoder reads the results file.
	f, err := os.Open(filepath.Join(out, load.ResultsFile))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	dec := vegeta.NewDecoder(f)
	n := 0
	for {
		var r vegeta.Result
		if err := dec.Decode(&r); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			t.Fatal(err)
		}
		n++
	}
	if uint64(n) != s.Achieved.Requests {
		t.Errorf("results file holds %d results, %d sent", n, s.Achieved.Requests)
	}
	var js load.Summary
	b, _ := os.ReadFile(filepath.Join(out, load.SummaryFile))
	if err := json.Unmarshal(b, &js); err != nil || js.Check == nil || !js.Passed || len(js.Kinds) == 0 {
		t.Errorf("summary.json: %v %+v", err, js)
	}
	// The results file alone rebuilds the same rows (paycode report).
	again, _, _, err := load.ReadRun(out, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, sel := range []string{"all", "pay", "invalid", "pay/SUCCESS", "pay/lost_response", "replay"} {
		a, _ := s.Row(sel)
		b, ok := again.Row(sel)
		if !ok || a.Requests != b.Requests || a.OK != b.OK || a.Latency.P99 != b.Latency.P99 || a.Engine.P50 != b.Engine.P50 {
			t.Errorf("row %s re-read: %+v, ran: %+v", sel, b, a)
		}
	}
	if !again.Passed || len(again.Budgets) != 2 || again.Check == nil || again.Run != s.Run {
		t.Errorf("re-read summary: passed %v budgets %+v", again.Passed, again.Budgets)
	}
	h, _ := os.ReadFile(filepath.Join(out, load.ReportFile))
	for _, want := range []string{"uPlot", "latency by percentile", "<svg", "correctness: OK"} {
		if !strings.Contains(string(h), want) {
			t.Errorf("report.html lacks %q", want)
		}
	}
}

// TestAchievedRateGate: a generator held to one worker against a slow
// server cannot keep 200 req/s; the run fails and says why.
func TestAchievedRateGate(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		time.Sleep(20 * time.Millisecond)
		io.WriteString(w, `{"result":{"resultCode":"SUCCESS","resultStatus":"S"}}`)
	}))
	defer srv.Close()
	sc, err := load.ParseScenario([]byte("stages: [{duration: 1s, rate: 200}]\nlimits: {workers: 1, maxWorkers: 1}\noutcomes: {success: 1}\n"))
	if err != nil {
		t.Fatal(err)
	}
	s, err := load.Run(context.Background(), load.Options{Scenario: sc, BaseURL: srv.URL, NoCheck: true})
	if err != nil {
		t.Fatal(err)
	}
	if s.Passed || s.Achieved.Ratio >= load.MinAchievedRatio || len(s.Failures) != 1 || !strings.Contains(s.Failures[0], "achieved rate") {
		t.Fatalf("passed %v ratio %.3f failures %q", s.Passed, s.Achieved.Ratio, s.Failures)
	}
	// No ledgers and no NoCheck: refused before any load.
	if _, err := load.Run(context.Background(), load.Options{Scenario: sc, BaseURL: srv.URL}); err == nil {
		t.Fatal("a run without ledgers must ask for -no-check")
	}
}

// TestRunDiscard: a run that discards its results still keeps the
// schedule and counts every request (the generator's floor), and has no
// rows, results, check or budgets.
func TestRunDiscard(t *testing.T) {
	var got atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got.Add(1)
		io.WriteString(w, `{"result":{"resultCode":"SUCCESS","resultStatus":"S"}}`)
	}))
	defer srv.Close()
	sc, err := load.ParseScenario([]byte("stages: [{duration: 500ms, rate: 200}]\noutcomes: {success: 1}\nbudgets: [pay.p99<=1ns]\n"))
	if err != nil {
		t.Fatal(err)
	}
	out := t.TempDir()
	s, err := load.Run(context.Background(), load.Options{Scenario: sc, BaseURL: srv.URL, Discard: true, OutDir: out, MinAchieved: -1})
	if err != nil {
		t.Fatal(err)
	}
	if !s.Passed || !s.Discarded || s.Achieved.Requests != 100 || got.Load() != 100 || s.Check != nil || len(s.Budgets) != 0 || len(s.Kinds) != 1 || s.Kinds[0].Requests != 0 {
		t.Fatalf("passed %v discarded %v achieved %d served %d check %v budgets %v kinds %v", s.Passed, s.Discarded, s.Achieved.Requests, got.Load(), s.Check, s.Budgets, s.Kinds)
	}
	if s.CPU.PerRequestUS <= 0 || s.CPU.SystemPerRequestUS < 0 || s.CPU.SystemPerRequestUS > s.CPU.PerRequestUS {
		t.Fatalf("cpu %+v", s.CPU)
	}
	if _, err := load.Run(context.Background(), load.Options{Scenario: sc, BaseURL: srv.URL, Discard: true, Vegeta: true}); err == nil {
		t.Fatal("Discard with vegeta's Attacker must be refused")
	}
}
