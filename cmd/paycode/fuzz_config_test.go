package main

import (
	"os"
	"path/filepath"
	"testing"
)

// FuzzConfigFile: whatever bytes the configuration file holds, loading it
// never panics and keeps its contract — a fatal error and no
// configuration, or a configuration with nil or *fileProblems — and
// validating what loaded never panics either.
//
//	go test -run '^$' -fuzz '^FuzzConfigFile$' -fuzztime 3m -parallel 1 ./cmd/paycode/
func FuzzConfigFile(f *testing.F) {
	example, err := os.ReadFile(examplePath)
	if err != nil {
		f.Fatal(err)
	}
	for _, s := range []string{
		string(example),
		"",
		"listen: 127.0.0.1:7000\nmemory: true\n",
		"listen: [1, 2]\nmemroy: true\n",
		"wallets:\n  - {name: mpp-281001, url: http://127.0.0.1:9001, timeout: 3s}\n  - name: x\n    timeout: forever\n",
		"lane:\n  clients:\n    A: {policy: rsa256, keys: {\"1\": /nonexistent}}\n",
		"&a [*a]",
		"a: &a\n  b: *a\n",
		"? [a]\n: b\n",
		"journal: postgres://u:pw@h/db\nmemory: true\n",
		"--- \n...\n",
		"!!binary gIGC\n",
	} {
		f.Add([]byte(s))
	}
	path := filepath.Join(f.TempDir(), "paycode.yaml")
	f.Fuzz(func(t *testing.T, file []byte) {
		if err := os.WriteFile(path, file, 0o600); err != nil {
			t.Fatal(err)
		}
		c, err := loadServeConfig(path)
		switch {
		case c == nil && err == nil:
			t.Fatal("no configuration and no error")
		case c == nil:
			return // fatal: unreadable or unparsable
		case err != nil && !isFileProblems(err):
			t.Fatalf("a configuration with a fatal error: %v", err)
		}
		_ = c.Validate()
	})
}
