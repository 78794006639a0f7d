package main

import (
	"bufio"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"
)

// TestSystemdUnit checks deploy/paycode.service's keys against the
// command: it runs serve with the config path the README names, reloads
// with SIGHUP, stops with SIGTERM after more than the drain, and keeps
// its hardening. (No systemd here: the unit is checked as data.)
func TestSystemdUnit(t *testing.T) {
	f, err := os.Open("../../deploy/paycode.service")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	keys := map[string]string{}
	section := ""
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		switch {
		case line == "" || strings.HasPrefix(line, "#"):
		case strings.HasPrefix(line, "["):
			section = strings.Trim(line, "[]")
		default:
			k, v, ok := strings.Cut(line, "=")
			if !ok {
				t.Fatalf("not a key=value line: %q", line)
			}
			keys[section+"."+k] = v
		}
	}
	for k, want := range map[string]string{
		"Service.Type":             "simple",
		"Service.User":             "paycode",
		"Service.StateDirectory":   "paycode",
		"Service.EnvironmentFile":  "-/etc/paycode/env",
		"Service.ExecStart":        "/usr/local/bin/paycode serve -config /etc/paycode/paycode.yaml",
		"Service.ExecReload":       "/bin/kill -HUP $MAINPID",
		"Service.KillSignal":       "SIGTERM",
		"Service.Restart":          "on-failure",
		"Service.NoNewPrivileges":  "yes",
		"Service.ProtectSystem":    "strict",
		"Service.ProtectHome":      "yes",
		"Service.PrivateTmp":       "yes",
		"Service.ReadWritePaths":   "/var/lib/paycode",
		"Service.WorkingDirectory": "/var/lib/paycode",
		"Install.WantedBy":         "multi-user.target",
	} {
		if keys[k] != want {
			t.Errorf("%s=%q, want %q", k, keys[k], want)
		}
	}
	stop, err := time.ParseDuration(keys["Service.TimeoutStopSec"])
	if err != nil || stop <= DefaultDrainTimeout+5*time.Second {
		t.Errorf("TimeoutStopSec=%q must exceed the drain timeout (%s) with room to close", keys["Service.TimeoutStopSec"], DefaultDrainTimeout)
	}
}

// TestDockerfile checks deploy/Dockerfile builds this command statically
// with its version, and runs it as a non-root user.
func TestDockerfile(t *testing.T) {
	b, err := os.ReadFile("../../deploy/Dockerfile")
	if err != nil {
		t.Fatal(err)
	}
	df := string(b)
	for _, re := range []string{
		`(?m)^FROM golang:1\.26 AS build$`,
		`CGO_ENABLED=0 go build -trimpath -ldflags "[^"]*-X main\.version=\$\{VERSION\}[^"]*" -o /out/paycode \./cmd/paycode`,
		`(?m)^FROM gcr\.io/distroless/static-debian12:nonroot$`,
		`(?m)^USER 65532:65532$`,
		// The data directory as serve makes it: 0700 (operatorWarnings).
		`mkdir -p -m 0700 /out/data\b`,
		`(?m)^VOLUME \["/var/lib/paycode"\]$`,
		`(?m)^EXPOSE 8080 9090$`,
		`(?m)^ENTRYPOINT \["/usr/local/bin/paycode", "serve"\]$`,
	} {
		if !regexp.MustCompile(re).MatchString(df) {
			t.Errorf("Dockerfile lacks %s", re)
		}
	}
	if _, err := os.Stat("../../cmd/paycode/main.go"); err != nil {
		t.Errorf("the Dockerfile's package ./cmd/paycode: %v", err)
	}
	// The image's environment names real settings.
	env := map[string]bool{}
	for _, s := range settingsOf() {
		env[s.Env] = true
	}
	for _, m := range regexp.MustCompile(`(PAYCODE_[A-Z_]+)=`).FindAllStringSubmatch(df, -1) {
		if !env[m[1]] {
			t.Errorf("Dockerfile sets %s, which is no setting", m[1])
		}
	}
}
