package main

import (
	"context"
	"crypto/tls"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"os"
	"os/signal"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/mattn/go-isatty"

	"github.com/paycode/paycode/codec"
	"github.com/paycode/paycode/engine"
	"github.com/paycode/paycode/engine/admin"
	"github.com/paycode/paycode/engine/httpapi"
	"github.com/paycode/paycode/engine/server"
)

const serveUsage = `usage: paycode serve [-config FILE] [flags]

Runs the payment engine. Every setting is a flag, a PAYCODE_… environment
variable and a key of the config file (precedence in that order; see
testdata/paycode.example.yaml and 'paycode config print').

SIGHUP (or POST /admin/reload on the admin listener, with adminToken)
reloads the routing rules and the lane clients' keys. SIGTERM or SIGINT drains: /readyz turns
503, the lane listener closes, requests in flight finish within
shutdown.drainTimeout, the journal is closed, and paycode exits 0. During
start-up (before "paycode serving") they end it at once with exit 1. It
refuses to start (exit 1) on a data directory whose filesystem lacks the
space to open the journal (see docs/operations.md, "Start-up").

`

func runServe(args []string, stdout, stderr io.Writer) int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	return serve(ctx, args, stdout, stderr)
}

// serve runs paycode until ctx is done (SIGTERM, SIGINT), then shuts down
// gracefully. It returns the exit status: 0 after a clean shutdown, 2 for
// a configuration error, 1 when it could not start (a signal while the
// journal opens included) or stop cleanly.
func serve(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	cfg, cfgPath, err := parseServeConfig("serve", args, stderr, serveUsage)
	if err != nil && !isFileProblems(err) {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		if cfg == nil && cfgPath == "" {
			fmt.Fprintln(stderr, flagError("serve", err))
		} else {
			fmt.Fprintln(stderr, "paycode serve:", err)
		}
		return 2
	}
	if err := errors.Join(err, cfg.Validate()); err != nil {
		fmt.Fprint(stderr, problems("paycode serve: invalid configuration", err))
		return 2
	}
	logw, flushLog := stderr, func() {}
	if !isTerminal(stderr) {
		lb := newLineBuffer(stderr, logFlushInterval)
		defer lb.Close()
		logw, flushLog = lb, func() { _ = lb.Flush() }
	}
	log := newLogger(logw, cfg.Log.Format, cfg.Log.Level)
	if cfg.Shutdown.DrainTimeout < cfg.Engine.PayTimeout {
		log.Warn("shutdown.drainTimeout is shorter than engine.payTimeout: a drain may cut pays in flight",
			"drain_timeout", cfg.Shutdown.DrainTimeout, "pay_timeout", cfg.Engine.PayTimeout)
	}
	for _, w := range cfg.operatorWarnings(cfgPath) {
		log.Warn(w)
	}
	sec, laneTLS, signer, err := cfg.security()
	if err != nil {
		fmt.Fprintln(logw, "paycode serve:", err)
		return 2
	}

	var jr engine.SharedJournal
	var codeKey []byte
	if cfg.Memory {
		log.Warn("memory: payments are kept in memory only; a restart forgets them")
	} else {
		j, key, err := openJournalUnlessStopped(ctx, cfg.journalConfig(log))
		if err != nil {
			fmt.Fprintln(logw, "paycode serve:", err)
			return 1
		}
		jr, codeKey = j, key
	}

	ec := cfg.engineConfig()
	ec.Failpoint = failpointFromEnv(log)
	// Fail-stop: a journal that cannot write ends the process; the
	// restart recovers from what was synced. (During shutdown the node
	// logs such errors instead: see server.Node.Close.)
	ec.OnFatal = func(err error) {
		log.Error("fatal journal error: exiting", "err", err)
		os.Exit(3)
	}
	notify := cfg.Notify
	if cfg.simulated() {
		// Trying paycode on one machine: notifications may go to a local
		// receiver over http (never to paycode's own listeners, which the
		// node refuses).
		notify.AllowHTTP = true
		notify.Allow = append(slices.Clip(notify.Allow), "127.0.0.0/8", "::1")
	}
	limits, _ := codec.NewAmountLimits(cfg.Limits.MaxAmount) // validated
	adminAuth, _ := admin.NewAuth(cfg.AdminToken, cfg.AdminAllow)
	var node *server.Node
	nc := server.Config{
		Listen:       cfg.Listen,
		Admin:        cfg.Admin,
		Wallets:      cfg.Wallets,
		Logger:       log,
		Journal:      jr,
		CodeKey:      codeKey,
		Ident:        cfg.identConfig(),
		Engine:       ec,
		Security:     sec,
		TLS:          laneTLS,
		WalletSigner: signer,
		Version:      versionString(),
		Notify:       notify,
		AmountLimits: limits,
		AdminAuth:    adminAuth,
		Reload: func(context.Context) error {
			if cfgPath == "" {
				return nil
			}
			if err := reloadKeys(cfg, args, node.API); err != nil {
				log.Error("client keys reload failed; the old keys stay", "err", err)
				return err
			}
			log.Info("client keys reloaded", "config", cfgPath)
			return nil
		},
	}
	if cfg.simulated() {
		wallets, closeSim, err := startSimWallets()
		if err != nil {
			if jr != nil {
				jr.Close()
			}
			fmt.Fprintln(logw, "paycode serve:", err)
			return 1
		}
		defer closeSim()
		nc.Wallets = wallets
		nc.TestCodes = simTestCodes{prefix: strings.TrimPrefix(wallets[0].Name, "mpp-")}
		names := make([]string, len(wallets))
		for i, w := range wallets {
			names[i] = w.Name
		}
		log.Warn("sim: paying through simulated wallets that approve test codes and charge nobody; never for real money (configure wallets and leave sim off)",
			"wallets", names)
	}
	node, err = server.Start(nc)
	if err != nil {
		fmt.Fprintln(logw, "paycode serve:", err)
		return 1
	}
	defer node.Close()
	if jr != nil {
		log.Info("journal open", "journal", cfg.journalConfig(nil).String(), "recovered_payments", node.Recovered.Payments, "pending", node.Recovered.Pending)
	}

	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	go func() {
		for range hup {
			node.Reload(context.Background())
		}
	}()

	log.Info("paycode serving", "version", versionString(), "lane", node.URL(), "engine", engineString(node.Engine))
	for _, w := range nc.Wallets {
		if w.Simulated {
			log.Info("simulated wallet", "name", w.Name, "url", w.URL)
		}
	}
	flushLog() // the start-up lines at once: scripts wait for "paycode serving"
	if cfg.simulated() {
		if curlPays(sec, laneTLS) {
			fmt.Fprint(stdout, curlExample(node.URL()))
		} else {
			fmt.Fprintf(stdout, "paycode is ready at %s; with its lane keys or TLS an unsigned curl would be refused: pay with signed requests through an SDK, see docs/clients.md\n", node.URL())
		}
	}

	select {
	case <-ctx.Done():
	case err := <-node.Err():
		log.Error("lane server stopped", "err", err)
		return 1
	}

	// Graceful shutdown (server.Node.Shutdown): not ready at once, stop
	// accepting, let requests in flight finish, then stop the follow-up
	// loop and close the journal (pending follow-ups are in it already).
	log.Info("shutting down: draining lane requests", "drain_timeout", cfg.Shutdown.DrainTimeout)
	dctx, cancel := context.WithTimeout(context.Background(), cfg.Shutdown.DrainTimeout)
	defer cancel()
	if err := node.Shutdown(dctx); err != nil {
		return 1
	}
	return 0
}

