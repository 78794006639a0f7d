package engine

import (
	"context"
	"errors"

	"github.com/paycode/paycode/codec"
)

// Identifier names the wallet that issued a payment code. It is declared
// here, where it is used; engine/ident implements it with routing rules
// behind a ristretto cache.
//
// Identification only routes: it never decides idempotency or code reuse,
// which the engine keeps in its own state.
type Identifier interface {
	// Identify returns the wallet name for code. It owns the check of the
	// code's class: a code whose class is not routable (codec.Class's
	// Routable: WeChat Pay, unknown shapes) gets an error wrapping
	// ErrUnroutable, counted and without a lookup; the engine does not
	// check the class again. It returns an error wrapping ErrNoIssuer when
	// no rule matches (the code is answered INVALID_PAYMENT_CODE and
	// nothing is dispatched), or wrapping ErrIdentifyUnavailable when the
	// rule source cannot be asked right now (answered UNKNOWN_EXCEPTION,
	// retryable).
	Identify(ctx context.Context, code *codec.Code) (wallet string, err error)
}

// Identification errors, see Identifier.
var (
	ErrNoIssuer            = errors.New("engine: no wallet issues this payment code")
	ErrUnroutable          = errors.New("engine: payment codes of this class are not routed to a wallet")
	ErrIdentifyUnavailable = errors.New("engine: wallet identification is unavailable")
)
