package killtest

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// TestTwoNodesDatabaseRestart stops the nodes' PostgreSQL under load
// (fast shutdown: every session cut, connections refused) and starts it
// again: neither node may exit; both turn /readyz 503 while it is down
// and refuse new pays without recording them; both resume by themselves
// once it is back; and the ledger check passes.
func TestTwoNodesDatabaseRestart(t *testing.T) {
	if testing.Short() {
		t.Skip("database-restart test: real processes for ~30 s; skipped with -short")
	}
	pg := startPrivatePG(t)
	seed := testSeed()
	t.Logf("database-restart test: seed %d (replay: -run TestTwoNodesDatabaseRestart -killtest.seed=%d)", seed, seed)
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	r := startRig(ctx, t, seed)
	n1, admin1 := startNode(t, r, pg.DSN(), 1, "node1")
	n2, admin2 := startNode(t, r, pg.DSN(), 2, "node2")
	nodes, admins := []*Serve{n1, n2}, []string{admin1, admin2}
	c1, c2 := NewClient(n1.URL, 8*time.Second), NewClient(n2.URL, 8*time.Second)
	defer c1.Close()
	defer c2.Close()
	d := &Driver{M: NewModel(), Wallets: r.sim.Wallets, NotifyURL: r.merchant.URL(),
		Clients: []string{"DB_CLIENT_A", "DB_CLIENT_B"}, Seed: uint64(seed)}
	checkAlive := func(when string) {
		t.Helper()
		for i, n := range nodes {
			if err := alive(n, fmt.Sprintf("node %d", i+1)); err != nil {
				t.Fatalf("%s: %v", when, err)
			}
		}
	}

	lctx, stop := context.WithCancel(ctx)
	var lanes sync.WaitGroup
	lanes.Add(2)
	go func() { defer lanes.Done(); d.Lanes(lctx, c1, 1, 6) }()
	go func() { defer lanes.Done(); d.Lanes(lctx, c2, 2, 6) }()
	time.Sleep(3 * time.Second) // load before the fault (the lanes run meanwhile)
	checkAlive("before the restart")
	okBefore := d.Answers("SUCCESS")

	const outage = 8 * time.Second
	stopAt := time.Now()
	pg.Stop()
	stopped := time.Since(stopAt)
	var unready [2]time.Duration
	for i, a := range admins {
		at, err := waitReadyz(a, 503, 10*time.Second)
		if err != nil {
			if aerr := alive(nodes[i], fmt.Sprintf("node %d", i+1)); aerr != nil {
				t.Fatalf("the database stopped: %v", aerr)
			}
			t.Fatalf("node %d while the database is down: %v", i+1, err)
		}
		unready[i] = at.Sub(stopAt)
	}
	refusedAtStop := d.Answers("REQUEST_TRAFFIC_EXCEED_LIMIT")
	time.Sleep(time.Until(stopAt.Add(outage))) // the outage under load
	checkAlive("during the outage")
	if code, body := readyz(admin1); code != 503 || !strings.Contains(body, "journal unavailable") {
		t.Errorf("node 1 /readyz during the outage: %d %q, want 503 naming the journal", code, body)
	}
	refused := d.Answers("REQUEST_TRAFFIC_EXCEED_LIMIT")
	if refused == 0 {
		t.Errorf("no pay was refused REQUEST_TRAFFIC_EXCEED_LIMIT while the database was down")
	}

	var firstOK atomic.Int64
	d.OnSuccess(func() { firstOK.CompareAndSwap(0, time.Now().UnixNano()) })
	startAt := time.Now()
	pg.Start()
	var ready [2]time.Duration
	for i, a := range admins {
		at, err := waitReadyz(a, 200, 30*time.Second)
		if err != nil {
			t.Fatalf("node %d after the database came back: %v (log %s)", i+1, err, nodes[i].LogPath)
		}
		ready[i] = at.Sub(startAt)
	}
	deadline := time.Now().Add(20 * time.Second)
	for firstOK.Load() == 0 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond) // polling an observable condition
	}
	if firstOK.Load() == 0 {
		t.Fatal("no pay succeeded within 20 s of the database's return")
	}
	resumed := time.Unix(0, firstOK.Load()).Sub(startAt)
	time.Sleep(3 * time.Second) // load after the fault
	d.OnSuccess(nil)
	stop()
	lanes.Wait()
	checkAlive("after the restart")

	d.ReplayUnanswered(ctx, c1, 5)
	bound := engineTimes.FollowUpDeadline + 2*engineTimes.WalletCallTimeout + clusterLease + 8*time.Second
	views, refundViews, took := d.WaitFinal(ctx, c1, bound)
	rep, _ := r.check(ctx, t, d, c1, views, refundViews)
	for i, n := range nodes {
		if c := countLines(t, n.LogPath, "journal answers again"); c == 0 {
			t.Errorf("node %d did not log its return (log %s)", i+1, n.LogPath)
		}
		n.Stop()
		if ex := n.Exit(); ex.Code != 0 {
			t.Errorf("node %d did not shut down cleanly: %s", i+1, n.ExitString())
		}
	}
	t.Logf("timeline: database stopped in %s (pg_ctl -m fast); /readyz 503 after %s and %s; pays refused REQUEST_TRAFFIC_EXCEED_LIMIT: %d by then, %d by the end of the %s outage; started again: /readyz 200 after %s and %s, first pay SUCCESS %s after the start",
		stopped.Round(time.Millisecond), unready[0].Round(time.Millisecond), unready[1].Round(time.Millisecond),
		refusedAtStop, refused, outage, ready[0].Round(time.Millisecond), ready[1].Round(time.Millisecond), resumed.Round(time.Millisecond))
	t.Logf("%d requests sent (%d unanswered), %d answered SUCCESS before the stop; all final %s after the lanes stopped",
		d.Sent.Load(), d.Unknown.Load(), okBefore, took.Round(time.Millisecond))
	reportCluster(t, seed, "2 nodes, 1 database restart", rep)
}

