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
	// Identify returns the wallet name for code. It returns an error
	// wrapping ErrNoIssuer when no rule matches (the code is answered
	// INVALID_PAYMENT_CODE and nothing is dispatched), or wrapping
	// ErrIdentifyUnavailable when the rule source cannot be asked right now
	// (answered UNKNOWN_EXCEPTION, retryable).
	Identify(ctx context.Context, code *codec.Code) (wallet string, err error)
}

// Identification errors, see Identifier.
var (
	ErrNoIssuer            = errors.New("engine: no wallet issues this payment code")
	ErrIdentifyUnavailable = errors.New("engine: wallet identification is unavailable")
)
