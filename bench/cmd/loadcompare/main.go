// Command loadcompare reads the summary.json files of `paycode load` runs
// made in one sitting and prints each run, the medians and the ratios
// that bench/ratio.sh and bench/overload.sh report:
//
//	loadcompare -mode cpu -a 'OUT/paycode-*' -b 'OUT/bare-*'
//	loadcompare -mode cpu -a 'OUT/paycode-*' -b 'OUT/bare-*' -c 'OUT/floor-*'
//	loadcompare -mode overload -a 'OUT/1x-*' -b 'OUT/3x-*'
//
// -mode cpu: the target's CPU per request (paycode against the bare
// server), the median of the per-alternation ratios and the ratio of the
// medians, with pay p99, paycode's own p99 and the CPU per admitted pay
// (over the pays not shed) of the a runs. With -c (the floor server's
// runs, bench/cmd/floorserver), also the c runs and the ratios a/b, c/b
// and a/c, each the ratio of the medians and the median of the
// per-alternation ratios, and a's CPU per admitted pay over c's per
// request (the floor sheds nothing: when paycode sheds, that is the
// ratio per pay).
// -mode overload: goodput (pay/SUCCESS answers/s) and the admitted pays'
// p99 (pay/SUCCESS), b against a.
//
// Runs pair up in name order (alternation i of a with alternation i of
// b). Medians, not means: on a shared machine one run in three is often
// disturbed.
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"

	"github.com/paycode/paycode/loadtest/load"
)

func main() {
	mode := flag.String("mode", "cpu", "cpu or overload")
	a := flag.String("a", "", "glob of the a runs' output directories (or summary.json files)")
	b := flag.String("b", "", "glob of the b runs'")
	c := flag.String("c", "", "mode cpu: glob of the c runs' (the floor server), optional")
	flag.Parse()
	as, err := read(*a)
	var bs, cs []run
	if err == nil {
		bs, err = read(*b)
	}
	if err == nil && *c != "" {
		cs, err = read(*c)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "loadcompare:", err)
		os.Exit(2)
	}
	switch *mode {
	case "cpu":
		cpu(as, bs)
		if len(cs) > 0 {
			floor(as, bs, cs)
		}
	case "overload":
		overload(as, bs)
	default:
		fmt.Fprintln(os.Stderr, "loadcompare: -mode is cpu or overload")
		os.Exit(2)
	}
}

type run struct {
	name string
	s    load.Summary
}

// read reads the runs glob names, in name order; none is an error.
func read(glob string) ([]run, error) {
	paths, err := filepath.Glob(glob)
	if err != nil {
		return nil, err
	}
	if len(paths) == 0 {
		return nil, fmt.Errorf("no runs match %q", glob)
	}
	slices.Sort(paths)
	var out []run
	for _, p := range paths {
		f := p
		if st, err := os.Stat(p); err == nil && st.IsDir() {
			f = filepath.Join(p, "summary.json")
		}
		data, err := os.ReadFile(f)
		if err != nil {
			return nil, err
		}
		r := run{name: filepath.Base(p)}
		if err := json.Unmarshal(data, &r.s); err != nil {
			return nil, fmt.Errorf("%s: %w", f, err)
		}
		out = append(out, r)
	}
	return out, nil
}

func median(v []float64) float64 {
	if len(v) == 0 {
		return 0
	}
	s := slices.Clone(v)
	slices.Sort(s)
	if n := len(s); n%2 == 0 {
		return (s[n/2-1] + s[n/2]) / 2
	}
	return s[len(s)/2]
}

func row(s *load.Summary, sel string) load.Row {
	r, _ := s.Row(sel)
	return r
}

// perAdmitted is the target's CPU over the pays it did not shed, in µs:
// what a pay costs when admission sheds some (a shed answer costs far
// less than a pay, so the CPU per request understates it), shed answers'
// cost included. Zero when nothing was admitted.
func perAdmitted(s *load.Summary) float64 {
	n := row(s, "pay").Requests - row(s, "pay/REQUEST_TRAFFIC_EXCEED_LIMIT").Requests
	if n == 0 {
		return 0
	}
	return s.CPU.TargetSecs * 1e6 / float64(n)
}

