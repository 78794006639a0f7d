package server

import (
	"context"
	"fmt"
	"net"
	"slices"
	"time"

	"github.com/valyala/fasthttp"

	"github.com/paycode/paycode/engine/admin"
	"github.com/paycode/paycode/engine/httpapi"
	"github.com/paycode/paycode/engine/ident"
	"github.com/paycode/paycode/engine/metrics"
	"github.com/paycode/paycode/engine/mpp"
)

// AdminHandler serves the admin listener (engine/admin: health,
// readiness, metrics, pprof, the status page, /admin/stats,
// /admin/wallets, POST /admin/reload). The first call turns on the lane
// request, wallet, decoder and follow-up metrics; Start calls it when
// Config names an admin address, tests serve it on a listener of their
// own.
func (n *Node) AdminHandler() fasthttp.RequestHandler {
	n.adminOnce.Do(func() { n.adminH = n.newAdmin() })
	return n.adminH.Serve
}

// AdminURL is the admin listener's base URL, "" when Start opened none.
func (n *Node) AdminURL() string {
	if n.adminAddr == "" {
		return ""
	}
	return "http://" + n.adminAddr
}

// listenAdmin opens the admin listener.
func (n *Node) listenAdmin() error {
	ln := n.cfg.AdminListener
	if ln == nil {
		var err error
		if ln, err = net.Listen("tcp", n.cfg.Admin); err != nil {
			return fmt.Errorf("admin: %w", err)
		}
	}
	n.adminLn, n.adminAddr = ln, ln.Addr().String()
	return nil
}

// serveAdmin serves the admin endpoints on the admin listener.
func (n *Node) serveAdmin() {
	n.adminSrv = &fasthttp.Server{Handler: n.AdminHandler(), Name: "paycode-admin", ReadTimeout: 10 * time.Second,
		Logger: httpapi.FastHTTPLogger(n.log, "admin"), SecureErrorLogMessage: true}
	go n.adminSrv.Serve(n.adminLn)
	n.log.Info("admin listening", "addr", n.adminAddr)
}

func (n *Node) newAdmin() *admin.Handler {
	reg, lane := metrics.NewRegistry(n.Engine, n.Ident)
	n.API.SetMetrics(lane)
	metrics.RegisterWallets(reg, n.Wallets)
	if n.Decoder != nil {
		metrics.RegisterDecoder(reg, n.Decoder)
	}
	metrics.RegisterFollowUpOverdue(reg, n.Engine, time.Now)
	page := admin.NewPage(n.outcomes, n.Engine, n.Wallets)
	if n.cfg.TestCodes != nil {
		page.SetTestCodes(n.cfg.TestCodes)
	}
	version := n.cfg.Version
	if version == "" {
		version = ReadBuild().String()
	}
	registerBuildInfo(reg, ReadBuild(), version)
	return admin.New(admin.Config{
		Node: adminNode{n}, Gatherer: reg, Version: version, Page: page, Auth: n.cfg.AdminAuth,
		WalletsUp: func() (up, total int) {
			for _, c := range n.Wallets {
				if c.BreakerState() != mpp.BreakerOpen {
					up++
				}
			}
			return up, len(n.Wallets)
		},
	})
}

// adminNode is the node as the admin endpoints see it.
type adminNode struct{ n *Node }

func (a adminNode) JournalDown() string              { return a.n.Engine.JournalDownReason() }
func (a adminNode) Reload(ctx context.Context) error { return a.n.Reload(ctx) }
func (a adminNode) Stats() any                       { return a.n.stats() }
func (a adminNode) Wallets() any                     { return a.n.WalletsInfo() }

// Stats is GET /admin/stats: the engine's counters and identification's.
type Stats struct {
	Pays            int64      `json:"pays"`
	Dispatched      int64      `json:"dispatched"`
	Duplicates      int64      `json:"duplicates"`
	FollowUps       int64      `json:"followUps"`
	FollowUpsQueued int        `json:"followUpsQueued"`
	Reversals       int64      `json:"reversals"`
	WalletErrors    int64      `json:"walletErrors"`
	Ident           IdentStats `json:"ident"`
}

// IdentStats is ident.Stats as /admin/stats shows it.
type IdentStats struct {
	Hits         uint64 `json:"hits"`
	NegativeHits uint64 `json:"negativeHits"`
	Misses       uint64 `json:"misses"`
	SourceCalls  uint64 `json:"sourceCalls"`
	SourceErrors uint64 `json:"sourceErrors"`
	Refreshes    uint64 `json:"refreshes"`
	Unroutable   uint64 `json:"unroutable"`
	Reloads      uint64 `json:"reloads"`
}

func (n *Node) stats() Stats {
	s := n.Engine.Stats()
	return Stats{
		Pays: s.Pays.Load(), Dispatched: s.Dispatched.Load(), Duplicates: s.Duplicates.Load(),
		FollowUps: s.FollowUps.Load(), FollowUpsQueued: n.Engine.FollowUps(),
		Reversals: s.Reversals.Load(), WalletErrors: s.WalletError.Load(), Ident: IdentStats(n.Ident.Stats()),
	}
}

// Wallets is GET /admin/wallets: the wallets this node pays through, so
// a load tool pointed at a running paycode finds the simulated wallets'
// ledgers without being told their ports.
type Wallets struct {
	Wallets []WalletInfo `json:"wallets"`
}

// WalletInfo is one wallet of GET /admin/wallets.
type WalletInfo struct {
	Name string `json:"name"`
	// Prefixes are the code prefixes the routing rules send to it; empty
	// when a remote identification service routes.
	Prefixes []string `json:"prefixes"`
	// URL is the wallet's base URL. For a simulated wallet it also serves
	// /sim/ledger and /sim/settlement, as `paycode sim`'s wallets do.
	URL       string `json:"url"`
	Simulated bool   `json:"simulated"`
}

// WalletsInfo lists the node's wallets in configuration order.
func (n *Node) WalletsInfo() Wallets {
	prefixes := map[string][]string{}
	if ts, ok := n.Ident.Source().(*ident.TableSource); ok {
		for _, r := range ts.Table().Rules() {
			if !slices.Contains(prefixes[r.Wallet], r.Prefix) {
				prefixes[r.Wallet] = append(prefixes[r.Wallet], r.Prefix)
			}
		}
	}
	out := Wallets{Wallets: []WalletInfo{}}
	for _, wc := range n.cfg.Wallets {
		p := prefixes[wc.Name]
		if p == nil {
			p = []string{}
		}
		out.Wallets = append(out.Wallets, WalletInfo{Name: wc.Name, Prefixes: p, URL: wc.URL, Simulated: wc.Simulated})
	}
	return out
}
