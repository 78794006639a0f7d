package killtest

import (
	"bytes"
	"context"
	"os"
	"testing"
	"time"
)

// TestFailpointsOnlyWithTag builds paycode twice, as a release and as the
// kill test does, and scans the binaries' bytes (what `strings` shows):
// the default build holds no failpoint name and no PAYCODE_FAILPOINT, so
// nothing in a release binary can make it kill itself; the tagged build
// holds them all (the scan would find them).
func TestFailpointsOnlyWithTag(t *testing.T) {
	if testing.Short() {
		t.Skip("builds paycode twice; skipped with -short")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	dir := t.TempDir()
	names := []string{"PAYCODE_FAILPOINT"}
	for _, fp := range failpoints {
		names = append(names, fp.name)
	}
	for _, build := range []struct {
		tags string
		want bool
	}{{"", false}, {"failpoints", true}} {
		bin, err := buildBinary(ctx, dir, "paycode-"+build.tags, build.tags)
		if err != nil {
			t.Fatal(err)
		}
		b, err := os.ReadFile(bin)
		if err != nil {
			t.Fatal(err)
		}
		for _, n := range names {
			if got := bytes.Contains(b, []byte(n)); got != build.want {
				t.Errorf("build with tags %q: %q in the binary: %v, want %v", build.tags, n, got, build.want)
			}
		}
	}
}
