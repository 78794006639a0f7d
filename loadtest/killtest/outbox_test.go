package killtest

import (
	"bufio"
	"context"
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

var flagOutboxPays = flag.Int("killtest.outbox-pays", 300, "pays TestNotifyOutboxLeavesMemory sends; above 300 it also runs them without notify URLs and logs both processes' RSS")

// TestNotifyOutboxLeavesMemory runs paycode serve (a real process, over
// real HTTP) with many pays whose notify URL is a closed loopback port:
// the payments leave memory (paycode_engine_payments_resident back to
// the working set) while their notifications stay pending in the
// journal and are retried by due time. With -killtest.outbox-pays above
// its default it also runs the same pays without notify URLs and logs
// both processes' RSS.
func TestNotifyOutboxLeavesMemory(t *testing.T) {
	if testing.Short() {
		t.Skip("runs a real paycode process; skipped with -short")
	}
	pays := *flagOutboxPays
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Minute)
	defer cancel()
	r := startRig(ctx, t, 1)
	with := runOutboxServe(ctx, t, r, "notify", 0, pays, "http://"+freeAddr(t)+"/notify")
	if p := with["paycode_engine_notifications_pending"]; p != float64(pays) {
		t.Fatalf("notifications pending %v, want %d (all still in the journal)", p, pays)
	}
	if a := with["paycode_engine_notifications_abandoned_total"]; a != 0 {
		t.Fatalf("abandoned %v, want 0 before the schedule's end", a)
	}
	if pays > 300 {
		without := runOutboxServe(ctx, t, r, "plain", pays, pays, "") // fresh codes: the wallets saw the first ones
		t.Logf("RSS with unanswered notify URLs %.1f MiB, without %.1f MiB (ratio %.3f); resident %v and %v",
			with["process_resident_memory_bytes"]/(1<<20), without["process_resident_memory_bytes"]/(1<<20),
			with["process_resident_memory_bytes"]/without["process_resident_memory_bytes"],
			with["paycode_engine_payments_resident"], without["paycode_engine_payments_resident"])
	}
}

// runOutboxServe starts paycode serve on its own data directory, sends
// pays approved pays with codes numbered from first (notifyURL on each
// when not empty), waits for the
// working set to drain (and, with notifyURL, for three attempts each, by
// due time), and returns the final metrics.
func runOutboxServe(ctx context.Context, t *testing.T, r *rig, name string, first, pays int, notifyURL string) map[string]float64 {
	t.Helper()
	admin := freeAddr(t)
	times := engineTimes
	// Three quick attempts, then a long gap: the test sees retries by due
	// time, and the notifications still pending at its end.
	times.NotifySchedule = []time.Duration{0, time.Second, time.Second, time.Hour}
	cfgPath := filepath.Join(r.dir, name+".yaml")
	if err := os.WriteFile(cfgPath, []byte(ServeConfig(r.sim.Wallets, times)), 0o644); err != nil {
		t.Fatal(err)
	}
	srv, err := StartServe(r.bin, cfgPath, filepath.Join(r.dir, name+"-data"), filepath.Join(r.dir, name+".log"), "", "-admin", admin)
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Kill()
	if err := srv.WaitReady(60 * time.Second); err != nil {
		t.Fatal(err)
	}
	c := NewClient(srv.URL, 10*time.Second)
	defer c.Close()
	d := &Driver{Wallets: r.sim.Wallets, Seed: 1}
	start := time.Now()
	var next atomic.Int64
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for range 8 {
		wg.Go(func() {
			for {
				i := int(next.Add(1)) - 1
				if i >= pays || ctx.Err() != nil {
					return
				}
				code := fmt.Sprintf("%s02%014d%02d", d.Wallets[i%len(d.Wallets)].Prefix, first+i, i%80) // 00–79: approved at once
				body := PayBody(fmt.Sprintf("outbox-%07d", i), code, 100, notifyURL)
				a, err := c.Post(ctx, "pay", "OUTBOX_CLIENT", body)
				for shed := 0; err == nil && a != nil && a.Code == "REQUEST_TRAFFIC_EXCEED_LIMIT" && shed < 100; shed++ {
					// Shed by admission control (nothing recorded): send
					// it again, as a lane would, after a pause.
					<-time.After(20 * time.Millisecond)
					a, err = c.Post(ctx, "pay", "OUTBOX_CLIENT", body)
				}
				// PAYMENT_IN_PROCESS: the wallet was slower than the pay
				// timeout on a loaded machine; the follow-up finishes it.
				if err != nil || a == nil || (a.Code != "SUCCESS" && a.Code != "PAYMENT_IN_PROCESS") {
					errs <- fmt.Errorf("pay %d: %+v, %v", i, a, err)
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	sent := time.Since(start)
	metricsURL := "http://" + admin + "/metrics"
	want := 0.0
	if notifyURL != "" {
		want = 3 * float64(pays)
	}
	var m map[string]float64
	deadline := time.Now().Add(5 * time.Minute)
	tick := time.NewTicker(200 * time.Millisecond)
	defer tick.Stop()
	for ; ; <-tick.C {
		m = scrape(t, metricsURL)
		if m["paycode_engine_payments_resident"] <= 5 && m["paycode_engine_notification_attempts_total"] >= want {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: after %d pays: resident %v, pending %v, attempts %v; want resident back to the working set (≤ 5) and %v attempts (3 each, by due time)",
				name, pays, m["paycode_engine_payments_resident"], m["paycode_engine_notifications_pending"], m["paycode_engine_notification_attempts_total"], want)
		}
	}
	t.Logf("%s: %d pays in %s; resident %v, notifications pending %v, attempts %v, RSS %.1f MiB, Go heap in use %.1f MiB",
		name, pays, sent.Round(time.Millisecond), m["paycode_engine_payments_resident"], m["paycode_engine_notifications_pending"],
		m["paycode_engine_notification_attempts_total"], m["process_resident_memory_bytes"]/(1<<20), m["go_memstats_heap_inuse_bytes"]/(1<<20))
	return m
}

// freeAddr returns a loopback address nothing listens on (one just closed).
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	a := ln.Addr().String()
	ln.Close()
	return a
}

// scrape reads the unlabelled samples of a Prometheus text page.
func scrape(t *testing.T, url string) map[string]float64 {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	out := map[string]float64{}
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "#") {
			continue
		}
		name, val, ok := strings.Cut(line, " ")
		if !ok {
			continue
		}
		name = strings.TrimSuffix(name, "{}")
		if f, err := strconv.ParseFloat(strings.TrimSpace(val), 64); err == nil {
			out[name] = f
		}
	}
	return out
}
