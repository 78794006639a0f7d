package decode_test

import (
	"context"
	"errors"
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/paycode/paycode/decode"
	"github.com/paycode/paycode/decode/internal/lanegen"
)

// BenchmarkClasses decodes the generated frames of each class (lanegen,
// seed laneSeed, the same frames decode/compare/run.sh writes) through one
// worker from their encoded bytes, as `paycode decode` does: ms per frame
// (wall and process CPU time: on a shared machine CPU time is the steadier
// one) and the decode rate, in one process, so that an A/B of a change is not
// swamped by process start-up and the machine's other load.
//
//	go test -run '^$' -bench Classes -cpu 1 -count 6 ./decode/
//	PAYCODE_BENCH_N=20 PAYCODE_BENCH_CLASSES=negative,qr/tiny go test ...
func BenchmarkClasses(b *testing.B) {
	n := 10
	if v, err := strconv.Atoi(os.Getenv("PAYCODE_BENCH_N")); err == nil && v > 0 {
		n = v
	}
	only := map[string]bool{}
	for _, c := range strings.Split(os.Getenv("PAYCODE_BENCH_CLASSES"), ",") {
		if c != "" {
			only[c] = true
		}
	}
	d := newDecoder(b, decode.Config{Workers: 1})
	ctx := context.Background()
	for _, c := range lanegen.Classes() {
		if len(only) > 0 && !only[c.Name] {
			continue
		}
		frames := make([][]byte, n)
		want := make([]lanegen.Sample, n)
		for i := range n {
			s, err := lanegen.Generate(c, laneSeed, i)
			if err != nil {
				b.Fatal(err)
			}
			if frames[i], err = s.Encode(); err != nil {
				b.Fatal(err)
			}
			want[i] = s
		}
		b.Run(c.Name, func(b *testing.B) {
			hits := 0
			cpu0 := processCPU()
			for b.Loop() {
				hits = decodeClass(ctx, d, c, frames, want)
			}
			cpu := processCPU() - cpu0
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/1e6/float64(b.N*n), "ms/frame")
			b.ReportMetric(float64(cpu.Nanoseconds())/1e6/float64(b.N*n), "cpu-ms/frame")
			b.ReportMetric(100*float64(hits)/float64(n), "%read")
			b.ReportMetric(0, "ns/op")
		})
	}
}

// decodeClass decodes frames and counts the right answers.
func decodeClass(ctx context.Context, d *decode.Decoder, c lanegen.Class, frames [][]byte, want []lanegen.Sample) int {
	hits := 0
	for i, f := range frames {
		res, err := d.Decode(ctx, f)
		switch {
		case c.Two():
			if errors.Is(err, decode.ErrAmbiguous) {
				hits++
			}
		case c.Negative():
			if err != nil {
				hits++
			}
		case err == nil && res.Text == want[i].Text:
			hits++
		}
	}
	return hits
}