func cpu(as, bs []run) {
	var ca, cadm, cb, ratios, p99, own, gen []float64
	fmt.Printf("%-22s %10s %12s %12s %12s %10s %10s\n", "run", "achieved/s", "CPU µs/req", "µs/admitted", "gen µs/req", "pay p99", "own p99")
	for i, r := range as {
		pay := row(&r.s, "pay")
		fmt.Printf("%-22s %10.0f %12.1f %12.1f %12.1f %8.1fms %8.2fms\n", r.name, r.s.Achieved.Rate, r.s.CPU.TargetPerRequestUS, perAdmitted(&r.s), r.s.CPU.PerRequestUS, pay.Latency.P99, pay.Engine.P99)
		ca, p99, own, gen = append(ca, r.s.CPU.TargetPerRequestUS), append(p99, pay.Latency.P99), append(own, pay.Engine.P99), append(gen, r.s.CPU.PerRequestUS)
		cadm = append(cadm, perAdmitted(&r.s))
		if i < len(bs) && bs[i].s.CPU.TargetPerRequestUS > 0 {
			ratios = append(ratios, r.s.CPU.TargetPerRequestUS/bs[i].s.CPU.TargetPerRequestUS)
		}
	}
	for _, r := range bs {
		fmt.Printf("%-22s %10.0f %12.1f %12.1f\n", r.name, r.s.Achieved.Rate, r.s.CPU.TargetPerRequestUS, r.s.CPU.PerRequestUS)
		cb = append(cb, r.s.CPU.TargetPerRequestUS)
	}
	ma, mb := median(ca), median(cb)
	fmt.Printf("median CPU per request: a %.1f µs, b %.1f µs; ratio of medians %.2f×; median of the %d paired ratios %.2f× (%v)\n",
		ma, mb, ma/mb, len(ratios), median(ratios), fmtAll(ratios))
	fmt.Printf("a: median pay p99 %.1f ms, paycode's own p99 %.2f ms, CPU per admitted pay %.1f µs, generator %.1f µs/request\n", median(p99), median(own), median(cadm), median(gen))
}

// floor prints the c runs (the floor server) and the three ratios that
// place paycode between the bare server and the floor.
func floor(as, bs, cs []run) {
	fmt.Printf("%-22s %10s %12s %12s\n", "floor run", "achieved/s", "CPU µs/req", "gen µs/req")
	for _, r := range cs {
		fmt.Printf("%-22s %10.0f %12.1f %12.1f\n", r.name, r.s.Achieved.Rate, r.s.CPU.TargetPerRequestUS, r.s.CPU.PerRequestUS)
	}
	per := func(rs []run) []float64 {
		v := make([]float64, len(rs))
		for i, r := range rs {
			v[i] = r.s.CPU.TargetPerRequestUS
		}
		return v
	}
	pa, pb, pc := per(as), per(bs), per(cs)
	adm := make([]float64, len(as))
	for i := range as {
		adm[i] = perAdmitted(&as[i].s)
	}
	fmt.Printf("median CPU per request: paycode %.1f µs, floor %.1f µs, bare %.1f µs\n", median(pa), median(pc), median(pb))
	for _, q := range []struct {
		name string
		x, y []float64
	}{{"paycode/bare", pa, pb}, {"floor/bare", pc, pb}, {"paycode/floor", pa, pc}, {"admitted/floor", adm, pc}} {
		var paired []float64
		for i := range min(len(q.x), len(q.y)) {
			if q.y[i] > 0 {
				paired = append(paired, q.x[i]/q.y[i])
			}
		}
		fmt.Printf("%-14s ratio of medians %.2f×; median of the %d paired ratios %.2f× (%v)\n",
			q.name, median(q.x)/median(q.y), len(paired), median(paired), fmtAll(paired))
	}
}

func overload(as, bs []run) {
	var ga, gb, pa, pb []float64
	fmt.Printf("%-22s %10s %12s %12s %10s %12s\n", "run", "offered/s", "goodput/s", "shed/s", "admitted p99", "own p99")
	for _, set := range []struct {
		runs []run
		g, p *[]float64
	}{{as, &ga, &pa}, {bs, &gb, &pb}} {
		for _, r := range set.runs {
			ok := row(&r.s, "pay/SUCCESS")
			shed := row(&r.s, "pay/REQUEST_TRAFFIC_EXCEED_LIMIT")
			fmt.Printf("%-22s %10.0f %12.0f %12.0f %10.1fms %10.2fms\n", r.name, r.s.Achieved.Rate, ok.Rate, shed.Rate, ok.Latency.P99, ok.Engine.P99)
			*set.g, *set.p = append(*set.g, ok.Rate), append(*set.p, ok.Latency.P99)
		}
	}
	fmt.Printf("median goodput: a %.0f/s, b %.0f/s: b/a %.1f %%\n", median(ga), median(gb), 100*median(gb)/median(ga))
	fmt.Printf("median admitted pay p99: a %.1f ms, b %.1f ms: b/a %.2f×\n", median(pa), median(pb), median(pb)/median(pa))
}

func fmtAll(v []float64) string {
	s := ""
	for i, x := range v {
		if i > 0 {
			s += " "
		}
		s += fmt.Sprintf("%.2f", x)
	}
	return s
}
