package server

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/valyala/fasthttp"

	"github.com/paycode/paycode/decode"
	"github.com/paycode/paycode/engine"
	"github.com/paycode/paycode/engine/admin"
	"github.com/paycode/paycode/engine/httpapi"
	"github.com/paycode/paycode/engine/ident"
	"github.com/paycode/paycode/engine/journal"
	"github.com/paycode/paycode/engine/journal/postgres"
	"github.com/paycode/paycode/engine/mpp"
	"github.com/paycode/paycode/engine/notify"
)

// Node is a running paycode node.
type Node struct {
	Engine  *engine.Engine
	Ident   *ident.Identifier
	API     *httpapi.Server
	Server  *fasthttp.Server // the lane listener's server
	Addr    string           // lane API address (host:port)
	Wallets map[string]*mpp.Client
	Decoder *decode.Decoder // nil with Config.NoDecoder
	// Notifier is the notifier Start built (nil with
	// UndeliveredNotifications or an Engine.Notifier of the caller's).
	Notifier *notify.Notifier
	// Recovered is what the engine found in the journal at start.
	Recovered engine.RecoverStats

	cfg      Config
	log      *slog.Logger
	outcomes *admin.Collector
	stop     context.CancelFunc
	serveErr chan error
	ln       net.Listener
	tls      bool
	// closing: Close has begun; journal errors of pays that outlived the
	// drain are expected then (their intents are durable and recovery
	// asks their wallets), so they do not reach Engine.OnFatal.
	closing   atomic.Bool
	closeOnce sync.Once
	closeErr  error

	adminOnce sync.Once
	adminH    *admin.Handler
	adminSrv  *fasthttp.Server
	adminLn   net.Listener
	adminAddr string
}

