// Command benchgate is bench/run.sh's checker. It reads `go test -bench
// -benchmem` output and
//
//	benchgate clean < raw > clean
//
// rejoins benchmark lines that log output split (Pebble logs between a
// benchmark's name and its figures) and drops the log lines, so benchstat
// and the baseline see clean results;
//
//	benchgate compare [-watch REGEXP] BASELINE NEW
//
// compares NEW with BASELINE benchmark by benchmark: allocs/op exactly
// (the smallest of each side's runs: an allocation count only grows with
// noise, a GC emptying a pool), ns/op as the change of medians. It exits 1
// when a benchmark's allocs/op grew, unless its name matches -watch (the
// parallel, network and Pebble benchmarks, whose counts move with
// scheduling: reported, never failing). Time changes never fail: the
// machine is shared and noisy.
package main

import (
	"bufio"
	"flag"
	"fmt"
	"io"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

func main() {
	if len(os.Args) < 2 {
		usage()
	}
	switch os.Args[1] {
	case "clean":
		if err := clean(os.Stdin, os.Stdout); err != nil {
			fmt.Fprintln(os.Stderr, "benchgate:", err)
			os.Exit(2)
		}
	case "compare":
		os.Exit(compare(os.Args[2:], os.Stdout, os.Stderr))
	default:
		usage()
	}
}

func usage() {
	fmt.Fprintln(os.Stderr, "usage: benchgate clean < raw > clean | benchgate compare [-watch REGEXP] [-missing] BASELINE NEW")
	os.Exit(2)
}

var (
	// A whole result line: name, iterations, then value-unit pairs.
	resultRE = regexp.MustCompile(`^(Benchmark\S+)\s+(\d+\s+\S+ ns/op.*)$`)
	// A name whose figures were pushed to a later line by log output.
	nameOnlyRE = regexp.MustCompile(`^(Benchmark\S+)(\s.*)?$`)
	// Figures on their own line.
	figuresRE = regexp.MustCompile(`^\s*(\d+\s+\S+ ns/op.*)$`)
	// Configuration lines benchstat reads (goos:, pkg:, cpu: …).
	configRE = regexp.MustCompile(`^[a-z][a-zA-Z0-9_-]*: `)
)

// clean writes configuration lines, result lines (rejoined) and PASS/FAIL
// /ok lines; everything else (logs) is dropped.
func clean(r io.Reader, w io.Writer) error {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	bw := bufio.NewWriter(w)
	pending := ""
	for sc.Scan() {
		line := sc.Text()
		switch {
		case resultRE.MatchString(line):
			m := resultRE.FindStringSubmatch(line)
			fmt.Fprintf(bw, "%s\t%s\n", m[1], m[2])
			pending = ""
		case pending != "" && figuresRE.MatchString(line):
			fmt.Fprintf(bw, "%s\t%s\n", pending, figuresRE.FindStringSubmatch(line)[1])
			pending = ""
		case strings.HasPrefix(line, "Benchmark") && nameOnlyRE.MatchString(line):
			pending = nameOnlyRE.FindStringSubmatch(line)[1]
		case configRE.MatchString(line) && !strings.Contains(line, " level=") && !strings.HasPrefix(line, "time:"):
			fmt.Fprintln(bw, line)
		case line == "PASS" || strings.HasPrefix(line, "ok  ") || strings.HasPrefix(line, "FAIL") || strings.HasPrefix(line, "--- FAIL"):
			fmt.Fprintln(bw, line)
		}
	}
	if err := sc.Err(); err != nil {
		return err
	}
	return bw.Flush()
}

// result is one benchmark's runs.
type result struct {
	key    string // package/Name, GOMAXPROCS suffix dropped
	ns     []float64
	allocs []float64
}

// parse reads results (raw or clean) in order of first appearance.
func parse(path string) ([]*result, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	pr, pw := io.Pipe()
	go func() { pw.CloseWithError(clean(f, pw)) }()
	var out []*result
	byKey := map[string]*result{}
	pkg := ""
	sc := bufio.NewScanner(pr)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if p, ok := strings.CutPrefix(line, "pkg: "); ok {
			pkg = strings.TrimPrefix(strings.TrimSpace(p), "github.com/paycode/paycode/")
			continue
		}
		m := resultRE.FindStringSubmatch(line)
		if m == nil {
			continue
		}
		name := strings.TrimPrefix(m[1], "Benchmark")
		if i := strings.LastIndexByte(name, '-'); i > 0 {
			if _, err := strconv.Atoi(name[i+1:]); err == nil {
				name = name[:i]
			}
		}
		key := pkg + "." + name
		r := byKey[key]
		if r == nil {
			r = &result{key: key}
			byKey[key] = r
			out = append(out, r)
		}
		fields := strings.Fields(m[2])[1:] // drop the iteration count
		for i := 0; i+1 < len(fields); i += 2 {
			v, err := strconv.ParseFloat(fields[i], 64)
			if err != nil {
				continue
			}
			switch fields[i+1] {
			case "ns/op":
				r.ns = append(r.ns, v)
			case "allocs/op":
				r.allocs = append(r.allocs, v)
			}
		}
	}
	return out, sc.Err()
}

