// Package mppsim simulates Alipay+-style wallets (MPPs) for paycode's tests
// and load runs: real fasthttp servers on loopback, one per wallet, that
// speak the wallet API of codec (pay, inquiryPayment, cancelPayment,
// refund) and keep a ledger of what they charged, so a run can be checked
// for money taken twice, taken without paycode knowing, or not returned.
//
// # Outcomes
//
// What a pay does is decided by the payment code's last two digits
// (codec.Code.LastTwo):
//
//	| last two | pay answers                      | the wallet's ledger, and inquiry                                   |
//	|----------|----------------------------------|--------------------------------------------------------------------|
//	| 00–79    | S SUCCESS                        | charged                                                            |
//	| 80–84    | U PAYMENT_IN_PROCESS             | PROCESSING until PasswordDelay (2 s) after the pay, then SUCCESS,  |
//	|          |                                  | charged at that moment                                             |
//	| 85–86    | U PAYMENT_IN_PROCESS             | PROCESSING, then F USER_PAYMENT_VERIFICATION_FAILED after          |
//	|          |                                  | PasswordDelay; never charged                                       |
//	| 87–89    | F USER_BALANCE_NOT_ENOUGH        | FAIL, not charged                                                  |
//	| 90–91    | F PAYMENT_AMOUNT_EXCEED_LIMIT    | FAIL, not charged                                                  |
//	| 92–93    | nothing: the connection is       | charged (SUCCESS); inquiry and a replayed pay answer S SUCCESS     |
//	|          | closed after HangFor (10 s) or   |                                                                    |
//	|          | when the wallet closes           |                                                                    |
//	| 94–95    | U UNKNOWN_EXCEPTION              | FAIL SYSTEM_ERROR, not charged; inquiry and a replayed pay answer  |
//	|          |                                  | F SYSTEM_ERROR, so the engine settles on FAIL                      |
//	| 96–97    | F INVALID_PAYMENT_CODE           | FAIL, not charged                                                  |
//	| 98–99    | F RISK_REJECT                    | FAIL, not charged                                                  |
//
// 92–93 is the response lost in the network: the charge happened, so any
// later question (inquiry, the same pay again) learns SUCCESS, and cancel
// reverses it. 94–95 is the wallet failing before it charged: it answers
// "unknown" (U) at first, as real wallets do, and F once asked again, so an
// engine that follows U with inquiry reaches a final FAIL with nothing
// charged.
//
// # Ledger rules
//
//   - A payment code is single use, even when its payment failed: a code
//     already used by another paymentRequestId gets F INVALID_PAYMENT_CODE
//     and is recorded as such; the first payment is untouched.
//   - The same paymentRequestId again answers from the ledger (the current
//     state of that payment) and never charges twice. With another code or
//     amount it is F REPEAT_REQ_INCONSISTENT.
//   - Cancel of a PROCESSING payment closes it (CLOSED); a password entered
//     later does not charge. Cancel of a SUCCESS payment reverses it
//     (REVERSED, the charge returned) unless it was partly refunded
//     (F ORDER_STATUS_INVALID: refund the rest instead). Cancel of a FAIL,
//     CLOSED or REVERSED payment succeeds and changes nothing.
//   - Cancel of an id the wallet never saw records a CLOSED tombstone, and
//     a pay arriving later with that id gets F ORDER_IS_CLOSED. This is what
//     makes "cancel when the pay timed out" safe: the pay can no longer
//     happen.
//   - Refunds apply to SUCCESS payments only (F ORDER_STATUS_INVALID
//     otherwise, F ORDER_NOT_EXIST for an unknown id), the sum of
//     successful refunds never exceeds the charge (F REFUND_AMOUNT_EXCEED),
//     a refundRequestId answers the same each time, and reusing it for
//     another payment or amount is F REPEAT_REQ_INCONSISTENT.
//
// Time-based transitions (the password) are evaluated lazily against the
// injected clock (Config.Now) whenever the payment is touched or the ledger
// read, so tests drive them by moving the clock, and the outcome does not
// depend on when anyone asked.
//
// # Latency and determinism
//
// Each request waits, before the wallet acts on it, a delay drawn from the
// wallet's Latency (log-normal fitted to the median and p99, clamped to
// [Min, Max]) through the injectable Config.Sleep. The draw is a pure
// function of (Config.Seed, wallet name, operation, request id), so the
// same seed gives the same delays whatever the concurrency.
//
// The ledger is served as JSON on GET /sim/ledger (codes masked) for
// load tools running in another process; see FetchLedger.
//
// # Signatures
//
// A wallet with WalletConfig.Verifier (paycode's public key) refuses any
// request whose RSA256 signature does not verify, or whose request-time
// is more than two minutes from the real clock, with HTTP 200 and F
// INVALID_SIGNATURE before reading it; with WalletConfig.Signer it signs
// every answer (client-id echoed, response-time, signature), as an
// Alipay+ partner does. Neither is the cheap mode for load runs.
package mppsim
