package main

import (
	"bytes"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/paycode/paycode/engine/server"
	"github.com/paycode/paycode/engine/sign/signtest"
)

const examplePath = "../../testdata/paycode.example.yaml"

// TestExampleConfig: the example passes `config check`, names every
// setting of serveConfig (list elements' fields in its commented entries),
// and its values are the defaults.
func TestExampleConfig(t *testing.T) {
	var stdout, stderr bytes.Buffer
	if rc := run([]string{"config", "check", examplePath}, &stdout, &stderr); rc != 0 || stdout.String() != "ok\n" {
		t.Fatalf("config check: rc %d, %q %s", rc, stdout.String(), stderr.String())
	}
	text, err := os.ReadFile(examplePath)
	if err != nil {
		t.Fatal(err)
	}
	var root yaml.Node
	if err := yaml.Unmarshal(text, &root); err != nil {
		t.Fatal(err)
	}
	keys := map[string]bool{}
	var walk func(n *yaml.Node, prefix string)
	walk = func(n *yaml.Node, prefix string) {
		if n.Kind == yaml.DocumentNode {
			walk(n.Content[0], prefix)
			return
		}
		if n.Kind != yaml.MappingNode {
			return
		}
		for i := 0; i+1 < len(n.Content); i += 2 {
			p := prefix + n.Content[i].Value
			keys[p] = true
			walk(n.Content[i+1], p+".")
		}
	}
	walk(&root, "")
	all := settingsOf()
	if len(all) < 50 {
		t.Fatalf("only %d settings found by reflection", len(all))
	}
	for _, s := range all {
		if s.Elem {
			// A commented entry of its list: "#  - name:" or "#    url:".
			field := s.Path[strings.LastIndex(s.Path, ".")+1:]
			re := regexp.MustCompile(`(?m)^\s*#\s*(-\s*)?` + regexp.QuoteMeta(field) + `:`)
			if !re.Match(text) {
				t.Errorf("%s: not in the example's commented list entries", s.Path)
			}
			continue
		}
		if !keys[s.Path] {
			t.Errorf("%s: not in the example", s.Path)
		}
	}
	// The values are the defaults (but the keys section, which the
	// defaults leave out, trusting every client id as the example does).
	c, err := loadServeConfig(examplePath)
	if err != nil {
		t.Fatal(err)
	}
	if c.Keys == nil || c.Keys.DefaultPolicy != "none" || c.Keys.authConfigured() && len(c.Keys.Clients) > 0 {
		t.Fatalf("example keys: %+v", c.Keys)
	}
	c.Keys = nil
	// The example's wallets are `paycode sim`'s on its default ports.
	var names []string
	for _, w := range c.Wallets {
		names = append(names, w.Name+"="+w.URL)
	}
	if got := strings.Join(names, " "); got != "mpp-281001=http://127.0.0.1:7001 mpp-281003=http://127.0.0.1:7002 mpp-281010=http://127.0.0.1:7003 mpp-281011=http://127.0.0.1:7004" {
		t.Errorf("example wallets: %s", got)
	}
	c.Wallets, c.configFile = nil, ""
	if len(c.AdminAllow) == 0 {
		c.AdminAllow = nil
	}
	if len(c.Notify.Allow) == 0 {
		c.Notify.Allow = nil
	}
	if len(c.Notify.Clients) == 0 {
		c.Notify.Clients = nil
	}
	if len(c.Limits.MaxAmount) == 0 {
		c.Limits.MaxAmount = nil
	}
	if d := newServeConfig(); !reflect.DeepEqual(c, d) {
		t.Errorf("the example's values are not the defaults:\nexample  %+v\ndefaults %+v", c, d)
	}
}

