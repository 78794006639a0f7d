package main

import (
	"context"
	"fmt"

	"github.com/valyala/fasthttp"

	"github.com/paycode/paycode/engine/metrics"
	"github.com/paycode/paycode/loadtest/stack"
)

// adminHandler serves the admin listener: health, reload and counters,
// and (engine/metrics) /metrics, /livez, /readyz, /version and
// /debug/pprof/. It turns on the lane request metrics of st.
func adminHandler(st *stack.Stack, reload func(context.Context) error) fasthttp.RequestHandler {
	reg, lane := metrics.NewRegistry(st.Engine, st.Ident)
	st.API.SetMetrics(lane)
	ops := metrics.NewAdmin(st.Engine, reg, versionString())
	return func(ctx *fasthttp.RequestCtx) {
		if ops.Handle(ctx) {
			return
		}
		switch string(ctx.Path()) {
		case "/healthz":
			ctx.SetContentType("text/plain")
			ctx.SetBodyString("ok\n")
		case "/admin/reload":
			if !ctx.IsPost() {
				ctx.Error("POST only\n", fasthttp.StatusMethodNotAllowed)
				return
			}
			if err := reload(ctx); err != nil {
				ctx.Error("reload failed: "+err.Error()+"\n", fasthttp.StatusInternalServerError)
				return
			}
			ctx.SetBodyString("reloaded\n")
		case "/admin/stats":
			s := st.Engine.Stats()
			is := st.Ident.Stats()
			ctx.SetContentType("application/json")
			fmt.Fprintf(ctx, `{"pays":%d,"dispatched":%d,"duplicates":%d,"followUps":%d,"followUpsQueued":%d,"reversals":%d,"walletErrors":%d,"ident":%q}`+"\n",
				s.Pays.Load(), s.Dispatched.Load(), s.Duplicates.Load(), s.FollowUps.Load(), st.Engine.FollowUps(),
				s.Reversals.Load(), s.WalletError.Load(), fmt.Sprintf("%+v", is))
		default:
			ctx.Error("not found\n", fasthttp.StatusNotFound)
		}
	}
}

