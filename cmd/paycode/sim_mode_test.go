package main

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/paycode/paycode/engine/httpapi"
	"github.com/paycode/paycode/engine/sign/signtest"
)

// TestSimModeOnlyWhenAsked runs the real binary: a config with keys and
// data but no wallets is refused naming the setting (it used to pay
// against the simulated wallets); sim is refused on a public address and
// with PostgreSQL; sim mode says so in one WARN line and prints the test
// banner; a config with wallets logs no sim line and prints no test code.
func TestSimModeOnlyWhenAsked(t *testing.T) {
	dir := t.TempDir()
	keyFile := filepath.Join(dir, "paycode.key")
	if err := os.WriteFile(keyFile, []byte(signtest.Paycode.PrivateBase64), 0o600); err != nil {
		t.Fatal(err)
	}
	noWallets := filepath.Join(dir, "no-wallets.yaml")
	os.WriteFile(noWallets, []byte("data: "+filepath.Join(dir, "data")+"\nkeys:\n  privateKeyFile: "+keyFile+"\n  defaultPolicy: none\n"), 0o600)

	for _, tc := range []struct {
		name string
		args []string
		want []string
		not  []string
	}{
		{"config without wallets", []string{"serve", "-config", noWallets},
			[]string{"wallets: none configured", "sim: true"}, nil},
		{"sim on a public address", []string{"serve", "-sim", "-memory", "-listen", "0.0.0.0:0"},
			[]string{"sim: ", "loopback listen address only", `"0.0.0.0:0"`}, nil},
		{"sim with PostgreSQL", []string{"serve", "-sim", "-journal", "postgres://paycode:hunter2@127.0.0.1:1/paycode"},
			[]string{"sim: ", "PostgreSQL journal"}, []string{"hunter2"}},
		{"sim with wallets", []string{"serve", "-sim", "-memory", "-wallets", `[{name: mpp-281001, url: "http://127.0.0.1:1"}]`},
			[]string{"sim: true excludes wallets"}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rc, stdout, stderr := runBinary(t, tc.args...)
			if rc != 2 {
				t.Fatalf("exit %d, want 2; stderr:\n%s", rc, stderr)
			}
			for _, w := range tc.want {
				if !strings.Contains(stderr, w) {
					t.Errorf("stderr lacks %q:\n%s", w, stderr)
				}
			}
			for _, n := range tc.not {
				if strings.Contains(stdout+stderr, n) {
					t.Errorf("output shows %q", n)
				}
			}
			if strings.Contains(stderr, "paycode serving") || strings.Contains(stdout, "curl") {
				t.Errorf("serve started:\n%s\n%s", stdout, stderr)
			}
		})
	}

	t.Run("embedded default", func(t *testing.T) {
		rc, stdout, stderr := serveBinary(t, t.TempDir(), "-memory", "-listen", "127.0.0.1:0", "-admin", "")
		if rc != 0 {
			t.Fatalf("exit %d: %s", rc, stderr)
		}
		if n := strings.Count(stderr, `"level":"WARN","msg":"sim: `); n != 1 {
			t.Errorf("%d sim WARN lines, want 1:\n%s", n, stderr)
		}
		if !strings.Contains(stdout, "curl -s http://127.0.0.1:") {
			t.Errorf("no test banner in sim mode:\n%s", stdout)
		}
	})

	// The printed curl is unsigned, for DEMO_CLIENT, over plain HTTP: it
	// is printed only where it pays; with lane keys that do not trust
	// DEMO_CLIENT unsigned, one line points at signed requests instead.
	for _, tc := range []struct {
		name, keys string
		curl       bool
	}{
		{"sim with keys trusting unlisted ids", "  privateKeyFile: " + keyFile + "\n  defaultPolicy: none\n", true},
		{"sim with lane keys", "  privateKeyFile: " + keyFile + "\n  clients:\n    - {clientId: SANDBOX_M1, publicKey: " + signtest.Merchant.PublicBase64 + "}\n", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := filepath.Join(dir, "sim-keys.yaml")
			os.WriteFile(cfg, []byte("sim: true\nmemory: true\nlisten: 127.0.0.1:0\nadmin: \"\"\nkeys:\n"+tc.keys), 0o600)
			rc, stdout, stderr := serveBinary(t, dir, "-config", cfg)
			if rc != 0 {
				t.Fatalf("exit %d: %s", rc, stderr)
			}
			if got := strings.Contains(stdout, "curl -s http://127.0.0.1:"); got != tc.curl {
				t.Errorf("curl printed %v, want %v:\n%s", got, tc.curl, stdout)
			}
			if !tc.curl && (!strings.Contains(stdout, "signed requests") || !strings.Contains(stdout, "docs/clients.md") || strings.Count(stdout, "\n") != 1) {
				t.Errorf("want one line pointing at signed requests and docs/clients.md:\n%s", stdout)
			}
		})
	}

	t.Run("configured wallets", func(t *testing.T) {
		cfg := filepath.Join(dir, "wallets.yaml")
		os.WriteFile(cfg, []byte("memory: true\nlisten: 127.0.0.1:0\nadmin: \"\"\nwallets:\n  - {name: mpp-281001, url: \"http://127.0.0.1:1\"}\n"), 0o600)
		rc, stdout, stderr := serveBinary(t, dir, "-config", cfg)
		if rc != 0 {
			t.Fatalf("exit %d: %s", rc, stderr)
		}
		if strings.Contains(stderr, `"msg":"sim: `) || strings.Contains(stderr, "simulated wallet") {
			t.Errorf("sim lines with configured wallets:\n%s", stderr)
		}
		if stdout != "" {
			t.Errorf("stdout without sim (no banner, no test code): %q", stdout)
		}
	})
}

