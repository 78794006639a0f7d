package admin

import (
	"context"
	"encoding/json"
	"net"
	"net/http"
	"net/http/pprof"
	"net/netip"
	"strings"
	"sync/atomic"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/valyala/fasthttp"
	"github.com/valyala/fasthttp/fasthttpadaptor"
)

// Node is what the admin endpoints ask of the node they serve
// (*server.Node has it).
type Node interface {
	// JournalDown says why the node cannot record a new payment now (its
	// journal failed, or did not answer within its call timeout); ""
	// when it can.
	JournalDown() string
	// Reload re-reads what can change without a restart (POST /admin/reload).
	Reload(ctx context.Context) error
	// Stats and Wallets are GET /admin/stats and /admin/wallets, as JSON.
	Stats() any
	Wallets() any
}

// Config is what New needs. Only Gatherer is required.
type Config struct {
	Node     Node // nil: no /admin/* endpoints, /readyz ignores the journal
	Gatherer prometheus.Gatherer
	Version  string
	Page     *Page // nil: no status page
	// Auth guards the endpoints that change state; nil refuses them all.
	Auth *Auth
	// WalletsUp, when set, makes /readyz also require a reachable wallet:
	// it reports how many wallets can take a pay now (their circuit
	// breaker is not open) out of how many there are.
	WalletsUp func() (n, total int)
}

// Handler serves every endpoint of the admin listener: /livez, /readyz,
// /version, /metrics, /debug/pprof/ (not cmdline), the status page (/status,
// /status.json, the test codes), GET /admin/stats and /admin/wallets, and
// POST /admin/reload (guarded by Auth). It is never mounted on the lane
// listener: a lane can reach none of this. On a loopback listener it
// answers only requests that name it by address or as localhost (see
// rebound).
type Handler struct {
	cfg     Config
	metrics fasthttp.RequestHandler
	pprof   fasthttp.RequestHandler
	// draining: a graceful shutdown has begun (SetDraining).
	draining atomic.Bool
}

// New returns the admin listener's handler.
func New(cfg Config) *Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	// No /debug/pprof/cmdline: every setting is also a flag, so the
	// command line may carry a PostgreSQL DSN's password or the admin
	// token, and this listener's reads need no token (docs/security.md).
	mux.HandleFunc("/debug/pprof/cmdline", http.NotFound)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	return &Handler{
		cfg:     cfg,
		metrics: fasthttpadaptor.NewFastHTTPHandler(promhttp.HandlerFor(cfg.Gatherer, promhttp.HandlerOpts{})),
		pprof:   fasthttpadaptor.NewFastHTTPHandler(mux),
	}
}

// SetDraining turns /readyz not ready ("draining", 503) from now on, so a
// load balancer stops sending new lanes while requests in flight finish.
func (a *Handler) SetDraining(on bool) { a.draining.Store(on) }

// Serve is the fasthttp handler.
func (a *Handler) Serve(ctx *fasthttp.RequestCtx) {
	if rebound(ctx) {
		ctx.Error("refused: on a loopback admin listener the Host must be an address or localhost, not a name (a web page's DNS rebinding would use one)\n", fasthttp.StatusForbidden)
		return
	}
	if a.cfg.Page != nil && a.cfg.Page.Handle(ctx) {
		return
	}
	path := string(ctx.Path())
	switch {
	case path == "/metrics":
		a.metrics(ctx)
	case path == "/livez":
		ctx.SetContentType("text/plain")
		ctx.SetBodyString("ok\n")
	case path == "/readyz":
		a.readyz(ctx)
	case path == "/version":
		ctx.SetContentType("text/plain")
		ctx.SetBodyString(a.cfg.Version + "\n")
	case strings.HasPrefix(path, "/debug/pprof/"):
		a.pprof(ctx)
	case path == "/admin/reload" && a.cfg.Node != nil:
		if !a.cfg.Auth.Permit(ctx) {
			return
		}
		if err := a.cfg.Node.Reload(ctx); err != nil {
			ctx.Error("reload failed: "+err.Error()+"\n", fasthttp.StatusInternalServerError)
			return
		}
		ctx.SetBodyString("reloaded\n")
	case path == "/admin/stats" && a.cfg.Node != nil:
		writeJSON(ctx, a.cfg.Node.Stats())
	case path == "/admin/wallets" && a.cfg.Node != nil:
		writeJSON(ctx, a.cfg.Node.Wallets())
	default:
		ctx.Error("not found\n", fasthttp.StatusNotFound)
	}
}

// readyz answers 503 with the reason while the node should get no new
// lane: draining, journal failed or unavailable, no wallet reachable.
func (a *Handler) readyz(ctx *fasthttp.RequestCtx) {
	ctx.SetContentType("text/plain")
	notReady := func(why string) {
		ctx.SetStatusCode(fasthttp.StatusServiceUnavailable)
		ctx.SetBodyString(why)
	}
	down := ""
	if a.cfg.Node != nil {
		down = a.cfg.Node.JournalDown()
	}
	switch {
	case a.draining.Load():
		notReady("draining\n")
	case down != "":
		notReady("not ready: " + down + "\n")
	case a.cfg.WalletsUp != nil && noneUp(a.cfg.WalletsUp):
		notReady("not ready: no wallet reachable (every circuit breaker is open)\n")
	default:
		ctx.SetBodyString("ok\n")
	}
}

// rebound reports a request that reached a loopback listener under a host
// name other than localhost. Only a local process can connect there, and
// a local client names the listener by its address or as localhost; a
// name is what a browser sends when a web page rebinds its own name to
// 127.0.0.1 (DNS rebinding) to read /status.json, /admin/wallets or
// pprof, or to post to /admin/reload from an adminAllow address. Names
// under .localhost are loopback by definition (RFC 6761), which browsers
// resolve themselves, so they cannot be rebound. A request without Host
// (HTTP/1.0) is no browser's.
func rebound(ctx *fasthttp.RequestCtx) bool {
	la, ok := ctx.LocalAddr().(*net.TCPAddr)
	if !ok || !la.IP.IsLoopback() {
		return false
	}
	host := string(ctx.Host())
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	host = strings.ToLower(strings.TrimSuffix(strings.Trim(host, "[]"), "."))
	if host == "" || host == "localhost" || strings.HasSuffix(host, ".localhost") {
		return false
	}
	_, err := netip.ParseAddr(host)
	return err != nil
}

func noneUp(up func() (n, total int)) bool {
	n, total := up()
	return n == 0 && total > 0
}

func writeJSON(ctx *fasthttp.RequestCtx, v any) {
	ctx.SetContentType("application/json")
	b, err := json.Marshal(v)
	if err != nil {
		ctx.Error(err.Error(), fasthttp.StatusInternalServerError)
		return
	}
	ctx.SetBody(append(b, '\n'))
}