// TestDatabaseHang puts a proxy that stops forwarding (a hung database:
// nothing refused, nothing answered) between a node and PostgreSQL:
// pays must still be answered within the pay timeout, /readyz must turn
// 503 during the stall and 200 after it, and the ledger check passes.
func TestDatabaseHang(t *testing.T) {
	if testing.Short() {
		t.Skip("database-hang test: real processes for ~20 s; skipped with -short")
	}
	dsn := pgSchemaDSN(t)
	seed := testSeed()
	t.Logf("database-hang test: seed %d (replay: -run TestDatabaseHang -killtest.seed=%d)", seed, seed)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	r := startRig(ctx, t, seed)
	proxy := startStallProxy(t, hostPortOf(t, dsn))
	n, admin := startNode(t, r, withHost(t, dsn, proxy.Addr()), 1, "node1")
	c := NewClient(n.URL, 30*time.Second)
	defer c.Close()
	d := &Driver{M: NewModel(), Wallets: r.sim.Wallets, NotifyURL: r.merchant.URL(),
		Clients: []string{"HANG_CLIENT"}, Seed: uint64(seed)}

	lctx, stop := context.WithCancel(ctx)
	var lanes sync.WaitGroup
	lanes.Add(1)
	go func() { defer lanes.Done(); d.Lanes(lctx, c, 1, 4) }()
	time.Sleep(2 * time.Second) // load before the fault

	const stall = 6 * time.Second
	stallAt := time.Now()
	proxy.Stall()
	// Pays sent into the stall, each timed: with the database hung they
	// can only be refused or left unknown, but within the pay timeout.
	var wg sync.WaitGroup
	var mu sync.Mutex
	var slowest time.Duration
	codes := map[string]int{}
	for i := range 12 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			time.Sleep(time.Duration(i) * stall / 16) // spread over the stall
			last2 := 0
			p := &PayReq{ReqID: fmt.Sprintf("hang%d-%d", seed%100000, i), Client: d.Clients[0],
				Code: d.newCode(randFor(seed, i), last2), Last2: last2, Amount: 100 + int64(i)}
			d.M.AddPay(p)
			start := time.Now()
			a := d.post(ctx, c, "pay", p.Client, PayBody(p.ReqID, p.Code, p.Amount, ""))
			took := time.Since(start)
			d.M.RecordPay(p, a)
			mu.Lock()
			slowest = max(slowest, took)
			if a == nil {
				codes["(no answer)"]++
			} else {
				codes[a.Code]++
			}
			mu.Unlock()
		}()
	}
	at, err := waitReadyz(admin, 503, stall)
	if err != nil {
		t.Errorf("during the stall: %v", err)
	}
	wg.Wait()
	time.Sleep(time.Until(stallAt.Add(stall)))
	if err := alive(n, "node 1"); err != nil {
		t.Fatal(err)
	}
	resumeAt := time.Now()
	proxy.Resume()
	back, err := waitReadyz(admin, 200, 30*time.Second)
	if err != nil {
		t.Fatalf("after the stall: %v (log %s)", err, n.LogPath)
	}
	time.Sleep(2 * time.Second) // load after the fault
	stop()
	lanes.Wait()
	limit := engineTimes.PayTimeout
	if slowest > limit {
		t.Errorf("a pay sent into the stall took %s, more than the pay timeout %s (answers %v)", slowest.Round(time.Millisecond), limit, codes)
	}
	d.ReplayUnanswered(ctx, c, 5)
	views, refundViews, _ := d.WaitFinal(ctx, c, engineTimes.FollowUpDeadline+2*engineTimes.WalletCallTimeout+8*time.Second)
	rep, _ := r.check(ctx, t, d, c, views, refundViews)
	n.Stop()
	t.Logf("stall of %s: /readyz 503 after %s, 200 again %s after the resume; pays sent into it answered within %s (pay timeout %s): %v",
		stall, at.Sub(stallAt).Round(time.Millisecond), back.Sub(resumeAt).Round(time.Millisecond), slowest.Round(time.Millisecond), limit, codes)
	reportCluster(t, seed, "1 node, 1 database stall", rep)
}

