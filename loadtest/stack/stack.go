// Package stack assembles a whole paycode in one process: the engine, its
// wallet connectors, identification, the lane HTTP server, and optionally
// the simulated wallets it talks to over real loopback HTTP. It is what
// `paycode serve` runs with no config (the embedded default), what the
// end-to-end tests and benchmarks start, and what the load tool's embedded
// mode will start.
package stack

import (
	"context"
	"crypto/rsa"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"slices"
	"strings"
	"time"

	"github.com/valyala/fasthttp"

	"github.com/paycode/paycode/codec"
	"github.com/paycode/paycode/decode"
	"github.com/paycode/paycode/engine"
	"github.com/paycode/paycode/engine/httpapi"
	"github.com/paycode/paycode/engine/ident"
	"github.com/paycode/paycode/engine/mpp"
	"github.com/paycode/paycode/engine/notify"
	"github.com/paycode/paycode/engine/sign"
	"github.com/paycode/paycode/loadtest/mppsim"
)

// WalletConfig is one wallet paycode connects to.
type WalletConfig struct {
	Name        string        `yaml:"name"`
	URL         string        `yaml:"url"`
	MaxConns    int           `yaml:"maxConns"`
	MaxInFlight int           `yaml:"maxInFlight"`
	Timeout     time.Duration `yaml:"timeout"`
	AcquirerID  string        `yaml:"acquirerId"`
	PSPID       string        `yaml:"pspId"`
	// Signing is the wallet's policy: "rsa256" (sign requests with
	// Config.WalletSigner, verify answers with PublicKey) or "none" (the
	// default).
	Signing string `yaml:"signing"`
	// ClientID is paycode's client-id at the wallet (DefaultWalletClientID).
	ClientID string `yaml:"clientId"`
	// PublicKey is the wallet's public key (SPKI, base64 or PEM), inline
	// or read from PublicKeyFile.
	PublicKey     string `yaml:"publicKey"`
	PublicKeyFile string `yaml:"publicKeyFile"`
}

// DefaultWalletClientID is paycode's client-id towards wallets when a
// wallet's config names none.
const DefaultWalletClientID = "PAYCODE"

// verifier reads the wallet's public key.
func (wc WalletConfig) verifier() (*sign.Verifier, error) {
	var k *rsa.PublicKey
	var err error
	switch {
	case wc.PublicKey != "":
		k, err = sign.ParsePublicKey([]byte(wc.PublicKey))
	case wc.PublicKeyFile != "":
		k, err = sign.LoadPublicKey(wc.PublicKeyFile)
	default:
		return nil, errors.New("signing rsa256 needs the wallet's publicKey or publicKeyFile")
	}
	if err != nil {
		return nil, err
	}
	return sign.NewVerifier(map[string]*rsa.PublicKey{sign.DefaultKeyVersion: k})
}

// DefaultSimWallets are the embedded default's four simulated wallets, one
// per default routing prefix, each with its own latency profile so a run
// shows a fast wallet, a typical one, a slow one and a very fast one.
func DefaultSimWallets() []mppsim.WalletConfig {
	return []mppsim.WalletConfig{
		{Name: "mpp-281001", Brand: "SimPay One", Latency: mppsim.Latency{Min: 5 * time.Millisecond, Median: 20 * time.Millisecond, P99: 80 * time.Millisecond, Max: time.Second}},
		{Name: "mpp-281003", Brand: "SimPay Three", Latency: mppsim.Latency{Min: 10 * time.Millisecond, Median: 50 * time.Millisecond, P99: 250 * time.Millisecond, Max: 2 * time.Second}},
		{Name: "mpp-281010", Brand: "SimPay Ten", Latency: mppsim.Latency{Min: 30 * time.Millisecond, Median: 120 * time.Millisecond, P99: 900 * time.Millisecond, Max: 4 * time.Second}},
		{Name: "mpp-281011", Brand: "SimPay Eleven", Latency: mppsim.Latency{Min: 2 * time.Millisecond, Median: 8 * time.Millisecond, P99: 30 * time.Millisecond, Max: 500 * time.Millisecond}},
	}
}

