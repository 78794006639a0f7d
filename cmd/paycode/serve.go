package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"os"
	"os/signal"
	"slices"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/mattn/go-isatty"
	"github.com/valyala/fasthttp"

	"github.com/paycode/paycode/codec"
	"github.com/paycode/paycode/engine"
	"github.com/paycode/paycode/engine/httpapi"
	"github.com/paycode/paycode/engine/metrics"
	"github.com/paycode/paycode/loadtest/stack"
)

const serveUsage = `usage: paycode serve [-config FILE] [flags]

Runs the payment engine. Every setting is a flag, a PAYCODE_… environment
variable and a key of the config file (precedence in that order; see
testdata/paycode.example.yaml and 'paycode config print').

SIGHUP (or POST /admin/reload on the admin listener, with adminToken)
reloads the routing rules and the lane clients' keys. SIGTERM or SIGINT drains: /readyz turns
503, the lane listener closes, requests in flight finish within
shutdown.drainTimeout, the journal is closed, and paycode exits 0.

`

func runServe(args []string, stdout, stderr io.Writer) int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	return serve(ctx, args, stdout, stderr)
}

// serve runs paycode until ctx is done (SIGTERM, SIGINT), then shuts down
// gracefully. It returns the exit status: 0 after a clean shutdown, 2 for
// a configuration error, 1 when it could not start or stop cleanly.
func serve(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	cfg, cfgPath, err := parseServeConfig("serve", args, stderr, serveUsage)
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		fmt.Fprintln(stderr, "paycode serve:", err)
		return 2
	}
	if err := cfg.Validate(); err != nil {
		fmt.Fprint(stderr, problems("paycode serve: invalid configuration", err))
		return 2
	}
	log := newLogger(stderr, cfg.Log.Format, cfg.Log.Level)
	if cfg.Shutdown.DrainTimeout < cfg.Engine.PayTimeout {
		log.Warn("shutdown.drainTimeout is shorter than engine.payTimeout: a drain may cut pays in flight",
			"drain_timeout", cfg.Shutdown.DrainTimeout, "pay_timeout", cfg.Engine.PayTimeout)
	}
	sec, laneTLS, signer, err := cfg.security()
	if err != nil {
		fmt.Fprintln(stderr, "paycode serve:", err)
		return 2
	}

	var jr engine.Journal
	var codeKey []byte
	if cfg.Memory {
		log.Warn("memory: payments are kept in memory only; a restart forgets them")
	} else {
		j, key, err := openStore(ctx, journalSpec{DSN: cfg.Journal, Data: cfg.Data, Node: cfg.Node, LeaseTTL: cfg.LeaseTTL, SyncWindow: cfg.SyncWindow}, log)
		if err != nil {
			fmt.Fprintln(stderr, "paycode serve:", err)
			return 1
		}
		if sj, ok := j.(engine.SharedJournal); ok {
			j = releasingJournal{SharedJournal: sj, log: log}
		}
		jr, codeKey = j, key
	}

	ec := cfg.engineConfig()
	ec.Failpoint = failpointFromEnv(log)
	// Fail-stop: a journal that cannot write ends the process; the
	// restart recovers from what was synced.
	// During shutdown, the journal is closed under pays that outlived the
	// drain timeout: their intents are durable and the restart asks their
	// wallets, so that is no reason to exit 3 (serve returns 1 for it).
	var closing atomic.Bool
	ec.OnFatal = func(err error) {
		if closing.Load() {
			log.Warn("a pay in flight past the drain timeout could not journal its outcome; the restart recovers it", "err", err)
			return
		}
		log.Error("fatal journal error: exiting", "err", err)
		os.Exit(3)
	}
	outcomes := newOutcomes() // the status page's recent outcomes (admin.go)
	ec.OnOutcome = outcomes.Outcome
	nc := cfg.Notify
	if len(cfg.Wallets) == 0 {
		// The embedded simulated wallets: trying paycode on one machine,
		// notifications may go to a local receiver over http (never to
		// paycode's own listeners: stack and the admin below refuse them).
		nc.AllowHTTP = true
		nc.Allow = append(slices.Clip(nc.Allow), "127.0.0.0/8", "::1")
	}
	limits, _ := codec.NewAmountLimits(cfg.Limits.MaxAmount) // validated
	// The admin listener opens first, so that no notification — one
	// recovered from the journal included — can ever be sent to it.
	var adminLn net.Listener
	if cfg.Admin != "" {
		if adminLn, err = net.Listen("tcp", cfg.Admin); err != nil {
			fmt.Fprintln(stderr, "paycode serve: admin:", err)
			return 1
		}
		defer adminLn.Close()
		nc.Own = append(slices.Clip(nc.Own), adminLn.Addr().String())
	}
	adminAuth, _ := metrics.NewAdminAuth(cfg.AdminToken, cfg.AdminAllow)
	st, err := stack.Start(stack.Config{
		Listen:       cfg.Listen,
		Wallets:      cfg.Wallets,
		Logger:       log,
		Journal:      jr,
		CodeKey:      codeKey,
		Ident:        cfg.identConfig(),
		Engine:       ec,
		Security:     sec,
		TLS:          laneTLS,
		WalletSigner: signer,
		Notify:       nc,
		AmountLimits: limits,
	})
	if err != nil {
		fmt.Fprintln(stderr, "paycode serve:", err)
		return 1
	}
	closed := false
	defer func() {
		if !closed {
			st.Close()
		}
	}()
	if jr != nil {
		log.Info("journal open", "journal", journalName(cfg), "recovered_payments", st.Recovered.Payments, "pending", st.Recovered.Pending)
	}

	reload := reloader(cfg, cfgPath, args, st, log)
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	go func() {
		for range hup {
			reload(context.Background())
		}
	}()

	var ops *metrics.Admin
	if adminLn != nil {
		ln := adminLn
		var h fasthttp.RequestHandler
		ops, h = newAdmin(st, reload, adminAuth, outcomes)
		adminSrv := &fasthttp.Server{Handler: h, Name: "paycode-admin", ReadTimeout: 10 * time.Second,
			Logger: httpapi.FastHTTPLogger(log, "admin"), SecureErrorLogMessage: true}
		go adminSrv.Serve(ln)
		defer adminSrv.Shutdown()
		log.Info("admin listening", "addr", ln.Addr().String())
	}

	log.Info("paycode serving", "version", versionString(), "lane", st.URL(), "engine", engineString(st.Engine))
	if st.Sim != nil {
		for _, n := range st.Sim.Names() {
			log.Info("simulated wallet", "name", n, "url", st.Sim.URL(n))
		}
	}
	fmt.Fprint(stdout, curlExample(st.URL()))

	select {
	case <-ctx.Done():
	case err := <-st.Err():
		log.Error("lane server stopped", "err", err)
		return 1
	}

	// Graceful shutdown: not ready at once, stop accepting, let requests
	// in flight finish, then stop the follow-up loop and close the journal
	// (pending follow-ups are in it already; a shared journal releases
	// their leases first, see releasingJournal).
	start := time.Now()
	log.Info("shutting down: draining lane requests", "drain_timeout", cfg.Shutdown.DrainTimeout)
	if ops != nil {
		ops.SetDraining(true)
	}
	dctx, cancel := context.WithTimeout(context.Background(), cfg.Shutdown.DrainTimeout)
	drainErr := st.Server.ShutdownWithContext(dctx)
	cancel()
	if drainErr != nil {
		log.Error("drain timeout passed with lane requests in flight: closing under them", "err", drainErr)
	}
	pending := st.Engine.FollowUps()
	closed = true
	closing.Store(true)
	if err := st.Close(); err != nil {
		log.Error("shutdown", "err", err)
		return 1
	}
	log.Info("stopped", "drained_in", time.Since(start).Round(time.Millisecond), "follow_ups_left_in_journal", pending)
	if drainErr != nil {
		return 1
	}
	return 0
}

