package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"runtime/pprof"
	"strings"
	"syscall"
	"time"

	"github.com/paycode/paycode/loadtest/load"
	"github.com/paycode/paycode/loadtest/mppsim"
	"github.com/paycode/paycode/loadtest/stack"
)

// loadFlags are the flags load and demo share.
type loadFlags struct {
	target, ledgers, admin, budget, out, simLatency, cpuProfile string
	duration                                                    time.Duration
	rate, rateScale, minAchieved                                float64
	seed                                                        int64
	workers, maxWorkers                                         uint64
	conns, maxConns, targetPID, procs                           int
	noCheck, keepBodies, quiet, netHTTP, vegetaAtk, memory      bool
	discard                                                     bool
}

// registerTarget adds the flags of a run against a separate paycode
// (load only: demo always runs embedded).
func (f *loadFlags) registerTarget(fs *flag.FlagSet) {
	fs.StringVar(&f.target, "target", "", "paycode lane API base URL, e.g. http://127.0.0.1:8080; several, comma-separated, spread the lanes over them (default: start paycode and the simulated wallets in this process)")
	fs.StringVar(&f.admin, "admin", "", "with -target: paycode's admin listener base URL(s), comma-separated, e.g. http://127.0.0.1:9090; the check finds the simulated wallets' ledgers from GET /admin/wallets")
	fs.StringVar(&f.ledgers, "ledgers", "", "with -target: the simulated wallets' base URLs, comma-separated (as 'paycode sim' prints), for the correctness check (instead of -admin)")
	fs.IntVar(&f.targetPID, "target-pid", 0, "with -target: paycode's process id, to report its CPU per request (/proc/PID/stat)")
	fs.BoolVar(&f.discard, "discard", false, "with -target: send on the schedule and count the requests, recording nothing else (no latencies, results, check or budgets): the generator's floor, for measuring what recording costs")
	fs.IntVar(&f.procs, "procs", 0, "with -target: the generator's GOMAXPROCS (0: every CPU; 1 costs less CPU per request but lets other processes delay its one thread, and so the latencies it measures; the GOMAXPROCS environment variable wins)")
}

func (f *loadFlags) register(fs *flag.FlagSet) {
	fs.BoolVar(&f.noCheck, "no-check", false, "skip the correctness check against the wallets' ledgers")
	fs.StringVar(&f.budget, "budget", "", "budgets, e.g. 'pay.p99<=50ms,pay.success>=99.9%,inquiry.p99<=5ms': exit 1 when one breaks")
	fs.StringVar(&f.out, "out", "", "directory for results.bin, summary.json and report.html (default: a new temporary directory)")
	fs.DurationVar(&f.duration, "duration", 0, "stretch or shrink the stages to this total duration, keeping their shape")
	fs.Float64Var(&f.rate, "rate", 0, "scale the stages so the highest rate is this many requests/s")
	fs.Float64Var(&f.rateScale, "rate-scale", 0, "multiply every stage's rate by this factor")
	fs.Float64Var(&f.minAchieved, "min-achieved", load.MinAchievedRatio, "fail the run when the achieved rate is below this fraction of the requested one (0 or less: no such gate)")
	fs.Int64Var(&f.seed, "seed", -1, "override the scenario's seed")
	fs.Uint64Var(&f.workers, "workers", 0, "initial workers (override limits.workers)")
	fs.Uint64Var(&f.maxWorkers, "max-workers", 0, "maximum workers, which bound the requests in flight (override limits.maxWorkers)")
	fs.IntVar(&f.conns, "connections", 0, "idle connections kept, with -nethttp (override limits.connections)")
	fs.IntVar(&f.maxConns, "max-connections", 0, "maximum connections (override limits.maxConnections)")
	fs.BoolVar(&f.memory, "memory", false, "embedded mode: keep payments in memory (the in-memory journal; a restart forgets them); default: the Pebble journal in a temporary directory with synced writes, as serve runs")
	fs.StringVar(&f.simLatency, "sim-latency", "default", "embedded mode: the simulated wallets' latency: default (each wallet its profile), zero, or typical")
	fs.BoolVar(&f.keepBodies, "keep-bodies", false, "keep response bodies in results.bin")
	fs.BoolVar(&f.quiet, "quiet", false, "no live line")
	fs.BoolVar(&f.netHTTP, "nethttp", false, "send with vegeta's Attacker and net/http transport instead of the paced fasthttp sender")
	fs.BoolVar(&f.vegetaAtk, "vegeta", false, "send with vegeta's Attacker over fasthttp instead of the paced fasthttp sender (to compare their cost)")
	fs.StringVar(&f.cpuProfile, "cpuprofile", "", "write this process's CPU profile during the run to `FILE` (go tool pprof reads it)")
}

