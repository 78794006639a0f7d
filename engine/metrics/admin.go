package metrics

import (
	"net/http"
	"net/http/pprof"
	"strings"

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
}

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
		if a.Engine != nil && a.Engine.Failed() {
			ctx.SetStatusCode(fasthttp.StatusServiceUnavailable)
			ctx.SetBodyString("not ready: journal failed\n")
			return true
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
