package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/paycode/paycode/engine/server"
	"github.com/paycode/paycode/loadtest/killtest"
	"github.com/paycode/paycode/loadtest/stack"
)

// chromiumPath is Debian's chromium; .ci/chromium.sh installs it.
const chromiumPath = "/usr/bin/chromium"

// pageState is what the test reads off the rendered /status page.
type pageState struct {
	Seq     int    `json:"seq"`
	Tput    string `json:"tput"`
	Journal string `json:"journal"`
	Rows    []struct {
		Wallet   string `json:"wallet"`
		Tput     string `json:"tput"`
		Finished string `json:"finished"`
		P50      string `json:"p50"`
		P99      string `json:"p99"`
		Breaker  string `json:"breaker"`
		Mix      string `json:"mix"`
	} `json:"rows"`
	Recent []struct {
		Code     string `json:"code"`
		Wallet   string `json:"wallet"`
		Result   string `json:"result"`
		Duration string `json:"duration"`
		Payment  string `json:"payment"`
	} `json:"recent"`
	Codes []struct {
		Outcome string `json:"outcome"`
		Width   int    `json:"width"`
		Src     string `json:"src"`
	} `json:"codes"`
	Text string `json:"text"`
}

const readPage = `(() => {
  const q = (tr, c) => (tr.querySelector('.' + c) || {}).textContent || '';
  return {
    seq: +document.getElementById('updated').dataset.seq,
    tput: document.getElementById('tput').textContent,
    journal: document.getElementById('journal').textContent,
    rows: [...document.querySelectorAll('#wallets tbody tr[data-wallet]')].map(tr => ({
      wallet: tr.dataset.wallet, tput: q(tr, 'tput'), finished: q(tr, 'finished'),
      p50: q(tr, 'p50'), p99: q(tr, 'p99'), breaker: q(tr, 'breaker'), mix: q(tr, 'mix')})),
    recent: [...document.querySelectorAll('#recent tbody tr')].filter(tr => tr.querySelector('.code')).map(tr => ({
      code: q(tr, 'code'), wallet: q(tr, 'wallet'), result: q(tr, 'result'), duration: q(tr, 'duration'), payment: q(tr, 'pid')})),
    codes: [...document.querySelectorAll('#testcodes:not([hidden]) img')].map(i => ({outcome: i.dataset.outcome, width: i.naturalWidth, src: i.getAttribute('src')})),
    text: document.body.innerText,
  };
})()`

var maskedCode = regexp.MustCompile(`^\d{6}\*+\d{4}$`)

