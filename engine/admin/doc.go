// Package admin serves everything on a node's admin listener, and only
// there: liveness and readiness (/livez, /readyz), /version, Prometheus
// metrics (/metrics, from the registry engine/metrics fills), Go's pprof,
// the admin actions (GET /admin/stats, /admin/wallets, POST /admin/reload
// behind Auth) and the live status page.
//
// It may import the engine core, codec and the wallet connector (for its
// breaker states); it must not import the lane side (engine/httpapi), the
// node's assembly (engine/server) or any tool (loadtest, bench, cmd): the
// node plugs itself in through the Node interface.
//
// The status page, /status, is one self-contained HTML page (inline CSS
// and JS, no external asset) that refreshes itself every second from
// /status.json.
//
// What it shows, per wallet: throughput (finished payments per second
// over the last Window), latency percentiles (p50/p90/p99 of the time from
// the pay request to the payment's final state), the result mix by Antom
// resultCode, calls in flight and the circuit breaker's state; and for the
// whole engine: the follow-up backlog and how overdue it runs,
// notifications pending, the journal state, and the last Recent finished
// payments (masked codes only: engine.FinishedPayment never holds a whole
// code).
//
// What it guarantees: Collector.Outcome, which the engine calls with a
// payment's lock held (engine.Config.OnOutcome), takes one short mutex,
// records into preallocated per-second slots and a fixed ring, and never
// blocks on I/O or the page's readers for longer than a snapshot's copy.
// Memory is bounded: at most MaxWallets wallets (more are counted under
// "other"), Window seconds of slots each, and Recent outcomes.
package admin
