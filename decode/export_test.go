package decode

// Test-only access for the black-box tests in package decode_test.

// RaceEnabled reports whether the test binary was built with -race.
const RaceEnabled = raceEnabled

// SetAttemptHook installs f to run on the worker before every gozxing
// attempt. It must be called before the Decoder's first call; a hook that
// blocks holds its worker, and one that panics exercises recovery.
func SetAttemptHook(d *Decoder, f func(Stage)) { d.hook = f }

// IsPaymentCode exposes the payment-code shape test (16 to 32 digits).
func IsPaymentCode(text string) bool { return isPaymentCode(text) }
