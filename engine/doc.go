// Package engine is paycode's payment core: Pay, Inquire, Cancel, Refund
// and InquireRefund, transport-agnostic (no HTTP types in its API).
//
// It owns payment and refund state, idempotency on (client-id,
// paymentRequestId) and (client-id, refundRequestId), single use of
// payment codes, the state machine PROCESSING → SUCCESS | FAIL | CANCELLED,
// refund bounds, and the follow-up of payments whose outcome is not known
// yet (poll the wallet with backoff, cancel at the deadline, reverse a late
// success of a cancelled payment).
//
// The engine declares what it consumes — Wallet, Identifier, Clock — and
// cmd/paycode wires real implementations (engine/mpp, engine/ident).
//
// The core imports only codec (and the standard library). Everything that
// touches the outside world — the journal, wallets, identification,
// notification delivery, HTTP — is an interface declared here and
// implemented by an adapter package below engine/, so the core never
// imports its adapters, the lane side, the admin side or any tool.
package engine
