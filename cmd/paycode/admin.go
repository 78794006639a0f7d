package main

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/valyala/fasthttp"

	"github.com/paycode/paycode/engine/metrics"
	"github.com/paycode/paycode/engine/mpp"
	"github.com/paycode/paycode/engine/status"
	"github.com/paycode/paycode/loadtest/stack"
)

// adminHandler serves the admin listener: health, reload and counters,
// and (engine/metrics) /metrics, /livez, /readyz, /version and
// /debug/pprof/, and (engine/status) the live status page /status and
// /status.json. It turns on the lane request, wallet, decoder and
// follow-up metrics of st. outcomes, when given, is the status collector
// fed by st's engine (engine.Config.OnOutcome: newOutcomes); without it
// the page shows no throughput, latency or recent outcomes.
func adminHandler(st *stack.Stack, reload func(context.Context) error, outcomes ...*status.Collector) fasthttp.RequestHandler {
	_, h := newAdmin(st, reload, nil, outcomes...)
	return h
}

// newOutcomes is the status page's collector: create it before the stack
// and set its Outcome as engine.Config.OnOutcome, then hand it to
// newAdmin.
func newOutcomes() *status.Collector { return status.NewCollector(status.Config{}) }

// newAdmin is adminHandler with its endpoints, whose SetDraining turns
// /readyz not ready during a graceful shutdown (serve.go). auth guards
// the endpoints that change state (nil refuses them all).
func newAdmin(st *stack.Stack, reload func(context.Context) error, auth *metrics.AdminAuth, outcomes ...*status.Collector) (*metrics.Admin, fasthttp.RequestHandler) {
	reg, lane := metrics.NewRegistry(st.Engine, st.Ident)
	st.API.SetMetrics(lane)
	metrics.RegisterWallets(reg, st.Wallets)
	if st.Decoder != nil {
		metrics.RegisterDecoder(reg, st.Decoder)
	}
	metrics.RegisterFollowUpOverdue(reg, st.Engine, time.Now)
	col := newOutcomes()
	if len(outcomes) > 0 && outcomes[0] != nil {
		col = outcomes[0]
	}
	page := status.NewHandler(col, st.Engine, st.Wallets)
	if st.Sim != nil && len(st.Sim.Names()) > 0 { // test codes mean something only to simulated wallets
		page.SetTestCodes(simTestCodes{prefix: strings.TrimPrefix(st.Sim.Names()[0], "mpp-")})
	}
	ops := metrics.NewAdmin(st.Engine, reg, versionString())
	ops.SetWalletsUp(func() (n, total int) {
		for _, c := range st.Wallets {
			if c.BreakerState() != mpp.BreakerOpen {
				n++
			}
		}
		return n, len(st.Wallets)
	})
	return ops, func(ctx *fasthttp.RequestCtx) {
		if ops.Handle(ctx) || page.Handle(ctx) {
			return
		}
		switch string(ctx.Path()) {
		case "/healthz":
			ctx.SetContentType("text/plain")
			ctx.SetBodyString("ok\n")
		case "/admin/reload":
			if !auth.Permit(ctx) {
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
