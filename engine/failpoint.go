//go:build failpoints

package engine

// FailpointsEnabled reports whether this build has the failpoints.
const FailpointsEnabled = true

// failpoint calls Config.Failpoint at a named point (crash tests).
func (e *Engine) failpoint(name string) {
	if e.cfg.Failpoint != nil {
		e.cfg.Failpoint(name)
	}
}
