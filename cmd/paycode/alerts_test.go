package main

import (
	"os"
	"os/exec"
	"regexp"
	"strings"
	"testing"
)

const alertsFile = "../../deploy/prometheus/alerts.yaml"

// TestAlertRulesMetricNames: every metric an alert rule reads is one
// paycode serves (goldenMetrics): a renamed metric must not leave an
// alert that can never fire.
func TestAlertRulesMetricNames(t *testing.T) {
	b, err := os.ReadFile(alertsFile)
	if err != nil {
		t.Fatal(err)
	}
	served := map[string]bool{}
	for _, g := range goldenMetrics {
		name, _, _ := strings.Cut(g, "{")
		served[name] = true
		for _, suffix := range []string{"_bucket", "_count", "_sum"} { // a histogram's own name
			if base, ok := strings.CutSuffix(name, suffix); ok {
				served[base] = true
			}
		}
	}
	used := regexp.MustCompile(`paycode_[a-z_]+`).FindAllString(string(b), -1)
	if len(used) == 0 {
		t.Fatal("no paycode metric in the rules")
	}
	for _, m := range used {
		if !served[m] {
			t.Errorf("alert rules use %s, which paycode does not serve", m)
		}
	}
}

// TestAlertRulesPromtool checks deploy/prometheus/alerts.yaml with
// Prometheus' own promtool (Debian's prometheus package; .ci/prometheus.sh
// installs it): the rules parse, and alerts_test.yaml's cases fire and
// stay quiet as written.
func TestAlertRulesPromtool(t *testing.T) {
	promtool, err := exec.LookPath("promtool")
	if err != nil {
		if os.Getenv("PAYCODE_REQUIRE_SERVICES") != "" {
			t.Fatal("promtool not found, and PAYCODE_REQUIRE_SERVICES says this test must run (.ci/prometheus.sh installs it)")
		}
		t.Skip("promtool not found: run .ci/prometheus.sh (apt-get install -y prometheus) to check the alert rules")
	}
	for _, args := range [][]string{{"check", "rules", "alerts.yaml"}, {"test", "rules", "alerts_test.yaml"}} {
		cmd := exec.Command(promtool, args...)
		cmd.Dir = "../../deploy/prometheus"
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("promtool %s: %v\n%s", strings.Join(args, " "), err, out)
		}
		t.Logf("promtool %s: %s", strings.Join(args, " "), strings.TrimSpace(string(out)))
	}
}
