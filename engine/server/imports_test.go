package server_test

import (
	"go/parser"
	"go/token"
	"io/fs"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// TestEngineImportsNoTooling: no production file under engine/ imports
// the load-testing tree, the benchmarks or the commands; simulated
// wallets are plugged into a node from outside (loadtest/stack).
func TestEngineImportsNoTooling(t *testing.T) {
	const mod = "github.com/paycode/paycode/"
	fset := token.NewFileSet()
	n := 0
	err := filepath.WalkDir("..", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return err
		}
		f, err := parser.ParseFile(fset, path, nil, parser.ImportsOnly)
		if err != nil {
			return err
		}
		n++
		for _, im := range f.Imports {
			p, _ := strconv.Unquote(im.Path.Value)
			for _, banned := range []string{"loadtest", "bench", "cmd"} {
				if p == mod+banned || strings.HasPrefix(p, mod+banned+"/") {
					t.Errorf("%s imports %s", path, p)
				}
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if n < 50 {
		t.Fatalf("only %d files under engine/", n)
	}
}
