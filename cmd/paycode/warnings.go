package main

import (
	"fmt"
	"os"
)

// operatorWarnings are what a careless configuration exposes without
// being invalid: serve starts, and logs each at WARN. They are warnings,
// not refusals, because each has a legitimate form (a container's admin
// listener on 0.0.0.0 published to the host's loopback only; a key file
// group-readable by a secrets agent's group).
func (c *serveConfig) operatorWarnings() []string {
	var out []string
	if c.Admin != "" && !isLoopback(c.Admin) {
		out = append(out, fmt.Sprintf("admin: listening on %s, not loopback: /metrics, /status, /admin/stats, /admin/wallets and /debug/pprof answer without a token; keep the admin port off every network a lane can reach", c.Admin))
	}
	if c.Keys != nil {
		for _, f := range []struct{ setting, path string }{
			{"keys.privateKeyFile", c.Keys.PrivateKeyFile}, {"keys.tlsKey", c.Keys.TLSKey},
		} {
			if f.path == "" {
				continue
			}
			if fi, err := os.Stat(f.path); err == nil && fi.Mode().Perm()&0o077 != 0 {
				out = append(out, fmt.Sprintf("%s: %s is readable or writable by other users (mode %04o): a private key; chmod 600 it", f.setting, f.path, fi.Mode().Perm()))
			}
		}
	}
	return out
}
