package main

import (
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/paycode/paycode/engine/server"
	"github.com/paycode/paycode/engine/sign"
)

// maxQuietWindow is the longest keys.window served without a warning:
// SDK clocks are NTP-synced, so minutes of skew already mean a broken
// clock.
const maxQuietWindow = 10 * time.Minute

// operatorWarnings are what a careless configuration exposes without
// being invalid: serve starts, and logs each at WARN. They are warnings,
// not refusals, because each has a legitimate form (a container's admin
// listener on 0.0.0.0 published to the host's loopback only; a key file
// group-readable by a secrets agent's group).
// path is the config file ("" for none): one that holds a secret itself
// should not be readable by others either.
func (c *serveConfig) operatorWarnings(path string) []string {
	var out []string
	if path != "" {
		if fi, err := os.Stat(path); err == nil && fi.Mode().Perm()&0o077 != 0 {
			f := newServeConfig()
			_ = readConfigFile(path, f) // its problems are serve's to report
			var held []string
			if f.AdminToken != "" {
				held = append(held, "adminToken")
			}
			if f.Keys != nil && f.Keys.PrivateKey != "" {
				held = append(held, "keys.privateKey")
			}
			if server.RedactDSN(f.Journal) != f.Journal {
				held = append(held, "the journal's password")
			}
			if len(held) > 0 {
				out = append(out, fmt.Sprintf("%s holds %s and is readable by other users (mode %04o): chmod 600 it, or pass secrets as PAYCODE_… variables from a root-only file",
					path, strings.Join(held, ", "), fi.Mode().Perm()))
			}
		}
	}
	if c.Admin != "" && !isLoopback(c.Admin) {
		out = append(out, fmt.Sprintf("admin: listening on %s, not loopback: /metrics, /status, /admin/stats, /admin/wallets and /debug/pprof answer without a token; keep the admin port off every network a lane can reach", c.Admin))
	}
	if !c.Memory && c.Journal == "" && c.Data != "" {
		if fi, err := os.Stat(c.Data); err == nil && fi.IsDir() && fi.Mode().Perm()&0o077 != 0 { // not a directory: the journal says so
			out = append(out, fmt.Sprintf("data: %s is open to other users (mode %04o): the journal holds the code-hash key and merchants' payments; chmod 700 it", c.Data, fi.Mode().Perm()))
		}
	}
	if c.Keys != nil {
		if c.Keys.Window > maxQuietWindow {
			out = append(out, fmt.Sprintf("keys.window: %s: a captured signed request is accepted that long either way of its request-time (idempotency still holds); the default is %s", c.Keys.Window, sign.DefaultWindow))
		}
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
