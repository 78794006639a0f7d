// Package httpapi serves paycode's lane API over fasthttp: the Antom
// in-store payment-code endpoints (pay, inquiryPayment, cancel, refund,
// inquiryRefund) under /ams/api/v1/payments/ and /ams/sandbox/api/v1/payments/.
// With a decoder (SetDecoder) it also serves
// POST /v1/decode and pay by image, a multipart pay (image.go).
//
// Every answer to a lane is HTTP 200 with an Antom `result` object, bad
// input included (malformed JSON, missing fields, oversized bodies, unknown
// paths): the official SDKs read the result, not the status line. Response
// headers are written in lower case (client-id, response-time), as the
// official Python SDK reads them case-sensitively.
//
// The handler owns no payment state; it parses into pooled request values,
// calls the engine and append-writes the response into a pooled buffer.
//
// Security (auth.go, installed with SetSecurity): each request is admitted
// under an in-flight limit (new pays shed first with
// REQUEST_TRAFFIC_EXCEED_LIMIT, follow-up work keeps a reserve) and, for
// new pays, under an adaptive limit that falls while pays wait longer
// than a target (admission.go: admission by queueing delay), then
// authenticated per its client id's policy — rsa256 verifies the signature
// over the raw path and body before anything is parsed, none trusts the
// id — then served, and its answer signed with paycode's key (lower-case
// client-id, response-time, signature headers), errors included. A
// request that verifies is served however often its bytes arrive: replays
// get the idempotent answer.
//
// Arrival checks (arrival.go) run on a parsed request before the engine
// sees it, so a refused request records nothing: the client-id header
// (printable ASCII), the per-currency maximum amounts (SetAmountLimits)
// and the notify URLs' destinations (SetNotifyCheck, engine/notify).
//
// fasthttp's own log lines go through slog without request bytes
// (FastHTTPLogger).
//
// The lane side: it imports the core, codec, decode (pay by image),
// engine/sign and engine/metrics, never the journal or wallet adapters
// (the engine hides them), the admin side, or the tools.
package httpapi
