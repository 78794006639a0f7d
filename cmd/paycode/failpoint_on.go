//go:build failpoints

package main

import (
	"log/slog"
	"os"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
)

// failpointFromEnv reads PAYCODE_FAILPOINT=name[:N] and returns an engine
// failpoint hook that SIGKILLs the process the Nth time the named point is
// reached (N defaults to 1). Crash tests use it to die at exact moments;
// without the variable it returns nil and costs nothing. Only binaries
// built with -tags failpoints have it (the kill test builds one).
func failpointFromEnv(log *slog.Logger) func(string) {
	spec := os.Getenv("PAYCODE_FAILPOINT")
	if spec == "" {
		return nil
	}
	name, nth := spec, int64(1)
	if i := strings.LastIndexByte(spec, ':'); i > 0 {
		if n, err := strconv.ParseInt(spec[i+1:], 10, 64); err == nil && n > 0 {
			name, nth = spec[:i], n
		}
	}
	log.Warn("failpoint armed: the process will kill itself", "failpoint", name, "at_hit", nth)
	var hits atomic.Int64
	return func(point string) {
		if point == name && hits.Add(1) == nth {
			syscall.Kill(os.Getpid(), syscall.SIGKILL)
			select {} // never returns
		}
	}
}
