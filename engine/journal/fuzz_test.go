package journal_test

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/paycode/paycode/engine"
	"github.com/paycode/paycode/engine/journal"
)

var update = flag.Bool("update", false, "rewrite the committed fuzz seeds in testdata/fuzz")

// FuzzDecodeRecord: decoding never panics, and whatever decodes is
// canonical: it re-encodes to exactly the input.
func FuzzDecodeRecord(f *testing.F) {
	for _, tc := range recordCases() {
		f.Add(encode(nil, &tc.rec))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		var rec engine.Record
		if err := journal.DecodeRecord(b, &rec); err != nil {
			if rec != (engine.Record{}) {
				t.Fatal("record set despite error")
			}
			return
		}
		if again := encode(nil, &rec); !bytes.Equal(again, b) {
			t.Fatalf("non-canonical decode:\n in %x\nout %x", b, again)
		}
	})
}

// TestFuzzSeeds keeps the committed seed corpus in step with the
// encoding: run with -update after changing the format.
func TestFuzzSeeds(t *testing.T) {
	dir := filepath.Join("testdata", "fuzz", "FuzzDecodeRecord")
	seeds := map[string][]byte{}
	for i, tc := range recordCases() {
		b := encode(nil, &tc.rec)
		seeds["seed-"+strconv.Itoa(i)] = b
		seeds["seed-"+strconv.Itoa(i)+"-truncated"] = b[:len(b)/2]
	}
	seeds["seed-empty"] = nil
	seeds["seed-bad-kind"] = []byte{journal.FormatVersion, 'z'}
	seeds["seed-huge-length"] = []byte{journal.FormatVersion, 'p', 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01}
	seeds["seed-nonminimal-varint"] = []byte{journal.FormatVersion, 'n', 0x80, 0x00}
	for name, b := range seeds {
		path := filepath.Join(dir, name)
		want := fmt.Sprintf("go test fuzz v1\n[]byte(%q)\n", b)
		if *update {
			if err := os.MkdirAll(dir, 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(path, []byte(want), 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		got, err := os.ReadFile(path)
		if err != nil || string(got) != want {
			t.Errorf("%s is missing or stale: run go test -run TestFuzzSeeds -update", path)
		}
	}
}
