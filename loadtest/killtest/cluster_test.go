package killtest

import (
	"context"
	crand "crypto/rand"
	"encoding/hex"
	"fmt"
	"math/rand/v2"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/paycode/paycode/engine/journal/postgres/pgtest"
)

// clusterLease is the lease length of the two-node test: a dead node's
// work moves to the other within about this (plus a lease tick).
const clusterLease = 2 * time.Second

// pgSchemaDSN returns the test database's DSN pointed at a fresh schema
// (dropped when t ends), or skips t when PAYCODE_TEST_POSTGRES is unset.
func pgSchemaDSN(t *testing.T) string {
	t.Helper()
	base := requirePostgres(t)
	var b [6]byte
	_, _ = crand.Read(b[:])
	schema := "paycode_cluster_" + hex.EncodeToString(b[:])
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, base)
	if err != nil {
		t.Fatalf("PostgreSQL at PAYCODE_TEST_POSTGRES: %v", err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, "CREATE SCHEMA "+pgx.Identifier{schema}.Sanitize()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if conn, err := pgx.Connect(ctx, base); err == nil {
			conn.Exec(ctx, "DROP SCHEMA IF EXISTS "+pgx.Identifier{schema}.Sanitize()+" CASCADE")
			conn.Close(ctx)
		}
	})
	u, err := url.Parse(base)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}

// requirePostgres returns PAYCODE_TEST_POSTGRES, or skips t without it
// (fails it when PAYCODE_REQUIRE_SERVICES is set: CI).
func requirePostgres(t *testing.T) string {
	t.Helper()
	return pgtest.DSN(t)
}

