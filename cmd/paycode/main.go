// Command paycode is the one binary of the paycode project. Its commands
// (the list `paycode -h` prints, from the commands table):
//
//	serve      run the payment engine (the lane API and the admin listener)
//	sim        run the simulated wallets and the identification service
//	decode     decode payment codes from image files
//	code       print a fresh test code for the simulated wallets, or write it as a QR/Code 128 PNG
//	keys       generate an RSA key pair for signed messages (Antom SDK formats)
//	load       open-loop load run of a scenario file, with report, budgets and correctness check
//	demo       20-second peak-hour load run on an embedded paycode, with its report
//	report     re-render a load run's results (text, JSON, HTML), or compare two runs
//	settle     write a day's transaction-details file (Antom layout) from the journal
//	reconcile  compare two transaction-details files; exit 1 on any mismatch
//	config     check a config file, or print the effective configuration
//	version    print the version, VCS revision and Go version
//
// Each command only parses flags and wires packages; `paycode COMMAND -h`
// prints its flags with their defaults.
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/paycode/paycode/engine/server"
)

// version is set at build time with -ldflags "-X main.version=…"; without
// it the module's build info is used.
var version = ""

// command is one subcommand of paycode.
type command struct {
	name    string
	summary string
	run     func(args []string, stdout, stderr io.Writer) int
	// subs are the command's own subcommands (config check, sim
	// settlement), each taking -h like a command.
	subs []string
}

// commands is the one list of commands: `paycode -h` prints it, run
// dispatches on it, and tests check the package doc, docs/operations.md
// and every command's -h and bad-flag behaviour against it.
var commands = []command{
	{name: "serve", summary: "run the payment engine (the lane API and the admin listener)", run: runServe},
	{name: "sim", summary: "run the simulated wallets and the identification service", run: runSim, subs: []string{"settlement"}},
	{name: "decode", summary: "decode payment codes from image files", run: runDecode},
	{name: "code", summary: "print a fresh test code for the simulated wallets, or write it as a QR/Code 128 PNG", run: runCode},
	{name: "keys", summary: "generate an RSA key pair for signed messages (Antom SDK formats)", run: runKeys},
	{name: "load", summary: "open-loop load run of a scenario file, with report, budgets and correctness check", run: runLoad},
	{name: "demo", summary: "20-second peak-hour load run on an embedded paycode, with its report", run: runDemo},
	{name: "report", summary: "re-render a load run's results (text, JSON, HTML), or compare two runs", run: runReport},
	{name: "settle", summary: "write a day's transaction-details file (Antom layout) from the journal", run: runSettle},
	{name: "reconcile", summary: "compare two transaction-details files; exit 1 on any mismatch", run: runReconcile},
	{name: "config", summary: "check a config file, or print the effective configuration", run: runConfig, subs: []string{"check", "print"}},
	{name: "version", summary: "print the version, VCS revision and Go version", run: runVersion},
}

// usage is `paycode -h`.
func usage() string {
	var b strings.Builder
	b.WriteString("paycode: user-presented payment codes at checkout-lane scale\n\nusage: paycode <command> [flags]\n\ncommands:\n")
	for _, c := range commands {
		fmt.Fprintf(&b, "  %-10s %s\n", c.name, c.summary)
	}
	b.WriteString("\nRun 'paycode <command> -h' for a command's flags and their defaults.\n")
	return b.String()
}

func main() {
	keepSysmonAwake()
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage())
		return 2
	}
	switch args[0] {
	case "-version", "--version":
		return runVersion(nil, stdout, stderr)
	case "help", "-h", "-help", "--help":
		fmt.Fprint(stdout, usage())
		return 0
	}
	for _, c := range commands {
		if c.name == args[0] {
			return c.run(args[1:], stdout, stderr)
		}
	}
	fmt.Fprintf(stderr, "paycode: unknown command %q (see 'paycode -h')\n", args[0])
	return 2
}

// flagsParsed, when set, is called with a command's name and its flag
// parse error as soon as its flags are parsed (parseFlags, serve's
// settings). The docs test sets it to check every documented command
// line against the real flag sets, and stops the command there.
var flagsParsed func(cmd string, err error)

// parseFlags parses a command's args into fs, whose Usage prints the
// command's synopsis and flags to fs.Output(). -h prints that usage and
// ends the command with 0; a bad flag prints one line naming it (not the
// whole usage) and ends it with 2. When ok is false the command returns
// rc.
func parseFlags(fs *flag.FlagSet, args []string) (rc int, ok bool) {
	out, usage := fs.Output(), fs.Usage
	fs.SetOutput(io.Discard)
	fs.Usage = func() {}
	err := fs.Parse(args)
	if flagsParsed != nil {
		flagsParsed(fs.Name(), err)
	}
	fs.SetOutput(out)
	fs.Usage = usage
	switch {
	case err == nil:
		return 0, true
	case errors.Is(err, flag.ErrHelp):
		fs.Usage()
		return 0, false
	}
	fmt.Fprintln(out, flagError(fs.Name(), err))
	return 2, false
}

// flagError is the one line a bad flag gets.
func flagError(cmd string, err error) string {
	return fmt.Sprintf("paycode %s: %v (see 'paycode %s -h')", cmd, err, cmd)
}

// runVersion prints the version: -ldflags' main.version, or the module
// version with the VCS revision and "-modified" for a dirty tree.
func runVersion(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("version", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), "usage: paycode version\n\nPrints the version, the VCS revision it was built from (\"-modified\" when\nthe tree had uncommitted changes) and the Go version. No flags.\n")
	}
	if rc, ok := parseFlags(fs, args); !ok {
		return rc
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "paycode version: unexpected argument %q (see 'paycode version -h')\n", fs.Arg(0))
		return 2
	}
	fmt.Fprintln(stdout, "paycode", versionString())
	return 0
}

// versionString is the -ldflags version, else the build's (module
// version, VCS revision, "-modified" for a dirty tree, Go version).
func versionString() string {
	if version != "" {
		return version
	}
	return server.ReadBuild().String()
}
