package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"math"
	"net"
	"os"
	"os/signal"
	"runtime/pprof"
	"strings"
	"syscall"
	"time"

	"github.com/valyala/fasthttp"

	"github.com/paycode/paycode/engine/ident"
	"github.com/paycode/paycode/engine/server"
	"github.com/paycode/paycode/engine/settle"
	"github.com/paycode/paycode/loadtest/mppsim"
	"github.com/paycode/paycode/loadtest/stack"
)

// runSim serves the embedded default's four simulated wallets and a
// remote identification service, each on its own loopback port, so a
// paycode in another process (or a real one under test) can use them.
func runSim(args []string, stdout, stderr io.Writer) int {
	if len(args) > 0 && args[0] == "settlement" {
		return runSimSettlement(args[1:], stdout, stderr)
	}
	fs := flag.NewFlagSet("sim", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintf(stderr, "usage: paycode sim [flags]\n       paycode sim settlement -date YYYY-MM-DD [-from URL] [-tz UTC] [-o FILE]\n\n"+
			"Serves the simulated wallets and the identification service. Each wallet, and the\n"+
			"identification port for all wallets together, serves its settlement file for a day on\n"+
			"GET %s?date=YYYY-MM-DD[&tz=ZONE]; 'paycode sim settlement' fetches it.\n\n", mppsim.SettlementPath)
		fs.PrintDefaults()
	}
	host := fs.String("host", "127.0.0.1", "address to listen on (loopback only in tests)")
	port := fs.Int("port", 7001, "first wallet port; wallets take consecutive ports (0: any free port)")
	identPort := fs.Int("ident-port", 7000, "identification service port (0: any free port, -1: none)")
	identLatency := fs.Duration("ident-latency", 2*time.Millisecond, "added latency of the identification service")
	seed := fs.Int64("seed", 1, "seed of the latency draws")
	rules := fs.String("rules", "", "routing rules file served by the identification service (default: built-in rules)")
	latency := fs.String("latency", "default", "the wallets' answer latency: default (each wallet its profile), zero (capacity runs), typical, or MIN-MAX (e.g. 50ms-300ms: log-normal, median the geometric mean)")
	passwordDelay := fs.Duration("password-delay", 0, "time the simulated user takes to enter the password (codes ending 80–86); 0: the simulator's default")
	procs := fs.Int("procs", 0, "the simulator's GOMAXPROCS (0: every CPU; 1 costs less CPU per pay but lets other processes delay its one thread, and so the wallets' answers; the GOMAXPROCS environment variable wins)")
	cpuProfile := fs.String("cpuprofile", "", "write the simulator's CPU profile to `FILE` until it stops (go tool pprof reads it)")
	if rc, ok := parseFlags(fs, args); !ok {
		return rc
	}
	setProcs(*procs)
	wallets := stack.DefaultSimWallets()
	for i := range wallets {
		wallets[i].PasswordDelay = *passwordDelay
	}
	if err := setSimLatency(wallets, *latency); err != nil {
		fmt.Fprintln(stderr, "paycode sim:", err)
		return 2
	}
	cfg := mppsim.Config{Wallets: wallets, Seed: *seed}.WithDefaults()
	if err := cfg.Validate(); err != nil {
		fmt.Fprintln(stderr, "paycode sim:", err)
		return 2
	}
	table := ident.DefaultTable()
	if *rules != "" {
		t, err := ident.ReadRulesFile(*rules)
		if err != nil {
			fmt.Fprintln(stderr, "paycode sim:", err)
			return 2
		}
		table = t
	}
	var servers []*fasthttp.Server
	defer func() {
		for _, s := range servers {
			s.Shutdown()
		}
	}()
	serve := func(addr string, h fasthttp.RequestHandler, srv *fasthttp.Server) (string, error) {
		ln, err := net.Listen("tcp", addr)
		if err != nil {
			return "", err
		}
		if srv == nil {
			srv = &fasthttp.Server{Handler: h, Name: "paycode-sim"}
		}
		servers = append(servers, srv)
		go srv.Serve(ln)
		return "http://" + ln.Addr().String(), nil
	}
	fmt.Fprintln(stdout, "# simulated wallets; paste into a paycode serve -config file:")
	fmt.Fprintln(stdout, "wallets:")
	var simWallets []*mppsim.Wallet
	for i, wc := range cfg.Wallets {
		w, err := mppsim.NewWallet(wc, cfg)
		if err != nil {
			fmt.Fprintln(stderr, "paycode sim:", err)
			return 1
		}
		defer w.Close()
		simWallets = append(simWallets, w)
		p := 0
		if *port != 0 {
			p = *port + i
		}
		url, err := serve(net.JoinHostPort(*host, fmt.Sprint(p)), nil, mppsim.NewServer(w))
		if err != nil {
			fmt.Fprintln(stderr, "paycode sim:", err)
			return 1
		}
		fmt.Fprintf(stdout, "  - {name: %s, url: %q}\n", wc.Name, url)
	}
	if *identPort >= 0 {
		lat := *identLatency
		url, err := serve(net.JoinHostPort(*host, fmt.Sprint(*identPort)),
			settlementOr(ident.NewServiceHandler(func() *ident.Table { return table }, func() time.Duration { return lat }), simWallets...), nil)
		if err != nil {
			fmt.Fprintln(stderr, "paycode sim:", err)
			return 1
		}
		fmt.Fprintf(stdout, "identification:\n  serviceURL: %q\n", url)
	}
	if *cpuProfile != "" {
		pf, err := os.Create(*cpuProfile)
		if err != nil {
			fmt.Fprintln(stderr, "paycode sim:", err)
			return 1
		}
		defer pf.Close()
		if err := pprof.StartCPUProfile(pf); err != nil {
			fmt.Fprintln(stderr, "paycode sim:", err)
			return 1
		}
		defer pprof.StopCPUProfile()
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	<-ctx.Done()
	return 0
}

// setSimLatency sets every wallet's latency per the -latency flag.
func setSimLatency(wallets []mppsim.WalletConfig, spec string) error {
	var l mppsim.Latency
	switch spec {
	case "default":
		return nil
	case "zero":
	case "typical":
		l = mppsim.TypicalLatency()
	default:
		lo, hi, ok := strings.Cut(spec, "-")
		mn, err1 := time.ParseDuration(lo)
		mx, err2 := time.ParseDuration(hi)
		if !ok || err1 != nil || err2 != nil || mn <= 0 || mx < mn {
			return fmt.Errorf("-latency %q: want default, zero, typical or MIN-MAX (e.g. 50ms-300ms)", spec)
		}
		med := time.Duration(math.Sqrt(float64(mn) * float64(mx)))
		l = mppsim.Latency{Min: mn, Median: med, P99: mx, Max: mx}
	}
	for i := range wallets {
		wallets[i].Latency = l
	}
	return nil
}

// startSimWallets starts the embedded default's simulated wallets for
// serve's sim mode and returns them as the node's wallets; the caller
// closes them after the node.
func startSimWallets() ([]server.WalletConfig, func() error, error) {
	wallets, sim, err := stack.StartSim(stack.Config{})
	if err != nil {
		return nil, nil, err
	}
	return wallets, sim.Close, nil
}

// runSimSettlement fetches the simulated wallets' settlement file from a
// running paycode sim (`paycode sim settlement`).
func runSimSettlement(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("sim settlement", flag.ContinueOnError)
	fs.SetOutput(stderr)
	from := fs.String("from", "http://127.0.0.1:7000", "a running paycode sim: its identification service (all wallets) or one wallet's URL")
	date := fs.String("date", "", "settlement day, YYYY-MM-DD (required)")
	tz := fs.String("tz", "UTC", "time zone of the settlement day")
	out := fs.String("o", "", "output file; default standard output")
	timeout := fs.Duration("timeout", 10*time.Second, "request timeout")
	fs.Usage = func() {
		fmt.Fprintf(stderr, "usage: paycode sim settlement -date YYYY-MM-DD [-from URL] [-tz UTC] [-o FILE]\n\nFetches the simulated wallets' own settlement file for a day (GET %s).\n\n", mppsim.SettlementPath)
		fs.PrintDefaults()
	}
	if rc, ok := parseFlags(fs, args); !ok {
		return rc
	}
	if _, err := settle.ParseDay(*date, nil); err != nil {
		fmt.Fprintln(stderr, "paycode sim settlement: -date:", err)
		return 2
	}
	if _, err := settle.LoadLocation(*tz); err != nil {
		fmt.Fprintln(stderr, "paycode sim settlement:", err)
		return 2
	}
	b, err := mppsim.FetchSettlement(*from, *date, *tz, *timeout)
	if err != nil {
		fmt.Fprintln(stderr, "paycode sim settlement:", err)
		return 1
	}
	if err := writeOut(*out, b, stdout); err != nil {
		fmt.Fprintln(stderr, "paycode sim settlement:", err)
		return 1
	}
	return 0
}

// settlementOr serves GET mppsim.SettlementPath with the wallets'
// settlement file and everything else with h.
func settlementOr(h fasthttp.RequestHandler, wallets ...*mppsim.Wallet) fasthttp.RequestHandler {
	sh := mppsim.SettlementHandler(wallets...)
	return func(ctx *fasthttp.RequestCtx) {
		if string(ctx.Path()) == mppsim.SettlementPath {
			sh(ctx)
			return
		}
		h(ctx)
	}
}

// simWalletsComment tells `config print` which wallets sim mode runs:
// their ports are chosen at start, so they are a comment, not settings
// (GET /admin/wallets lists them with their URLs while serve runs).
func simWalletsComment() string {
	var b strings.Builder
	b.WriteString("# sim: serve starts these simulated wallets on free loopback ports and pays\n# through them (GET /admin/wallets lists their URLs); they charge nobody:\n")
	for _, w := range stack.DefaultSimWallets() {
		fmt.Fprintf(&b, "#   - {name: %s, brand: %q, latency: %s median}\n", w.Name, w.Brand, w.Latency.Median)
	}
	return b.String()
}