// Start builds and starts a node per cfg: it recovers the journal, starts
// the follow-up loop, and opens the lane listener (and the admin listener
// when cfg names one). On error everything started is closed again.
func Start(cfg Config, opts ...Option) (n *Node, err error) {
	var o options
	for _, f := range opts {
		f(&o)
	}
	log := cfg.Logger
	if log == nil {
		log = slog.Default()
	}
	if cfg.Journal == nil {
		// Memory only: the one-node in-memory journal, so the engine runs
		// the path it runs on Pebble.
		mem := journal.NewMem()
		cfg.Journal = mem
		if cfg.CodeKey == nil {
			cfg.CodeKey = mem.CodeKey()
		}
	}
	n = &Node{Wallets: map[string]*mpp.Client{}, serveErr: make(chan error, 1), cfg: cfg, log: log}
	defer func() {
		if err != nil {
			n.Close()
			n = nil
		}
	}()
	if len(cfg.Wallets) == 0 {
		return n, errors.New("server: no wallets configured")
	}
	ec := cfg.Engine
	ec.EnsureDefaults()
	ec.Logger = log
	ec.Wallets = map[string]engine.Wallet{}
	for _, wc := range cfg.Wallets {
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
			return n, fmt.Errorf("wallet %s: %w", wc.Name, err)
		}
		c, err := mpp.New(mc)
		if err != nil {
			return n, fmt.Errorf("wallet %s: %w", wc.Name, err)
		}
		n.Wallets[wc.Name] = c
		ec.Wallets[wc.Name] = c
	}
	if n.Ident, err = ident.New(cfg.Ident); err != nil {
		return n, err
	}
	ec.Identifier = n.Ident
	ec.Journal = cfg.Journal
	if cfg.CodeKey != nil {
		ec.CodeKey = cfg.CodeKey
	}
	// The admin listener opens before the notifier is built, so that no
	// notification (one recovered from the journal included) can ever be
	// sent to it.
	if cfg.Admin != "" || cfg.AdminListener != nil {
		if err = n.listenAdmin(); err != nil {
			return n, err
		}
	}
	if ec.Notifier == nil && !o.noNotifier {
		nc := cfg.Notify
		nc.Now = ec.Clock.Now
		// The lane listener is refused before the engine recovers any
		// notification (its address is added again once known).
		nc.Own = slices.Clone(nc.Own)
		if n.adminAddr != "" {
			nc.Own = append(nc.Own, n.adminAddr)
		}
		if cfg.Listener != nil {
			nc.Own = append(nc.Own, cfg.Listener.Addr().String())
		} else if cfg.Listen != "" && !strings.HasSuffix(cfg.Listen, ":0") {
			nc.Own = append(nc.Own, cfg.Listen)
		}
		if cfg.Security != nil && cfg.Security.Signer != nil {
			nc.Sign = cfg.Security.Signer.SignPOST // spec §4.5
		}
		if n.Notifier, err = notify.New(nc); err != nil {
			return n, err
		}
		for _, w := range cfg.Wallets {
			if w.Simulated {
				if err := n.Notifier.Refuse(hostPort(w.URL)); err != nil {
					return n, err
				}
			}
		}
		ec.Notifier = n.Notifier
	}
	n.outcomes = admin.NewCollector(admin.CollectorConfig{})
	if next := ec.OnOutcome; next != nil {
		ec.OnOutcome = func(p *engine.FinishedPayment) {
			n.outcomes.Outcome(p)
			next(p)
		}
	} else {
		ec.OnOutcome = n.outcomes.Outcome
	}
	if fatal := ec.OnFatal; fatal != nil {
		ec.OnFatal = func(err error) {
			if n.closing.Load() {
				log.Warn("a pay in flight past the drain timeout could not journal its outcome; the restart recovers it", "err", err)
				return
			}
			fatal(err)
		}
	}
	if n.Engine, err = engine.New(ec); err != nil {
		return n, err
	}
	if n.Recovered, err = n.Engine.Recover(context.Background()); err != nil {
		return n, err
	}
	ctx, stop := context.WithCancel(context.Background())
	n.stop = stop
	if !o.manualFollowUps {
		n.Engine.Start(ctx)
	}
	n.API = httpapi.New(n.Engine, log)
	n.API.SetAmountLimits(cfg.AmountLimits)
	if n.Notifier != nil {
		n.API.SetNotifyCheck(n.Notifier.CheckURL)
	}
	if !cfg.NoDecoder {
		if n.Decoder, err = decode.New(cfg.Decoder); err != nil {
			return n, err
		}
		n.API.SetDecoder(n.Decoder) // before NewFastHTTPServer: it sizes the body limit
	}
	if err = n.API.SetSecurity(laneSecurity(cfg.Security)); err != nil {
		return n, err
	}
	n.Server = n.API.NewFastHTTPServer()
	if n.adminLn != nil {
		n.serveAdmin()
	}
	n.ln = cfg.Listener
	if n.ln == nil {
		addr := cfg.Listen
		if addr == "" {
			addr = "127.0.0.1:0"
		}
		if n.ln, err = net.Listen("tcp", addr); err != nil {
			return n, err
		}
	}
	n.Addr = n.ln.Addr().String()
	if n.Notifier != nil {
		if err = n.Notifier.Refuse(n.Addr); err != nil {
			return n, err
		}
	}
	if cfg.TLS != nil {
		n.ln, n.tls = tls.NewListener(n.ln, cfg.TLS), true
	}
	go func() { n.serveErr <- n.Server.Serve(n.ln) }()
	return n, nil
}

// hostPort is a base URL's host:port (the notifier refuses it).
func hostPort(u string) string {
	u = strings.TrimPrefix(strings.TrimPrefix(u, "http://"), "https://")
	host, _, _ := strings.Cut(u, "/")
	return host
}

// laneSecurity is sec, or trust in every client id when sec is nil.
func laneSecurity(sec *httpapi.Security) httpapi.Security {
	if sec == nil {
		return httpapi.Security{Default: &httpapi.Client{Policy: httpapi.PolicyNone}}
	}
	return *sec
}

