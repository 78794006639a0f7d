package load

import (
	"bytes"
	"encoding/json"
	"fmt"
	"html"
	"math"
	"os"
	"regexp"
	"strings"

	"github.com/tsenart/vegeta/v12/lib/plot"
)

// spectrumQuantiles are the points of the percentile spectrum plot.
var spectrumQuantiles = []float64{0, 25, 50, 75, 90, 95, 97.5, 99, 99.5, 99.9, 99.95, 99.99, 99.999, 100}

// kindColors is each kind's colour in both charts: bright enough on the
// dark background, and distinct from each other and from errorColors.
var kindColors = [kindCount]string{
	KindPay: "#4ea8de", KindReplay: "#e9d758", KindInvalid: "#c77dff", KindImage: "#80ed99",
	KindInquiry: "#ff9f1c", KindCancel: "#f15bb5", KindRefund: "#00f5d4",
}

// errorColors colour each kind's series of requests without an answer
// (vegeta's plot only): reds and oranges none of kindColors uses.
var errorColors = [kindCount]string{
	KindPay: "#ff3b30", KindReplay: "#ff8fa3", KindInvalid: "#d62828", KindImage: "#ffb4a2",
	KindInquiry: "#f77f00", KindCancel: "#e5383b", KindRefund: "#ff6b6b",
}

// otherColor is the series of results whose URL is not the tool's.
const otherColor = "#adb5bd"

// seriesColor is the colour of a vegeta plot series label (plotLabel).
// vegeta prefixes each label with the attack's name and ": ".
func seriesColor(label string) string {
	if i := strings.LastIndex(label, ": "); i >= 0 {
		label = label[i+2:]
	}
	name, isErr := strings.CutSuffix(label, errorSuffix)
	for k := range kindCount {
		if k.String() == name {
			if isErr {
				return errorColors[k]
			}
			return kindColors[k]
		}
	}
	return otherColor
}

var (
	plotLabels = regexp.MustCompile(`"labels":\s*(\[[^\]]*\])`)
	plotColors = regexp.MustCompile(`"colors":\s*\[[^\]]*\]`)
)

// recolor replaces the colours vegeta's plot picks (a fixed palette by
// position, with near-black entries) with each series' kind colour.
func recolor(page string) string {
	m := plotLabels.FindStringSubmatch(page)
	if m == nil {
		return page
	}
	var labels []string
	if json.Unmarshal([]byte(m[1]), &labels) != nil || len(labels) < 2 {
		return page
	}
	colors := make([]string, 0, len(labels)-1)
	for _, l := range labels[1:] { // labels[0] is the x axis
		colors = append(colors, seriesColor(l))
	}
	js, _ := json.Marshal(colors)
	done := false
	return plotColors.ReplaceAllStringFunc(page, func(s string) string {
		if done {
			return s
		}
		done = true
		return `"colors": ` + string(js)
	})
}

const reportCSS = `<style>
#paycode-report { font: 13px/1.5 ui-monospace, SFMono-Regular, Menlo, monospace; color: #e6edf3; max-width: 1600px; margin: 20px auto 0; }
#paycode-report p, #paycode-report li { white-space: normal; overflow-wrap: anywhere; margin: 4px 0; }
#paycode-report table { border-collapse: collapse; margin: 8px 0 16px; font-size: 12px; }
#paycode-report th, #paycode-report td { padding: 2px 8px; text-align: right; border-bottom: 1px solid #30363d; white-space: nowrap; }
#paycode-report th:first-child, #paycode-report td:first-child { text-align: left; }
#paycode-report .bad { color: #ff6b6b; font-weight: 600; } #paycode-report .good { color: #80ed99; font-weight: 600; }
#paycode-report .note { color: #8b949e; }
body.light #paycode-report { color: #1f2937; }
</style>`

