// Package status serves paycode's live status page on the admin
// listener: /status, one self-contained HTML page (inline CSS and JS, no
// external asset) that refreshes itself every second from /status.json.
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
package status
