package decode

import (
	"errors"
	"fmt"
	"runtime"
)

// Sentinel errors. Every error returned by this package matches exactly one
// of them with errors.Is, except cancellation by the caller's context, which
// matches context.Canceled or context.DeadlineExceeded instead. Messages never
// contain decoded text, so errors are safe to log.
var (
	// ErrNotFound: every stage ran and none found a readable code. Also
	// returned when a symbol was located but failed its checksum.
	ErrNotFound = errors.New("decode: no barcode found")

	// ErrFormat: the input is not a PNG, JPEG or GIF, is malformed or
	// truncated, or a raw frame is shorter than width*height.
	ErrFormat = errors.New("decode: unsupported or malformed image")

	// ErrTooLarge: the input exceeds Config.MaxBytes, or its declared
	// dimensions exceed Config.MaxPixels. Detected before pixel memory is
	// allocated.
	ErrTooLarge = errors.New("decode: input too large")

	// ErrBusy: every worker is busy and the queue is full. Nothing was
	// done; the call may be retried (an HTTP layer would answer 503 with
	// Retry-After).
	ErrBusy = errors.New("decode: all workers busy")

	// ErrBudget: the wall-time safety net (Config.Budget) stopped the image
	// before every planned stage had run and no code was found so far.
	// Result.Stage names the stage it stopped; Decoder.SafetyNetFired
	// counts these. A frame whose work account (Config.Work) ran out is
	// ErrNotFound instead: that outcome does not depend on the clock.
	ErrBudget = errors.New("decode: time budget exhausted")

	// ErrAmbiguous: the frame holds two different payment codes. Paying
	// either could charge the wrong customer, so neither is returned; the
	// same code twice is not ambiguous.
	ErrAmbiguous = errors.New("decode: more than one payment code in the image")

	// ErrClosed: Close was called.
	ErrClosed = errors.New("decode: decoder closed")

	// ErrInternal: gozxing (or this package) panicked and no stage found a
	// code. The panic was recovered; the worker continues with fresh
	// readers.
	ErrInternal = errors.New("decode: internal decoder failure")

	// ErrConfig: Config.Validate rejected a field.
	ErrConfig = errors.New("decode: invalid config")
)

// panicError turns a recovered panic value into an ErrInternal error. Only
// runtime errors (index out of range, nil dereference, ...) are quoted: they
// describe code, not data. Any other value could in principle carry image
// content, so only its type is named.
func panicError(where string, v any) error {
	if re, ok := v.(runtime.Error); ok {
		return fmt.Errorf("%w: panic in %s: %v", ErrInternal, where, re)
	}
	return fmt.Errorf("%w: panic in %s (%T)", ErrInternal, where, v)
}

func isInternal(err error) bool { return errors.Is(err, ErrInternal) }
