package main

import (
	"bytes"
	"context"
	"fmt"
	"math"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// reportState is what the test reads off a rendered report.html.
type reportState struct {
	Plot []struct {
		Label string `json:"label"`
		Color string `json:"color"`
	} `json:"plot"`
	Spectrum []struct {
		Kind  string `json:"kind"`
		Color string `json:"color"`
	} `json:"spectrum"`
	Text        string   `json:"text"`
	ScrollWidth int      `json:"scrollWidth"`
	Overflowing []string `json:"overflowing"`
	LegendOver  bool     `json:"legendOver"`
}

const readReport = `(() => {
  const rgb = c => { const d = document.createElement('div'); d.style.color = c; document.body.appendChild(d);
    const v = getComputedStyle(d).color; d.remove(); return v; };
  const svg = document.getElementById('spectrum');
  const lines = [...svg.querySelectorAll('polyline[data-kind]')];
  // The plot area ends where the first legend swatch begins.
  const area = Math.max(...[...svg.querySelectorAll('line')].filter(l => !l.getAttribute('stroke-width')).map(l => +l.getAttribute('x2')));
  const legendX = Math.min(...[...svg.querySelectorAll('text')].filter(t => lines.some(p => p.dataset.kind === t.textContent)).map(t => +t.getAttribute('x')));
  return {
    plot: [...document.querySelectorAll('.u-legend .u-series')].slice(1).map(s => ({
      label: s.querySelector('.u-label').textContent, color: getComputedStyle(s.querySelector('.u-marker')).borderLeftColor})),
    spectrum: lines.map(p => ({kind: p.dataset.kind, color: rgb(p.getAttribute('stroke'))})),
    text: document.body.innerText,
    scrollWidth: document.documentElement.scrollWidth,
    overflowing: [...document.querySelectorAll('#paycode-report p, #paycode-report li, #paycode-report table, #paycode-report h2')]
      .filter(e => e.getBoundingClientRect().right > window.innerWidth).map(e => e.textContent.slice(0, 60)),
    legendOver: legendX < area,
  };
})()`

// TestReportHTMLChromium renders a load run's report.html, and the same
// report re-rendered by `paycode report -html`, in headless Chromium at
// 1280 px and checks what a reader sees: every kind's series in the
// latency plot in a colour of its own, visible on the dark background,
// the same colour for the kind in the percentile chart, the legend beside
// the chart, the headline once, and nothing cut off at the right edge.
func TestReportHTMLChromium(t *testing.T) {
	if _, err := os.Stat(chromiumPath); err != nil {
		if os.Getenv("PAYCODE_REQUIRE_SERVICES") != "" {
			t.Fatalf("%s not found, and PAYCODE_REQUIRE_SERVICES says this test must run (.ci/run installs it)", chromiumPath)
		}
		t.Skipf("%s not found: run .ci/chromium.sh to enable the report test", chromiumPath)
	}
	dir := t.TempDir()
	scenario := filepath.Join(dir, "s.yaml")
	os.WriteFile(scenario, []byte("name: report\nstages: [{duration: 2s, rate: 150}]\ninvalid: 0.05\nfollowUp: {replay: 0.1, cancel: 0.05, cancelAfter: 200ms, refund: 0.05, refundAfter: 300ms, poll: 1, pollEvery: 300ms}\ndrain: 20s\n"), 0o644)
	out := filepath.Join(dir, "run")
	var stdout, stderr bytes.Buffer
	// -memory: the report is under test, not the disk (embedded runs are on
	// Pebble by default, where a slow fsync makes serve's admission shed).
	if rc := run([]string{"load", "-scenario", scenario, "-sim-latency", "zero", "-memory", "-min-achieved", "0", "-quiet", "-out", out}, &stdout, &stderr); rc != 0 {
		t.Fatalf("load: exit %d\n%s\n%s", rc, stdout.String(), stderr.String())
	}
	again := filepath.Join(dir, "again.html")
	stdout.Reset()
	if rc := run([]string{"report", "-html", again, out}, &stdout, &stderr); rc != 0 {
		t.Fatalf("report: exit %d\n%s\n%s", rc, stdout.String(), stderr.String())
	}

	ctx, cancel := chromedp.NewExecAllocator(context.Background(),
		chromedp.ExecPath(chromiumPath), chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU, chromedp.NoFirstRun,
		chromedp.Flag("disable-background-networking", true), chromedp.Flag("disable-component-update", true),
		chromedp.UserDataDir(t.TempDir()))
	defer cancel()
	ctx, cancel = chromedp.NewContext(ctx)
	defer cancel()
	ctx, cancel = context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	os.Rename(again, filepath.Join(out, "again.html"))
	files := httptest.NewServer(http.FileServer(http.Dir(out)))
	defer files.Close()
	for _, page := range []string{"report.html", "again.html"} {
		if err := chromedp.Do(ctx, chromedp.EmulateViewport(1280, 900), chromedp.Navigate(files.URL+"/"+page)); err != nil {
			t.Fatalf("chromium: %v", err)
		}
		var s reportState
		for deadline := time.Now().Add(10 * time.Second); ; {
			var err error
			if s, err = chromedp.Run(ctx, chromedp.Evaluate[reportState](readReport)); err != nil {
				t.Fatalf("%s: reading the page: %v", page, err)
			}
			if len(s.Plot) > 0 || time.Now().After(deadline) {
				break // the plot is drawn by a script after the load event
			}
			time.Sleep(50 * time.Millisecond) // polling interval
		}
		if shot := os.Getenv("REPORT_SCREENSHOT"); shot != "" {
			png, _ := chromedp.Run(ctx, chromedp.FullScreenshot(90))
			os.WriteFile(shot, png, 0o644)
		}
		checkReport(t, page, s)
	}
}

func checkReport(t *testing.T, page string, s reportState) {
	t.Helper()
	plot := map[string]string{}
	seen := map[string]string{}
	for _, p := range s.Plot {
		if i := strings.LastIndex(p.Label, ": "); i >= 0 { // vegeta's "attack: label"
			p.Label = p.Label[i+2:]
		}
		plot[p.Label] = p.Color
		if other, dup := seen[p.Color]; dup {
			t.Errorf("%s: plot series %q and %q share the colour %s", page, other, p.Label, p.Color)
		}
		seen[p.Color] = p.Label
		if l := luminance(p.Color); l < 0.15 {
			t.Errorf("%s: plot series %q is %s (luminance %.2f): too dark for the dark background", page, p.Label, p.Color, l)
		}
	}
	for _, k := range []string{"pay", "replay", "invalid", "inquiry", "cancel", "refund"} {
		if plot[k] == "" {
			t.Errorf("%s: no %s series in the latency plot (series %v)", page, k, s.Plot)
		}
	}
	if len(s.Spectrum) < 6 {
		t.Errorf("%s: percentile chart has %d series", page, len(s.Spectrum))
	}
	for _, sp := range s.Spectrum {
		if plot[sp.Kind] != sp.Color {
			t.Errorf("%s: %s is %s in the percentile chart, %s in the latency plot", page, sp.Kind, sp.Color, plot[sp.Kind])
		}
	}
	if n := strings.Count(s.Text, "— PASSED"); n != 1 {
		t.Errorf("%s: the headline shows %d times", page, n)
	}
	if !strings.Contains(s.Text, "correctness: OK") || !strings.Contains(s.Text, "vegeta's \"Success\" counts HTTP 200") {
		t.Errorf("%s: report text lacks the correctness line or the note on vegeta's success", page)
	}
	if s.ScrollWidth > 1280 || len(s.Overflowing) > 0 {
		t.Errorf("%s: at 1280 px the page is %d px wide; cut off: %q", page, s.ScrollWidth, s.Overflowing)
	}
	if s.LegendOver {
		t.Errorf("%s: the percentile chart's legend sits over the plot area", page)
	}
}

// luminance is the WCAG relative luminance of a CSS rgb() colour.
func luminance(c string) float64 {
	var r, g, b float64
	if _, err := fmt.Sscanf(strings.ReplaceAll(c, " ", ""), "rgb(%g,%g,%g)", &r, &g, &b); err != nil {
		return 0
	}
	lin := func(v float64) float64 {
		v /= 255
		if v <= 0.03928 {
			return v / 12.92
		}
		return math.Pow((v+0.055)/1.055, 2.4)
	}
	return 0.2126*lin(r) + 0.7152*lin(g) + 0.0722*lin(b)
}
