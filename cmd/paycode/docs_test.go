package main

import (
	"bufio"
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"io"
	"math/big"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"mvdan.cc/sh/v3/syntax"
)

// docBlock is one fenced ```sh block of README.md or docs/*.md.
type docBlock struct {
	file string
	line int // of the block's first command line
	text string
}

// docBlocks returns every ```sh block of the README and docs/.
func docBlocks(t *testing.T) []docBlock {
	t.Helper()
	files, err := filepath.Glob("../../docs/*.md")
	if err != nil {
		t.Fatal(err)
	}
	var blocks []docBlock
	for _, f := range append([]string{"../../README.md"}, files...) {
		fh, err := os.Open(f)
		if err != nil {
			t.Fatal(err)
		}
		sc := bufio.NewScanner(fh)
		var cur *docBlock
		for n := 1; sc.Scan(); n++ {
			line := sc.Text()
			switch {
			case cur == nil && strings.TrimSpace(line) == "```sh":
				cur = &docBlock{file: strings.TrimPrefix(f, "../../"), line: n + 1}
			case cur != nil && strings.HasPrefix(strings.TrimSpace(line), "```"):
				blocks = append(blocks, *cur)
				cur = nil
			case cur != nil:
				cur.text += line + "\n"
			}
		}
		fh.Close()
		if err := sc.Err(); err != nil {
			t.Fatal(err)
		}
	}
	return blocks
}

// docCall is one simple command of a block, its words with every
// expansion ($VAR, $(…)) replaced by "1".
type docCall struct {
	where string
	args  []string
}

func docCalls(t *testing.T, b docBlock) []docCall {
	t.Helper()
	f, err := syntax.NewParser().Parse(strings.NewReader(b.text), b.file)
	if err != nil {
		t.Errorf("%s:%d: the sh block does not parse as shell: %v", b.file, b.line, err)
		return nil
	}
	var calls []docCall
	syntax.Walk(f, func(n syntax.Node) bool {
		ce, ok := n.(*syntax.CallExpr)
		if !ok || len(ce.Args) == 0 {
			return true
		}
		c := docCall{where: fmt.Sprintf("%s:%d", b.file, b.line+int(ce.Pos().Line())-1)}
		for _, w := range ce.Args {
			c.args = append(c.args, wordText(w.Parts))
		}
		calls = append(calls, c)
		return true
	})
	return calls
}

func wordText(parts []syntax.WordPart) string {
	var s strings.Builder
	for _, p := range parts {
		switch p := p.(type) {
		case *syntax.Lit:
			s.WriteString(p.Value)
		case *syntax.SglQuoted:
			s.WriteString(p.Value)
		case *syntax.DblQuoted:
			s.WriteString(wordText(p.Parts))
		default: // parameter, command or arithmetic expansion
			s.WriteString("1")
		}
	}
	return s.String()
}

// paycodeArgs returns the arguments a call gives paycode, if it runs it.
func paycodeArgs(args []string) ([]string, bool) {
	switch {
	case len(args) >= 3 && args[0] == "go" && args[1] == "run" && args[2] == "./cmd/paycode":
		return args[3:], true
	case args[0] == "./paycode" || args[0] == "paycode":
		return args[1:], true
	}
	return nil, false
}

// flagsStop is what the flagsParsed hook panics with.
type flagsStop struct {
	cmd string
	err error
}

// parseOnly runs paycode's own dispatch on args up to the point where the
// command's flags are parsed, and returns that parse's outcome.
func parseOnly(args []string) (stop *flagsStop, rc int) {
	flagsParsed = func(cmd string, err error) { panic(&flagsStop{cmd, err}) }
	defer func() {
		flagsParsed = nil
		if r := recover(); r != nil {
			s, ok := r.(*flagsStop)
			if !ok {
				panic(r)
			}
			stop = s
		}
	}()
	return nil, run(args, io.Discard, io.Discard)
}

// TestDocCommands: every command line the README and docs/ show in a
// ```sh block is one that works as written, as far as can be checked
// without the machine it is meant for: each paycode invocation (go run
// ./cmd/paycode …, ./paycode …) reaches a real command whose flag set
// accepts every flag and value shown; the serve flags given to the bench
// scripts after "--" are serve's; each script named exists and is
// executable; each `go test` names packages that exist and -run/-bench
// patterns that match a test or benchmark in them. curl, openssl, docker
// and the like are not checked. The two commands of the README's top run
// for real: serve on its embedded default in TestSimModeOnlyWhenAsked
// (it must print a curl that pays), the test command in CI.
func TestDocCommands(t *testing.T) {
	blocks := docBlocks(t)
	var invocations, scripts, gotests int
	for _, b := range blocks {
		for _, c := range docCalls(t, b) {
			if args, ok := paycodeArgs(c.args); ok {
				invocations++
				checkPaycode(t, c.where, args)
				continue
			}
			switch {
			case strings.HasPrefix(c.args[0], "bench/") || strings.HasPrefix(c.args[0], "decode/compare/"):
				scripts++
				st, err := os.Stat(filepath.Join("../..", c.args[0]))
				if err != nil || st.Mode()&0o111 == 0 {
					t.Errorf("%s: %s is not an executable script in the repository", c.where, c.args[0])
				}
				for i, a := range c.args {
					if a == "--" {
						checkPaycode(t, c.where, append([]string{"serve"}, c.args[i+1:]...))
						break
					}
				}
			case len(c.args) >= 2 && c.args[0] == "go" && c.args[1] == "test":
				gotests++
				checkGoTest(t, c.where, c.args[2:])
			}
		}
	}
	// The docs show far more than this: a broken extraction must not pass.
	if invocations < 30 || scripts < 5 || gotests < 8 {
		t.Fatalf("found %d paycode invocations, %d scripts and %d go test lines in %d blocks: extraction broken?",
			invocations, scripts, gotests, len(blocks))
	}
	t.Logf("%d blocks: %d paycode invocations, %d bench scripts, %d go test lines checked", len(blocks), invocations, scripts, gotests)
}