func TestSettingNames(t *testing.T) {
	want := map[string][2]string{
		"engine.payTimeout":          {"engine.pay-timeout", "PAYCODE_ENGINE_PAY_TIMEOUT"},
		"identification.serviceURL":  {"identification.service-url", "PAYCODE_IDENTIFICATION_SERVICE_URL"},
		"identification.negativeTTL": {"identification.negative-ttl", "PAYCODE_IDENTIFICATION_NEGATIVE_TTL"},
		"leaseTTL":                   {"lease-ttl", "PAYCODE_LEASE_TTL"},
		"keys.clientCA":              {"keys.client-ca", "PAYCODE_KEYS_CLIENT_CA"},
		"keys.maxInFlight":           {"keys.max-in-flight", "PAYCODE_KEYS_MAX_IN_FLIGHT"},
		"shutdown.drainTimeout":      {"shutdown.drain-timeout", "PAYCODE_SHUTDOWN_DRAIN_TIMEOUT"},
		"log.format":                 {"log.format", "PAYCODE_LOG_FORMAT"},
		"journal":                    {"journal", "PAYCODE_JOURNAL"},
		"wallets":                    {"wallets", "PAYCODE_WALLETS"},
	}
	seen := map[string]bool{}
	for _, s := range settingsOf() {
		if s.Elem {
			continue
		}
		if settingHelp[s.Path] == "" {
			t.Errorf("%s: no help text in settingHelp", s.Path)
		}
		if seen[s.Flag] {
			t.Errorf("flag %s derived twice", s.Flag)
		}
		seen[s.Flag] = true
		if w, ok := want[s.Path]; ok {
			if s.Flag != w[0] || s.Env != w[1] {
				t.Errorf("%s: flag %s env %s, want %s %s", s.Path, s.Flag, s.Env, w[0], w[1])
			}
			delete(want, s.Path)
		}
	}
	for p := range want {
		t.Errorf("%s: not a setting", p)
	}
	for p := range settingHelp {
		found := false
		for _, s := range settingsOf() {
			found = found || s.Path == p
		}
		if !found {
			t.Errorf("settingHelp names %s, which is not a setting", p)
		}
	}
}

// TestPrecedence: flag > environment > file > default, for scalars,
// lists and sections, with the file named by flag or by PAYCODE_CONFIG.
func TestPrecedence(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "paycode.yaml")
	os.WriteFile(file, []byte("node: 3\nengine:\n  payTimeout: 3s\n  pollSchedule: [100ms, 200ms]\nwallets:\n  - {name: fromfile, url: \"http://127.0.0.1:1\"}\n"), 0o600)
	type want struct {
		payTimeout time.Duration
		node       int
		poll       string
		wallet     string
	}
	def := newServeConfig()
	for _, tc := range []struct {
		name string
		args []string
		env  map[string]string
		want want
	}{
		{"defaults", nil, nil, want{def.Engine.PayTimeout, 0, formatDurations(def.Engine.PollSchedule), ""}},
		{"file", []string{"-config", file}, nil, want{3 * time.Second, 3, "100ms,200ms", "fromfile"}},
		{"file by env", nil, map[string]string{"PAYCODE_CONFIG": file}, want{3 * time.Second, 3, "100ms,200ms", "fromfile"}},
		{"env over file", []string{"-config", file}, map[string]string{
			"PAYCODE_ENGINE_PAY_TIMEOUT": "4s", "PAYCODE_ENGINE_POLL_SCHEDULE": "1s,2s,3s",
			"PAYCODE_WALLETS": `[{name: fromenv, url: "http://127.0.0.1:2"}]`,
		}, want{4 * time.Second, 3, "1s,2s,3s", "fromenv"}},
		{"flag over env over file", []string{"-config", file, "-engine.pay-timeout", "6s", "-node", "9", "-wallets", `[{name: fromflag, url: "http://127.0.0.1:3"}]`},
			map[string]string{"PAYCODE_ENGINE_PAY_TIMEOUT": "4s", "PAYCODE_NODE": "8", "PAYCODE_WALLETS": `[{name: fromenv, url: "http://127.0.0.1:2"}]`},
			want{6 * time.Second, 9, "100ms,200ms", "fromflag"}},
		{"env without file", nil, map[string]string{"PAYCODE_NODE": "8", "PAYCODE_ENGINE_POLL_SCHEDULE": "[5s, 6s]"}, want{def.Engine.PayTimeout, 8, "5s,6s", ""}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for k, v := range tc.env {
				t.Setenv(k, v)
			}
			c, _, err := parseServeConfig("serve", tc.args, os.Stderr, "")
			if err != nil {
				t.Fatal(err)
			}
			got := want{c.Engine.PayTimeout, c.Node, formatDurations(c.Engine.PollSchedule), ""}
			if len(c.Wallets) > 0 {
				got.wallet = c.Wallets[0].Name
			}
			if got != tc.want {
				t.Errorf("got %+v, want %+v", got, tc.want)
			}
		})
	}
}

