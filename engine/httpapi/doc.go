// Package httpapi serves paycode's lane API over fasthttp: the Antom
// in-store payment-code endpoints (pay, inquiryPayment, cancel, refund,
// inquiryRefund) under /ams/api/v1/payments/ and /ams/sandbox/api/v1/payments/,
// and the admin endpoints.
//
// Every answer to a lane is HTTP 200 with an Antom `result` object, bad
// input included (malformed JSON, missing fields, oversized bodies, unknown
// paths): the official SDKs read the result, not the status line. Response
// headers are written in lower case (client-id, response-time), as the
// official Python SDK reads them case-sensitively.
//
// The handler owns no payment state; it parses into pooled request values,
// calls the engine and append-writes the response into a pooled buffer.
package httpapi