// openJournal opens the journal; tests replace it with one that blocks.
var openJournal = server.OpenJournal

// errStoppedOpening is a signal that came while the journal was opening.
var errStoppedOpening = errors.New("stopped by a signal while the journal was opening; nothing was served (the next start recovers the journal)")

// openJournalUnlessStopped is openJournal, given up when ctx ends first:
// Pebble's Open watches no context, and on a disk that is full it retries
// its recovery flush for ever (server.OpenReserve), so without this a
// SIGTERM during start-up would wait for systemd's SIGKILL. Giving up is
// safe: until Open returns nothing was answered, Open only recovers what
// is on disk (a crash at any point of it is one Pebble recovers from) and
// reads the journal's indexes, and the only record it may write, a new
// store's code key, is made again by the next start if it did not reach
// the disk (no payment refers to it yet). The caller exits; in tests, an
// Open that completes after all is closed.
func openJournalUnlessStopped(ctx context.Context, jc server.JournalConfig) (engine.SharedJournal, []byte, error) {
	type opened struct {
		j   engine.SharedJournal
		key []byte
		err error
	}
	done := make(chan opened, 1)
	go func() {
		j, key, err := openJournal(ctx, jc)
		done <- opened{j, key, err}
	}()
	select {
	case o := <-done:
		return o.j, o.key, o.err
	case <-ctx.Done():
		go func() {
			if o := <-done; o.j != nil {
				o.j.Close()
			}
		}()
		return nil, nil, errStoppedOpening
	}
}