func formatDurations(ds []time.Duration) string {
	return formatValue(reflect.ValueOf(ds))
}

// TestKeysSectionFlags: a keys setting given as a flag creates the
// section; the legacy TLS flags alone leave every client id trusted.
func TestKeysSectionFlags(t *testing.T) {
	c, _, err := parseServeConfig("serve", []string{"-tls-cert", "c.pem", "-allow-none"}, os.Stderr, "")
	if err != nil {
		t.Fatal(err)
	}
	if c.Keys == nil || c.Keys.TLSCert != "c.pem" || !c.Keys.AllowNone || c.Keys.authConfigured() {
		t.Fatalf("keys %+v", c.Keys)
	}
	if c.Keys.MaxInFlight == 0 || c.Keys.Window == 0 {
		t.Fatalf("keys defaults not filled: %+v", c.Keys)
	}
	t.Setenv("PAYCODE_KEYS_CLIENTS", `[{clientId: A, policy: none}]`)
	c, _, err = parseServeConfig("serve", []string{"-keys.default-policy", "none"}, os.Stderr, "")
	if err != nil {
		t.Fatal(err)
	}
	if c.Keys == nil || len(c.Keys.Clients) != 1 || c.Keys.Clients[0].ClientID != "A" || !c.Keys.authConfigured() {
		t.Fatalf("keys %+v", c.Keys)
	}
	sec, _, _, err := c.security()
	if err != nil || sec == nil || sec.Clients["A"] == nil || sec.Default == nil {
		t.Fatalf("security %+v %v", sec, err)
	}
	// Bad values name the flag or variable.
	if _, _, err := parseServeConfig("serve", []string{"-engine.pay-timeout", "soon"}, &bytes.Buffer{}, ""); err == nil || !strings.Contains(err.Error(), "engine.pay-timeout") {
		t.Errorf("bad flag: %v", err)
	}
	t.Setenv("PAYCODE_NODE", "seven")
	if _, _, err := parseServeConfig("serve", nil, &bytes.Buffer{}, ""); err == nil || !strings.Contains(err.Error(), "PAYCODE_NODE") {
		t.Errorf("bad env: %v", err)
	}
}

