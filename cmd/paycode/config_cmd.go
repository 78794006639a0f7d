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
		if len(args) != 2 {
			fmt.Fprint(stderr, configUsage)
			return 2
		}
		return configCheck(args[1], stdout, stderr)
	case "print":
		return configPrint(args[1:], stdout, stderr)
	case "help", "-h", "-help", "--help":
		fmt.Fprint(stdout, configUsage)
		return 0
	}
	fmt.Fprintf(stderr, "paycode config: unknown subcommand %q\n\n%s", args[0], configUsage)
	return 2
}

// configCheck validates one file over the defaults (no flags, no
// environment: it checks the file).
func configCheck(path string, stdout, stderr io.Writer) int {
	c, err := loadServeConfig(path)
	if err == nil {
		err = c.Validate()
	}
	if err != nil {
		fmt.Fprint(stderr, problems(path, err))
		return 1
	}
	fmt.Fprintln(stdout, "ok")
	return 0
}

func configPrint(args []string, stdout, stderr io.Writer) int {
	c, _, err := parseServeConfig("config print", args, stderr, "usage: paycode config print [-config FILE] [flags]\n\n")
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		fmt.Fprintln(stderr, "paycode config print:", err)
		return 2
	}
	fmt.Fprint(stdout, "# effective configuration: flags > PAYCODE_… environment > file > defaults; secrets redacted\n")
	enc := yaml.NewEncoder(stdout)
	enc.SetIndent(2)
	if err := enc.Encode(c.redactedCopy()); err != nil {
		fmt.Fprintln(stderr, "paycode config print:", err)
		return 1
	}
	enc.Close()
	if err := c.Validate(); err != nil {
		fmt.Fprint(stderr, problems("warning: this configuration is invalid", err))
	}
	return 0
}
