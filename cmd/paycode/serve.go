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
	"strings"
	"syscall"
	"time"

	"github.com/valyala/fasthttp"
	"go.yaml.in/yaml/v3"

	"github.com/paycode/paycode/engine"
	"github.com/paycode/paycode/engine/ident"
	"github.com/paycode/paycode/loadtest/stack"
)

// serveConfig is the -config file (YAML). Every field is optional; flags
// given on the command line win over the file.
type serveConfig struct {
	Listen string `yaml:"listen"`
	Admin  string `yaml:"admin"`
	Data   string `yaml:"data"`
	Node   int    `yaml:"node"`
	Engine struct {
		PayTimeout        time.Duration   `yaml:"payTimeout"`
		WalletCallTimeout time.Duration   `yaml:"walletCallTimeout"`
		FollowUpDeadline  time.Duration   `yaml:"followUpDeadline"`
		CancelWindow      time.Duration   `yaml:"cancelWindow"`
		RefundWindow      time.Duration   `yaml:"refundWindow"`
		FollowUpWorkers   int             `yaml:"followUpWorkers"`
		MaxFollowUps      int             `yaml:"maxFollowUps"`
		PollSchedule      []time.Duration `yaml:"pollSchedule"`
		NotifySchedule    []time.Duration `yaml:"notifySchedule"`
		Retention         time.Duration   `yaml:"retention"`
		AsyncOutcomes     bool            `yaml:"asyncOutcomes"`
	} `yaml:"engine"`
	Identification struct {
		RulesFile     string        `yaml:"rulesFile"`
		ServiceURL    string        `yaml:"serviceURL"`
		TTL           time.Duration `yaml:"ttl"`
		NegativeTTL   time.Duration `yaml:"negativeTTL"`
		SourceTimeout time.Duration `yaml:"sourceTimeout"`
		MaxEntries    int64         `yaml:"maxEntries"`
	} `yaml:"identification"`
	// Wallets to connect to; none means the embedded simulated wallets.
	Wallets []stack.WalletConfig `yaml:"wallets"`
	// Keys: signatures, lane clients, TLS (security.go). Absent: every
	// client id is trusted, allowed on loopback only.
	Keys *keysConfig `yaml:"keys"`
}

func loadServeConfig(path string) (*serveConfig, error) {
	c := &serveConfig{}
	if path == "" {
		return c, nil
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	dec := yaml.NewDecoder(strings.NewReader(string(b)))
	dec.KnownFields(true)
	if err := dec.Decode(c); err != nil && !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("config %s: %w", path, err)
	}
	return c, nil
}

