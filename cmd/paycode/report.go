package main

import (
	"flag"
	"fmt"
	"io"

	"github.com/paycode/paycode/loadtest/load"
)

// runReport re-renders a load run's results, or compares two runs.
func runReport(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("report", flag.ContinueOnError)
	fs.SetOutput(stderr)
	budget := fs.String("budget", "", "more budgets to evaluate besides the run's own, e.g. 'pay.p99<=50ms'")
	asJSON := fs.Bool("json", false, "print the summary as JSON instead of text")
	htmlOut := fs.String("html", "", "also write the HTML report to `FILE`")
	compare := fs.Bool("compare", false, "compare two runs: paycode report -compare BASELINE NEW")
	allRows := fs.Bool("all", false, "with -compare: also compare the rows by resultCode and by test-code row")
	limits := fs.String("max", "", "with -compare: allowed changes from BASELINE to NEW, e.g. 'pay.p99 +20%,pay.success -0.1%': exit 1 when one is exceeded")
	fs.Usage = func() {
		fmt.Fprint(stderr, "usage: paycode report [-budget B] [-json] [-html FILE] RUN\n"+
			"       paycode report -compare [-max 'pay.p99 +20%'] BASELINE NEW\n\n"+
			"RUN is a load run's -out directory (or its results.bin): the report is rebuilt\n"+
			"from results.bin, with summary.json's run figures, and its budgets re-evaluated;\n"+
			"exit status 1 when the run fails a gate. -compare prints each row's change per\n"+
			"percentile from BASELINE to NEW and exits 1 when a -max limit is exceeded.\n\n")
		fs.PrintDefaults()
	}
	if rc, ok := parseFlags(fs, args); !ok {
		return rc
	}
	fail := func(code int, err error) int {
		fmt.Fprintln(stderr, "paycode report:", err)
		return code
	}
	extra, err := load.ParseBudgets(*budget)
	if err != nil {
		return fail(2, err)
	}
	if *compare {
		if fs.NArg() != 2 {
			fmt.Fprintln(stderr, "paycode report: -compare needs two runs, BASELINE and NEW; see -h")
			return 2
		}
		ls, err := load.ParseLimits(*limits)
		if err != nil {
			return fail(2, err)
		}
		a, _, _, err := load.ReadRun(fs.Arg(0), nil)
		if err != nil {
			return fail(1, err)
		}
		b, _, _, err := load.ReadRun(fs.Arg(1), nil)
		if err != nil {
			return fail(1, err)
		}
		load.WriteComparison(stdout, a, b, load.Compare(a, b), *allRows)
		rc := 0
		if len(ls) > 0 {
			fmt.Fprintln(stdout, "\nlimits:")
		}
		for _, l := range ls {
			r := l.Check(a, b)
			mark := "ok    "
			if !r.OK {
				mark, rc = "BROKEN", 1
			}
			fmt.Fprintf(stdout, "  %s %s\n", mark, r.Message)
		}
		return rc
	}
	if *limits != "" || *allRows {
		fmt.Fprintln(stderr, "paycode report: -max and -all go with -compare; see -h")
		return 2
	}
	if fs.NArg() != 1 {
		fmt.Fprintln(stderr, "paycode report: one run directory expected; see -h")
		return 2
	}
	s, rec, pl, err := load.ReadRun(fs.Arg(0), extra)
	if err != nil {
		return fail(1, err)
	}
	if *htmlOut != "" {
		if err := load.WriteHTML(*htmlOut, pl, s, rec); err != nil {
			return fail(1, err)
		}
		s.Outputs = append(s.Outputs, *htmlOut)
	}
	if *asJSON {
		err = s.WriteJSON(stdout)
	} else {
		err = s.WriteText(stdout)
	}
	if err != nil {
		return fail(1, err)
	}
	if !s.Passed {
		return 1
	}
	return 0
}