// TestValidationMessages: each problem names its setting; all problems
// are reported at once.
func TestValidationMessages(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct {
		name string
		edit func(c *serveConfig)
		want []string
	}{
		{"listen", func(c *serveConfig) { c.Listen = "8080" }, []string{`listen: want host:port, got "8080"`}},
		{"admin", func(c *serveConfig) { c.Admin = c.Listen }, []string{"admin: must differ from listen"}},
		{"node", func(c *serveConfig) { c.Node = 100 }, []string{"node: must be 0..99, got 100"}},
		{"journal", func(c *serveConfig) { c.Journal = "mysql://root:hunter2@db/x" }, []string{`journal: want empty (Pebble under data) or a postgres:// URL, got "mysql://root:***@db/x"`}},
		{"memory and journal", func(c *serveConfig) { c.Memory, c.Journal = true, "postgres://db/x" }, []string{"memory: true excludes journal"}},
		{"data", func(c *serveConfig) { c.Data = "" }, []string{"data: required"}},
		{"leaseTTL", func(c *serveConfig) { c.LeaseTTL = -time.Second }, []string{"leaseTTL: must be at least 1ms"}},
		{"log", func(c *serveConfig) { c.Log.Format, c.Log.Level = "xml", "loud" }, []string{`log.format: want json, text or auto, got "xml"`, `log.level: want debug, info, warn or error, got "loud"`}},
		{"drain", func(c *serveConfig) { c.Shutdown.DrainTimeout = -1 }, []string{"shutdown.drainTimeout: must be positive"}},
		{"engine", func(c *serveConfig) {
			c.Engine.PayTimeout, c.Engine.FollowUpWorkers, c.Engine.PollSchedule = -time.Second, -1, []time.Duration{time.Second, 0}
			c.Engine.Retention = time.Hour
		}, []string{"engine.payTimeout: must be positive, got -1s", "engine.followUpWorkers: must be at least 1", "engine.pollSchedule: step 2 is 0s", "engine.retention: must be at least 744h0m0s"}},
		{"identification", func(c *serveConfig) {
			c.Identification.RulesFile, c.Identification.ServiceURL = filepath.Join(dir, "missing.yaml"), "http://127.0.0.1:7000"
		}, []string{"identification: ident: config: RulesFile and ServiceURL are exclusive", "identification.rulesFile: "}},
		{"wallets", func(c *serveConfig) {
			c.Wallets = []server.WalletConfig{{Name: "a", URL: "ftp://x"}, {Name: "a", URL: "http://x", Signing: "rsa256"}, {URL: "http://y", Signing: "maybe"},
				{Name: "d", URL: "127.0.0.1:7001"}, {Name: "e", URL: "localhost:7001"}}
		}, []string{`wallets[0].url: want an http:// or https:// URL, got "ftp://x"`, `wallets[1].name: "a" is listed twice`,
			"wallets[1].signing: rsa256 needs paycode's private key", "wallets[2].name: required", `wallets[2].signing: want rsa256 or none, got "maybe"`,
			"wallets[3].url: want an http:// or https:// URL, got one without a scheme (write http://HOST:PORT)",
			"wallets[4].url: want an http:// or https:// URL, got one without a scheme"}},
		{"keys", func(c *serveConfig) { c.Keys = &keysConfig{Clients: []clientConfig{{ClientID: "X"}}} }, []string{`client "X": policy rsa256 needs the merchant's public key`}},
		{"keys policy", func(c *serveConfig) { c.Keys = &keysConfig{DefaultPolicy: "all"} }, []string{`keys: defaultPolicy "all"`}},
		{"public unsigned", func(c *serveConfig) { c.Listen = "0.0.0.0:8080" }, []string{"keys: lane listener 0.0.0.0:8080 is not loopback"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := newServeConfig()
			tc.edit(c)
			c.ensureDefaults()
			err := c.Validate()
			if err == nil {
				t.Fatal("valid")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("no %q in:\n%v", w, err)
				}
			}
			if n := len(unjoin(err)); n < len(tc.want) {
				t.Errorf("%d problems reported, want %d:\n%v", n, len(tc.want), err)
			}
		})
	}
	if err := newServeConfig().Validate(); err != nil {
		t.Fatalf("defaults invalid: %v", err)
	}
}

// TestConfigCheckAndPrint: check lists every problem of a file and exits
// 1; print shows the effective configuration with secrets redacted.
func TestConfigCheckAndPrint(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.yaml")
	os.WriteFile(bad, []byte("node: 120\nlog: {format: xml}\n"), 0o600)
	var stdout, stderr bytes.Buffer
	if rc := run([]string{"config", "check", bad}, &stdout, &stderr); rc != 1 ||
		!strings.Contains(stderr.String(), "node: must be 0..99") || !strings.Contains(stderr.String(), "log.format:") {
		t.Fatalf("rc %d: %s", rc, stderr.String())
	}
	os.WriteFile(bad, []byte("engine:\n  payTimout: 3s\n"), 0o600)
	stderr.Reset()
	if rc := run([]string{"config", "check", bad}, &stdout, &stderr); rc != 1 || !strings.Contains(stderr.String(), "payTimout") {
		t.Fatalf("unknown key: rc %d: %s", rc, stderr.String())
	}

	keyFile := filepath.Join(dir, "paycode.key")
	os.WriteFile(keyFile, []byte(signtest.Paycode.PrivateBase64), 0o600)
	good := filepath.Join(dir, "good.yaml")
	os.WriteFile(good, []byte("keys:\n  privateKey: "+signtest.Paycode.PrivateBase64+"\n  clients:\n    - {clientId: A, publicKey: "+signtest.Merchant.PublicBase64+"}\n"), 0o600)
	t.Setenv("PAYCODE_JOURNAL", "postgres://paycode:hunter2@db.internal/paycode")
	stdout.Reset()
	stderr.Reset()
	if rc := run([]string{"config", "print", "-config", good, "-engine.pay-timeout", "7s"}, &stdout, &stderr); rc != 0 {
		t.Fatalf("print: rc %d: %s", rc, stderr.String())
	}
	out := stdout.String()
	for _, w := range []string{"payTimeout: 7s", "journal: postgres://paycode:***@db.internal/paycode", "privateKey: " + redacted, "clientId: A", signtest.Merchant.PublicBase64[:40]} {
		if !strings.Contains(out, w) {
			t.Errorf("print lacks %q:\n%s", w, out)
		}
	}
	for _, secret := range []string{"hunter2", signtest.Paycode.PrivateBase64[:40]} {
		if strings.Contains(out+stderr.String(), secret) {
			t.Errorf("print shows a secret %q", secret[:8])
		}
	}
	// What print prints is a config file that reads back the same (but the
	// redacted secrets).
	var back serveConfig
	if err := yaml.Unmarshal([]byte(out), &back); err != nil {
		t.Fatal(err)
	}
	if back.Engine.PayTimeout != 7*time.Second || back.Keys == nil || len(back.Keys.Clients) != 1 {
		t.Fatalf("print does not read back: %+v", back)
	}
}

