package mpp

import (
	"errors"
	"github.com/paycode/paycode/engine"
	"strconv"
	"strings"
)

// Error kinds. Every error of a Client call is an *Error matching exactly
// one of these with errors.Is, and also ErrNotSent when nothing was sent.
var (
	// ErrNotSent: no byte of the request left the process, so the wallet
	// cannot have acted on it. Matched together with the reason (ErrBusy,
	// ErrTransport for a failed dial, ErrTimeout or a context error).
	// It is engine.ErrNotSent, so the engine can tell without importing
	// this package.
	ErrNotSent = engine.ErrNotSent
	// ErrBusy: the wallet's in-flight limit stayed full until the deadline.
	ErrBusy = errors.New("mpp: wallet in-flight limit reached")
	// ErrTimeout: the wallet did not answer by the deadline.
	ErrTimeout = errors.New("mpp: wallet did not answer in time")
	// ErrTransport: the connection failed (dial, reset, closed before an
	// answer).
	ErrTransport = errors.New("mpp: connection to the wallet failed")
	// ErrHTTPStatus: an HTTP status other than 200 (Error.Status has it).
	ErrHTTPStatus = errors.New("mpp: wallet answered an HTTP status other than 200")
	// ErrBadAnswer: a 200 whose body is not the expected message.
	ErrBadAnswer = errors.New("mpp: wallet answer is unreadable")
	// ErrRefused: the wallet refused an inquiry itself (result F other than
	// ORDER_NOT_EXIST, e.g. PARAM_ILLEGAL): it says nothing of the payment.
	ErrRefused = errors.New("mpp: wallet refused the inquiry")
	// ErrBreakerOpen: the wallet's circuit breaker is open (or half-open
	// with its probes taken), so the call was not made; always with
	// ErrNotSent. Retry later: the breaker lets probes through after
	// BreakerConfig.OpenTimeout.
	ErrBreakerOpen = errors.New("mpp: wallet circuit breaker open")
)

// Error is a failed wallet call: where (wallet, operation) and what (Kind,
// Cause). It never holds a request or response body.
type Error struct {
	Wallet  string
	Op      string // pay, inquiryPayment, cancelPayment, refund
	NotSent bool   // nothing left the process
	Kind    error  // one of the Err* kinds, or a context error when not sent
	Status  int    // the HTTP status, with ErrHTTPStatus
	Result  string // the wallet's resultCode, with ErrRefused
	Cause   error  // the underlying error, if any
}

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString("mpp: wallet ")
	b.WriteString(e.Wallet)
	b.WriteString(": ")
	b.WriteString(e.Op)
	b.WriteString(": ")
	if e.NotSent {
		b.WriteString("not sent: ")
	}
	b.WriteString(strings.TrimPrefix(e.Kind.Error(), "mpp: "))
	if e.Status != 0 {
		b.WriteString(" (HTTP ")
		b.WriteString(strconv.Itoa(e.Status))
		b.WriteByte(')')
	}
	if e.Result != "" {
		b.WriteString(" (")
		b.WriteString(e.Result)
		b.WriteByte(')')
	}
	if e.Cause != nil {
		b.WriteString(": ")
		b.WriteString(e.Cause.Error())
	}
	return b.String()
}

// Unwrap gives ErrNotSent (when not sent), Kind and Cause to errors.Is/As.
func (e *Error) Unwrap() []error {
	errs := make([]error, 0, 3)
	if e.NotSent {
		errs = append(errs, ErrNotSent)
	}
	errs = append(errs, e.Kind)
	if e.Cause != nil {
		errs = append(errs, e.Cause)
	}
	return errs
}

// dialError marks a failure to connect: nothing was written, so the call
// is ErrNotSent. The dial function is wrapped to produce it because
// fasthttp's own errors do not say whether a request was written.
type dialError struct{ err error }

func (e *dialError) Error() string { return e.err.Error() }
func (e *dialError) Unwrap() error { return e.err }
