package main

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/paycode/paycode/loadtest/load"
)

// TestReportCLI: paycode report re-renders a run as text and JSON with
// budgets re-evaluated, and -compare prints the change and exits 1 on a
// limit it breaks.
func TestReportCLI(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	var out, errb bytes.Buffer
	if rc := run([]string{"load", "-scenario", "../../testdata/scenarios/ci.yaml", "-duration", "1s", "-rate", "100", "-no-check",
		"-sim-latency", "zero", "-quiet", "-out", dir, "-budget", "pay.p99<=10s"}, &out, &errb); rc != 1 { // ci.yaml's inquiry budget breaks in 1 s
		t.Fatalf("load: exit %d\n%s%s", rc, out.String(), errb.String())
	}
	for _, tt := range []struct {
		args []string
		rc   int
		want string
	}{
		{[]string{dir}, 1, "pay.p99<=10s: "},
		{[]string{"-budget", "pay.p50<=1µs", dir}, 1, "pay.p50<=1µs broken"},
		{[]string{"-json", dir}, 1, `"budgets"`},
		{[]string{"-compare", dir, dir}, 0, "change"},
		{[]string{"-compare", "-max", "pay.p99 +20%", dir, dir}, 0, "ok     pay.p99 +20% ok"},
		{[]string{"-compare", "-max", "refund.p99 +20%", dir, dir}, 1, "BROKEN refund.p99 +20%: refund was not measured"},
		{[]string{"-compare", dir}, 2, ""},
		{[]string{"-max", "pay.p99 +1%", dir}, 2, ""},
		{[]string{"-compare", "-max", "pay.p99 20%", dir, dir}, 2, ""},
		{[]string{t.TempDir()}, 1, ""},
	} {
		out.Reset()
		errb.Reset()
		rc := run(append([]string{"report"}, tt.args...), &out, &errb)
		if rc != tt.rc || !strings.Contains(out.String(), tt.want) {
			t.Errorf("report %v: exit %d (want %d), output lacks %q:\n%s%s", tt.args, rc, tt.rc, tt.want, out.String(), errb.String())
		}
	}
	out.Reset()
	run([]string{"report", "-json", dir}, &out, &errb)
	var s load.Summary
	if err := json.Unmarshal(out.Bytes(), &s); err != nil || len(s.Kinds) == 0 || s.Passed {
		t.Fatalf("report -json: %v %+v", err, s)
	}
}
