package killtest

import (
	"context"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/paycode/paycode/codec"
)

var (
	flagSeed   = flag.Int64("killtest.seed", 0, "seed of the kill test's choices (0: a new one, printed)")
	flagLong   = flag.Bool("killtest.long", false, "run the long kill test (many more cycles)")
	flagCycles = flag.Int("killtest.cycles", 0, "kill/restart cycles (default 24, 200 with -killtest.long)")
	flagDir    = flag.String("killtest.dir", "", "keep the binary, data directory and logs here instead of a temporary directory")
	// -killtest.serve-args=-memory is the negative control: without the
	// journal the check must fail.
	flagServeArgs = flag.String("killtest.serve-args", "", "extra flags for paycode serve, space-separated")
	flagBin       = flag.String("killtest.bin", "", "use this paycode binary instead of building ./cmd/paycode")
)

// failpoints are the engine's named failpoints (engine/persist.go), with
// how many hits to let pass at most before the kill (N is drawn in 1..max).
var failpoints = []struct {
	name string
	max  int
}{
	{"pay.before-intent", 150},
	{"pay.after-intent", 150},
	{"pay.after-wallet", 150},
	{"pay.after-outcome", 150},
	{"followup.before-call", 60},
	{"followup.after-call", 60},
	{"notify.before-send", 30},
	{"notify.after-ack", 30},
}

// engineTimes: short enough that payments settle within a cycle or two.
var engineTimes = EngineTimes{
	PayTimeout:        2 * time.Second,
	WalletCallTimeout: 5 * time.Second, // > the sim's longest latency, see EngineTimes
	FollowUpDeadline:  5 * time.Second,
	PollSchedule:      []time.Duration{200 * time.Millisecond, 500 * time.Millisecond, time.Second},
	// Long enough (16 attempts, about a minute) that a merchant refusing
	// on purpose and down for a cycle still acknowledges before the
	// notification is abandoned.
	NotifySchedule: []time.Duration{0, 200 * time.Millisecond, 500 * time.Millisecond, time.Second,
		time.Second, 2 * time.Second, 2 * time.Second, 3 * time.Second, 3 * time.Second, 5 * time.Second,
		5 * time.Second, 5 * time.Second, 5 * time.Second, 5 * time.Second, 5 * time.Second, 5 * time.Second},
}

// cyclePlan is how one cycle ends.
type cyclePlan struct {
	failpoint string        // PAYCODE_FAILPOINT, "" for a kill by the harness
	killAfter time.Duration // harness kill: after ready (or after start when early)
	early     bool          // kill during start and recovery, ready or not
	// onAnswer: once killAfter has passed, kill the instant a lane is
	// answered SUCCESS (before that outcome may be durable).
	onAnswer     bool
	merchantDown bool // the merchant endpoint is down for this cycle
	// walletOutage: every wallet hangs (the sim is SIGSTOPped) from before
	// the start until outage after it, so recovery's first calls fail.
	walletOutage time.Duration
}

// planCycle: in every four cycles, a kill right after a lane saw SUCCESS
// (sometimes an early kill instead), then a restart in a wallet outage
// ended by a random kill, then two failpoints, in turn.
func planCycle(rng *rand.Rand, cycle int) cyclePlan {
	var p cyclePlan
	switch cycle % 4 {
	case 0:
		if cycle%12 == 8 {
			p.early = true
			p.killAfter = time.Duration(rng.IntN(300)) * time.Millisecond
		} else {
			p.onAnswer = true
			p.killAfter = 100*time.Millisecond + time.Duration(rng.IntN(1400))*time.Millisecond
		}
	case 1:
		// Longer than a wallet call's timeout and than the follow-up
		// deadline: recovery's first inquiry fails and the deadlines pass.
		p.walletOutage = max(engineTimes.WalletCallTimeout, engineTimes.FollowUpDeadline) + time.Second
		p.killAfter = 150*time.Millisecond + time.Duration(rng.IntN(2000))*time.Millisecond
		p.merchantDown = cycle%8 == 1
	default:
		fp := failpoints[(cycle/4*2+cycle%4-2)%len(failpoints)]
		p.failpoint = fmt.Sprintf("%s:%d", fp.name, 1+rng.IntN(fp.max))
		p.killAfter = 6 * time.Second // backstop if the point is not reached
	}
	return p
}