// TestAdminWalletsSimEndpoints: serve in sim mode lists its wallets on GET
// /admin/wallets (name, prefixes, url, simulated), and each simulated
// wallet's url serves /sim/ledger and /sim/settlement as `paycode sim`'s
// wallets do (the settlement used to answer 405).
func TestAdminWalletsSimEndpoints(t *testing.T) {
	_, admin, _ := startServe(t, "-memory", "-listen", "127.0.0.1:0", "-admin", "127.0.0.1:0")
	code, body := get(t, admin+"/admin/wallets")
	if code != 200 {
		t.Fatalf("/admin/wallets: %d %s", code, body)
	}
	var ws struct {
		Wallets []struct {
			Name      string   `json:"name"`
			Prefixes  []string `json:"prefixes"`
			URL       string   `json:"url"`
			Simulated bool     `json:"simulated"`
		} `json:"wallets"`
	}
	if err := json.Unmarshal([]byte(body), &ws); err != nil {
		t.Fatalf("%v: %s", err, body)
	}
	if len(ws.Wallets) != 4 {
		t.Fatalf("wallets: %s", body)
	}
	day := time.Now().UTC().Format("2006-01-02")
	for _, w := range ws.Wallets {
		if !w.Simulated || len(w.Prefixes) == 0 || "mpp-"+w.Prefixes[0] != w.Name || !strings.HasPrefix(w.URL, "http://127.0.0.1:") {
			t.Errorf("wallet %+v", w)
		}
		if code, body := get(t, w.URL+"/sim/ledger"); code != 200 || !strings.Contains(body, w.Name) {
			t.Errorf("%s /sim/ledger: %d %.200s", w.Name, code, body)
		}
		if code, body := get(t, w.URL+"/sim/settlement?date="+day); code != 200 || !strings.HasPrefix(body, "customerId,") {
			t.Errorf("%s /sim/settlement: %d %.200s", w.Name, code, body)
		}
	}
	// `paycode sim settlement -from` reads it as from `paycode sim`.
	var stdout, stderr bytes.Buffer
	if rc := run([]string{"sim", "settlement", "-date", day, "-from", ws.Wallets[0].URL}, &stdout, &stderr); rc != 0 || !strings.HasPrefix(stdout.String(), "customerId,") {
		t.Errorf("sim settlement -from: rc %d %s %.200s", rc, stderr.String(), stdout.String())
	}
}

// TestSecondServeSameData: a second serve on a data directory another
// paycode holds says so, with the holder's pid, and exits 1.
func TestSecondServeSameData(t *testing.T) {
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	bin := paycodeBinary(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	first := exec.CommandContext(ctx, bin, "serve", "-log.format", "json", "-data", data, "-listen", "127.0.0.1:0", "-admin", "")
	var logs lockedBuf
	first.Stderr = &logs
	if err := first.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		first.Process.Signal(syscall.SIGTERM)
		first.Wait()
	}()
	deadline := time.Now().Add(30 * time.Second)
	for !strings.Contains(logs.String(), `"msg":"paycode serving"`) {
		if time.Now().After(deadline) {
			t.Fatalf("first serve not serving: %s", logs.String())
		}
		time.Sleep(20 * time.Millisecond) // polling the log
	}
	rc, _, stderr := runBinary(t, "serve", "-data", data, "-listen", "127.0.0.1:0", "-admin", "")
	if rc != 1 {
		t.Fatalf("second serve: exit %d, want 1: %s", rc, stderr)
	}
	want := fmt.Sprintf("data directory %s is held by another paycode (pid %d)", data, first.Process.Pid)
	if !strings.Contains(stderr, want) {
		t.Errorf("stderr lacks %q:\n%s", want, stderr)
	}
}

// TestCurlPays: serve prints its unsigned DEMO_CLIENT curl only for a
// plain-HTTP lane that trusts DEMO_CLIENT unsigned.
func TestCurlPays(t *testing.T) {
	none := &httpapi.Client{Policy: httpapi.PolicyNone}
	signed := &httpapi.Client{Policy: httpapi.PolicyRSA256}
	for _, tc := range []struct {
		name string
		sec  *httpapi.Security
		tls  *tls.Config
		want bool
	}{
		{"no keys", nil, nil, true},
		{"default none", &httpapi.Security{Default: none}, nil, true},
		{"DEMO_CLIENT listed none", &httpapi.Security{Clients: map[string]*httpapi.Client{"DEMO_CLIENT": none}}, nil, true},
		{"unlisted refused", &httpapi.Security{Clients: map[string]*httpapi.Client{"SANDBOX_M1": signed}}, nil, false},
		{"DEMO_CLIENT listed rsa256", &httpapi.Security{Default: none, Clients: map[string]*httpapi.Client{"DEMO_CLIENT": signed}}, nil, false},
		{"TLS", &httpapi.Security{Default: none}, &tls.Config{}, false},
		{"TLS without keys", nil, &tls.Config{}, false},
	} {
		if got := curlPays(tc.sec, tc.tls); got != tc.want {
			t.Errorf("%s: curlPays %v, want %v", tc.name, got, tc.want)
		}
	}
}
