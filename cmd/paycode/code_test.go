package main

import (
	"bytes"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/paycode/paycode/loadtest/mppsim"
)

// TestCodePNGDecodes: `paycode code -png` writes an image that `paycode
// decode` reads back as the code printed, for both symbologies, with the
// last two digits in the outcome's row and the wallet's prefix.
func TestCodePNGDecodes(t *testing.T) {
	dir := t.TempDir()
	for _, tt := range []struct {
		args   []string
		format string
		row    mppsim.Outcome
		prefix string
	}{
		{nil, "QR_CODE", mppsim.OutcomeSuccess, "281001"},
		{[]string{"-qr", "-outcome", "password", "-wallet", "281003"}, "QR_CODE", mppsim.OutcomePassword, "281003"},
		{[]string{"-code128", "-outcome", "lost_response", "-wallet", "mpp-281010"}, "CODE_128", mppsim.OutcomeLostResponse, "281010"},
		{[]string{"-code128", "-outcome", "risk", "-wallet", "281011"}, "CODE_128", mppsim.OutcomeRisk, "281011"},
	} {
		file := filepath.Join(dir, strings.Join(tt.args, "")+"code.png")
		var out, errb bytes.Buffer
		if rc := run(append(append([]string{"code"}, tt.args...), "-png", file), &out, &errb); rc != 0 {
			t.Fatalf("code %v: exit %d: %s", tt.args, rc, errb.String())
		}
		code := strings.TrimSpace(out.String())
		last, _ := strconv.Atoi(code[len(code)-2:])
		if len(code) != mppsim.TestCodeLen || !strings.HasPrefix(code, tt.prefix) || mppsim.OutcomeOf(last) != tt.row {
			t.Fatalf("code %v printed %q", tt.args, code)
		}
		if !strings.Contains(errb.String(), "pay answers "+tt.row.PayAnswer().String()) {
			t.Errorf("code %v: stderr %q lacks the expected answer", tt.args, errb.String())
		}
		out.Reset()
		errb.Reset()
		if rc := run([]string{"decode", "-reveal", "-budget", "5s", file}, &out, &errb); rc != 0 {
			t.Fatalf("decode of code %v: exit %d: %s", tt.args, rc, errb.String())
		}
		if f := strings.Split(out.String(), "\t"); len(f) < 3 || f[1] != strconv.Quote(code) || f[2] != tt.format {
			t.Fatalf("decode of code %v: %q, want %q as %s", tt.args, out.String(), code, tt.format)
		}
	}
}

func TestCodeFresh(t *testing.T) {
	seen := map[string]bool{}
	for range 50 {
		var out, errb bytes.Buffer
		if rc := run([]string{"code", "-outcome", "balance"}, &out, &errb); rc != 0 {
			t.Fatal(errb.String())
		}
		c := strings.TrimSpace(out.String())
		if seen[c] {
			t.Fatalf("code %s printed twice: codes are single use", c)
		}
		seen[c] = true
	}
	for _, args := range [][]string{{"-outcome", "nope"}, {"-qr", "-code128"}, {"-wallet", "28x"}, {"extra"}} {
		var out, errb bytes.Buffer
		if rc := run(append([]string{"code"}, args...), &out, &errb); rc != 2 || out.Len() != 0 {
			t.Errorf("code %v: exit %d, stdout %q", args, rc, out.String())
		}
	}
}
