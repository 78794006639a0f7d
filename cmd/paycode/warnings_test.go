package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestOperatorWarnings: an admin listener off loopback, and private key
// files that other users may read, are each named at start (WARN), with
// the setting; a careful configuration gets none.
func TestOperatorWarnings(t *testing.T) {
	dir := t.TempDir()
	loose, tight := filepath.Join(dir, "loose.key"), filepath.Join(dir, "tight.key")
	for path, mode := range map[string]os.FileMode{loose: 0o644, tight: 0o600} {
		if err := os.WriteFile(path, []byte("not read here"), mode); err != nil {
			t.Fatal(err)
		}
		os.Chmod(path, mode) // whatever the umask
	}
	private, open := filepath.Join(dir, "private"), filepath.Join(dir, "open")
	os.Mkdir(private, 0o700)
	os.Mkdir(open, 0o755)
	os.Chmod(open, 0o755)
	tests := []struct {
		name string
		args []string
		want []string // substrings, one warning each
	}{
		{"careful", []string{"-admin", "127.0.0.1:9090", "-keys.private-key-file", tight, "-tls-key", tight, "-data", private}, nil},
		{"localhost admin", []string{"-admin", "localhost:9090", "-memory"}, nil},
		{"admin on every address", []string{"-admin", "0.0.0.0:9090", "-memory"}, []string{"admin: listening on 0.0.0.0:9090, not loopback"}},
		{"admin on a LAN address", []string{"-admin", "10.1.2.3:9090", "-memory"}, []string{"admin: listening on 10.1.2.3:9090"}},
		{"a long signature window", []string{"-keys.window", "1h", "-memory"}, []string{"keys.window: 1h0m0s: a captured signed request is accepted that long"}},
		{"the default window", []string{"-keys.window", "2m", "-memory"}, nil},
		{"data directory open to others", []string{"-data", open}, []string{"data: " + open + " is open to other users (mode 0755)"}},
		{"data a file, not a directory", []string{"-data", loose}, nil}, // the journal's error names it
		{"world-readable keys", []string{"-keys.private-key-file", loose, "-tls-key", loose, "-memory"},
			[]string{"keys.privateKeyFile: " + loose + " is readable or writable by other users (mode 0644)", "keys.tlsKey: " + loose}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, _, err := parseServeConfig("serve", tt.args, os.Stderr, "")
			if err != nil {
				t.Fatal(err)
			}
			got := c.operatorWarnings("")
			if len(got) != len(tt.want) {
				t.Fatalf("warnings %q, want %d", got, len(tt.want))
			}
			for i, w := range tt.want {
				if !strings.Contains(got[i], w) {
					t.Errorf("warning %q lacks %q", got[i], w)
				}
			}
		})
	}
	// A config file that holds a secret, readable by others: named.
	for _, tc := range []struct {
		body string
		mode os.FileMode
		want string
	}{
		{"adminToken: " + secretToken + "\n", 0o644, "holds adminToken and is readable by other users (mode 0644)"},
		{"journal: postgres://paycode:pw@db/paycode\n", 0o640, "holds the journal's password"},
		{"adminToken: " + secretToken + "\n", 0o600, ""},
		{"node: 3\n", 0o644, ""},
	} {
		path := filepath.Join(dir, "paycode.yaml")
		os.WriteFile(path, []byte(tc.body), tc.mode)
		os.Chmod(path, tc.mode)
		got := strings.Join((&serveConfig{}).operatorWarnings(path), "\n")
		if (tc.want == "") != (got == "") || !strings.Contains(got, tc.want) || strings.Contains(got, secretToken) {
			t.Errorf("config file %q mode %04o: warnings %q, want %q", strings.TrimSpace(tc.body), tc.mode, got, tc.want)
		}
	}
	// serve logs them, with a real key (paycode keys writes it 0600).
	var out strings.Builder
	if rc := run([]string{"keys", "-out", filepath.Join(dir, "paycode")}, &out, &out); rc != 0 {
		t.Fatalf("paycode keys: %d %s", rc, out.String())
	}
	loose = filepath.Join(dir, "paycode.key")
	if fi, err := os.Stat(loose); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("paycode keys wrote %s: %v %v, want mode 0600", loose, fi.Mode(), err)
	}
	os.Chmod(loose, 0o644)
	_, _, logs := startServe(t, "-memory", "-listen", "127.0.0.1:0", "-admin", "127.0.0.1:0", "-log.format", "json",
		"-keys.private-key-file", loose, "-keys.default-policy", "none")
	jsonLine(t, logs, "keys.privateKeyFile: "+loose+" is readable or writable by other users (mode 0644): a private key; chmod 600 it", nil, time.Second)
}