// apply puts the flag overrides into sc.
func (f *loadFlags) apply(sc *load.Scenario) error {
	if f.seed >= 0 {
		sc.Seed = uint64(f.seed)
	}
	if f.duration > 0 {
		sc.ScaleTo(f.duration)
	}
	if f.rateScale > 0 {
		sc.ScaleRate(f.rateScale)
	}
	if f.rate > 0 {
		peak := 0.0
		for _, st := range sc.Stages {
			peak = max(peak, st.Rate, st.End())
		}
		sc.ScaleRate(f.rate / peak)
	}
	l := &sc.Limits
	if f.workers > 0 {
		l.Workers = f.workers
	}
	if f.maxWorkers > 0 {
		l.MaxWorkers = f.maxWorkers
	}
	if f.conns > 0 {
		l.Connections = f.conns
	}
	if f.maxConns > 0 {
		l.MaxConnections = f.maxConns
	}
	return sc.Validate()
}

func runLoad(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("load", flag.ContinueOnError)
	fs.SetOutput(stderr)
	scenario := fs.String("scenario", "", "scenario file (YAML); see testdata/scenarios/")
	var f loadFlags
	f.registerTarget(fs)
	f.register(fs)
	fs.Usage = func() {
		fmt.Fprint(stderr, "usage: paycode load -scenario FILE [flags]\n\nOpen-loop load on paycode's lane API (vegeta's results and reports), with a report per kind and\noutcome, a correctness check against the wallets' ledgers, and budgets.\nExit status 1 when the run breaks a gate (achieved rate, correctness, budget).\n\n")
		fs.PrintDefaults()
	}
	if rc, ok := parseFlags(fs, args); !ok {
		return rc
	}
	if *scenario == "" || fs.NArg() > 0 {
		fs.Usage()
		return 2
	}
	sc, err := load.ReadScenario(*scenario)
	if err != nil {
		fmt.Fprintln(stderr, "paycode load:", err)
		return 2
	}
	return runScenario("load", sc, &f, stdout, stderr)
}