// DefaultAcquirerID is the acquirerId paycode sends wallets when a wallet's
// config names none.
const DefaultAcquirerID = "PAYCODE"

// Config is a whole paycode.
type Config struct {
	// Listen is the lane API address; "" means 127.0.0.1:0. Ignored when
	// Listener is set.
	Listen   string
	Listener net.Listener
	// Wallets to connect to. When empty, Sim decides.
	Wallets []WalletConfig
	// Sim, when Wallets is empty, is the simulated wallets to start in
	// process (DefaultSimWallets when its Wallets are empty).
	Sim mppsim.Config
	// Ident configures identification (built-in default rules when zero).
	Ident ident.Config
	// Engine configures the engine; Wallets and Identifier are filled here.
	Engine engine.Config
	// NoFollowUpLoop leaves the follow-up loop stopped, for tests that
	// drive a manual clock with Engine.ProcessDue.
	NoFollowUpLoop bool
	// Journal makes the engine durable (nil: memory only); CodeKey keys
	// code hashes (give the journal's so single use survives restarts).
	// The journal is recovered before the lane listener opens, and closed
	// by Close.
	Journal engine.Journal
	CodeKey []byte
	// NoNotifier leaves notifications queued but unsent (tests that
	// deliver them with their own engine.Notifier set it in Engine).
	NoNotifier bool
	// Notify configures the notifier: timeouts, limits and where
	// notifications may go (notify.Config; Sign and Now are set here).
	// The lane listener and the simulated wallets are refused always.
	Notify notify.Config
	// AmountLimits are the per-currency maximum amounts of pays and
	// refunds (nil: codec.DefaultMaxAmount).
	AmountLimits *codec.AmountLimits
	Logger       *slog.Logger

	// Decoder configures the image decoder behind POST /v1/decode and pay
	// by image (decode's defaults when zero); NoDecoder leaves both off.
	Decoder   decode.Config
	NoDecoder bool

	// Security is the lane API's authentication and admission. Nil trusts
	// every client id (policy none) and signs nothing: the embedded demo
	// on loopback (the command refuses that on other addresses). Its
	// Signer also signs notifications to merchants.
	Security *httpapi.Security
	// TLS, when set, serves the lane API over TLS; its ClientAuth and
	// ClientCAs ask for client certificates (mTLS).
	TLS *tls.Config
	// WalletSigner is paycode's key towards wallets whose Signing is
	// rsa256 (usually the key that signs lane answers).
	WalletSigner *sign.Signer
	// SimSigning runs the simulated wallets signed: they verify paycode's
	// requests (WalletSigner's public key) and sign their answers with
	// SimWalletKey, and the connectors sign and verify. Without it the
	// simulated wallets run the cheap mode (no signatures).
	SimSigning   bool
	SimWalletKey *rsa.PrivateKey
}

// Stack is a running paycode.
type Stack struct {
	Engine  *engine.Engine
	Ident   *ident.Identifier
	API     *httpapi.Server
	Sim     *mppsim.Sim // nil when connected to external wallets
	Server  *fasthttp.Server
	Addr    string // lane API address (host:port)
	Wallets map[string]*mpp.Client
	Decoder *decode.Decoder // nil with Config.NoDecoder
	// Notifier is the notifier Start built (nil with NoNotifier or an
	// Engine.Notifier of the caller's): refuse further own listeners
	// with its Refuse.
	Notifier *notify.Notifier
	// Recovered is what the engine found in the journal at start.
	Recovered engine.RecoverStats
	journal   engine.Journal
	stop      context.CancelFunc
	serveErr  chan error
	ln        net.Listener
	tls       bool
}

