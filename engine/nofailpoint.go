//go:build !failpoints

package engine

// FailpointsEnabled reports whether this build has the failpoints: a
// release build does not, so no crash hook sits on the pay path.
const FailpointsEnabled = false

// failpoint is empty without -tags failpoints; the compiler drops the
// calls and their names.
func (e *Engine) failpoint(string) {}