// reloader returns the reload of SIGHUP and POST /admin/reload: the
// routing rules, then the lane clients' keys from the config file read
// again (with the same flags and environment). Each part that fails
// keeps what it had and is logged; the errors are returned joined.
func reloader(cfg *serveConfig, cfgPath string, args []string, st *stack.Stack, log *slog.Logger) func(context.Context) error {
	return func(ctx context.Context) error {
		var errs []error
		if err := st.Ident.Reload(ctx); err != nil {
			log.Error("routing rules reload failed; the old rules stay", "err", err)
			errs = append(errs, err)
		} else {
			log.Info("routing rules reloaded; identification cache dropped")
		}
		if cfgPath == "" {
			return errors.Join(errs...)
		}
		if err := reloadKeys(cfg, args, st.API); err != nil {
			log.Error("client keys reload failed; the old keys stay", "err", err)
			errs = append(errs, err)
		} else {
			log.Info("client keys reloaded", "config", cfgPath)
		}
		return errors.Join(errs...)
	}
}

// reloadKeys reads the configuration again and swaps the lane's security
// (clients, policies, keys). Requests in flight finish with the old one.
// Settings other than the keys take effect at the next start only; a
// change of paycode's own key or of the admission limits is refused.
func reloadKeys(old *serveConfig, args []string, api *httpapi.Server) error {
	c, _, err := parseServeConfig("serve", args, io.Discard, "")
	if err != nil {
		return err
	}
	if err := c.Validate(); err != nil {
		return fmt.Errorf("%s", problems("invalid configuration", err))
	}
	if c.Listen != old.Listen {
		return errors.New("listen changed: restart to apply it")
	}
	sec, _, _, err := c.security()
	if err != nil {
		return err
	}
	if sec == nil {
		sec = &httpapi.Security{Default: &httpapi.Client{Policy: httpapi.PolicyNone}} // as stack.Start
	}
	return api.SetSecurity(*sec)
}

