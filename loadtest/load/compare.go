package load

import (
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"text/tabwriter"
)

// compareMetrics are the columns of a comparison, per row.
var compareMetrics = []string{"p50", "p90", "p99", "p99.9", "max", "success", "rate"}

// Change is one metric of one row in two runs.
type Change struct {
	Selector string  `json:"selector"` // pay, pay/SUCCESS, pay/lost_response
	Metric   string  `json:"metric"`   // p99, success, …
	A        float64 `json:"a"`        // ms for latencies, a share for success, per second for rate
	B        float64 `json:"b"`
	// Relative is (B−A)/A; NaN when A is 0.
	Relative float64 `json:"relative"`
}

// Compare lists every metric of every row present in both a and b, rows
// by kind first, then by resultCode and by test-code row.
func Compare(a, b *Summary) []Change {
	var out []Change
	add := func(sel string, ra, rb Row) {
		for _, m := range compareMetrics {
			va, _ := rowMetric(ra, m)
			vb, _ := rowMetric(rb, m)
			rel := math.NaN()
			if va != 0 {
				rel = (vb - va) / va
			}
			out = append(out, Change{Selector: sel, Metric: m, A: va, B: vb, Relative: rel})
		}
	}
	for _, ra := range a.Kinds {
		if rb, ok := b.Row(ra.Kind); ok {
			add(ra.Kind, ra, rb)
		}
	}
	for _, ra := range a.Results {
		sel := ra.Kind + "/" + ra.Result
		if rb, ok := b.Row(sel); ok {
			add(sel, ra, rb)
		}
	}
	for _, ra := range a.Classes {
		sel := ra.Kind + "/" + ra.Class
		if rb, ok := b.Row(sel); ok {
			add(sel, ra, rb)
		}
	}
	return out
}

// rowMetric reads one metric of a row (see Budget for the names).
func rowMetric(r Row, m string) (float64, bool) {
	pick := func(p Percentiles, m string) (float64, bool) {
		switch m {
		case "p50":
			return p.P50, true
		case "p90":
			return p.P90, true
		case "p99":
			return p.P99, true
		case "p99.9":
			return p.P999, true
		case "max":
			return p.Max, true
		case "mean":
			return p.Mean, true
		}
		return 0, false
	}
	switch {
	case strings.HasPrefix(m, "engine."):
		return pick(r.Engine, m[len("engine."):])
	case strings.HasPrefix(m, "rest."):
		return pick(r.Rest, m[len("rest."):])
	case m == "success":
		return r.Success, true
	case m == "errors":
		if r.Requests == 0 {
			return 0, true
		}
		return float64(r.Errors) / float64(r.Requests), true
	case m == "rate":
		return r.Rate, true
	case m == "requests":
		return float64(r.Requests), true
	}
	return pick(r.Latency, m)
}

// Limit bounds how much a metric may change from a baseline run to a new
// one: "pay.p99 +20%" fails when the new p99 is more than 20 % above the
// baseline's, "pay.success -0.1%" when the new success is more than 0.1 %
// (relative) below it.
type Limit struct {
	Text     string
	Selector string
	Metric   string
	// Max is the largest allowed relative change in the limit's
	// direction (0.2 for +20%); Up says the limit is on increases.
	Max float64
	Up  bool
}

// ParseLimits parses a comma-separated list such as
// "pay.p99 +20%, pay.success -0.1%". Errors name the item.
func ParseLimits(s string) ([]Limit, error) {
	var out []Limit
	for item := range strings.SplitSeq(s, ",") {
		text := strings.TrimSpace(item)
		if text == "" {
			continue
		}
		compact := strings.ReplaceAll(text, " ", "")
		i := strings.LastIndexAny(compact, "+-")
		if i <= 0 || !strings.HasSuffix(compact, "%") {
			return nil, fmt.Errorf("%w: limit %q: want selector.metric +N%% or -N%%, e.g. pay.p99 +20%%", ErrBudget, text)
		}
		lhs := compact[:i]
		v, err := strconv.ParseFloat(compact[i+1:len(compact)-1], 64)
		if err != nil || v < 0 {
			return nil, fmt.Errorf("%w: limit %q: %q is not a percentage", ErrBudget, text, compact[i+1:])
		}
		sel, metric, ok := strings.Cut(lhs, ".")
		if !ok || sel == "" {
			return nil, fmt.Errorf("%w: limit %q: the left side must be selector.metric, e.g. pay.p99", ErrBudget, text)
		}
		if kind, _, _ := strings.Cut(sel, "/"); kind != "all" && !isKindName(kind) {
			return nil, fmt.Errorf("%w: limit %q: unknown kind %q", ErrBudget, text, kind)
		}
		if _, ok := rowMetric(Row{Requests: 1}, metric); !ok {
			return nil, fmt.Errorf("%w: limit %q: unknown metric %q", ErrBudget, text, metric)
		}
		out = append(out, Limit{Text: text, Selector: sel, Metric: metric, Max: v / 100, Up: compact[i] == '+'})
	}
	return out, nil
}

