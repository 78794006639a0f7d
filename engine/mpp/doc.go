// Package mpp is paycode's connector to Alipay+-style wallets (MPPs): a
// Client per wallet implements engine.Wallet over the wallet API of codec
// (spec §7), and maps the wallet's answers into the engine's outcomes.
//
// What it guarantees:
//
//   - Isolation: each Client has its own connection pool and its own
//     in-flight limit, and nothing is shared or locked across Clients, so a
//     wallet that hangs fills only its own limit.
//   - Bounded calls: every call ends by the earlier of the context's
//     deadline and Config.Timeout, waiting for an in-flight slot included.
//   - Honest errors: a non-nil error means the outcome is unknown, as
//     engine.Wallet says — except errors matching ErrNotSent, which mean
//     no byte of the request left the process (in-flight limit reached,
//     dial failed, context already done), so nothing can have been charged.
//   - No secrets in errors: errors name the wallet and the operation, never
//     the request body, so a payment code cannot leak through them.
//   - A circuit breaker per Client (breaker.go, sony/gobreaker): when the
//     wallet keeps timing out, dropping connections or answering 5xx, the
//     breaker opens and calls fail at once with ErrBreakerOpen and
//     ErrNotSent (nothing sent: the engine closes such a pay, and retries
//     follow-up calls later); after BreakerConfig.OpenTimeout a few probe
//     calls decide whether it closes again. Business failures, 4xx and
//     unreadable answers never open it. BreakerState reports it.
//   - Measured calls: an Observer (SetObserver; engine/metrics implements
//     it over Prometheus) sees every call's operation, duration and error
//     Kind, a bounded classification, without allocation.
//
// Outcome mapping (result.resultStatus drives it; an unknown resultCode is
// codec.ProcessFail with the wallet's message kept):
//
//	pay, refund:  S → OutcomeSuccess   U → OutcomeProcessing   F → OutcomeFail
//	inquiry:      result F ORDER_NOT_EXIST → OutcomeNotFound
//	              result U → OutcomeProcessing; other result F → error (ErrRefused)
//	              otherwise paymentResult S/U/F as above; F ORDER_IS_CLOSED
//	              sets Cancelled (the wallet closed or reversed the payment)
//	cancel:       S → OutcomeSuccess (no charge held)   U → OutcomeProcessing
//	              F ORDER_NOT_EXIST → OutcomeNotFound   other F → OutcomeFail
//
// HTTP status other than 200, or a body that does not parse, is an error
// (ErrHTTPStatus, ErrBadAnswer): the outcome is unknown. So is an answer
// for another payment — a paymentRequestId, paymentAmount or refundAmount
// that differs from the request's (ErrBadAnswer with ErrOtherPayment) —
// whatever its status: it never settles this payment as the wallet's.
// An inquiry answer's paymentAmount is passed on (WalletResult.Amount)
// for the engine, which knows the payment's amount, to check.
//
// The pay path allocates a handful of objects per call (the strings of the
// answer); requests and responses are pooled (fasthttp Acquire/Release),
// request bodies are append-written into pooled buffers.
//
// An adapter of the core: it imports engine, codec and engine/sign only.
package mpp