func TestKillRestart(t *testing.T) {
	if testing.Short() {
		t.Skip("kill test: runs real processes for 30-45 s; skipped with -short")
	}
	seed := testSeed()
	cycles := 24
	if *flagLong {
		cycles = 200
	}
	if *flagCycles > 0 {
		cycles = *flagCycles
	}
	lanes := 16
	if raceEnabled {
		lanes = 10
	}
	extra := strings.Fields(*flagServeArgs)
	t.Logf("kill test: seed %d, %d cycles, %d lanes (replay: go test ./loadtest/killtest/ -run TestKillRestart -v -killtest.seed=%d)", seed, cycles, lanes, seed)
	defer func() {
		if t.Failed() {
			t.Logf("kill test failed with seed %d: replay with -killtest.seed=%d -killtest.dir=DIR to keep logs", seed, seed)
		}
	}()
	start := time.Now()
	// About 4 s a cycle on a quiet machine; room for a loaded one.
	ctx, cancel := context.WithTimeout(context.Background(), max(15*time.Minute, time.Duration(cycles)*8*time.Second))
	defer cancel()
	r := startRig(ctx, t, seed)
	dir, bin, sim, merchant := r.dir, r.bin, r.sim, r.merchant
	cfgPath := filepath.Join(dir, "paycode.yaml")
	if err := os.WriteFile(cfgPath, []byte(ServeConfig(sim.Wallets, engineTimes)), 0o644); err != nil {
		t.Fatal(err)
	}
	data := filepath.Join(dir, "data")
	d := &Driver{M: NewModel(), Wallets: sim.Wallets, NotifyURL: merchant.URL(),
		Clients: []string{"KILL_CLIENT_A", "KILL_CLIENT_B"}, Seed: uint64(seed)}
	rng := rand.New(rand.NewPCG(uint64(seed), 0))

	var cur *Serve // the running paycode, killed if the test stops early
	defer func() {
		if cur != nil {
			cur.Kill()
		}
	}()
	kills, selfKills, notReached := 0, 0, 0
	var serveLogs []string
	for cycle := range cycles {
		plan := planCycle(rng, cycle)
		if plan.merchantDown {
			merchant.Stop()
		}
		logPath := filepath.Join(dir, fmt.Sprintf("serve-%03d.log", cycle))
		serveLogs = append(serveLogs, logPath)
		sent0, unk0 := d.Sent.Load(), d.Unknown.Load()
		if plan.walletOutage > 0 {
			if err := sim.Pause(); err != nil {
				t.Fatal(err)
			}
		}
		srv, err := StartServe(bin, cfgPath, data, logPath, plan.failpoint, extra...)
		if err != nil {
			t.Fatal(err)
		}
		cur = srv
		how := ""
		if plan.early {
			time.Sleep(plan.killAfter)
			srv.Kill()
			how = fmt.Sprintf("harness kill %s after start", plan.killAfter)
		} else if err := srv.WaitReady(30 * time.Second); err != nil {
			if ex := srv.Exit(); !ex.SelfKill {
				srv.Kill()
				t.Fatalf("cycle %d: %v", cycle, err)
			}
			how = fmt.Sprintf("failpoint %s during start", plan.failpoint)
		} else {
			c := NewClient(srv.URL, 8*time.Second)
			if plan.walletOutage > 0 {
				asked, regressed := d.ProbeSuccesses(ctx, c, cycle)
				how = fmt.Sprintf("wallet outage %s from start, %d more of %d lane-seen successes not SUCCESS right after start; ", plan.walletOutage, regressed, asked)
			}
			lctx, stop := context.WithCancel(ctx)
			done := make(chan struct{})
			go func() { d.Lanes(lctx, c, cycle, lanes); close(done) }()
			ready := time.Since(srv.Started)
			if plan.walletOutage > 0 {
				select {
				case <-srv.Done():
				case <-time.After(plan.walletOutage - ready):
				}
				if err := sim.Resume(); err != nil {
					t.Fatal(err)
				}
			}
			wait := plan.killAfter
			if plan.onAnswer {
				select {
				case <-srv.Done():
				case <-time.After(plan.killAfter):
				}
				d.OnSuccess(srv.KillNow)
				wait = 5 * time.Second // backstop: no success answered
			}
			timer := time.NewTimer(wait)
			select {
			case <-srv.Done():
				if plan.onAnswer {
					how += fmt.Sprintf("harness kill the instant a lane saw SUCCESS, %s after ready", (time.Since(srv.Started) - ready).Round(time.Millisecond))
				} else {
					how += fmt.Sprintf("failpoint %s hit %s after ready", plan.failpoint, (time.Since(srv.Started) - ready).Round(time.Millisecond))
				}
			case <-timer.C:
				srv.Kill()
				if plan.failpoint != "" || plan.onAnswer {
					how += fmt.Sprintf("failpoint %q not reached; harness kill after %s", plan.failpoint, wait)
					notReached++
				} else {
					how += fmt.Sprintf("harness kill %s after ready", plan.killAfter.Round(time.Millisecond))
				}
			}
			timer.Stop()
			d.OnSuccess(nil)
			stop()
			<-done
			c.Close()
		}
		ex := srv.Exit()
		if plan.walletOutage > 0 {
			sim.Resume()
		}
		switch {
		case ex.SelfKill:
			selfKills++
		case ex.ByHarness:
		default:
			t.Fatalf("cycle %d: paycode ended on its own, not by SIGKILL (exit %d, signal %v): %s", cycle, ex.Code, ex.Signal, srv.ExitString())
		}
		kills++
		t.Logf("cycle %2d: %s; %d requests, %d unanswered", cycle, how, d.Sent.Load()-sent0, d.Unknown.Load()-unk0)
		if plan.merchantDown {
			if err := merchant.Restart(); err != nil {
				t.Fatalf("merchant restart: %v", err)
			}
		}
		if !sim.Alive() {
			t.Fatal("the wallet simulator died")
		}
	}

	// A clean start: lanes retry what never got an answer, then everything
	// must settle and agree with the ledgers.
	logPath := filepath.Join(dir, "serve-final.log")
	serveLogs = append(serveLogs, logPath)
	srv, err := StartServe(bin, cfgPath, data, logPath, "", extra...)
	if err != nil {
		t.Fatal(err)
	}
	cur = srv
	if err := srv.WaitReady(60 * time.Second); err != nil {
		t.Fatalf("final start: %v", err)
	}
	readyAt := time.Now()
	c := NewClient(srv.URL, 8*time.Second)
	defer c.Close()
	d.ReplayUnanswered(ctx, c, 5)
	// Everything must be final within the follow-up deadline of the last
	// payments created (plus the cancel calls and some slack for a noisy
	// machine), counted from the final start.
	bound := engineTimes.FollowUpDeadline + 2*engineTimes.WalletCallTimeout + 6*time.Second
	views, refundViews, took := d.WaitFinal(ctx, c, max(bound-time.Since(readyAt), 3*time.Second))
	settled := time.Since(readyAt)
	rep, pays := r.check(ctx, t, d, c, views, refundViews)
	srv.Stop()
	if ex := srv.Exit(); ex.Code != 0 {
		t.Errorf("final paycode did not shut down cleanly on SIGTERM: %s", srv.ExitString())
	}
	if leaks := scanLogsForCodes(append(serveLogs, filepath.Join(dir, "sim.log")), pays); len(leaks) > 0 {
		t.Errorf("full payment codes in paycode's logs: %v", leaks)
	}

	total, refused, notified := merchant.Counts()
	t.Logf("%d kills (%d at failpoints, %d failpoints not reached), %d cycles; %d requests sent (%d unanswered)",
		kills, selfKills, notReached, cycles, d.Sent.Load(), d.Unknown.Load())
	t.Logf("%d payment requests, %d payments in paycode (%d SUCCESS), %d charges held by the wallets, %d refunds; all final %s after the last start (polling %s)",
		rep.Requests, rep.Payments, rep.Successes, rep.Charged, rep.Refunds, settled.Round(time.Millisecond), took.Round(time.Millisecond))
	t.Logf("notifications: %d payments checked, %d deliveries to the merchant (%d refused on purpose, %d payments)", rep.Notified, total, refused, notified)
	t.Logf("lane-seen successes answered otherwise right after a restart in a wallet outage (outcome record lost): %d", len(d.M.Regressions))
	for i, r := range d.M.Regressions {
		if i == 10 {
			t.Logf("  … %d more", len(d.M.Regressions)-10)
			break
		}
		t.Logf("  %s", r)
	}
	t.Logf("voids: %d requests cancelled before or with their pay were answered SUCCESS, %d of their pays refused ORDER_IS_CANCELED", rep.Voided, rep.VoidRefused)
	t.Logf("%d kills, %d payments, %d lost, %d duplicated, %d charged after void (%s)", kills, rep.Payments, rep.Count(KindLost), rep.Count(KindDuplicate), rep.Count(KindChargedAfterVoid), time.Since(start).Round(time.Second))
	if len(rep.Violations) > 0 {
		t.Errorf("seed %d: %d violations:\n%s", seed, len(rep.Violations), rep.String(15))
	}
}