// Start builds and starts a paycode per cfg.
func Start(cfg Config) (s *Stack, err error) {
	log := cfg.Logger
	if log == nil {
		log = slog.Default()
	}
	s = &Stack{Wallets: map[string]*mpp.Client{}, serveErr: make(chan error, 1)}
	defer func() {
		if err != nil {
			s.Close()
		}
	}()
	wallets := cfg.Wallets
	if len(wallets) == 0 {
		sc := cfg.Sim
		if len(sc.Wallets) == 0 {
			sc.Wallets = DefaultSimWallets()
		}
		var simPub string
		if cfg.SimSigning {
			if simPub, err = signSim(&sc, cfg); err != nil {
				return s, err
			}
		}
		if s.Sim, err = mppsim.Start(sc); err != nil {
			return s, err
		}
		for _, n := range s.Sim.Names() {
			wc := WalletConfig{Name: n, URL: s.Sim.URL(n)}
			if cfg.SimSigning {
				wc.Signing, wc.PublicKey = "rsa256", simPub
			}
			wallets = append(wallets, wc)
		}
	}
	ec := cfg.Engine
	ec.EnsureDefaults()
	ec.Logger = log
	ec.Wallets = map[string]engine.Wallet{}
	for _, wc := range wallets {
		if wc.AcquirerID == "" {
			wc.AcquirerID = DefaultAcquirerID
		}
		if wc.PSPID == "" {
			wc.PSPID = wc.Name
		}
		timeout := wc.Timeout
		if timeout == 0 {
			timeout = ec.PayTimeout
		}
		mc := mpp.Config{Name: wc.Name, BaseURL: wc.URL, MaxConns: wc.MaxConns, MaxInFlight: wc.MaxInFlight,
			Timeout: timeout, AcquirerID: wc.AcquirerID, PSPID: wc.PSPID}
		if err := walletSigning(&mc, wc, cfg.WalletSigner); err != nil {
			return s, fmt.Errorf("wallet %s: %w", wc.Name, err)
		}
		c, err := mpp.New(mc)
		if err != nil {
			return s, fmt.Errorf("wallet %s: %w", wc.Name, err)
		}
		s.Wallets[wc.Name] = c
		ec.Wallets[wc.Name] = c
	}
	if s.Ident, err = ident.New(cfg.Ident); err != nil {
		return s, err
	}
	ec.Identifier = s.Ident
	ec.Journal = cfg.Journal
	if cfg.CodeKey != nil {
		ec.CodeKey = cfg.CodeKey
	}
	if ec.Notifier == nil && !cfg.NoNotifier {
		nc := cfg.Notify
		nc.Now = ec.Clock.Now
		// The lane listener is refused before the engine recovers any
		// notification (its address is added again once known).
		nc.Own = slices.Clone(nc.Own)
		if cfg.Listener != nil {
			nc.Own = append(nc.Own, cfg.Listener.Addr().String())
		} else if cfg.Listen != "" && !strings.HasSuffix(cfg.Listen, ":0") {
			nc.Own = append(nc.Own, cfg.Listen)
		}
		if cfg.Security != nil && cfg.Security.Signer != nil {
			nc.Sign = cfg.Security.Signer.SignPOST // spec §4.5
		}
		if s.Notifier, err = notify.New(nc); err != nil {
			return s, err
		}
		if s.Sim != nil {
			for _, n := range s.Sim.Names() {
				if err := s.Notifier.Refuse(strings.TrimPrefix(s.Sim.URL(n), "http://")); err != nil {
					return s, err
				}
			}
		}
		ec.Notifier = s.Notifier
	}
	s.journal = cfg.Journal
	if s.Engine, err = engine.New(ec); err != nil {
		return s, err
	}
	if s.Recovered, err = s.Engine.Recover(context.Background()); err != nil {
		return s, err
	}
	ctx, stop := context.WithCancel(context.Background())
	s.stop = stop
	if !cfg.NoFollowUpLoop {
		s.Engine.Start(ctx)
	}
	s.API = httpapi.New(s.Engine, log)
	s.API.SetAmountLimits(cfg.AmountLimits)
	if s.Notifier != nil {
		s.API.SetNotifyCheck(s.Notifier.CheckURL)
	}
	if !cfg.NoDecoder {
		if s.Decoder, err = decode.New(cfg.Decoder); err != nil {
			return s, err
		}
		s.API.SetDecoder(s.Decoder) // before NewFastHTTPServer: it sizes the body limit
	}
	sec := httpapi.Security{Default: &httpapi.Client{Policy: httpapi.PolicyNone}}
	if cfg.Security != nil {
		sec = *cfg.Security
	}
	if err = s.API.SetSecurity(sec); err != nil {
		return s, err
	}
	s.Server = s.API.NewFastHTTPServer()
	s.ln = cfg.Listener
	if s.ln == nil {
		addr := cfg.Listen
		if addr == "" {
			addr = "127.0.0.1:0"
		}
		if s.ln, err = net.Listen("tcp", addr); err != nil {
			return s, err
		}
	}
	s.Addr = s.ln.Addr().String()
	if s.Notifier != nil {
		if err = s.Notifier.Refuse(s.Addr); err != nil {
			return s, err
		}
	}
	if cfg.TLS != nil {
		s.ln, s.tls = tls.NewListener(s.ln, cfg.TLS), true
	}
	go func() { s.serveErr <- s.Server.Serve(s.ln) }()
	return s, nil
}

