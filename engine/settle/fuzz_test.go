package settle_test

import (
	"bytes"
	"testing"
	"time"

	"github.com/paycode/paycode/engine/settle"
)

// FuzzParse: Parse never panics; whatever it reads writes back to a file
// that reads as the same rows (times to the second, in UTC), and that
// file reconciles with the rows without a mismatch. Seeds are committed
// under testdata/fuzz/FuzzParse.
func FuzzParse(f *testing.F) {
	f.Add([]byte(header + row1 + row2 + "<END>\n"))
	f.Fuzz(func(t *testing.T, in []byte) {
		rows, err := settle.Parse(bytes.NewReader(in))
		if err != nil {
			if rows != nil {
				t.Fatal("rows with an error")
			}
			return
		}
		var b bytes.Buffer
		if err := settle.WriteFile(&b, time.UTC, rows); err != nil {
			t.Fatalf("a parsed file does not write back: %v", err)
		}
		again, err := settle.Parse(bytes.NewReader(b.Bytes()))
		if err != nil {
			t.Fatalf("the rewritten file does not parse: %v\n%s", err, b.Bytes())
		}
		if len(again) != len(rows) {
			t.Fatalf("%d rows, then %d", len(rows), len(again))
		}
		for i := range rows { // WriteFile sorted rows in place
			want, got := rows[i], again[i]
			if !got.Time.Equal(want.Time.Truncate(time.Second)) {
				t.Fatalf("row %d: time %v, then %v", i, want.Time, got.Time)
			}
			want.Time, got.Time, want.Line, got.Line = time.Time{}, time.Time{}, 0, 0
			if want != got {
				t.Fatalf("row %d:\n%+v\nthen\n%+v", i, want, got)
			}
		}
		if ms := settle.Reconcile(rows, again); len(ms) != 0 {
			t.Fatalf("a file does not reconcile with its rewrite: %v", ms)
		}
	})
}
