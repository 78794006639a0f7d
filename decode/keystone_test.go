package decode

import (
	"math/rand/v2"
	"testing"

	"github.com/makiuchi-d/gozxing"
	qrdecoder "github.com/makiuchi-d/gozxing/qrcode/decoder"
	"github.com/makiuchi-d/gozxing/qrcode/encoder"
)

// TestTimingOK: the grid of a real QR code (versions 1 and 2, the
// dimensions the keystone search samples) passes, with a few timing
// modules flipped too; random grids, what a texture's finder-like marks
// sample, almost never do.
func TestTimingOK(t *testing.T) {
	for _, text := range []string{"281001020123456789012345", "https://example.com/a/menu/page/2"} {
		code, err := encoder.Encoder_encode(text, qrdecoder.ErrorCorrectionLevel_M, nil)
		if err != nil {
			t.Fatal(err)
		}
		bm := code.GetMatrix()
		dim := bm.GetWidth()
		m, _ := gozxing.NewBitMatrix(dim, dim)
		for y := range dim {
			for x := range dim {
				if bm.Get(x, y) == 1 {
					m.Set(x, y)
				}
			}
		}
		if !timingOK(m, dim) {
			t.Errorf("%d×%d code: timing patterns rejected", dim, dim)
		}
		m.Flip(9, 6) // two wrong of 2×(dim-16): a grid a little askew
		m.Flip(6, 10)
		if !timingOK(m, dim) {
			t.Errorf("%d×%d code with two timing modules wrong: rejected", dim, dim)
		}
	}
	r := rand.New(rand.NewPCG(5, 6))
	passed := 0
	const grids = 2000
	for i := range grids {
		dim := 21 + 4*(i%2)
		m, _ := gozxing.NewBitMatrix(dim, dim)
		for y := range dim {
			for x := range dim {
				if r.IntN(2) == 0 {
					m.Set(x, y)
				}
			}
		}
		if timingOK(m, dim) {
			passed++
		}
	}
	if passed > grids/20 {
		t.Errorf("%d of %d random grids passed", passed, grids)
	}
}
