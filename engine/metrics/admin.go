package metrics

import (
	"net/http"
	"net/http/pprof"
	"strings"
	"sync/atomic"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/valyala/fasthttp"
	"github.com/valyala/fasthttp/fasthttpadaptor"

	"github.com/paycode/paycode/engine"
)

// Admin serves the operational endpoints of the admin listener. It is
// never mounted on the lane listener.
type Admin struct {
	Engine  *engine.Engine
	Version string
	metrics fasthttp.RequestHandler
	pprof   fasthttp.RequestHandler
	// draining: a graceful shutdown has begun (SetDraining).
	draining atomic.Bool
	// walletsUp, when set, counts the wallets that can take a pay now.
	walletsUp func() (n, total int)
}

// SetWalletsUp makes /readyz also require at least one reachable wallet:
// up reports how many wallets can take a pay now (their circuit breaker
// is not open) out of how many there are.
func (a *Admin) SetWalletsUp(up func() (n, total int)) { a.walletsUp = up }

// SetDraining turns /readyz not ready ("draining", 503) from now on, so a
// load balancer stops sending new lanes while requests in flight finish.
func (a *Admin) SetDraining(on bool) { a.draining.Store(on) }

// NewAdmin returns the admin endpoints over eng, serving g at /metrics.
func NewAdmin(eng *engine.Engine, g prometheus.Gatherer, version string) *Admin {
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	return &Admin{
		Engine:  eng,
		Version: version,
		metrics: fasthttpadaptor.NewFastHTTPHandler(promhttp.HandlerFor(g, promhttp.HandlerOpts{})),
		pprof:   fasthttpadaptor.NewFastHTTPHandler(mux),
	}
}

// Handle serves path if it is one of the admin endpoints and reports
// whether it did.
func (a *Admin) Handle(ctx *fasthttp.RequestCtx) bool {
	path := string(ctx.Path())
	switch {
	case path == "/metrics":
		a.metrics(ctx)
	case path == "/livez":
		ctx.SetContentType("text/plain")
		ctx.SetBodyString("ok\n")
	case path == "/readyz":
		ctx.SetContentType("text/plain")
		if a.draining.Load() {
			ctx.SetStatusCode(fasthttp.StatusServiceUnavailable)
			ctx.SetBodyString("draining\n")
			return true
		}
		if a.Engine != nil {
			// Not ready whenever a new payment cannot be recorded: the
			// journal failed, or (a network journal) did not answer
			// within its call timeout.
			if h := a.Engine.JournalHealth(); !h.OK {
				ctx.SetStatusCode(fasthttp.StatusServiceUnavailable)
				ctx.SetBodyString("not ready: " + h.Reason + "\n")
				return true
			}
		}
		if a.walletsUp != nil {
			if n, total := a.walletsUp(); n == 0 && total > 0 {
				ctx.SetStatusCode(fasthttp.StatusServiceUnavailable)
				ctx.SetBodyString("not ready: no wallet reachable (every circuit breaker is open)\n")
				return true
			}
		}
		ctx.SetBodyString("ok\n")
	case path == "/version":
		ctx.SetContentType("text/plain")
		ctx.SetBodyString(a.Version + "\n")
	case strings.HasPrefix(path, "/debug/pprof/"):
		a.pprof(ctx)
	default:
		return false
	}
	return true
}
