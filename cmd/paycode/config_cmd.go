package main

import (
	"errors"
	"flag"
	"fmt"
	"io"

	"go.yaml.in/yaml/v3"
)

const configUsage = `usage:
  paycode config check FILE
      validate a config file (syntax, every setting, the files it names);
      prints ok and exits 0, or lists every problem and exits 1
  paycode config print [-config FILE] [flags]
      print the effective configuration of 'paycode serve' with the same
      file, flags and PAYCODE_… environment, as YAML, secrets redacted
`

func runConfig(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, configUsage)
		return 2
	}
	switch args[0] {
	case "check":
		fs := flag.NewFlagSet("config check", flag.ContinueOnError)
		fs.SetOutput(stderr)
		fs.Usage = func() { fmt.Fprint(fs.Output(), configUsage) }
		if rc, ok := parseFlags(fs, args[1:]); !ok {
			return rc
		}
		if fs.NArg() != 1 {
			fmt.Fprintln(stderr, "paycode config check: want one FILE (see 'paycode config check -h')")
			return 2
		}
		return configCheck(fs.Arg(0), stdout, stderr)
	case "print":
		return configPrint(args[1:], stdout, stderr)
	case "help", "-h", "-help", "--help":
		fmt.Fprint(stdout, configUsage)
		return 0
	}
	fmt.Fprintf(stderr, "paycode config: unknown subcommand %q (see 'paycode config -h')\n", args[0])
	return 2
}

// configCheck validates one file over the defaults (no flags, no
// environment: it checks the file).
func configCheck(path string, stdout, stderr io.Writer) int {
	c, err := loadServeConfig(path)
	if c != nil {
		err = errors.Join(err, c.Validate())
	}
	if err != nil {
		fmt.Fprint(stderr, problems(path, err))
		return 1
	}
	fmt.Fprintln(stdout, "ok")
	return 0
}

func configPrint(args []string, stdout, stderr io.Writer) int {
	c, path, err := parseServeConfig("config print", args, stderr, "usage: paycode config print [-config FILE] [flags]\n\nPrints the configuration serve would run with the same file, flags and\nPAYCODE_… environment, as YAML, secrets redacted. The flags are serve's:\n\n")
	var fileErr error
	if err != nil {
		switch {
		case errors.Is(err, flag.ErrHelp):
			return 0
		case isFileProblems(err):
			fileErr = err
		case c == nil && path == "":
			fmt.Fprintln(stderr, flagError("config print", err))
			return 2
		default:
			fmt.Fprintln(stderr, "paycode config print:", err)
			return 2
		}
	}
	fmt.Fprint(stdout, "# effective configuration: flags > PAYCODE_… environment > file > defaults; secrets redacted\n")
	enc := yaml.NewEncoder(stdout)
	enc.SetIndent(2)
	r := c.redactedCopy()
	if r.Keys == nil {
		// What runs: the section's defaults, with no key, policy or
		// client, which trusts every client id (loopback only).
		r.Keys = &keysConfig{}
		r.ensureDefaults()
	}
	if err := enc.Encode(r); err != nil {
		fmt.Fprintln(stderr, "paycode config print:", err)
		return 1
	}
	enc.Close()
	if c.Keys == nil || !c.Keys.authConfigured() {
		fmt.Fprint(stdout, "# keys: no private key, default policy or client: every client id is trusted\n# (policy none), which serve allows on a loopback listen address only\n")
	}
	if c.Sim {
		fmt.Fprint(stdout, simWalletsComment())
	}
	if err := errors.Join(fileErr, c.Validate()); err != nil {
		fmt.Fprint(stderr, problems("warning: this configuration is invalid", err))
	}
	return 0
}
