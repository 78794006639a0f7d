package mppsim

import (
	"context"
	"errors"
	"fmt"
	"net"
	"sync"
	"time"

	"github.com/valyala/fasthttp"
)

// Sim is a set of running simulated wallets, each a fasthttp server on its
// own loopback port: independent like real wallets, so a slow one cannot
// hold up another.
type Sim struct {
	cfg     Config
	wallets []*served
	byName  map[string]*served
}

type served struct {
	w   *Wallet
	srv *fasthttp.Server
	url string
	err chan error // Serve's result
}

// shutdownWait bounds Close's wait for connections to finish. Wallet
// requests end as soon as the wallets close, so this is only a backstop
// against a client that never lets go of a connection.
const shutdownWait = 5 * time.Second

// Start validates cfg and starts one server per wallet on 127.0.0.1:0.
func Start(cfg Config) (*Sim, error) {
	cfg = cfg.WithDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	s := &Sim{cfg: cfg, byName: make(map[string]*served, len(cfg.Wallets))}
	for _, wc := range cfg.Wallets {
		w, err := NewWallet(wc, cfg)
		if err != nil {
			s.Close()
			return nil, err
		}
		ln, err := net.Listen("tcp4", "127.0.0.1:0")
		if err != nil {
			w.Close()
			s.Close()
			return nil, fmt.Errorf("mppsim: wallet %s: %w", wc.Name, err)
		}
		sv := &served{w: w, srv: NewServer(w), url: "http://" + ln.Addr().String(), err: make(chan error, 1)}
		go func() { sv.err <- sv.srv.Serve(ln) }()
		s.wallets = append(s.wallets, sv)
		s.byName[wc.Name] = sv
	}
	return s, nil
}

// NewServer is the fasthttp server Start runs for w: the wallet API,
// GET LedgerPath and GET SettlementPath (w's settlement file, as `paycode
// sim` serves it). Use it to serve a wallet on another listener (an
// in-memory one for benchmarks).
func NewServer(w *Wallet) *fasthttp.Server {
	api, settlement := w.Handler(), SettlementHandler(w)
	return &fasthttp.Server{
		Handler: func(ctx *fasthttp.RequestCtx) {
			if string(ctx.Path()) == SettlementPath {
				settlement(ctx)
				return
			}
			api(ctx)
		},
		Name:                  "mppsim",
		MaxRequestBodySize:    MaxBodySize,
		CloseOnShutdown:       true,
		NoDefaultServerHeader: true,
		NoDefaultDate:         true,
		// No IdleTimeout: with one, fasthttp sets a read deadline before
		// each keep-alive wait and clears it at the request's first byte,
		// two runtime timer updates per request (about 1 % of the
		// simulator's CPU at 3,000 pays/s). Clients close their own idle
		// connections (paycode's wallet clients after 10 s), the kernel
		// closes a dead client's, and Close shuts the rest.
	}
}

// Config is the configuration the sim runs with, defaults filled.
func (s *Sim) Config() Config { return s.cfg }

// Names lists the wallets in configuration order.
func (s *Sim) Names() []string {
	out := make([]string, len(s.wallets))
	for i, sv := range s.wallets {
		out[i] = sv.w.Name()
	}
	return out
}

// URL is the base URL of the named wallet ("" if there is none), e.g.
// http://127.0.0.1:41234; the API paths follow it.
func (s *Sim) URL(name string) string {
	if sv := s.byName[name]; sv != nil {
		return sv.url
	}
	return ""
}

// Wallet returns the named wallet, nil if there is none.
func (s *Sim) Wallet(name string) *Wallet {
	if sv := s.byName[name]; sv != nil {
		return sv.w
	}
	return nil
}

// Ledger snapshots the named wallet's ledger (an empty Ledger if there is
// no such wallet).
func (s *Sim) Ledger(name string) Ledger {
	if sv := s.byName[name]; sv != nil {
		return sv.w.Ledger()
	}
	return Ledger{Wallet: name}
}

// Close stops every wallet: held and delayed requests are released (a
// held lost-response request then drops its connection), listeners close
// and open connections are shut. Ledgers stay readable.
func (s *Sim) Close() error {
	for _, sv := range s.wallets {
		sv.w.Close()
	}
	var wg sync.WaitGroup
	errs := make([]error, len(s.wallets))
	for i, sv := range s.wallets {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ctx, cancel := context.WithTimeout(context.Background(), shutdownWait)
			defer cancel()
			if err := sv.srv.ShutdownWithContext(ctx); err != nil {
				errs[i] = fmt.Errorf("mppsim: wallet %s: %w", sv.w.Name(), err)
				return
			}
			if err := <-sv.err; err != nil {
				errs[i] = fmt.Errorf("mppsim: wallet %s: %w", sv.w.Name(), err)
			}
		}()
	}
	wg.Wait()
	return errors.Join(errs...)
}
