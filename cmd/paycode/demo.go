package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"

	"github.com/paycode/paycode/engine/server"
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
		fmt.Fprint(stderr, "usage: paycode demo [flags]\n\nStarts paycode and four simulated wallets in this process and runs a\n20-second peak-hour scenario against them (ramp-up, peak, cool-down, every\ntest-code outcome, follow-ups), then prints the report and checks every\npayment against the wallets' ledgers.\n\n")
		fs.PrintDefaults()
	}
	if rc, ok := parseFlags(fs, args); !ok {
		return rc
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "paycode demo: unexpected argument %q (see 'paycode demo -h')\n", fs.Arg(0))
		return 2
	}
	return runScenario("demo", load.DemoScenario(), &f, stdout, stderr)
}

// embedded is the node of an embedded run (demo, load without -target)
// and its journal's description for the report.
type embedded struct {
	server.Config
	desc string
}

// embeddedNode is the node an embedded run starts: the same as serve's,
// with the Pebble journal in a new temporary directory and synced writes
// (what serve does by default), or the in-memory journal with memory. cleanup
// removes the directory; call it after the node closed.
func embeddedNode(memory bool) (embedded, func(), error) {
	quiet := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelError}))
	if memory {
		return embedded{desc: "memory (the in-memory journal: -memory; a restart would forget every payment)"}, func() {}, nil
	}
	dir, err := os.MkdirTemp("", "paycode-journal-")
	if err != nil {
		return embedded{}, nil, err
	}
	cleanup := func() { os.RemoveAll(dir) }
	jc := server.JournalConfig{Dir: dir, Logger: quiet}
	j, key, err := server.OpenJournal(context.Background(), jc)
	if err != nil {
		cleanup()
		return embedded{}, nil, err
	}
	e := embedded{Config: server.Config{Journal: j, CodeKey: key}}
	e.desc = jc.String() + " (synced writes, as serve; -memory for the in-memory journal)"
	return e, cleanup, nil
}
