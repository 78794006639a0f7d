package main

import (
	"flag"
	"fmt"
	"io"

	"github.com/paycode/paycode/loadtest/load"
)

// runDemo runs the embedded demo scenario: paycode, the simulated wallets
// and the load generator in this process, 20 s of a peak hour, then the
// report. One command for a newcomer.
func runDemo(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("demo", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var f loadFlags
	f.register(fs)
	fs.Usage = func() {
		fmt.Fprint(stderr, "usage: paycode demo [flags]\n\nStarts paycode and four simulated wallets in this process and runs a\n20-second peak-hour scenario against them (ramp-up, peak, cool-down, every\ntest-code outcome, follow-ups), then prints the report and checks every\npayment against the wallets' ledgers. The flags are paycode load's.\n\n")
		fs.PrintDefaults()
	}
	if rc, ok := parseFlags(fs, args); !ok {
		return rc
	}
	if fs.NArg() > 0 {
		fs.Usage()
		return 2
	}
	return runScenario("demo", load.DemoScenario(), &f, stdout, stderr)
}