// URL is the lane API's base URL, e.g. http://127.0.0.1:8080 (https
// when serving TLS).
func (s *Stack) URL() string {
	if s.tls {
		return "https://" + s.Addr
	}
	return "http://" + s.Addr
}

// Err returns the lane server's error channel (it receives when Serve ends).
func (s *Stack) Err() <-chan error { return s.serveErr }

// Close stops the lane server, the follow-up loop, the decoder, the
// connectors and the simulated wallets, in that order.
func (s *Stack) Close() error {
	var errs []error
	if s.Server != nil && s.ln != nil {
		errs = append(errs, s.Server.Shutdown())
	}
	if s.stop != nil {
		s.stop()
		s.Engine.Wait()
	}
	if s.Decoder != nil {
		s.Decoder.Close()
	}
	for _, c := range s.Wallets {
		c.Close()
	}
	if s.Ident != nil {
		errs = append(errs, s.Ident.Close())
	}
	if s.journal != nil {
		errs = append(errs, s.journal.Close())
	}
	if s.Sim != nil {
		errs = append(errs, s.Sim.Close())
	}
	return errors.Join(errs...)
}

// walletSigning applies wc's signing policy to mc.
func walletSigning(mc *mpp.Config, wc WalletConfig, signer *sign.Signer) error {
	switch wc.Signing {
	case "", "none":
		return nil
	case "rsa256":
	default:
		return fmt.Errorf("signing %q is not rsa256 or none", wc.Signing)
	}
	if signer == nil {
		return errors.New("signing rsa256 needs paycode's private key")
	}
	v, err := wc.verifier()
	if err != nil {
		return err
	}
	mc.Signer, mc.Verifier, mc.ClientID = signer, v, wc.ClientID
	if mc.ClientID == "" {
		mc.ClientID = DefaultWalletClientID
	}
	return nil
}

// signSim makes the simulated wallets verify paycode's requests and sign
// their answers; it returns their public key (SPKI base64).
func signSim(sc *mppsim.Config, cfg Config) (string, error) {
	if cfg.WalletSigner == nil || cfg.SimWalletKey == nil {
		return "", errors.New("stack: SimSigning needs WalletSigner and SimWalletKey")
	}
	simSigner, err := sign.NewSigner(cfg.SimWalletKey, "")
	if err != nil {
		return "", err
	}
	pv, err := sign.NewVerifier(map[string]*rsa.PublicKey{sign.DefaultKeyVersion: cfg.WalletSigner.Public()})
	if err != nil {
		return "", err
	}
	f, err := sign.Formats(cfg.SimWalletKey)
	if err != nil {
		return "", err
	}
	ws := slices.Clone(sc.Wallets)
	for i := range ws {
		ws[i].Verifier, ws[i].Signer = pv, simSigner
	}
	sc.Wallets = ws
	return f.PublicSPKIBase64, nil
}
