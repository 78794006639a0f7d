package load

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// ErrBudget is the sentinel every budget parse error wraps.
var ErrBudget = errors.New("load: budget")

// Budget is one limit on a summary: Selector.Metric Op Value, e.g.
// pay.p99<=50ms. Selector is a row (see Summary.Row); Metric is one of
//
//	p50 p90 p99 p99.9 max mean   total latency (a duration)
//	engine.p50 … engine.max      paycode's own time (a duration)
//	rest.p50 … rest.max          total minus paycode's time (a duration)
//	success errors               share of requests: 99.9% or 0.999
//	rate                         answers per second
//	requests                     count
type Budget struct {
	Text     string
	Selector string
	Metric   string
	Op       string // <=, <, >=, >
	Value    float64
	unit     string // "ms", "ratio" or ""
}

var latencyMetrics = map[string]bool{"p50": true, "p90": true, "p99": true, "p99.9": true, "max": true, "mean": true}

// ParseBudgets parses a comma-separated budget list; empty items are
// ignored. Errors name the item.
func ParseBudgets(s string) ([]Budget, error) {
	var out []Budget
	var errs []error
	for item := range strings.SplitSeq(s, ",") {
		item = strings.TrimSpace(item)
		if item == "" {
			continue
		}
		b, err := parseBudget(item)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		out = append(out, b)
	}
	return out, errors.Join(errs...)
}

func parseBudget(item string) (Budget, error) {
	b := Budget{Text: item}
	i := strings.IndexAny(item, "<>")
	if i < 0 {
		return b, fmt.Errorf("%w: %q: want selector.metric<=value (or >=, <, >)", ErrBudget, item)
	}
	lhs, rest := strings.TrimSpace(item[:i]), item[i:]
	b.Op = rest[:1]
	if len(rest) > 1 && rest[1] == '=' {
		b.Op += "="
	}
	val := strings.TrimSpace(rest[len(b.Op):])
	sel, metric, ok := strings.Cut(lhs, ".")
	if !ok || sel == "" || metric == "" {
		return b, fmt.Errorf("%w: %q: the left side must be selector.metric, e.g. pay.p99", ErrBudget, item)
	}
	b.Selector, b.Metric = sel, metric
	kind, _, _ := strings.Cut(sel, "/")
	if kind != "all" && !isKindName(kind) {
		return b, fmt.Errorf("%w: %q: unknown kind %q (all, %s)", ErrBudget, item, kind, strings.Join(kindNames[:], ", "))
	}
	base := metric
	if p, m, ok := strings.Cut(metric, "."); ok && (p == "engine" || p == "rest") {
		base = m
	}
	switch {
	case latencyMetrics[base]:
		d, err := time.ParseDuration(val)
		if err != nil || d < 0 {
			return b, fmt.Errorf("%w: %q: %s needs a duration such as 50ms", ErrBudget, item, metric)
		}
		b.Value, b.unit = float64(d)/float64(time.Millisecond), "ms"
	case metric == "success" || metric == "errors":
		v, err := parseRatio(val)
		if err != nil {
			return b, fmt.Errorf("%w: %q: %s needs a share such as 99.9%% or 0.999", ErrBudget, item, metric)
		}
		b.Value, b.unit = v, "ratio"
	case metric == "rate" || metric == "requests":
		v, err := strconv.ParseFloat(strings.TrimSuffix(val, "/s"), 64)
		if err != nil || v < 0 {
			return b, fmt.Errorf("%w: %q: %s needs a number", ErrBudget, item, metric)
		}
		b.Value = v
	default:
		return b, fmt.Errorf("%w: %q: unknown metric %q (p50 p90 p99 p99.9 max mean, engine.… rest.…, success errors rate requests)", ErrBudget, item, metric)
	}
	return b, nil
}

func isKindName(s string) bool {
	for _, n := range kindNames {
		if n == s {
			return true
		}
	}
	return false
}

func parseRatio(s string) (float64, error) {
	pct := strings.HasSuffix(s, "%")
	v, err := strconv.ParseFloat(strings.TrimSuffix(s, "%"), 64)
	if err != nil {
		return 0, err
	}
	if pct {
		v /= 100
	}
	if v < 0 || v > 1 {
		return 0, errors.New("out of range")
	}
	return v, nil
}

// BudgetResult is one budget checked against a summary.
type BudgetResult struct {
	Budget  string  `json:"budget"`
	Actual  float64 `json:"actual"`
	OK      bool    `json:"ok"`
	Message string  `json:"message"`
}

// Eval checks b against s. A selector with no requests breaks the budget:
// nothing measured proves nothing.
func (b Budget) Eval(s *Summary) BudgetResult {
	res := BudgetResult{Budget: b.Text}
	row, ok := s.Row(b.Selector)
	if !ok || row.Requests == 0 {
		res.Message = fmt.Sprintf("%s: no %s requests were measured", b.Text, b.Selector)
		return res
	}
	var v float64
	pick := func(p Percentiles, m string) float64 {
		switch m {
		case "p50":
			return p.P50
		case "p90":
			return p.P90
		case "p99":
			return p.P99
		case "p99.9":
			return p.P999
		case "max":
			return p.Max
		}
		return p.Mean
	}
	switch m := b.Metric; {
	case strings.HasPrefix(m, "engine."):
		v = pick(row.Engine, m[len("engine."):])
	case strings.HasPrefix(m, "rest."):
		v = pick(row.Rest, m[len("rest."):])
	case latencyMetrics[m]:
		v = pick(row.Latency, m)
	case m == "success":
		v = row.Success
	case m == "errors":
		v = float64(row.Errors) / float64(row.Requests)
	case m == "rate":
		v = row.Rate
	case m == "requests":
		v = float64(row.Requests)
	}
	res.Actual = v
	// A relative tolerance, so 99.9% (parsed as 99.9/100) admits 0.999.
	eps := 1e-9 * max(1, math.Abs(b.Value))
	switch b.Op {
	case "<=":
		res.OK = v <= b.Value+eps
	case "<":
		res.OK = v < b.Value-eps
	case ">=":
		res.OK = v >= b.Value-eps
	case ">":
		res.OK = v > b.Value+eps
	}
	format := func(x float64) string {
		switch b.unit {
		case "ms":
			return ms(x) + "ms"
		case "ratio":
			return strconv.FormatFloat(100*x, 'f', 3, 64) + "%"
		}
		return strconv.FormatFloat(x, 'f', 1, 64)
	}
	if res.OK {
		res.Message = fmt.Sprintf("%s: %s", b.Text, format(v))
	} else {
		res.Message = fmt.Sprintf("%s broken: %s.%s is %s", b.Text, b.Selector, b.Metric, format(v))
	}
	return res
}

// EvalBudgets checks every budget.
func EvalBudgets(bs []Budget, s *Summary) []BudgetResult {
	out := make([]BudgetResult, len(bs))
	for i, b := range bs {
		out[i] = b.Eval(s)
	}
	return out
}