// TestNodeNumberTaken starts two processes with the same node number on
// one database: the second must refuse to start, naming the first; once
// the first stops, the number is free at once.
func TestNodeNumberTaken(t *testing.T) {
	if testing.Short() {
		t.Skip("node-number test: real processes; skipped with -short")
	}
	dsn := pgSchemaDSN(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	r := startRig(ctx, t, testSeed())
	first, _ := startNode(t, r, dsn, 7, "first")
	second, err := StartServe(r.bin, writeNodeConfig(t, r, dsn, 7, "second"), r.dir+"/data-second", r.dir+"/second.log", "")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(second.Kill)
	ready := make(chan error, 1)
	go func() { ready <- second.WaitReady(30 * time.Second) }()
	if err := <-ready; err == nil {
		t.Fatalf("a second process with node 7 started while the first (pid %d) runs", first.cmd.Process.Pid)
	}
	if ex := second.Exit(); ex.Code == 0 || ex.Code == -1 {
		t.Errorf("second process: %s, want a non-zero exit", second.ExitString())
	}
	log, _ := os.ReadFile(second.LogPath)
	for _, want := range []string{"node 7", "held by another live paycode", "pid " + strconv.Itoa(first.cmd.Process.Pid)} {
		if !strings.Contains(string(log), want) {
			t.Errorf("second process's error lacks %q:\n%s", want, log)
		}
	}
	first.Stop()
	third, _ := startNode(t, r, dsn, 7, "third")
	third.Stop()
	t.Logf("second node 7 refused: %s", strings.TrimSpace(lastLine(string(log))))
}