func median(v []float64) float64 {
	s := slices.Clone(v)
	slices.Sort(s)
	n := len(s)
	if n == 0 {
		return 0
	}
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}

func compare(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("compare", flag.ContinueOnError)
	fs.SetOutput(stderr)
	watch := fs.String("watch", "", "benchmarks (package.Name, regexp) whose allocs/op are reported but never fail")
	missing := fs.Bool("missing", false, "list baseline benchmarks this run did not have")
	if err := fs.Parse(args); err != nil || fs.NArg() != 2 {
		fmt.Fprintln(stderr, "usage: benchgate compare [-watch REGEXP] [-missing] BASELINE NEW")
		return 2
	}
	var watchRE *regexp.Regexp
	if *watch != "" {
		var err error
		if watchRE, err = regexp.Compile(*watch); err != nil {
			fmt.Fprintln(stderr, "benchgate: -watch:", err)
			return 2
		}
	}
	base, err := parse(fs.Arg(0))
	if err != nil {
		fmt.Fprintln(stderr, "benchgate:", err)
		return 2
	}
	cur, err := parse(fs.Arg(1))
	if err != nil {
		fmt.Fprintln(stderr, "benchgate:", err)
		return 2
	}
	if len(cur) == 0 {
		fmt.Fprintln(stderr, "benchgate: no benchmark results in", fs.Arg(1))
		return 2
	}
	baseBy := map[string]*result{}
	for _, r := range base {
		baseBy[r.key] = r
	}
	w := bufio.NewWriter(stdout)
	defer w.Flush()
	fmt.Fprintf(w, "%-58s %12s %12s %8s  %s\n", "benchmark", "base ns/op", "ns/op", "time", "allocs/op (base → now)")
	var grew, watched, improved, fresh []string
	seen := map[string]bool{}
	for _, r := range cur {
		seen[r.key] = true
		b := baseBy[r.key]
		isWatched := watchRE != nil && watchRE.MatchString(r.key)
		if b == nil || len(b.allocs) == 0 || len(r.allocs) == 0 {
			fresh = append(fresh, r.key)
			fmt.Fprintf(w, "%-58s %12s %12.4g %8s  %s\n", r.key, "-", median(r.ns), "", "not in baseline")
			continue
		}
		bn, cn := median(b.ns), median(r.ns)
		dt := ""
		if bn > 0 {
			dt = fmt.Sprintf("%+.0f%%", (cn/bn-1)*100)
		}
		ba, ca := slices.Min(b.allocs), slices.Min(r.allocs)
		verdict := "="
		switch {
		case ca > ba && isWatched:
			verdict = "up (watched, not gated)"
			watched = append(watched, fmt.Sprintf("%s %g → %g", r.key, ba, ca))
		case ca > ba:
			verdict = "UP: FAIL"
			grew = append(grew, fmt.Sprintf("%s %g → %g", r.key, ba, ca))
		case ca < ba && isWatched:
			verdict = "down (watched)"
		case ca < ba:
			verdict = "down (refresh the baseline)"
			improved = append(improved, r.key)
		}
		if isWatched && verdict == "=" {
			verdict = "= (watched)"
		}
		fmt.Fprintf(w, "%-58s %12.4g %12.4g %8s  %g → %g %s\n", r.key, bn, cn, dt, ba, ca, verdict)
	}
	if *missing {
		for _, b := range base {
			if !seen[b.key] {
				fmt.Fprintf(w, "%-58s not run (in the baseline)\n", b.key)
			}
		}
	}
	fmt.Fprintln(w, "\ntime: change of medians, informational only (shared noisy machine; see benchstat for significance)")
	if len(fresh) > 0 {
		fmt.Fprintf(w, "%d benchmark(s) not in the baseline: bench/run.sh -update adds them\n", len(fresh))
	}
	if len(improved) > 0 {
		fmt.Fprintf(w, "allocs/op went down in %d benchmark(s): refresh the baseline (bench/run.sh -update) to lock the gain in\n", len(improved))
	}
	if len(watched) > 0 {
		fmt.Fprintf(w, "watched (not gated) allocs/op up: %s\n", strings.Join(watched, "; "))
	}
	if len(grew) > 0 {
		fmt.Fprintf(w, "\nALLOC GATE FAILED: allocs/op increased in %d hot benchmark(s):\n", len(grew))
		for _, g := range grew {
			fmt.Fprintf(w, "  %s\n", g)
		}
		return 1
	}
	fmt.Fprintf(w, "alloc gate: ok (%d benchmarks compared)\n", len(cur)-len(fresh))
	return 0
}
