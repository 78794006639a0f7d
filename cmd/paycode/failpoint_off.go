//go:build !failpoints

package main

import "log/slog"

// failpointFromEnv: a default build has no failpoints (see
// failpoint_on.go), so nothing in the environment can make it kill itself.
func failpointFromEnv(*slog.Logger) func(string) { return nil }
