package decode

import (
	"math/rand/v2"
	"testing"

	"github.com/makiuchi-d/gozxing"
)

// TestFastRowsExact: fastRows' rows are gozxing's, bit for bit, on planes
// of every contrast (flat rows have no black point: both fail), of odd
// widths, cropped, turned 90°, and into a reused row longer than the
// frame.
func TestFastRowsExact(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	compared, failed := 0, 0
	for i := range 300 {
		w, h := 1+r.IntN(200), 1+r.IntN(40)
		if i%10 == 0 {
			w = 1 + r.IntN(4) // the special case under 3 pixels
		}
		p := plane{pix: make([]byte, w*h), stride: w, w: w, h: h}
		lo, span := r.IntN(256), 1+r.IntN(256)
		for k := range p.pix {
			v := lo + r.IntN(span)
			if r.IntN(4) == 0 { // bars: runs of one level
				v = lo
			}
			p.pix[k] = uint8(min(v, 255))
		}
		var src gozxing.LuminanceSource = newSource(p, nil, nil)
		switch i % 3 {
		case 1:
			if w > 2 && h > 2 {
				var err error
				if src, err = src.Crop(1, 1, w-2, h-2); err != nil {
					t.Fatal(err)
				}
			}
		case 2:
			var err error
			if src, err = src.RotateCounterClockwise(); err != nil {
				t.Fatal(err)
			}
		}
		want := gozxing.NewGlobalHistgramBinarizer(src)
		got := withFastRows(gozxing.NewHybridBinarizer(src), src.(*lumSource))
		long := gozxing.NewBitArray(src.GetWidth() + 40)
		for y := range src.GetHeight() {
			wr, werr := want.GetBlackRow(y, nil)
			for _, into := range []*gozxing.BitArray{nil, long} {
				gr, gerr := got.GetBlackRow(y, into)
				if (werr == nil) != (gerr == nil) {
					t.Fatalf("plane %d row %d: err %v, gozxing %v", i, y, gerr, werr)
				}
				if werr != nil {
					if _, ok := gerr.(gozxing.NotFoundException); !ok {
						t.Fatalf("plane %d row %d: %T is not a NotFoundException", i, y, gerr)
					}
					failed++
					continue
				}
				compared++
				for x := range gr.GetSize() {
					want := x < wr.GetSize() && wr.Get(x)
					if gr.Get(x) != want {
						t.Fatalf("plane %d (%dx%d) row %d: bit %d is %v, gozxing's %v", i, w, h, y, x, gr.Get(x), want)
					}
				}
			}
		}
	}
	if compared < 1000 || failed < 100 {
		t.Fatalf("compared %d rows, %d without a black point: too few of either", compared, failed)
	}
}