// reloadKeys reads the configuration again and swaps the lane's security
// (clients, policies, keys). Requests in flight finish with the old one.
// Settings other than the keys take effect at the next start only; a
// change of paycode's own key or of the admission limits is refused.
func reloadKeys(old *serveConfig, args []string, api *httpapi.Server) error {
	c, _, err := parseServeConfig("serve", args, io.Discard, "")
	if err != nil && !isFileProblems(err) {
		return err
	}
	if err := errors.Join(err, c.Validate()); err != nil {
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
		sec = &httpapi.Security{Default: &httpapi.Client{Policy: httpapi.PolicyNone}} // as server.Start
	}
	return api.SetSecurity(*sec)
}

// journalConfig is the journal the settings select.
func (c *serveConfig) journalConfig(log *slog.Logger) server.JournalConfig {
	return server.JournalConfig{DSN: c.Journal, Dir: c.Data, Node: c.Node, LeaseTTL: c.LeaseTTL, SyncWindow: c.SyncWindow,
		CallTimeout: server.JournalCallTimeout(c.Engine.PayTimeout), Logger: log}
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

// demoClient is the client id of curlExample's requests.
const demoClient = "DEMO_CLIENT"

// curlPays reports whether curlExample's requests would be served: they
// are unsigned, for demoClient, over plain HTTP, so the lane must trust
// demoClient unsigned (no keys, a policy none entry, or defaultPolicy
// none) and serve no TLS.
func curlPays(sec *httpapi.Security, laneTLS *tls.Config) bool {
	if laneTLS != nil {
		return false
	}
	if sec == nil {
		return true
	}
	cl, listed := sec.Clients[demoClient]
	if !listed {
		cl = sec.Default
	}
	return cl != nil && cl.Policy == httpapi.PolicyNone
}

// curlExample prints a pay request with a fresh test code ending in 00
// (success, see the README's test-code table) and a fresh request id.
func curlExample(base string) string {
	code := fmt.Sprintf("28100102%014d00", rand.Int64N(1e14))
	reqID := fmt.Sprintf("demo-%d", time.Now().UnixNano())
	body := fmt.Sprintf(`{"productCode":"IN_STORE_PAYMENT","paymentRequestId":"%s","order":{"orderDescription":"2 x coffee","orderAmount":{"currency":"HKD","value":"5600"},"merchant":{"referenceMerchantId":"M0001","merchantMCC":"5814","merchantName":"Demo Cafe","store":{"referenceStoreId":"S01","storeName":"Demo Cafe Central","storeMCC":"5814"}},"env":{"storeTerminalId":"LANE-07","storeTerminalRequestTime":"2026-11-26T10:40:00+08:00"}},"paymentAmount":{"currency":"HKD","value":"5600"},"paymentMethod":{"paymentMethodType":"CONNECT_WALLET","paymentMethodId":"%s"},"paymentFactor":{"inStorePaymentScenario":"PaymentCode"}}`, reqID, code)
	return fmt.Sprintf(`
paycode is ready. Pay with a test code (ending 00: success) from another terminal:

curl -s %s/ams/api/v1/payments/pay -H 'content-type: application/json' -H 'client-id: %s' -d '%s'

then ask for it:

curl -s %s/ams/api/v1/payments/inquiryPayment -H 'content-type: application/json' -H 'client-id: %s' -d '{"paymentRequestId":"%s"}'

`, base, demoClient, body, base, demoClient, reqID)
}

// engineString prints the engine's configuration.
func engineString(e *engine.Engine) string {
	c := e.Config()
	return c.String()
}