func checkPaycode(t *testing.T, where string, args []string) {
	t.Helper()
	if err := paycodeProblem(args); err != nil {
		t.Errorf("%s: %v", where, err)
	}
}

// paycodeProblem says what is wrong with running paycode with args.
func paycodeProblem(args []string) error {
	if len(args) == 0 {
		return fmt.Errorf("paycode without a command")
	}
	stop, rc := parseOnly(args)
	switch {
	case stop == nil:
		return fmt.Errorf("paycode %s: ended with %d before parsing any flags (unknown command?)", strings.Join(args, " "), rc)
	case stop.err != nil:
		return fmt.Errorf("paycode %s: %v", strings.Join(args, " "), stop.err)
	}
	return nil
}

// checkGoTest checks a documented `go test` line's packages and its -run
// and -bench patterns (only their top-level part, before any '/').
func checkGoTest(t *testing.T, where string, args []string) {
	t.Helper()
	for _, err := range goTestProblems(t, args) {
		t.Errorf("%s: %v", where, err)
	}
}

// goTestProblems says what is wrong with a `go test` line's arguments.
func goTestProblems(t *testing.T, args []string) (errs []error) {
	t.Helper()
	var pkgs []string
	patterns := map[string]string{}
	for i := 0; i < len(args); i++ {
		a := args[i]
		switch {
		case a == "-run" || a == "-bench":
			if i+1 < len(args) {
				patterns[a] = args[i+1]
				i++
			}
		case strings.HasPrefix(a, "-run=") || strings.HasPrefix(a, "-bench="):
			k, v, _ := strings.Cut(a, "=")
			patterns[k] = v
		case a == "-timeout" || a == "-count" || a == "-cpu" || a == "-benchtime" || a == "-fuzz" || a == "-fuzztime":
			i++
		case strings.HasPrefix(a, "./"):
			pkgs = append(pkgs, a)
		}
	}
	if len(pkgs) == 0 {
		return []error{fmt.Errorf("go test names no package")}
	}
	var names []string
	for _, p := range pkgs {
		dir := filepath.Join("../..", strings.TrimSuffix(strings.TrimSuffix(p, "..."), "/"))
		if _, err := os.Stat(dir); err != nil {
			errs = append(errs, fmt.Errorf("go test %s: no such package directory", p))
			continue
		}
		names = append(names, testFuncs(t, dir, strings.HasSuffix(p, "..."))...)
	}
	for flag, pat := range patterns {
		top, _, _ := strings.Cut(pat, "/")
		if top == "^$" || top == "." || top == "" {
			continue
		}
		re, err := regexp.Compile(top)
		if err != nil {
			errs = append(errs, fmt.Errorf("go test %s %q: %v", flag, pat, err))
			continue
		}
		prefix := map[string]string{"-run": "Test", "-bench": "Benchmark"}[flag]
		found := false
		for _, n := range names {
			if strings.HasPrefix(n, prefix) && re.MatchString(n) {
				found = true
				break
			}
		}
		if !found {
			errs = append(errs, fmt.Errorf("go test %s %q matches no %s function in %v", flag, pat, prefix, pkgs))
		}
	}
	return errs
}

