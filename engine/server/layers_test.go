package server_test

import (
	"go/parser"
	"go/token"
	"io/fs"
	"path"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// layers is the module's import rule: for each package (directory, from
// the module root), the paycode packages its production files may
// import. "x/..." stands for x and everything under it. A package not
// listed here fails TestLayers until someone decides where it sits. Each
// package's doc comment says the same in words.
//
// The shape: codec and decode import nothing of paycode; the engine core
// imports only codec; its adapters (journal, mpp, ident, notify, settle)
// import the core; the lane side (httpapi, sign) and the admin side
// (admin, metrics) sit on top; engine/server assembles a node from all of
// it; nothing under engine imports the tools (loadtest, bench, cmd).
var layers = map[string][]string{
	"codec":                          nil,
	"decode/...":                     {"decode/..."},
	"engine":                         {"codec"},
	"engine/enginetest":              {"codec", "engine"},
	"engine/sign":                    nil,
	"engine/sign/signtest":           {"engine/sign"},
	"engine/journal":                 {"codec", "engine"},
	"engine/journal/journaltest":     {"codec", "engine"},
	"engine/journal/postgres":        {"codec", "engine", "engine/journal"},
	"engine/journal/postgres/pgtest": {"engine/journal/postgres"},
	"engine/ident":                   {"codec", "engine"},
	"engine/mpp":                     {"codec", "engine", "engine/sign"},
	"engine/notify":                  {"codec", "engine"},
	"engine/settle":                  {"codec", "engine"},
	"engine/metrics":                 {"codec", "decode", "engine", "engine/ident", "engine/mpp"},
	"engine/admin":                   {"codec", "engine", "engine/mpp"},
	"engine/httpapi":                 {"codec", "decode", "engine", "engine/metrics", "engine/sign"},
	"engine/server":                  {"codec", "decode", "engine/..."},
	"loadtest/...":                   {"codec", "decode/...", "engine/...", "loadtest/..."},
	"bench/...":                      {"codec", "decode/...", "engine/...", "loadtest/...", "bench/..."},
	"cmd/paycode":                    {"codec", "decode/...", "engine/...", "loadtest/..."},
}

// TestLayers checks every production file of the module against layers.
func TestLayers(t *testing.T) {
	const mod = "github.com/paycode/paycode/"
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	fset := token.NewFileSet()
	seen := map[string]bool{}
	err = filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if name := d.Name(); p != root && (strings.HasPrefix(name, ".") || name == "testdata") {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(p, ".go") || strings.HasSuffix(p, "_test.go") {
			return nil
		}
		rel, _ := filepath.Rel(root, filepath.Dir(p))
		pkg := filepath.ToSlash(rel)
		allowed, ok := ruleFor(pkg)
		if !ok {
			if !seen[pkg] {
				t.Errorf("package %s has no layering rule: add it to layers", pkg)
			}
			seen[pkg] = true
			return nil
		}
		seen[pkg] = true
		f, err := parser.ParseFile(fset, p, nil, parser.ImportsOnly)
		if err != nil {
			return err
		}
		for _, im := range f.Imports {
			ip, _ := strconv.Unquote(im.Path.Value)
			dep, internal := strings.CutPrefix(ip, mod)
			if !internal || dep == pkg {
				continue
			}
			if !slices.ContainsFunc(allowed, func(a string) bool { return matches(a, dep) }) {
				t.Errorf("%s imports %s: not allowed for %s (allowed: %v)", strings.TrimPrefix(p, root+"/"), dep, pkg, allowed)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, must := range []string{"codec", "decode", "engine", "engine/server", "engine/httpapi", "cmd/paycode"} {
		if !seen[must] {
			t.Errorf("package %s not found under %s: is the walk broken?", must, root)
		}
	}
}

// ruleFor finds pkg's rule: its own entry, or the nearest "x/..." above it.
func ruleFor(pkg string) ([]string, bool) {
	if r, ok := layers[pkg]; ok {
		return r, true
	}
	for p := pkg; p != "." && p != "/"; p = path.Dir(p) {
		if r, ok := layers[p+"/..."]; ok {
			return r, true
		}
	}
	return nil, false
}

func matches(pattern, pkg string) bool {
	if base, ok := strings.CutSuffix(pattern, "/..."); ok {
		return pkg == base || strings.HasPrefix(pkg, base+"/")
	}
	return pkg == pattern
}

// TestLayersCatchesAViolation: the rule table refuses what it must, so a
// broken walk or matcher cannot pass TestLayers silently.
func TestLayersCatchesAViolation(t *testing.T) {
	for _, c := range []struct {
		pkg, dep string
		ok       bool
	}{
		{"engine", "codec", true},
		{"engine", "engine/journal", false},
		{"engine/journal", "loadtest/mppsim", false},
		{"engine/server", "engine/journal/postgres", true},
		{"engine/server", "loadtest/stack", false},
		{"codec", "engine", false},
		{"decode/compare", "decode/internal/lanegen", true},
		{"decode", "engine", false},
		{"engine/admin", "engine/httpapi", false},
		{"loadtest/stack", "cmd/paycode", false},
	} {
		allowed, found := ruleFor(c.pkg)
		if !found {
			t.Fatalf("no rule for %s", c.pkg)
		}
		got := slices.ContainsFunc(allowed, func(a string) bool { return matches(a, c.dep) })
		if got != c.ok {
			t.Errorf("%s importing %s: allowed=%v, want %v", c.pkg, c.dep, got, c.ok)
		}
	}
}