// testSeed is -killtest.seed, or a new seed when it is 0.
func testSeed() int64 {
	if *flagSeed != 0 {
		return *flagSeed
	}
	return time.Now().UnixNano() % 1e9
}

// rig is what the process tests run paycode against: its binary (built
// into dir unless -killtest.bin), the simulated wallets in a process of
// their own (logging to dir/sim.log) and the merchant's notification
// endpoint. dir is -killtest.dir, or a temporary directory.
type rig struct {
	dir, bin string
	sim      *Sim
	merchant *Merchant
}

// startRig starts a rig, stopped when t ends (after the test's own
// deferred calls, so after the paycode processes are killed).
func startRig(ctx context.Context, t *testing.T, seed int64) *rig {
	t.Helper()
	r := &rig{dir: *flagDir, bin: *flagBin}
	if r.dir == "" {
		r.dir = t.TempDir()
	} else if err := os.MkdirAll(r.dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if r.bin == "" {
		start := time.Now()
		var err error
		if r.bin, err = BuildBinary(ctx, ".", r.dir); err != nil {
			t.Fatal(err)
		}
		t.Logf("built %s in %s", r.bin, time.Since(start).Round(time.Millisecond))
	}
	var err error
	if r.sim, err = StartSim(r.bin, seed, filepath.Join(r.dir, "sim.log")); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(r.sim.Close)
	if r.merchant, err = StartMerchant(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(r.merchant.Close)
	return r
}

// check settles what is left through c (views and refundViews are from
// d.WaitFinal on c) against the wallets' ledgers, waits for the
// notifications, and checks every promise. It returns the report and the
// payment requests sent.
func (r *rig) check(ctx context.Context, t *testing.T, d *Driver, c *Client, views map[string]PaymentView, refundViews map[string]RefundView) (Report, []*PayReq) {
	t.Helper()
	ledgers, err := FetchLedgers(r.sim.Wallets)
	if err != nil {
		t.Fatal(err)
	}
	d.Resolve(ctx, c, ledgers, views)
	pays := d.M.Pays()
	WaitNotified(r.merchant, pays, views, 20*time.Second)
	return Check(&Evidence{
		Pays: pays, Refunds: d.M.Refunds(), Ledgers: ledgers, Payments: views, RefundViews: refundViews,
		Notified: r.merchant.Deliveries, Anomalies: d.M.Anomalies,
	}), pays
}

var longDigits = regexp.MustCompile(`\d{16,32}`)

// scanLogsForCodes returns the masked form of every full code used that
// appears in the logs.
func scanLogsForCodes(paths []string, pays []*PayReq) []string {
	codes := map[string]bool{}
	for _, p := range pays {
		codes[p.Code] = true
	}
	var leaks []string
	for _, path := range paths {
		b, err := os.ReadFile(path)
		if err != nil {
			continue
		}
		for _, s := range longDigits.FindAllString(string(b), -1) {
			if codes[s] {
				leaks = append(leaks, fmt.Sprintf("%s in %s", codec.Mask(s), filepath.Base(path)))
			}
		}
	}
	return leaks
}
