// Command paycode is the one binary of the paycode project: the payment
// engine (serve), the simulated wallets (sim), the image decoder (decode)
// and the version. Each subcommand only parses flags and wires packages.
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/paycode/paycode/engine/server"
)

// version is set at build time with -ldflags "-X main.version=…"; without
// it the module's build info is used.
var version = ""

const usage = `paycode: user-presented payment codes at checkout-lane scale

usage: paycode <command> [flags]

commands:
  serve     run the engine (no -config: embedded default with simulated wallets)
  sim       run the simulated wallets and the identification service
  decode    decode payment codes from image files
  keys      generate an RSA key pair for signed messages (Antom SDK formats)
  load      open-loop load run of a scenario file, with report, budgets and correctness check
  demo      20-second embedded peak-hour load run with its report
  settle    write a day's transaction-details file (Antom layout) from the journal
  reconcile compare two transaction-details files; exit 1 on any mismatch
  config    check a config file, or print the effective configuration
  version   print the version

Run 'paycode <command> -h' for a command's flags.
`

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return 2
	}
	switch args[0] {
	case "serve":
		return runServe(args[1:], stdout, stderr)
	case "sim":
		return runSim(args[1:], stdout, stderr)
	case "decode":
		return runDecode(args[1:], stdout, stderr)
	case "keys":
		return runKeys(args[1:], stdout, stderr)
	case "load":
		return runLoad(args[1:], stdout, stderr)
	case "demo":
		return runDemo(args[1:], stdout, stderr)
	case "settle":
		return runSettle(args[1:], stdout, stderr)
	case "reconcile":
		return runReconcile(args[1:], stdout, stderr)
	case "config":
		return runConfig(args[1:], stdout, stderr)
	case "version", "-version", "--version":
		fmt.Fprintln(stdout, "paycode", versionString())
		return 0
	case "help", "-h", "-help", "--help":
		fmt.Fprint(stdout, usage)
		return 0
	}
	fmt.Fprintf(stderr, "paycode: unknown command %q\n\n%s", args[0], usage)
	return 2
}

// parseFlags parses a command's args into fs (ContinueOnError, which has
// printed the usage or the error). When ok is false the command ends with
// rc: 0 for -h, 2 for a bad flag.
func parseFlags(fs *flag.FlagSet, args []string) (rc int, ok bool) {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0, false
		}
		return 2, false
	}
	return 0, true
}

// versionString is the -ldflags version, else the build's (module
// version, VCS revision, "-modified" for a dirty tree, Go version).
func versionString() string {
	if version != "" {
		return version
	}
	return server.ReadBuild().String()
}