// WriteHTML writes the run's report page to path: vegeta's latency-over-
// time plot (one colour per kind, red shades for requests without an
// answer) followed by the summary, the tables and a percentile-spectrum
// chart per kind from the HDR histograms (the same colours): one
// self-contained file.
func WriteHTML(path string, pl *plot.Plot, s *Summary, rec *Recorder) error {
	var buf bytes.Buffer
	if _, err := pl.WriteTo(&buf); err != nil {
		return fmt.Errorf("load: plot: %w", err)
	}
	var sec strings.Builder
	sec.WriteString(reportCSS)
	sec.WriteString(`<section id="paycode-report">`)
	writeHTMLSummary(&sec, s)
	sec.WriteString(spectrumSVG(rec))
	sec.WriteString("</section>\n")
	out := recolor(buf.String())
	if i := strings.LastIndex(out, "</body>"); i >= 0 {
		out = out[:i] + sec.String() + out[i:]
	} else {
		out += sec.String()
	}
	return os.WriteFile(path, []byte(out), 0o644)
}

func writeHTMLSummary(b *strings.Builder, s *Summary) {
	esc := html.EscapeString
	verdict, cls := "PASSED", "good"
	if !s.Passed {
		verdict, cls = "FAILED", "bad"
	}
	name, _, _ := strings.Cut(s.Scenario, ":")
	fmt.Fprintf(b, `<h2 id="verdict">%s — <span class="%s">%s</span></h2><p>%s</p>`, esc(name), cls, verdict, esc(s.Scenario))
	var head bytes.Buffer
	s.writeHead(&head)
	for line := range strings.SplitSeq(strings.TrimSpace(head.String()), "\n") {
		fmt.Fprintf(b, "<p>%s</p>", esc(line))
	}
	table := func(title string, rows []Row, name func(Row) string) {
		if len(rows) == 0 {
			return
		}
		fmt.Fprintf(b, `<table><thead><tr><th>%s</th><th>requests</th><th>rate/s</th><th>success</th><th>errors</th><th>p50</th><th>p90</th><th>p99</th><th>p99.9</th><th>max</th><th>paycode p50</th><th>p99</th><th>p99.9</th><th>rest p50</th><th>p99</th></tr></thead><tbody>`, esc(title))
		for _, r := range rows {
			fmt.Fprintf(b, "<tr><td>%s</td><td>%d</td><td>%.1f</td><td>%.2f%%</td><td>%d</td><td>%s</td><td>%s</td><td>%s</td><td>%s</td><td>%s</td><td>%s</td><td>%s</td><td>%s</td><td>%s</td><td>%s</td></tr>",
				esc(name(r)), r.Requests, r.Rate, 100*r.Success, r.Errors, ms(r.Latency.P50), ms(r.Latency.P90), ms(r.Latency.P99), ms(r.Latency.P999), ms(r.Latency.Max),
				ms(r.Engine.P50), ms(r.Engine.P99), ms(r.Engine.P999), ms(r.Rest.P50), ms(r.Rest.P99))
		}
		b.WriteString("</tbody></table>")
	}
	table("by kind", s.Kinds, func(r Row) string { return r.Kind })
	table("by kind and resultCode", s.Results, func(r Row) string { return r.Kind + "/" + r.Result })
	table("pays by test code", s.Classes, func(r Row) string { return "pay/" + r.Class })
	fmt.Fprintf(b, `<p class="note">%s</p>`, esc(latencyNote))
	if s.FollowUpsNotSent > 0 {
		fmt.Fprintf(b, "<p>follow-ups scheduled after the last stage, not sent: %d</p>", s.FollowUpsNotSent)
	}
	if c := s.Check; c != nil {
		cls := "good"
		if !c.OK() {
			cls = "bad"
		}
		fmt.Fprintf(b, `<p id="correctness" class="%s">correctness: %s</p><ul>`, cls, esc(c.String()))
		for _, e := range c.Examples {
			fmt.Fprintf(b, "<li>%s</li>", esc(e))
		}
		b.WriteString("</ul>")
	}
	if len(s.Budgets) > 0 {
		b.WriteString("<p>budgets:</p><ul>")
		for _, r := range s.Budgets {
			cls, mark := "good", "ok"
			if !r.OK {
				cls, mark = "bad", "BROKEN"
			}
			fmt.Fprintf(b, `<li class="%s">%s %s</li>`, cls, mark, esc(r.Message))
		}
		b.WriteString("</ul>")
	}
	for _, f := range s.Failures {
		fmt.Fprintf(b, `<p class="bad">FAIL: %s</p>`, esc(f))
	}
	fmt.Fprintf(b, `<p class="note">%s</p>`, esc(VegetaSuccessNote))
}