// testFuncs lists the Test and Benchmark functions of the _test.go files
// in dir (and below it with all).
func testFuncs(t *testing.T, dir string, all bool) []string {
	t.Helper()
	var names []string
	fset := token.NewFileSet()
	err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if p != dir && (!all || d.Name() == "testdata") {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(p, "_test.go") {
			return nil
		}
		f, err := parser.ParseFile(fset, p, nil, parser.SkipObjectResolution)
		if err != nil {
			return err
		}
		for _, d := range f.Decls {
			if fn, ok := d.(*ast.FuncDecl); ok && fn.Recv == nil {
				names = append(names, fn.Name.Name)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return names
}

// TestDocCommandsCatchMistakes: the checks refuse what a stale doc would
// show, so TestDocCommands cannot pass by checking nothing.
func TestDocCommandsCatchMistakes(t *testing.T) {
	for _, args := range [][]string{
		{"serve", "-no-such-flag"},
		{"serve", "-engine.pay-timeout", "soon"},
		{"load", "-scenario", "x.yaml", "-rate", "many"},
		{"nosuchcommand"},
		{"config", "nosuchsub"},
		{"sim", "settlement", "-nope"},
	} {
		if err := paycodeProblem(args); err == nil {
			t.Errorf("paycode %v: accepted", args)
		}
	}
	for _, args := range [][]string{
		{"serve", "-engine.pay-timeout", "5s", "-node", "3"},
		{"load", "-scenario", "x.yaml", "-rate", "100", "-duration", "2s"},
		{"config", "check", "x.yaml"},
	} {
		if err := paycodeProblem(args); err != nil {
			t.Errorf("paycode %v: %v", args, err)
		}
	}
	for _, c := range []struct {
		args []string
		bad  bool
	}{
		{[]string{"-run", "TestDocCommands", "./cmd/paycode/"}, false},
		{[]string{"-run", "TestNoSuchThing", "./cmd/paycode/"}, true},
		{[]string{"-run", "^$", "-bench", "NoSuchBench", "./cmd/paycode/"}, true},
		{[]string{"./no/such/pkg/"}, true},
	} {
		if got := len(goTestProblems(t, c.args)) > 0; got != c.bad {
			t.Errorf("go test %v: problems=%v, want %v", c.args, got, c.bad)
		}
	}
}

// mdLink is a Markdown link's target: ](target) or ](target#anchor).
var mdLink = regexp.MustCompile(`\]\(([^)#\s]*)(?:#[^)\s]*)?\)`)

// TestDocLinks: every relative link of the README and docs/ names a file
// or directory that exists, relative to the page that holds it (a link
// in docs/ to deploy/ is ../deploy/…, as GitHub resolves it).
func TestDocLinks(t *testing.T) {
	files, err := filepath.Glob("../../docs/*.md")
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range append([]string{"../../README.md"}, files...) {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for i, line := range strings.Split(string(b), "\n") {
			for _, m := range mdLink.FindAllStringSubmatch(line, -1) {
				target := m[1]
				if target == "" || strings.Contains(target, "://") || strings.HasPrefix(target, "mailto:") {
					continue
				}
				if _, err := os.Stat(filepath.Join(filepath.Dir(f), target)); err != nil {
					t.Errorf("%s:%d: link to %s: no such file", strings.TrimPrefix(f, "../../"), i+1, target)
				}
			}
		}
	}
}

// docHeredoc is a config file a doc writes with cat > NAME.yaml <<'EOF'.
var docHeredoc = regexp.MustCompile(`(?s)cat > (\S+\.yaml) <<'EOF'\n(.*?)\nEOF\n`)

// TestDocConfigFiles: every config file the docs have a reader write
// (docs/clients.md's lanes.yaml) passes `paycode config check`, beside
// the key and certificate files the docs' commands make (paycode keys,
// openssl req): a newcomer who follows the page gets a paycode that
// starts.
func TestDocConfigFiles(t *testing.T) {
	blocks := docBlocks(t)
	dir := t.TempDir()
	writeDocKeys(t, dir)
	t.Chdir(dir)
	n := 0
	for _, b := range blocks {
		for _, m := range docHeredoc.FindAllStringSubmatch(b.text, -1) {
			n++
			if err := os.WriteFile(m[1], []byte(m[2]+"\n"), 0o600); err != nil {
				t.Fatal(err)
			}
			var out bytes.Buffer
			if rc := configCheck(m[1], &out, &out); rc != 0 {
				t.Errorf("%s:%d: %s: config check exits %d:\n%s", b.file, b.line, m[1], rc, out.String())
			}
		}
	}
	if n == 0 {
		t.Fatal("no config file written by the docs found: has docs/clients.md's lanes.yaml moved?")
	}
}

// writeDocKeys makes, in dir, what docs/clients.md's commands make:
// paycode.key and merchant.pub (paycode keys -out), lane.crt and lane.key
// (a self-signed certificate).
func writeDocKeys(t *testing.T, dir string) {
	t.Helper()
	for _, name := range []string{"paycode", "merchant"} {
		var out bytes.Buffer
		if rc := runKeys([]string{"-out", filepath.Join(dir, name)}, &out, &out); rc != 0 {
			t.Fatalf("paycode keys -out %s: %s", name, out.String())
		}
	}
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "paycode.local"},
		DNSNames: []string{"paycode.local"}, NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &k.PublicKey, k)
	if err != nil {
		t.Fatal(err)
	}
	kd, err := x509.MarshalPKCS8PrivateKey(k)
	if err != nil {
		t.Fatal(err)
	}
	for name, b := range map[string]*pem.Block{"lane.crt": {Type: "CERTIFICATE", Bytes: der}, "lane.key": {Type: "PRIVATE KEY", Bytes: kd}} {
		if err := os.WriteFile(filepath.Join(dir, name), pem.EncodeToMemory(b), 0o600); err != nil {
			t.Fatal(err)
		}
	}
}
