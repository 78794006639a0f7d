package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/paycode/paycode/loadtest/killtest"
)

// shutdownPay is one pay a lane sent, and what it got.
type shutdownPay struct {
	reqID  string
	amount int64
	sent   time.Time
	done   time.Time
	answer *killtest.Answer // nil: no answer (refused, reset, cut off)
	broken error            // an answer that breaks the contract
}

// TestGracefulShutdown runs the real binary with the Pebble journal
// against `paycode sim` in another process, with 16 lanes paying, and
// sends SIGTERM mid-stream: /readyz turns "draining", every request
// paycode received gets a complete answer, the process exits 0, and after
// a restart on the same data every answered payment is there, final, and
// matches the wallets' ledgers.
func TestGracefulShutdown(t *testing.T) {
	const lanes = 16
	dir := t.TempDir()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	bin, err := killtest.BuildBinary(ctx, ".", dir)
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	sim, err := killtest.StartSim(bin, 1, filepath.Join(dir, "sim.log"))
	if err != nil {
		t.Fatal(err)
	}
	defer sim.Close()
	cfg := killtest.ServeConfig(sim.Wallets, killtest.EngineTimes{
		PayTimeout: 2 * time.Second, WalletCallTimeout: 5 * time.Second, FollowUpDeadline: 5 * time.Second,
		PollSchedule:   []time.Duration{200 * time.Millisecond, 500 * time.Millisecond, time.Second},
		NotifySchedule: []time.Duration{0, 200 * time.Millisecond},
	}) + "shutdown:\n  drainTimeout: 8s\n"
	cfgPath, data := filepath.Join(dir, "paycode.yaml"), filepath.Join(dir, "data")
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	logPath := filepath.Join(dir, "serve-1.log")
	srv, err := killtest.StartServe(bin, cfgPath, data, logPath, "", "-admin", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Kill()
	if err := srv.WaitReady(30 * time.Second); err != nil {
		t.Fatal(err)
	}
	admin := "http://" + logField(t, logPath, "admin listening", "addr")

	// The lanes: pays with the simulator's mix of outcomes (successes,
	// password waits, lost answers that hold a pay until payTimeout,
	// refusals), until the first request without an answer after SIGTERM.
	c := killtest.NewClient(srv.URL, 15*time.Second)
	defer c.Close()
	var (
		mu      sync.Mutex
		pays    []*shutdownPay
		termAt  atomic.Int64 // UnixNano of SIGTERM; 0 before
		wg      sync.WaitGroup
		seq     atomic.Int64
		stopAll = make(chan struct{})
	)
	for lane := range lanes {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(uint64(lane), uint64(time.Now().UnixNano())))
			for {
				select {
				case <-stopAll:
					return
				default:
				}
				w := sim.Wallets[rng.IntN(len(sim.Wallets))]
				n := seq.Add(1)
				p := &shutdownPay{reqID: fmt.Sprintf("shutdown-%d-%06d", lane, n), amount: 100 + rng.Int64N(9900), sent: time.Now()}
				code := fmt.Sprintf("%s02%014d%02d", w.Prefix, n, killtest.Last2(rng))
				p.answer, p.broken = c.Post(ctx, "pay", "SHUTDOWN_LANE", killtest.PayBody(p.reqID, code, p.amount, ""))
				p.done = time.Now()
				mu.Lock()
				pays = append(pays, p)
				mu.Unlock()
				if p.answer == nil && termAt.Load() != 0 {
					return // paycode is gone: this lane stops
				}
			}
		}()
	}

	// Mid-stream: SIGTERM, and /readyz must turn "draining" while pays
	// are in flight.
	deadline := time.Now().Add(10 * time.Second)
	for {
		mu.Lock()
		n := len(pays)
		mu.Unlock()
		if n >= 150 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("only %d pays answered in 10 s", n)
		}
		time.Sleep(20 * time.Millisecond)
	}
	termAt.Store(time.Now().UnixNano())
	go srv.Stop() // SIGTERM, SIGKILL after 10 s (drainTimeout is 8 s)
	sawDraining := false
	for !sawDraining {
		resp, err := http.Get(admin + "/readyz")
		if err != nil {
			break // the admin listener closed: the drain ended
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		sawDraining = resp.StatusCode == http.StatusServiceUnavailable && string(body) == "draining\n"
	}
	select {
	case <-srv.Done():
	case <-time.After(15 * time.Second):
		t.Fatal("paycode did not exit within 15 s of SIGTERM")
	}
	drained := time.Since(time.Unix(0, termAt.Load()))
	close(stopAll)
	wg.Wait()
	if ex := srv.Exit(); ex.Code != 0 || ex.ByHarness {
		t.Fatalf("exit after SIGTERM: %+v, want status 0; %s", ex, srv.ExitString())
	}
	if !sawDraining {
		t.Error(`/readyz never answered 503 "draining" during the drain`)
	}
	logField(t, logPath, "stopped", "drained_in")

	// Restart on the same data: every answered payment is there; a
	// request without an answer never reached paycode.
	srv2, err := killtest.StartServe(bin, cfgPath, data, filepath.Join(dir, "serve-2.log"), "", "-admin", "")
	if err != nil {
		t.Fatal(err)
	}
	defer srv2.Stop()
	if err := srv2.WaitReady(30 * time.Second); err != nil {
		t.Fatal(err)
	}
	c2 := killtest.NewClient(srv2.URL, 10*time.Second)
	defer c2.Close()
	term := time.Unix(0, termAt.Load())
	var answered, unanswered, inFlightAtTerm int
	byPID := map[string]*shutdownPay{}
	for _, p := range pays {
		if p.broken != nil {
			t.Errorf("%s: incomplete answer: %v", p.reqID, p.broken)
			continue
		}
		a, err := c2.Post(ctx, "inquiryPayment", "SHUTDOWN_LANE", fmt.Sprintf(`{"paymentRequestId":%q}`, p.reqID))
		if err != nil || a == nil {
			t.Fatalf("inquiry of %s after restart: %v %v", p.reqID, a, err)
		}
		found := a.Code == "SUCCESS"
		switch {
		case p.answer == nil:
			unanswered++
			if found {
				t.Errorf("%s: paycode received it (payment %s, %s) but the lane got no answer", p.reqID, a.PaymentID, a.PaymentStatus)
			}
		case p.answer.PaymentID != "":
			answered++
			if p.sent.Before(term) && p.done.After(term) {
				inFlightAtTerm++
			}
			if !found || a.PaymentID != p.answer.PaymentID {
				t.Errorf("%s: answered %s/%s as payment %s, after restart: %s %s", p.reqID, p.answer.Status, p.answer.Code, p.answer.PaymentID, a.Code, a.PaymentID)
				continue
			}
			byPID[a.PaymentID] = p
		default:
			answered++
		}
	}
	if answered < 100 || inFlightAtTerm == 0 {
		t.Errorf("%d pays answered, %d of them in flight at SIGTERM: the drain was not exercised", answered, inFlightAtTerm)
	}

	// Every payment reaches a final state, and the ledgers agree: each
	// charge is a SUCCESS of its amount, each SUCCESS is charged.
	status := map[string]string{}
	final := func(s string) bool { return s == "SUCCESS" || s == "FAIL" || s == "CANCELLED" }
	deadline = time.Now().Add(20 * time.Second)
	for pid, p := range byPID {
		for {
			a, err := c2.Post(ctx, "inquiryPayment", "SHUTDOWN_LANE", fmt.Sprintf(`{"paymentId":%q}`, pid))
			if err != nil || a == nil {
				t.Fatalf("inquiry of %s: %v", pid, err)
			}
			if final(a.PaymentStatus) {
				status[pid] = a.PaymentStatus
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s: payment %s still %s 20 s after the restart", p.reqID, pid, a.PaymentStatus)
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
	ledgers, err := killtest.FetchLedgers(sim.Wallets)
	if err != nil {
		t.Fatal(err)
	}
	charged := map[string]int64{}
	for _, l := range ledgers {
		for pid, e := range l.Payments {
			if e.Held() == 0 {
				continue
			}
			charged[pid] = e.Held()
			p := byPID[pid]
			switch {
			case p == nil:
				t.Errorf("wallet %s holds %d for payment %s that no answered request names", l.Wallet, e.Held(), pid)
			case status[pid] != "SUCCESS" || e.Held() != p.amount:
				t.Errorf("%s: wallet %s holds %d for %s, paycode says %s for %d", p.reqID, l.Wallet, e.Held(), pid, status[pid], p.amount)
			}
		}
	}
	successes := 0
	for pid, s := range status {
		if s == "SUCCESS" {
			successes++
			if charged[pid] == 0 {
				t.Errorf("%s: payment %s is SUCCESS in paycode, no wallet charged it", byPID[pid].reqID, pid)
			}
		}
	}
	t.Logf("%d lanes: %d pays answered (%d in flight at SIGTERM, answered during the drain), %d without an answer (never reached paycode); drain and exit %s; %d successes match the ledgers; %s in all",
		lanes, answered, inFlightAtTerm, unanswered, drained.Round(time.Millisecond), successes, time.Since(start).Round(100*time.Millisecond))
}

// logField polls a JSON log file for the first line with msg and returns
// its field key.
func logField(t *testing.T, path, msg, key string) string {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		f, err := os.Open(path)
		if err != nil {
			t.Fatal(err)
		}
		sc := bufio.NewScanner(f)
		sc.Buffer(nil, 1<<20)
		for sc.Scan() {
			var m map[string]any
			if json.Unmarshal(sc.Bytes(), &m) == nil && m["msg"] == msg {
				f.Close()
				return fmt.Sprint(m[key])
			}
		}
		f.Close()
		if time.Now().After(deadline) {
			b, _ := os.ReadFile(path)
			t.Fatalf("no %q line in %s:\n%s", msg, path, strings.TrimSpace(string(b)))
		}
		time.Sleep(20 * time.Millisecond)
	}
}