// releasingJournal is a shared journal whose Close first releases this
// node's leases, so other nodes take the pending work over at once
// instead of after the lease expires. Close comes after the follow-up
// loop stopped (stack.Close), so no lease is taken again.
type releasingJournal struct {
	engine.SharedJournal
	log *slog.Logger
}

func (j releasingJournal) Close() error {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	err := j.Release(ctx)
	if err != nil {
		j.log.Error("releasing leases failed: other nodes take this node's payments over after the lease", "err", err)
	} else {
		j.log.Info("leases released to the other nodes")
	}
	return errors.Join(err, j.SharedJournal.Close())
}

// journalName describes the journal for logs, without secrets.
func journalName(c *serveConfig) string {
	if c.Journal != "" {
		return redactDSN(c.Journal)
	}
	return "pebble:" + c.Data
}

// newLogger returns serve's logger on w: JSON, or text when format is
// text, or auto and w is a terminal. The level was validated.
func newLogger(w io.Writer, format, level string) *slog.Logger {
	lvl, _ := parseLevel(level)
	opts := &slog.HandlerOptions{Level: lvl}
	if format == "text" || (format == "auto" && isTerminal(w)) {
		return slog.New(slog.NewTextHandler(w, opts))
	}
	return slog.New(slog.NewJSONHandler(w, opts))
}

func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && (isatty.IsTerminal(f.Fd()) || isatty.IsCygwinTerminal(f.Fd()))
}

// problems lists the errors of a joined error, one a line.
func problems(title string, err error) string {
	s := title + ":\n"
	for _, e := range unjoin(err) {
		s += "  - " + e.Error() + "\n"
	}
	return s
}

// curlExample prints a pay request with a fresh test code ending in 00
// (success, see the README's test-code table) and a fresh request id.
func curlExample(base string) string {
	code := fmt.Sprintf("28100102%014d00", rand.Int64N(1e14))
	reqID := fmt.Sprintf("demo-%d", time.Now().UnixNano())
	body := fmt.Sprintf(`{"productCode":"IN_STORE_PAYMENT","paymentRequestId":"%s","order":{"orderDescription":"2 x coffee","orderAmount":{"currency":"HKD","value":"5600"},"merchant":{"referenceMerchantId":"M0001","merchantMCC":"5814","merchantName":"Demo Cafe","store":{"referenceStoreId":"S01","storeName":"Demo Cafe Central","storeMCC":"5814"}},"env":{"storeTerminalId":"LANE-07","storeTerminalRequestTime":"2026-11-26T10:40:00+08:00"}},"paymentAmount":{"currency":"HKD","value":"5600"},"paymentMethod":{"paymentMethodType":"CONNECT_WALLET","paymentMethodId":"%s"},"paymentFactor":{"inStorePaymentScenario":"PaymentCode"}}`, reqID, code)
	return fmt.Sprintf(`
paycode is ready. Pay with a test code (ending 00: success) from another terminal:

curl -s %s/ams/api/v1/payments/pay -H 'content-type: application/json' -H 'client-id: DEMO_CLIENT' -d '%s'

then ask for it:

curl -s %s/ams/api/v1/payments/inquiryPayment -H 'content-type: application/json' -H 'client-id: DEMO_CLIENT' -d '{"paymentRequestId":"%s"}'

`, base, body, base, reqID)
}

// engineString prints the engine's configuration.
func engineString(e *engine.Engine) string {
	c := e.Config()
	return c.String()
}
