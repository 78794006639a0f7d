package load

import (
	"bytes"
	"fmt"
	"html"
	"math"
	"os"
	"strings"

	"github.com/tsenart/vegeta/v12/lib/plot"
)

// spectrumQuantiles are the points of the percentile spectrum plot.
var spectrumQuantiles = []float64{0, 25, 50, 75, 90, 95, 97.5, 99, 99.5, 99.9, 99.95, 99.99, 99.999, 100}

var seriesColors = []string{"#e9d758", "#4ea8de", "#80ed99", "#f28482", "#c77dff", "#ffb703", "#8ecae6"}

// writeHTML writes vegeta's latency-over-time plot with the summary, the
// tables and a percentile-spectrum chart per kind (from the HDR
// histograms) inserted before </body>: one self-contained file.
func writeHTML(path string, pl *plot.Plot, s *Summary, rec *Recorder) error {
	var buf bytes.Buffer
	if _, err := pl.WriteTo(&buf); err != nil {
		return fmt.Errorf("load: plot: %w", err)
	}
	var sec strings.Builder
	sec.WriteString(`<section style="font-family:monospace;padding:1em 2em;color:#ddd">`)
	verdict := "PASSED"
	if !s.Passed {
		verdict = "FAILED"
	}
	fmt.Fprintf(&sec, "<h2>%s — %s</h2>", html.EscapeString(s.Scenario), verdict)
	var text bytes.Buffer
	s.WriteText(&text)
	fmt.Fprintf(&sec, "<pre>%s</pre>", html.EscapeString(text.String()))
	sec.WriteString(spectrumSVG(rec))
	sec.WriteString("</section>\n")
	out := buf.String()
	if i := strings.LastIndex(out, "</body>"); i >= 0 {
		out = out[:i] + sec.String() + out[i:]
	} else {
		out += sec.String()
	}
	return os.WriteFile(path, []byte(out), 0o644)
}

// spectrumSVG draws latency (log scale) against percentile on the
// classic HDR axis, x = log10(1/(1-q)), one line per kind.
func spectrumSVG(rec *Recorder) string {
	const w, h, pad = 900.0, 360.0, 50.0
	xOf := func(q float64) float64 { return math.Log10(1 / math.Max(1-q/100, 1e-5)) } // 0..5
	maxUS := int64(1)
	for _, st := range rec.kinds {
		if st != nil && st.count > 0 {
			maxUS = max(maxUS, st.total.Max())
		}
	}
	ly := func(us int64) float64 { return math.Log10(float64(max(us, 1))) }
	top := math.Ceil(ly(maxUS))
	var b strings.Builder
	fmt.Fprintf(&b, `<h3>latency by percentile (HDR histograms)</h3><svg xmlns="http://www.w3.org/2000/svg" width="%.0f" height="%.0f" style="background:#1e1e1e">`, w, h)
	for d := 0.0; d <= top; d++ {
		y := h - pad - d/top*(h-2*pad)
		fmt.Fprintf(&b, `<line x1="%.0f" x2="%.0f" y1="%.1f" y2="%.1f" stroke="#444"/><text x="4" y="%.1f" fill="#aaa" font-size="11">%s</text>`,
			pad, w-pad, y, y, y+4, fmtUS(int64(math.Pow(10, d))))
	}
	for _, q := range []float64{0, 90, 99, 99.9, 99.99, 99.999} {
		x := pad + xOf(q)/5*(w-2*pad)
		fmt.Fprintf(&b, `<line x1="%.1f" x2="%.1f" y1="%.0f" y2="%.0f" stroke="#444"/><text x="%.1f" y="%.0f" fill="#aaa" font-size="11">p%g</text>`,
			x, x, pad, h-pad, x-10, h-pad+16, q)
	}
	i := 0
	for k := range kindCount {
		st := rec.kinds[k]
		if st == nil || st.count == 0 {
			continue
		}
		color := seriesColors[i%len(seriesColors)]
		var pts []string
		for _, q := range spectrumQuantiles {
			x := pad + xOf(q)/5*(w-2*pad)
			v := st.total.ValueAtQuantile(q)
			if q == 0 {
				v = st.total.Min()
			}
			y := h - pad - ly(v)/top*(h-2*pad)
			pts = append(pts, fmt.Sprintf("%.1f,%.1f", x, y))
		}
		fmt.Fprintf(&b, `<polyline fill="none" stroke="%s" stroke-width="2" points="%s"/><text x="%.0f" y="%d" fill="%s" font-size="12">%s</text>`,
			color, strings.Join(pts, " "), w-pad-90, 20+14*i, color, k)
		i++
	}
	b.WriteString("</svg>")
	return b.String()
}