// TestConfigFileProblems: a misspelt key is named by its path and line
// with the setting it was probably meant to be, a value of the wrong type
// by its setting, and neither stops the other checks.
func TestConfigFileProblems(t *testing.T) {
	f := filepath.Join(t.TempDir(), "paycode.yaml")
	os.WriteFile(f, []byte("listen: 8080\nengine:\n  followUpDeadlin: 3s\n  payTimeout: soon\nwallets:\n  - {name: a, url: \"http://127.0.0.1:1\", timout: 2s}\nWallets: []\n"), 0o600)
	var stdout, stderr bytes.Buffer
	if rc := run([]string{"config", "check", f}, &stdout, &stderr); rc != 1 {
		t.Fatalf("config check: rc %d: %s", rc, stderr.String())
	}
	for _, want := range []string{
		"line 3: unknown setting engine.followUpDeadlin (did you mean followUpDeadline?)",
		"line 4: engine.payTimeout: cannot unmarshal !!str `soon` into time.Duration",
		"line 6: unknown setting wallets[0].timout (did you mean timeout?)",
		"line 7: unknown setting Wallets (did you mean wallets?)",
		`listen: want host:port, got "8080"`, // the other checks ran
	} {
		if !strings.Contains(stderr.String(), want) {
			t.Errorf("check lacks %q:\n%s", want, stderr.String())
		}
	}
	if strings.Contains(stderr.String(), "struct {") {
		t.Errorf("check prints a Go type:\n%s", stderr.String())
	}
	stderr.Reset()
	if rc := run([]string{"serve", "-config", f}, &stdout, &stderr); rc != 2 || !strings.Contains(stderr.String(), "did you mean followUpDeadline?") {
		t.Errorf("serve: rc %d: %s", rc, stderr.String())
	}
}

// TestConfigPrintEffective: with no config, print shows what serve runs:
// sim on, the keys section's defaults (and that it trusts every client
// id), and the simulated wallets; what it prints passes config check.
func TestConfigPrintEffective(t *testing.T) {
	var stdout, stderr bytes.Buffer
	if rc := run([]string{"config", "print"}, &stdout, &stderr); rc != 0 {
		t.Fatalf("rc %d: %s", rc, stderr.String())
	}
	out := stdout.String()
	for _, want := range []string{"sim: true", "maxInFlight: 4096", "every client id is trusted", "mpp-281001", "mpp-281011"} {
		if !strings.Contains(out, want) {
			t.Errorf("print lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "keys: null") {
		t.Errorf("print shows keys: null:\n%s", out)
	}
	f := filepath.Join(t.TempDir(), "printed.yaml")
	os.WriteFile(f, stdout.Bytes(), 0o600)
	stdout.Reset()
	if rc := run([]string{"config", "check", f}, &stdout, &stderr); rc != 0 {
		t.Errorf("the printed config does not pass check: %s", stderr.String())
	}
}