// runScenario runs sc per f: the body of load and demo.
func runScenario(cmd string, sc *load.Scenario, f *loadFlags, stdout, stderr io.Writer) int {
	fail := func(code int, err error) int {
		fmt.Fprintf(stderr, "paycode %s: %v\n", cmd, err)
		return code
	}
	if err := f.apply(sc); err != nil {
		return fail(2, err)
	}
	budgets, err := load.ParseBudgets(f.budget)
	if err != nil {
		return fail(2, err)
	}
	o := load.Options{Scenario: sc, Budgets: budgets, NoCheck: f.noCheck, KeepBodies: f.keepBodies, TargetPID: f.targetPID, NetHTTP: f.netHTTP, Vegeta: f.vegetaAtk,
		MinAchieved: minAchievedOption(f.minAchieved), Discard: f.discard}
	if f.target != "" {
		if f.memory {
			return fail(2, errors.New("-memory is for the embedded mode (without -target)"))
		}
		o.Targets = splitList(f.target)
		o.BaseURL = o.Targets[0]
		switch {
		case f.noCheck || f.discard:
		case f.ledgers != "" && f.admin != "":
			return fail(2, errors.New("give -ledgers or -admin, not both"))
		case f.ledgers != "":
			o.Ledgers = load.HTTPLedgers(splitList(f.ledgers), 30*time.Second)
		case f.admin != "":
			var all []load.AdminWallet
			for _, a := range splitList(f.admin) {
				ws, err := load.FetchAdminWallets(context.Background(), a, 10*time.Second)
				if err != nil {
					return fail(1, err)
				}
				all = append(all, ws...)
			}
			urls, err := load.LedgerURLs(sc, all)
			if err != nil {
				return fail(1, err)
			}
			o.Ledgers = load.HTTPLedgers(urls, 30*time.Second)
		default:
			return fail(2, errors.New("-target needs -admin URL (paycode's admin listener) or -ledgers URL,… (the simulated wallets' base URLs) for the correctness check, or -no-check"))
		}
	} else {
		if f.ledgers != "" || f.admin != "" || f.targetPID != 0 || f.discard {
			return fail(2, errors.New("-ledgers, -admin, -target-pid and -discard go with -target"))
		}
		nc, cleanup, err := embeddedNode(f.memory)
		if err != nil {
			return fail(1, err)
		}
		defer cleanup() // after the node closed (deferred below)
		o.Journal = nc.desc
		wallets := stack.DefaultSimWallets()
		switch f.simLatency {
		case "default":
		case "zero":
			for i := range wallets {
				wallets[i].Latency = mppsim.Latency{}
			}
		case "typical":
			for i := range wallets {
				wallets[i].Latency = mppsim.TypicalLatency()
			}
		default:
			return fail(2, fmt.Errorf("-sim-latency %q: want default, zero or typical", f.simLatency))
		}
		st, err := load.Embed(&o, stack.Config{Node: nc.Config, Sim: mppsim.Config{Wallets: wallets, Seed: int64(sc.Seed)}})
		if err != nil {
			return fail(1, err)
		}
		defer st.Close()
	}
	o.OutDir = f.out
	if o.OutDir == "" {
		if o.OutDir, err = os.MkdirTemp("", "paycode-"+cmd+"-"); err != nil {
			return fail(1, err)
		}
	}
	if !f.quiet {
		o.Live = stderr
		if fi, ok := stderr.(*os.File); ok {
			if st, err := fi.Stat(); err == nil && st.Mode()&os.ModeCharDevice != 0 {
				o.Progress = true
			}
		}
	}
	fmt.Fprintf(stderr, "paycode %s: %s → %s (%.0f requests)\n", cmd, sc, targetName(o), sc.Requests())
	if os.Getenv("GOGC") == "" {
		// The generator's heap is small and short-lived (a request, its
		// result): collecting it four times less often saves the
		// collections and the stack shrinking and regrowing of vegeta's
		// workers they cause, a tenth of the generator's CPU at 3,000/s.
		debug.SetGCPercent(loadGCPercent)
	}
	if f.target != "" {
		setProcs(f.procs)
	}
	if f.cpuProfile != "" {
		pf, err := os.Create(f.cpuProfile)
		if err != nil {
			return fail(1, err)
		}
		defer pf.Close()
		if err := pprof.StartCPUProfile(pf); err != nil {
			return fail(1, err)
		}
		defer pprof.StopCPUProfile()
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	// The first interrupt ends the attack (the check and the report still
	// run); a second one kills the process.
	context.AfterFunc(ctx, stop)
	s, err := load.Run(ctx, o)
	if err != nil {
		return fail(1, err)
	}
	s.WriteText(stdout)
	fmt.Fprintf(stdout, "paycode report %s   (re-render; -compare BASELINE %s for a change table)\n", o.OutDir, o.OutDir)
	fmt.Fprintf(stdout, "vegeta report %s\n%s\n", filepath.Join(o.OutDir, load.ResultsFile), load.VegetaSuccessNote)
	if !s.Passed {
		return 1
	}
	return 0
}

// setProcs sets GOMAXPROCS to n (n > 0) unless the environment sets it.
// The load generator and the simulated wallets need a fraction of one
// core at the rates the box can serve, and on one P they spend about a
// sixth less CPU (no futex wake-ups of idle Ps, no spinning threads). But
// a busy box then delays their one thread: the generator's p99 against
// the bare server at 5,000/s, alternating on a loaded machine, was 84–484
// ms on one P and 2–114 ms on every CPU. Every CPU stays the default, for
// the latencies; -procs 1 is for measuring their cost.
func setProcs(n int) {
	if n > 0 && os.Getenv("GOMAXPROCS") == "" {
		runtime.GOMAXPROCS(n)
	}
}

// loadGCPercent is the load command's GOGC unless the environment sets one.
const loadGCPercent = 400

func targetName(o load.Options) string {
	if o.Embedded {
		return "embedded paycode at " + o.BaseURL
	}
	if len(o.Targets) > 1 {
		return strings.Join(o.Targets, " + ")
	}
	return o.BaseURL
}

// splitList splits a comma-separated flag value, dropping empty items.
func splitList(s string) []string {
	var out []string
	for item := range strings.SplitSeq(s, ",") {
		if item = strings.TrimSpace(item); item != "" {
			out = append(out, item)
		}
	}
	return out
}

// minAchievedOption maps the -min-achieved flag to load.Options: the
// flag's 0 or less turns the gate off.
func minAchievedOption(v float64) float64 {
	if v <= 0 {
		return -1
	}
	return v
}
