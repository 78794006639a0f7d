package main

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestEveryCommandHelpAndBadFlag walks the command table (so a new
// command is covered when it is added there): `-h` prints the command's
// usage and exits 0; a flag that does not exist prints one line naming it
// and pointing at -h, and exits 2.
func TestEveryCommandHelpAndBadFlag(t *testing.T) {
	var walk [][]string
	for _, c := range commands {
		walk = append(walk, []string{c.name})
		for _, s := range c.subs {
			walk = append(walk, []string{c.name, s})
		}
	}
	for _, cmd := range walk {
		name := strings.Join(cmd, " ")
		t.Run(name+" -h", func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			rc := run(append(cmd, "-h"), &stdout, &stderr)
			out := stdout.String() + stderr.String()
			if rc != 0 {
				t.Fatalf("exit %d, want 0:\n%s", rc, out)
			}
			if !strings.Contains(out, "usage") || !strings.Contains(out, "paycode "+name) {
				t.Errorf("no usage of paycode %s:\n%s", name, out)
			}
		})
		t.Run(name+" -no-such-flag", func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			rc := run(append(cmd, "-no-such-flag"), &stdout, &stderr)
			if rc != 2 {
				t.Fatalf("exit %d, want 2:\n%s%s", rc, stdout.String(), stderr.String())
			}
			msg := stderr.String()
			if strings.Count(msg, "\n") != 1 || !strings.Contains(msg, "-no-such-flag") || !strings.Contains(msg, "-h'") {
				t.Errorf("want one line naming the flag and pointing at -h, got:\n%s", msg)
			}
			if stdout.Len() != 0 {
				t.Errorf("stdout: %q", stdout.String())
			}
		})
	}
	// The defaults are shown: serve's settings whose default only exists
	// under the keys section too.
	var stdout, stderr bytes.Buffer
	run([]string{"serve", "-h"}, &stdout, &stderr)
	for _, want := range []string{"-keys.max-in-flight int", "(default 4096)", "-engine.pay-timeout duration", "(default 5s)", "-listen string", "(default 127.0.0.1:8080)"} {
		if !strings.Contains(stderr.String(), want) {
			t.Errorf("serve -h lacks %q", want)
		}
	}
	if strings.Contains(stderr.String(), " value ") {
		t.Errorf("serve -h shows a flag's type as value:\n%s", stderr.String())
	}
	stdout.Reset()
	stderr.Reset()
	if rc := run([]string{"version", "-h"}, &stdout, &stderr); rc != 0 || strings.Contains(stdout.String(), "paycode devel") {
		t.Errorf("version -h printed the version: %d %q", rc, stdout.String())
	}
}

// TestCommandListInDocs: `paycode -h` is the one list of commands; the
// package doc (go doc ./cmd/paycode) and docs/operations.md carry it
// exactly, so neither can drift from the binary.
func TestCommandListInDocs(t *testing.T) {
	var stdout, stderr bytes.Buffer
	if rc := run([]string{"-h"}, &stdout, &stderr); rc != 0 || stdout.String() != usage() {
		t.Fatalf("paycode -h: %d %q", rc, stdout.String())
	}
	src, err := os.ReadFile("main.go")
	if err != nil {
		t.Fatal(err)
	}
	ops, err := os.ReadFile("../../docs/operations.md")
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range commands {
		if line := fmt.Sprintf("//\t%-10s %s\n", c.name, c.summary); !strings.Contains(string(src), line) {
			t.Errorf("the package doc lacks %q", line)
		}
	}
	if !strings.Contains(string(ops), "```text\n$ go run ./cmd/paycode -h\n"+usage()+"```") {
		t.Errorf("docs/operations.md lacks the output of paycode -h; paste it:\n%s", usage())
	}
}

// TestDocsRunTheBinaryOneWay: every paycode command in a fenced block of
// the README and docs/ is `go run ./cmd/paycode …` or `./paycode …` (the
// binary docs/operations.md says how to build), never a bare `paycode`
// that only exists after an install the docs do not ask for.
func TestDocsRunTheBinaryOneWay(t *testing.T) {
	files, _ := filepath.Glob("../../docs/*.md")
	files = append(files, "../../README.md")
	var names []string
	for _, c := range commands {
		names = append(names, c.name)
	}
	bare := regexp.MustCompile(`(^|[\s;|&(])paycode (` + strings.Join(names, "|") + `)\b`)
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		in := false
		for i, line := range strings.Split(string(b), "\n") {
			if strings.HasPrefix(line, "```") {
				in = !in
				continue
			}
			if cmd, _, _ := strings.Cut(line, "#"); in && bare.MatchString(cmd) { // comments may name commands
				t.Errorf("%s:%d: a bare paycode command (use go run ./cmd/paycode or ./paycode): %s", f, i+1, line)
			}
		}
	}
}