// TestStatusPageChromium loads /status in headless Chromium while a short
// load runs through a whole in-process paycode, and checks what a person
// would see: a row per wallet with throughput and latency, the result mix,
// recent outcomes with masked codes only, and figures that move.
func TestStatusPageChromium(t *testing.T) {
	if _, err := os.Stat(chromiumPath); err != nil {
		if os.Getenv("PAYCODE_REQUIRE_SERVICES") != "" {
			t.Fatalf("%s not found, and PAYCODE_REQUIRE_SERVICES says this test must run (.ci/run installs it)", chromiumPath)
		}
		t.Skipf("%s not found: run .ci/chromium.sh (apt-get install -y chromium) to enable the status page test", chromiumPath)
	}
	st, err := stack.Start(stack.Config{Node: server.Config{NoDecoder: true, Logger: slog.New(slog.DiscardHandler),
		TestCodes: simTestCodes{prefix: "281001"}}}) // as serve in sim mode
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	admin := serveAdmin(t, st.Node)

	// Load: eight lanes paying over the four default wallets, one
	// code in eight failing at the wallet (balance, limit, risk).
	var (
		mu    sync.Mutex
		codes []string
		sent  atomic.Int64
		stop  = make(chan struct{})
		lanes sync.WaitGroup
		fails atomic.Int64
	)
	prefixes := []string{"281001", "281003", "281010", "281011"}
	endings := []string{"00", "00", "00", "00", "00", "87", "90", "98"}
	client := &http.Client{Timeout: 10 * time.Second}
	base := time.Now().UnixNano() % 1e12
	for lane := range 8 {
		lanes.Add(1)
		go func() {
			defer lanes.Done()
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				n := base + int64(lane)*1e6 + int64(i)
				code := fmt.Sprintf("%s%016d%s", prefixes[(lane+i)%4], n, endings[i%len(endings)])
				mu.Lock()
				codes = append(codes, code)
				mu.Unlock()
				if err := statusPay(client, st.URL(), fmt.Sprintf("s-%d", n), code); err != nil {
					fails.Add(1)
					continue
				}
				sent.Add(1)
			}
		}()
	}
	// The load runs until the page has shown it moving (at most 25 s):
	// on a loaded machine Chromium may take seconds to start.
	stopLoad := sync.OnceFunc(func() { close(stop) })
	loadDone := time.AfterFunc(25*time.Second, stopLoad)
	t.Cleanup(func() { loadDone.Stop(); stopLoad(); lanes.Wait() })

	ctx, cancel := chromedp.NewExecAllocator(context.Background(),
		chromedp.ExecPath(chromiumPath), chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU, chromedp.NoFirstRun,
		chromedp.Flag("disable-quic", true), chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true), chromedp.Flag("disable-sync", true),
		chromedp.UserDataDir(t.TempDir()))
	defer cancel()
	ctx, cancel = chromedp.NewContext(ctx)
	defer cancel()
	ctx, cancel = context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(1280, 1000), chromedp.Navigate(admin+"/status")); err != nil {
		t.Fatalf("chromium: %v", err)
	}
	read := func() pageState {
		t.Helper()
		s, err := chromedp.Run(ctx, chromedp.Evaluate[pageState](readPage))
		if err != nil {
			t.Fatalf("reading the page: %v", err)
		}
		return s
	}
	// waitFor polls the rendered page (it refreshes every second).
	waitFor := func(what string, ok func(pageState) bool) pageState {
		t.Helper()
		deadline := time.Now().Add(10 * time.Second)
		for {
			s := read()
			if ok(s) {
				return s
			}
			if time.Now().After(deadline) {
				t.Fatalf("page never showed %s; last read: %+v", what, s)
			}
			time.Sleep(100 * time.Millisecond) // polling interval
		}
	}

	first := waitFor("throughput for every wallet", func(s pageState) bool {
		if len(s.Rows) != 4 || len(s.Recent) == 0 {
			return false
		}
		for _, r := range s.Rows {
			if r.Tput == "0.0" || r.Tput == "-" || r.P50 == "-" {
				return false
			}
		}
		return true
	})
	for i, want := range []string{"mpp-281001", "mpp-281003", "mpp-281010", "mpp-281011"} {
		if r := first.Rows[i]; r.Wallet != want || r.Breaker != "closed" || !strings.Contains(r.Mix, "SUCCESS") {
			t.Errorf("row %d: %+v, want %s closed with SUCCESS in its mix", i, r, want)
		}
	}
	if first.Tput == "0.0" || first.Journal != "ok" {
		t.Errorf("tiles: pays/s %q, journal %q", first.Tput, first.Journal)
	}
	second := waitFor("new figures", func(s pageState) bool {
		return s.Seq > first.Seq && len(s.Recent) > 0 && s.Recent[0].Payment != first.Recent[0].Payment && s.Tput != first.Tput
	})
	// The failing codes show up in the result mix.
	waitFor("a wallet failure in the result mix", func(s pageState) bool {
		return strings.Contains(s.Text, "USER_BALANCE_NOT_ENOUGH") || strings.Contains(s.Text, "RISK_REJECT") ||
			strings.Contains(s.Text, "PAYMENT_AMOUNT_EXCEED_LIMIT")
	})
	for _, r := range second.Recent {
		if !maskedCode.MatchString(r.Code) {
			t.Errorf("recent outcome shows code %q, not a masked one", r.Code)
		}
		if r.Wallet == "" || r.Result == "" || r.Duration == "" {
			t.Errorf("recent outcome row incomplete: %+v", r)
		}
	}
	if len(second.Recent) < 20 {
		t.Errorf("%d recent outcomes shown, want at least 20", len(second.Recent))
	}
	// Sim mode: a scannable test code per outcome row, drawn.
	shown := waitFor("the test codes drawn", func(s pageState) bool {
		if len(s.Codes) != 9 {
			return false
		}
		for _, c := range s.Codes {
			if c.Width == 0 {
				return false
			}
		}
		return true
	})
	if shown.Codes[0].Outcome != "success" || !strings.Contains(shown.Codes[1].Src, "outcome=password") {
		t.Errorf("test codes %+v", shown.Codes)
	}
	mu.Lock()
	for _, c := range codes {
		if strings.Contains(second.Text, c) {
			t.Fatalf("the page shows a whole payment code")
		}
	}
	mu.Unlock()

	if out := os.Getenv("STATUS_SCREENSHOT"); out != "" {
		png, err := chromedp.Run(ctx, chromedp.CaptureScreenshot())
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(out, png, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	stopLoad()
	lanes.Wait()
	if sent.Load() < 100 || fails.Load() > 0 {
		t.Errorf("load: %d pays answered, %d failed to send (want ≥100 and none)", sent.Load(), fails.Load())
	}
	t.Logf("load: %d pays; page read %d times", sent.Load(), second.Seq)
}

// statusPay sends one lane pay and reads the answer.
func statusPay(c *http.Client, base, reqID, code string) error {
	body := killtest.PayBody(reqID, code, 5600, "")
	req, _ := http.NewRequest("POST", base+"/ams/api/v1/payments/pay", strings.NewReader(body))
	req.Header.Set("content-type", "application/json")
	req.Header.Set("client-id", "DEMO_CLIENT")
	resp, err := c.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	if !strings.Contains(string(b), `"resultCode"`) {
		return fmt.Errorf("pay answered %d %s", resp.StatusCode, b)
	}
	return nil
}
