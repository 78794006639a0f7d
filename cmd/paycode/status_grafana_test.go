package main

import (
	"encoding/json"
	"os"
	"regexp"
	"strings"
	"testing"
)

// grafanaDashboard is the dashboard shipped for the admin listener's
// metrics.
const grafanaDashboard = "../../deploy/grafana/paycode.json"

var (
	promSeriesRE = regexp.MustCompile(`\b(paycode_[a-zA-Z0-9_]+)(\{[^}]*\})?`)
	promMatchRE  = regexp.MustCompile(`([a-zA-Z_][a-zA-Z0-9_]*)\s*(=~|!~|!=|=)`)
	promByRE     = regexp.MustCompile(`\b(?:by|without)\s*\(([^)]*)\)`)
)

// TestGrafanaDashboardMetrics: every series the dashboard queries is in
// the golden metric list (so a renamed metric breaks this test, not a
// production dashboard), with labels that series has, and the dashboard
// covers what operators asked for.
func TestGrafanaDashboardMetrics(t *testing.T) {
	b, err := os.ReadFile(grafanaDashboard)
	if err != nil {
		t.Fatal(err)
	}
	var dash map[string]any
	if err := json.Unmarshal(b, &dash); err != nil {
		t.Fatalf("%s: %v", grafanaDashboard, err)
	}
	labels := map[string]map[string]bool{} // family → label names
	for _, g := range goldenMetrics {
		name, rest, _ := strings.Cut(g, "{")
		set := map[string]bool{"instance": true, "job": true} // added by the scrape
		for _, l := range strings.Split(strings.TrimSuffix(rest, "}"), ",") {
			if l != "" {
				set[l] = true
			}
		}
		labels[name] = set
	}
	var exprs []string
	var walk func(v any)
	walk = func(v any) {
		switch x := v.(type) {
		case map[string]any:
			for k, e := range x {
				if s, ok := e.(string); ok && (k == "expr" || k == "definition") {
					exprs = append(exprs, s)
				}
				walk(e)
			}
		case []any:
			for _, e := range x {
				walk(e)
			}
		}
	}
	walk(dash)
	if len(exprs) < 20 {
		t.Fatalf("%d queries in the dashboard", len(exprs))
	}
	used := map[string]bool{}
	for _, e := range exprs {
		inExpr := map[string]bool{}
		for _, m := range promSeriesRE.FindAllStringSubmatch(e, -1) {
			name := m[1]
			set, ok := labels[name]
			if !ok {
				t.Errorf("dashboard queries %s, which paycode does not export (golden list in admin_test.go)", name)
				continue
			}
			used[name], inExpr[name] = true, true
			for _, lm := range promMatchRE.FindAllStringSubmatch(m[2], -1) {
				if !set[lm[1]] {
					t.Errorf("dashboard selects %s on label %q, which it does not have", name, lm[1])
				}
			}
		}
		for _, by := range promByRE.FindAllStringSubmatch(e, -1) {
			for _, l := range strings.Split(by[1], ",") {
				l = strings.TrimSpace(l)
				found := false
				for name := range inExpr {
					found = found || labels[name][l]
				}
				if !found {
					t.Errorf("dashboard groups by %q, a label of none of the series of %s", l, e)
				}
			}
		}
	}
	for _, want := range []string{
		"paycode_lane_requests_total", "paycode_lane_request_duration_seconds_bucket",
		"paycode_wallet_request_duration_seconds_bucket", "paycode_wallet_errors_total", "paycode_wallet_breaker_state",
		"paycode_wallet_requests_in_flight", "paycode_engine_followups_queued", "paycode_engine_followup_overdue_seconds",
		"paycode_ident_cache_hits_total", "paycode_ident_cache_misses_total", "paycode_engine_journal_failed",
		"paycode_engine_notifications_pending", "paycode_decode_duration_seconds_bucket",
	} {
		if !used[want] {
			t.Errorf("the dashboard does not show %s", want)
		}
	}
}