// spectrumSVG draws latency (log scale) against percentile on the
// classic HDR axis, x = log10(1/(1-q)), one line per kind in its colour,
// with the legend beside the plot area, never over it.
func spectrumSVG(rec *Recorder) string {
	const w, h, pad, legendW = 1000.0, 360.0, 50.0, 130.0
	right := w - legendW                                                              // the plot area ends here; the legend is right of it
	xOf := func(q float64) float64 { return math.Log10(1 / math.Max(1-q/100, 1e-5)) } // 0..5
	maxUS := int64(1)
	kinds := rec.mergedKinds()
	for _, st := range kinds {
		if st != nil && st.count > 0 {
			maxUS = max(maxUS, st.total.Max())
		}
	}
	ly := func(us int64) float64 { return math.Log10(float64(max(us, 1))) }
	top := math.Max(1, math.Ceil(ly(maxUS)))
	var b strings.Builder
	fmt.Fprintf(&b, `<h3>latency by percentile (HDR histograms)</h3><svg id="spectrum" xmlns="http://www.w3.org/2000/svg" width="%.0f" height="%.0f" style="background:#161b22;max-width:100%%">`, w, h)
	for d := 0.0; d <= top; d++ {
		y := h - pad - d/top*(h-2*pad)
		fmt.Fprintf(&b, `<line x1="%.0f" x2="%.0f" y1="%.1f" y2="%.1f" stroke="#30363d"/><text x="4" y="%.1f" fill="#8b949e" font-size="11">%s</text>`,
			pad, right, y, y, y+4, fmtUS(int64(math.Pow(10, d))))
	}
	for _, q := range []float64{0, 90, 99, 99.9, 99.99, 99.999} {
		x := pad + xOf(q)/5*(right-pad)
		fmt.Fprintf(&b, `<line x1="%.1f" x2="%.1f" y1="%.0f" y2="%.0f" stroke="#30363d"/><text x="%.1f" y="%.0f" fill="#8b949e" font-size="11">p%g</text>`,
			x, x, pad, h-pad, x-10, h-pad+16, q)
	}
	i := 0
	for k := range kindCount {
		st := kinds[k]
		if st == nil || st.count == 0 {
			continue
		}
		color := kindColors[k]
		var pts []string
		for _, q := range spectrumQuantiles {
			x := pad + xOf(q)/5*(right-pad)
			v := st.total.ValueAtQuantile(q)
			if q == 0 {
				v = st.total.Min()
			}
			y := h - pad - ly(v)/top*(h-2*pad)
			pts = append(pts, fmt.Sprintf("%.1f,%.1f", x, y))
		}
		fmt.Fprintf(&b, `<polyline data-kind="%s" fill="none" stroke="%s" stroke-width="2" points="%s"/>`, k, color, strings.Join(pts, " "))
		ly := pad + 16*float64(i)
		fmt.Fprintf(&b, `<line x1="%.0f" x2="%.0f" y1="%.0f" y2="%.0f" stroke="%s" stroke-width="3"/><text x="%.0f" y="%.0f" fill="%s" font-size="12">%s</text>`,
			right+16, right+36, ly-4, ly-4, color, right+42, ly, color, k)
		i++
	}
	b.WriteString("</svg>")
	return b.String()
}