// Check evaluates l between a baseline and a new run. A selector missing
// from either run breaks the limit: nothing measured proves nothing.
func (l Limit) Check(base, cur *Summary) BudgetResult {
	res := BudgetResult{Budget: l.Text}
	ra, okA := base.Row(l.Selector)
	rb, okB := cur.Row(l.Selector)
	if !okA || !okB || ra.Requests == 0 || rb.Requests == 0 {
		res.Message = fmt.Sprintf("%s: %s was not measured in both runs", l.Text, l.Selector)
		return res
	}
	va, _ := rowMetric(ra, l.Metric)
	vb, _ := rowMetric(rb, l.Metric)
	res.Actual = vb
	var change float64
	switch {
	case va != 0:
		change = (vb - va) / va
	case vb != 0:
		change = math.Inf(int(math.Copysign(1, vb)))
	}
	if l.Up {
		res.OK = change <= l.Max+1e-12
	} else {
		res.OK = -change <= l.Max+1e-12
	}
	verdict := "ok"
	if !res.OK {
		verdict = "broken"
	}
	res.Message = fmt.Sprintf("%s %s: %s.%s %s → %s (%+.1f%%)", l.Text, verdict, l.Selector, l.Metric, fmtMetric(l.Metric, va), fmtMetric(l.Metric, vb), 100*change)
	return res
}

func fmtMetric(m string, v float64) string {
	switch m {
	case "success", "errors":
		return strconv.FormatFloat(100*v, 'f', 3, 64) + "%"
	case "rate", "requests":
		return strconv.FormatFloat(v, 'f', 1, 64)
	}
	return ms(v) + "ms"
}

// WriteComparison prints the changes as a table: per row, the baseline
// (A), the new run (B) and the relative change, a column per metric
// (latencies in ms). all adds the rows by resultCode and by test-code
// row to those by kind.
func WriteComparison(w io.Writer, a, b *Summary, changes []Change, all bool) {
	fmt.Fprintf(w, "A: %s (%s, run %s)\nB: %s (%s, run %s)\n\n", a.Scenario, a.Started.Format("2006-01-02 15:04:05Z"), a.Run,
		b.Scenario, b.Started.Format("2006-01-02 15:04:05Z"), b.Run)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprint(tw, "row\t")
	for _, m := range compareMetrics {
		fmt.Fprintf(tw, "\t%s", m)
	}
	fmt.Fprintln(tw, "\t")
	kinds := map[string]bool{"all": true}
	for _, k := range kindNames {
		kinds[k] = true
	}
	for i := 0; i+len(compareMetrics) <= len(changes); i += len(compareMetrics) {
		row := changes[i : i+len(compareMetrics)]
		if !all && !kinds[row[0].Selector] {
			continue
		}
		for j, what := range []string{"A", "B", "change"} {
			name := ""
			if j == 0 {
				name = row[0].Selector
			}
			fmt.Fprintf(tw, "%s\t%s", name, what)
			for _, c := range row {
				switch j {
				case 0:
					fmt.Fprintf(tw, "\t%s", fmtCell(c.Metric, c.A))
				case 1:
					fmt.Fprintf(tw, "\t%s", fmtCell(c.Metric, c.B))
				default:
					rel := "n/a"
					if !math.IsNaN(c.Relative) {
						rel = fmt.Sprintf("%+.1f%%", 100*c.Relative)
					}
					fmt.Fprintf(tw, "\t%s", rel)
				}
			}
			fmt.Fprintln(tw, "\t")
		}
	}
	tw.Flush()
	fmt.Fprintln(w, "(latencies in ms; success is the share of expected answers; rate in answers/s)")
}

func fmtCell(m string, v float64) string {
	switch m {
	case "success", "errors":
		return strconv.FormatFloat(100*v, 'f', 3, 64) + "%"
	case "rate", "requests":
		return strconv.FormatFloat(v, 'f', 1, 64)
	}
	return ms(v)
}
