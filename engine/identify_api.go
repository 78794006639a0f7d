package engine

import (
	"context"
	"errors"

	"github.com/paycode/paycode/codec"
)

// msgMalformedCode answers a code that is not 16 to 32 digits.
const msgMalformedCode = "the payment code is malformed: it must be 16 to 32 digits"

// Identify names the connected wallet a payment with code would be sent
// to, by the same checks Pay makes before it records anything: the code is
// well formed, of a routable class, issued by a wallet the routing rules
// know, and that wallet is connected. It records nothing, consumes no code
// and calls no wallet, so it answers "whose code is this" for a scanned
// image (the decode endpoint) without touching payment state.
//
// On success rc is codec.Success and msg is empty. Otherwise wallet is
// empty and rc, msg are what Pay would answer: INVALID_PAYMENT_CODE
// (malformed, unsupported class, no issuer), NO_PAY_OPTIONS (the issuer is
// not connected) or UNKNOWN_EXCEPTION (identification unavailable,
// retryable). msg never contains the code. Pay runs the same checks
// through this method.
func (e *Engine) Identify(ctx context.Context, code *codec.Code) (wallet string, rc codec.ResultCode, msg string) {
	if code == nil || code.IsZero() {
		return "", codec.InvalidPaymentCode, msgMalformedCode
	}
	name, err := e.ident.Identify(ctx, code)
	if err != nil {
		if errors.Is(err, ErrUnroutable) {
			return "", codec.InvalidPaymentCode, "the payment code is not a supported wallet code"
		}
		if errors.Is(err, ErrNoIssuer) {
			return "", codec.InvalidPaymentCode, "no wallet issues this payment code"
		}
		return "", codec.UnknownException, "wallet identification is unavailable, retry the same request"
	}
	if e.wallet[name] == nil {
		return "", codec.NoPayOptions, "the wallet that issued this code is not connected"
	}
	return name, codec.Success, ""
}