func runServe(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(stderr)
	listen := fs.String("listen", "127.0.0.1:8080", "lane API address")
	admin := fs.String("admin", "127.0.0.1:9090", "admin address (health, reload, stats); empty disables it")
	cfgPath := fs.String("config", "", "config file (YAML); without it paycode runs the embedded default with simulated wallets")
	data := fs.String("data", "paycode-data", "directory of the durable journal (Pebble); created if missing")
	memOnly := fs.Bool("memory", false, "keep payments in memory only (no journal): for experiments, never for real money")
	var sf secFlags
	fs.StringVar(&sf.tlsCert, "tls-cert", "", "TLS certificate (PEM) for the lane listener; the Java and Python SDKs speak only HTTPS")
	fs.StringVar(&sf.tlsKey, "tls-key", "", "TLS private key (PEM) for -tls-cert")
	fs.StringVar(&sf.clientCA, "client-ca", "", "CA certificates (PEM): require lane client certificates signed by them (mTLS)")
	fs.BoolVar(&sf.allowNone, "allow-none", false, "allow client ids without signatures (policy none) on a non-loopback lane listener")
	fs.Usage = func() {
		fmt.Fprintf(stderr, "usage: paycode serve [flags]\n\nRuns the payment engine. SIGHUP (or POST /admin/reload on the admin\nlistener) reloads the routing rules and drops the identification cache.\n\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })

	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))
	fc, err := loadServeConfig(*cfgPath)
	if err != nil {
		fmt.Fprintln(stderr, "paycode serve:", err)
		return 2
	}
	if fc.Listen != "" && !set["listen"] {
		*listen = fc.Listen
	}
	if fc.Admin != "" && !set["admin"] {
		*admin = fc.Admin
	}
	if fc.Data != "" && !set["data"] {
		*data = fc.Data
	}
	var kc keysConfig
	if fc.Keys != nil {
		kc = *fc.Keys
	}
	sec, laneTLS, signer, err := buildSecurity(kc, sf, *listen, fc.Keys != nil)
	if err != nil {
		fmt.Fprintln(stderr, "paycode serve:", err)
		return 2
	}

	var jr engine.Journal
	var codeKey []byte
	if *memOnly {
		log.Warn("-memory: payments are kept in memory only; a restart forgets them")
	} else {
		j, err := openJournal(*data, log)
		if err != nil {
			fmt.Fprintln(stderr, "paycode serve:", err)
			return 1
		}
		jr, codeKey = j, j.CodeKey()
	}

	cfg := stack.Config{
		Listen:  *listen,
		Wallets: fc.Wallets,
		Logger:  log,
		Journal: jr,
		CodeKey: codeKey,
		Ident: ident.Config{
			RulesFile: fc.Identification.RulesFile, ServiceURL: fc.Identification.ServiceURL,
			TTL: fc.Identification.TTL, NegativeTTL: fc.Identification.NegativeTTL,
			SourceTimeout: fc.Identification.SourceTimeout, MaxEntries: fc.Identification.MaxEntries,
		},
		Engine: engine.Config{
			Node:       fc.Node,
			PayTimeout: fc.Engine.PayTimeout, WalletCallTimeout: fc.Engine.WalletCallTimeout,
			FollowUpDeadline: fc.Engine.FollowUpDeadline, CancelWindow: fc.Engine.CancelWindow,
			RefundWindow: fc.Engine.RefundWindow, FollowUpWorkers: fc.Engine.FollowUpWorkers,
			MaxFollowUps: fc.Engine.MaxFollowUps,
			PollSchedule: fc.Engine.PollSchedule, NotifySchedule: fc.Engine.NotifySchedule,
			Retention: fc.Engine.Retention, AsyncOutcomes: fc.Engine.AsyncOutcomes,
			Failpoint: failpointFromEnv(log),
			// Fail-stop: a journal that cannot write ends the process; the
			// restart recovers from what was synced.
			OnFatal: func(err error) {
				log.Error("fatal journal error: exiting", "err", err)
				os.Exit(3)
			},
		},
	}
	cfg.Security, cfg.TLS, cfg.WalletSigner = sec, laneTLS, signer
	st, err := stack.Start(cfg)
	if err != nil {
		fmt.Fprintln(stderr, "paycode serve:", err)
		return 1
	}
	defer st.Close()
	ec := st.Engine.Config()
	if jr != nil {
		log.Info("journal open", "data", *data, "recovered_payments", st.Recovered.Payments, "pending", st.Recovered.Pending)
	}
	log.Info("paycode serving", "version", versionString(), "lane", st.URL(), "engine", ec.String())
	if st.Sim != nil {
		for _, n := range st.Sim.Names() {
			log.Info("simulated wallet", "name", n, "url", st.Sim.URL(n))
		}
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	reload := func(ctx context.Context) error {
		err := st.Ident.Reload(ctx)
		if err != nil {
			log.Error("routing rules reload failed; the old rules stay", "err", err)
		} else {
			log.Info("routing rules reloaded; identification cache dropped")
		}
		return err
	}
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	go func() {
		for range hup {
			reload(context.Background())
		}
	}()

	var adminSrv *fasthttp.Server
	if *admin != "" {
		ln, err := net.Listen("tcp", *admin)
		if err != nil {
			fmt.Fprintln(stderr, "paycode serve: admin:", err)
			return 1
		}
		adminSrv = &fasthttp.Server{Handler: adminHandler(st, reload), Name: "paycode-admin", ReadTimeout: 10 * time.Second}
		go adminSrv.Serve(ln)
		defer adminSrv.Shutdown()
		log.Info("admin listening", "addr", ln.Addr().String())
	}

	fmt.Fprint(stdout, curlExample(st.URL()))

	select {
	case <-ctx.Done():
		log.Info("shutting down")
	case err := <-st.Err():
		if err != nil {
			log.Error("lane server stopped", "err", err)
			return 1
		}
	}
	return 0
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
