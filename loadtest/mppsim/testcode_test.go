package mppsim_test

import (
	"testing"

	"github.com/paycode/paycode/codec"
	"github.com/paycode/paycode/loadtest/mppsim"
)

// TestNewTestCode: every row's codes parse, carry the prefix, land in the
// row, and are fresh; bad prefixes are refused.
func TestNewTestCode(t *testing.T) {
	seen := map[string]bool{}
	for _, o := range mppsim.Outcomes() {
		for range 50 {
			s, err := mppsim.NewTestCode("281003", o)
			if err != nil {
				t.Fatal(err)
			}
			c, err := codec.ParseCode([]byte(s))
			if err != nil || c.Len() != mppsim.TestCodeLen || s[:6] != "281003" || mppsim.OutcomeOfCode(&c) != o || seen[s] {
				t.Fatalf("%s: code %s (err %v, seen %v)", o, c, err, seen[s])
			}
			seen[s] = true
		}
		if p, ok := mppsim.ParseOutcome(o.String()); !ok || p != o {
			t.Errorf("ParseOutcome(%q) = %v %v", o, p, ok)
		}
	}
	for _, bad := range []string{"", "28x", "123456789"} {
		if _, err := mppsim.NewTestCode(bad, mppsim.OutcomeSuccess); err == nil {
			t.Errorf("prefix %q accepted", bad)
		}
	}
	if _, ok := mppsim.ParseOutcome("nope"); ok {
		t.Error("ParseOutcome accepted nope")
	}
}