// TestTwoNodes runs two real paycode processes on one PostgreSQL journal
// with the simulated wallets in a third: the same paymentRequestId sent
// to both nodes at once is dispatched once; lanes on both nodes pay,
// refund and cancel; one node is killed with payments still in follow-up
// and notifications undelivered; the other takes them over when the
// dead node's leases expire and finishes them. Before the kill, under
// the lanes, the database hangs (a proxy in front of it stops
// forwarding) and then restarts (pg_ctl stop -m fast, start): both nodes
// stay up, turn /readyz 503 and come back by themselves. The wallets'
// ledgers and the lanes' answers are then checked as in the kill test.
func TestTwoNodes(t *testing.T) {
	if testing.Short() {
		t.Skip("two-node test: runs real processes for ~30 s; skipped with -short")
	}
	requirePostgres(t) // skips (or fails, in CI) as the other PostgreSQL tests do
	pg := startPrivatePG(t)
	proxy := startStallProxy(t, hostPortOf(t, pg.DSN()))
	dsn := withHost(t, pg.DSN(), proxy.Addr())
	seed := testSeed()
	t.Logf("two-node test: seed %d (replay: go test ./loadtest/killtest/ -run TestTwoNodes -v -killtest.seed=%d)", seed, seed)
	start := time.Now()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	r := startRig(ctx, t, seed)
	dir, bin, sim, merchant := r.dir, r.bin, r.sim, r.merchant

	var nodes [2]*Serve
	defer func() {
		for _, n := range nodes {
			if n != nil {
				n.Kill()
			}
		}
	}()
	var logs, admins []string
	for i := range nodes {
		cfg := ServeConfig(sim.Wallets, engineTimes) +
			fmt.Sprintf("journal: %q\nnode: %d\nleaseTTL: %s\n", dsn, i+1, clusterLease)
		cfgPath := filepath.Join(dir, fmt.Sprintf("node%d.yaml", i+1))
		if err := os.WriteFile(cfgPath, []byte(cfg), 0o600); err != nil {
			t.Fatal(err)
		}
		logPath := filepath.Join(dir, fmt.Sprintf("node%d.log", i+1))
		logs = append(logs, logPath)
		admin := freeAddr(t)
		admins = append(admins, "http://"+admin)
		n, err := StartServe(bin, cfgPath, filepath.Join(dir, fmt.Sprintf("data%d", i+1)), logPath, "", "-admin", admin)
		if err != nil {
			t.Fatal(err)
		}
		nodes[i] = n
	}
	for i, n := range nodes {
		if err := n.WaitReady(60 * time.Second); err != nil {
			t.Fatalf("node %d: %v", i+1, err)
		}
	}
	c1, c2 := NewClient(nodes[0].URL, 8*time.Second), NewClient(nodes[1].URL, 8*time.Second)
	defer c1.Close()
	defer c2.Close()
	d := &Driver{M: NewModel(), Wallets: sim.Wallets, NotifyURL: merchant.URL(),
		Clients: []string{"NODE_CLIENT_A", "NODE_CLIENT_B"}, Seed: uint64(seed)}
	rng := rand.New(rand.NewPCG(uint64(seed), 1))

	// 1. The same request to both nodes at the same moment, 40 times, with
	// every kind of wallet behaviour.
	var wg sync.WaitGroup
	dups := make([]*PayReq, 40)
	for i := range dups {
		last2 := Last2(rng)
		p := &PayReq{ReqID: fmt.Sprintf("dup%d-%d", seed%100000, i), Client: d.Clients[i%2],
			Code: d.newCode(rng, last2), Last2: last2, Amount: 100 + rng.Int64N(9900), Notify: i%3 == 0}
		d.M.AddPay(p)
		dups[i] = p
		wg.Add(2)
		go func() { defer wg.Done(); d.sendPay(ctx, c1, p) }()
		go func() { defer wg.Done(); d.sendPay(ctx, c2, p) }()
	}
	wg.Wait()
	for _, p := range dups {
		if len(p.PIDs) > 1 {
			t.Errorf("request %s got %d payment ids from the two nodes", p.ReqID, len(p.PIDs))
		}
	}

	// 2. Lanes on both nodes; node 1 dies under them.
	lctx, stop := context.WithCancel(ctx)
	var lanes sync.WaitGroup
	lanes.Add(2)
	go func() { defer lanes.Done(); d.Lanes(lctx, c1, 1, 6) }()
	go func() { defer lanes.Done(); d.Lanes(lctx, c2, 2, 6) }()
	// The database hangs, then restarts, under the lanes.
	faults := []struct {
		name         string
		begin, end   func()
		hold         time.Duration
		unready, got [2]time.Duration
	}{
		{name: "hang", begin: proxy.Stall, end: proxy.Resume, hold: 2 * time.Second},
		{name: "restart", begin: pg.Stop, end: pg.Start, hold: 3 * time.Second},
	}
	for i := range faults {
		f := &faults[i]
		select {
		case <-time.After(time.Second):
		case <-nodes[0].Done():
			t.Fatalf("node 1 ended on its own: %s", nodes[0].ExitString())
		}
		at := time.Now()
		f.begin()
		for j, a := range admins {
			when, err := waitReadyz(a, 503, 10*time.Second)
			if err != nil {
				t.Fatalf("database %s: node %d: %v (%v)", f.name, j+1, err, alive(nodes[j], "node"))
			}
			f.unready[j] = when.Sub(at)
		}
		time.Sleep(time.Until(at.Add(f.hold))) // the fault lasts, under the lanes
		at = time.Now()
		f.end()
		for j, a := range admins {
			when, err := waitReadyz(a, 200, 30*time.Second)
			if err != nil {
				t.Fatalf("after the database %s: node %d: %v (%v)", f.name, j+1, err, alive(nodes[j], "node"))
			}
			f.got[j] = when.Sub(at)
		}
		t.Logf("database %s for %s: /readyz 503 after %s and %s, 200 again %s and %s after it ended", f.name, f.hold,
			f.unready[0].Round(time.Millisecond), f.unready[1].Round(time.Millisecond), f.got[0].Round(time.Millisecond), f.got[1].Round(time.Millisecond))
	}
	select {
	case <-time.After(1500 * time.Millisecond):
	case <-nodes[0].Done():
		t.Fatalf("node 1 ended on its own: %s", nodes[0].ExitString())
	}
	// Payments node 1 will still be following up when it dies: the user
	// has to confirm (80-84), or the wallet charges and the answer is lost
	// (92-93). Their lanes' pays die with node 1 (unanswered).
	orphans := make([]*PayReq, 12)
	var orphanPays sync.WaitGroup
	for i := range orphans {
		last2 := []int{80, 81, 82, 92, 93}[i%5]
		p := &PayReq{ReqID: fmt.Sprintf("orphan%d-%d", seed%100000, i), Client: d.Clients[i%2],
			Code: d.newCode(rng, last2), Last2: last2, Amount: 100 + rng.Int64N(9900)}
		d.M.AddPay(p)
		d.M.MarkCancel(p) // keeps the lanes from refunding it
		orphans[i] = p
		orphanPays.Add(1)
		go func() { defer orphanPays.Done(); d.sendPay(ctx, c1, p) }()
	}
	time.Sleep(500 * time.Millisecond) // let the pays reach node 1 and its wallets
	nodes[0].Kill()
	killedAt := time.Now()
	// 3. The lanes void those sales on node 2 while node 1's leases are
	// still live: node 2 cannot hand the cancels to a live owner, so it
	// records them; whichever node takes the payments over carries them
	// out. Each lane repeats its cancel until it gets a final answer.
	var voids sync.WaitGroup
	cancelU := make([]int, len(orphans))
	cancelLast := make([]string, len(orphans))
	for i, p := range orphans {
		voids.Add(1)
		go func() {
			defer voids.Done()
			cancelU[i], cancelLast[i] = d.cancelUntilFinal(ctx, c2, p, 3*clusterLease+2*engineTimes.WalletCallTimeout)
		}()
	}
	// Node 2's lanes go on while node 1's leases run out.
	select {
	case <-time.After(clusterLease):
	case <-nodes[1].Done():
		t.Fatalf("node 2 ended on its own: %s", nodes[1].ExitString())
	}
	stop()
	lanes.Wait()
	voids.Wait()
	orphanPays.Wait()
	accepted := 0
	for i, p := range orphans {
		if p.CancelOK {
			accepted++
		} else {
			t.Errorf("cancel of %s (code ending %02d) sent to node 2 after node 1 died: no SUCCESS (last answer %q, %d U answers)", p.ReqID, p.Last2, cancelLast[i], cancelU[i])
		}
	}
	if ex := nodes[0].Exit(); !ex.ByHarness {
		t.Fatalf("node 1 was not killed by the harness: %s", nodes[0].ExitString())
	}

	// 4. Everything must end final through node 2 alone: lanes retry what
	// got no answer there, then poll until all is settled.
	d.ReplayUnanswered(ctx, c2, 5)
	bound := engineTimes.FollowUpDeadline + 2*engineTimes.WalletCallTimeout + clusterLease + 8*time.Second
	views, refundViews, took := d.WaitFinal(ctx, c2, bound)
	rep, pays := r.check(ctx, t, d, c2, views, refundViews)
	nodes[1].Stop()
	if ex := nodes[1].Exit(); ex.Code != 0 {
		t.Errorf("node 2 did not shut down cleanly on SIGTERM: %s", nodes[1].ExitString())
	}
	taken := countLines(t, logs[1], "payment taken over")
	if taken == 0 {
		t.Errorf("node 2 took over none of node 1's payments (log %s)", logs[1])
	}
	if leaks := scanLogsForCodes(append(logs, filepath.Join(dir, "sim.log")), pays); len(leaks) > 0 {
		t.Errorf("full payment codes in the logs: %v", leaks)
	}
	t.Logf("%d requests sent (%d unanswered); node 1 killed, node 2 took over %d payments; all final %s after the kill (polling %s)",
		d.Sent.Load(), d.Unknown.Load(), taken, time.Since(killedAt).Round(time.Millisecond), took.Round(time.Millisecond))
	t.Logf("cancels sent to node 2 for payments node 1 owned when it died: %d of %d accepted (SUCCESS)", accepted, len(orphans))
	reportCluster(t, seed, fmt.Sprintf("2 nodes, 1 kill, 1 database hang, 1 database restart (%s)", time.Since(start).Round(time.Second)), rep)
}

// reportCluster logs a several-node run's check in one line (what ran,
// then "N payments, 0 lost, 0 duplicated, 0 charged after a cancel was
// accepted") and fails the test on any violation.
func reportCluster(t *testing.T, seed int64, what string, rep Report) {
	t.Helper()
	t.Logf("%s, %d payments, %d lost, %d duplicated, %d charged after a cancel was accepted",
		what, rep.Payments, rep.Count(KindLost), rep.Count(KindDuplicate), rep.Count(KindChargedAfterVoid))
	if len(rep.Violations) > 0 {
		t.Errorf("seed %d: %d violations:\n%s", seed, len(rep.Violations), rep.String(15))
	}
}

func countLines(t *testing.T, path, substr string) int {
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return strings.Count(string(b), substr)
}