// URL is the lane API's base URL, e.g. http://127.0.0.1:8080 (https
// when serving TLS).
func (n *Node) URL() string {
	if n.tls {
		return "https://" + n.Addr
	}
	return "http://" + n.Addr
}

// Err receives the lane server's error when Serve ends.
func (n *Node) Err() <-chan error { return n.serveErr }

// Reload reloads the routing rules (dropping the identification cache),
// then runs Config.Reload. Each part that fails keeps what it had and is
// logged; the errors are returned joined.
func (n *Node) Reload(ctx context.Context) error {
	var errs []error
	if err := n.Ident.Reload(ctx); err != nil {
		n.log.Error("routing rules reload failed; the old rules stay", "err", err)
		errs = append(errs, err)
	} else {
		n.log.Info("routing rules reloaded; identification cache dropped")
	}
	if n.cfg.Reload != nil {
		errs = append(errs, n.cfg.Reload(ctx))
	}
	return errors.Join(errs...)
}

// Shutdown stops the node gracefully: /readyz turns 503 at once, the lane
// listener closes, requests in flight get until ctx is done to finish,
// then Close stops the rest. It reports a drain cut short by ctx (the
// remaining requests were closed under) or a failed Close.
func (n *Node) Shutdown(ctx context.Context) error {
	start := time.Now()
	if n.adminH != nil {
		n.adminH.SetDraining(true)
	}
	drainErr := n.Server.ShutdownWithContext(ctx)
	if drainErr != nil {
		n.log.Error("drain timeout passed with lane requests in flight: closing under them", "err", drainErr)
		drainErr = fmt.Errorf("drain: %w", drainErr)
	}
	pending := n.Engine.FollowUps()
	if err := n.Close(); err != nil {
		n.log.Error("shutdown", "err", err)
		return errors.Join(drainErr, err)
	}
	n.log.Info("stopped", "drained_in", time.Since(start).Round(time.Millisecond).String(), "follow_ups_left_in_journal", pending)
	return drainErr
}

// Close stops the lane listener, the follow-up loop, the decoder, the
// connectors, identification, the journal (a shared journal releases this
// node's leases first, so other nodes take its pending work over at once)
// and the admin listener, in that order. Pending follow-ups are in the
// journal already. Close is idempotent.
func (n *Node) Close() error {
	n.closeOnce.Do(func() { n.closeErr = n.close() })
	return n.closeErr
}

func (n *Node) close() error {
	n.closing.Store(true)
	var errs []error
	if n.Server != nil && n.ln != nil {
		errs = append(errs, n.Server.Shutdown())
	}
	if n.stop != nil {
		n.stop()
		n.Engine.Wait()
	}
	if n.Decoder != nil {
		n.Decoder.Close()
	}
	for _, c := range n.Wallets {
		c.Close()
	}
	if n.Ident != nil {
		errs = append(errs, n.Ident.Close())
	}
	if j := n.cfg.Journal; j != nil {
		if n.Engine != nil {
			errs = append(errs, n.release(j))
		}
		errs = append(errs, j.Close())
	}
	if n.adminSrv != nil {
		errs = append(errs, n.adminSrv.Shutdown())
	} else if n.adminLn != nil {
		n.adminLn.Close()
	}
	return errors.Join(errs...)
}

// release hands this node's leases back; the follow-up loop has stopped,
// so none is taken again. Only the PostgreSQL journal has other nodes to
// hand them to, so only it says so.
func (n *Node) release(sj engine.SharedJournal) error {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := sj.Release(ctx); err != nil {
		n.log.Error("releasing leases failed: other nodes take this node's payments over after the lease", "err", err)
		return err
	}
	if _, multi := sj.(*postgres.Store); multi {
		n.log.Info("leases released to the other nodes")
	}
	return nil
}
