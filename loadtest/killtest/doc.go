// Package killtest is paycode's crash-safety harness: it runs the
// real `paycode serve` binary against simulated wallets in a separate
// `paycode sim` process (so their ledgers survive paycode's deaths),
// drives concurrent lanes of pays, replays, refunds, cancels and
// inquiries, kills paycode with SIGKILL at random moments and at the
// engine's named failpoints (PAYCODE_FAILPOINT), restarts it on the same
// data directory (some restarts during a wallet outage: the sim process
// is SIGSTOPped), and finally checks paycode's answers against the
// wallets' ledgers and a merchant endpoint's notifications:
//
//   - every charge a wallet holds is SUCCESS in paycode (or refunded);
//   - no paymentRequestId (and no payment code) is charged twice, and a
//     request id always maps to one paymentId;
//   - every final answer a lane saw survives (SUCCESS stays SUCCESS unless
//     the lane cancelled it, FAIL stays FAIL, a confirmed cancel or
//     refund stays done);
//   - every payment and refund reaches a final state, and refunds never
//     exceed the charge;
//   - every notification payment's merchant was told its final state, at
//     least once, whatever deliveries failed or the merchant restarted.
//
// The test is TestKillRestart (see the README's "Crash safety"); the
// rest of the package is its helpers, unit-tested on their own.
package killtest
