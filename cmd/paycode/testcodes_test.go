package main

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/paycode/paycode/decode"
	"github.com/paycode/paycode/engine/admin"
	"github.com/paycode/paycode/engine/server"
	"github.com/paycode/paycode/loadtest/mppsim"
	"github.com/paycode/paycode/loadtest/stack"
)

// TestStatusTestCodes: with simulated wallets the status page lists every
// outcome row and serves a fresh scannable code for each (a new code per
// request, the row's last two digits, the wallet's prefix); against real
// (here: another process's) wallets it has none.
func TestStatusTestCodes(t *testing.T) {
	// serve in sim mode gives the node the simulated wallets' test codes.
	st, err := stack.Start(stack.Config{Node: server.Config{NoDecoder: true, Logger: slog.New(slog.DiscardHandler),
		TestCodes: simTestCodes{prefix: "281001"}}})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	adminURL := serveAdmin(t, st.Node)
	code, body := get(t, adminURL+"/status.json")
	var snap admin.Snapshot
	if err := json.Unmarshal([]byte(body), &snap); err != nil || code != 200 {
		t.Fatalf("status.json: %d %v", code, err)
	}
	if len(snap.TestCodes) != len(mppsim.Outcomes()) || snap.TestCodes[1].Outcome != "password" || snap.TestCodes[1].Digits != "80–84" ||
		snap.TestCodes[1].Answer != "PAYMENT_IN_PROCESS" || snap.TestCodes[1].Final != "SUCCESS" || snap.TestCodes[0].Wallet != "281001" {
		t.Fatalf("test codes %+v", snap.TestCodes)
	}
	d, err := decode.New(decode.Config{Workers: 1, Budget: 5 * time.Second}) // scannable, not fast: the machine may be busy
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	seen := map[string]bool{}
	for _, row := range snap.TestCodes {
		for range 2 {
			resp, err := http.Get(adminURL + admin.TestCodePath + "?outcome=" + row.Outcome)
			if err != nil {
				t.Fatal(err)
			}
			var img []byte
			img, err = readAll(resp)
			if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "image/png" || resp.Header.Get("Cache-Control") != "no-store" {
				t.Fatalf("%s: %d %v", row.Outcome, resp.StatusCode, resp.Header)
			}
			res, err := d.Decode(context.Background(), img)
			if err != nil {
				t.Fatalf("%s: the image does not decode: %v", row.Outcome, err)
			}
			c := res.Text
			last, _ := strconv.Atoi(c[len(c)-2:])
			if seen[c] || !strings.HasPrefix(c, "281001") || mppsim.OutcomeOf(last).String() != row.Outcome {
				t.Fatalf("%s: code %s (seen before %v)", row.Outcome, decode.Mask(c), seen[c])
			}
			seen[c] = true
		}
	}
	if code, _ := get(t, adminURL+admin.TestCodePath+"?outcome=nope"); code != 404 {
		t.Errorf("unknown outcome: %d", code)
	}

	// A paycode whose wallets are not simulated in it shows no test codes.
	cfg := stack.Config{Node: server.Config{NoDecoder: true, Logger: slog.New(slog.DiscardHandler)}}
	for _, n := range st.Sim.Names() {
		cfg.Node.Wallets = append(cfg.Node.Wallets, server.WalletConfig{Name: n, URL: st.Sim.URL(n)})
	}
	real, err := stack.Start(cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer real.Close()
	adminURL2 := serveAdmin(t, real.Node)
	_, body = get(t, adminURL2+"/status.json")
	if strings.Contains(body, "testCodes") {
		t.Errorf("test codes shown without simulated wallets: %s", body)
	}
	if code, _ := get(t, adminURL2+admin.TestCodePath+"?outcome=success"); code != 404 {
		t.Errorf("test code image without simulated wallets: %d", code)
	}
}

func readAll(resp *http.Response) ([]byte, error) {
	defer resp.Body.Close()
	return io.ReadAll(resp.Body)
}
