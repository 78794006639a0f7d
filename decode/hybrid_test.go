package decode

import (
	"math/rand/v2"
	"testing"

	"github.com/makiuchi-d/gozxing"

	"github.com/paycode/paycode/decode/internal/lanegen"
)

// TestFastHybridExact checks fastHybrid's black matrix against gozxing's
// HybridBinarizer bit for bit: random planes of every size around the
// block grid (sides not a multiple of 8 clamp the last blocks onto the
// ones before; under 40 pixels gozxing falls back to the global
// histogram), flat and low-contrast regions (the neighbour-corrected
// black point), cropped and turned sources, and generated lane frames.
func TestFastHybridExact(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	check := func(name string, src gozxing.LuminanceSource) {
		t.Helper()
		want, werr := gozxing.NewHybridBinarizer(src).GetBlackMatrix()
		got, gerr := newFastHybrid(src).GetBlackMatrix()
		if (werr == nil) != (gerr == nil) {
			t.Fatalf("%s: err %v, gozxing %v", name, gerr, werr)
		}
		if werr != nil {
			return
		}
		if got.GetWidth() != want.GetWidth() || got.GetHeight() != want.GetHeight() {
			t.Fatalf("%s: %dx%d, gozxing %dx%d", name, got.GetWidth(), got.GetHeight(), want.GetWidth(), want.GetHeight())
		}
		for y := range want.GetHeight() {
			for x := range want.GetWidth() {
				if got.Get(x, y) != want.Get(x, y) {
					t.Fatalf("%s: (%d,%d) black=%v, gozxing %v", name, x, y, got.Get(x, y), want.Get(x, y))
				}
			}
		}
	}
	for i := range 200 {
		w, h := 1+r.IntN(180), 1+r.IntN(120)
		p := plane{pix: make([]byte, w*h), stride: w, w: w, h: h}
		lo, span := r.IntN(256), 1+r.IntN(256)
		if i%4 == 0 {
			span = 1 + r.IntN(30) // blocks within the dynamic-range floor
		}
		for k := range p.pix {
			v := lo + r.IntN(span)
			if r.IntN(4) == 0 {
				v = lo
			}
			p.pix[k] = uint8(min(v, 255))
		}
		var src gozxing.LuminanceSource = newSource(p, nil, nil)
		var err error
		switch i % 3 {
		case 1:
			if w > 2 && h > 2 {
				src, err = src.Crop(1, 1, w-2, h-2)
			}
		case 2:
			src, err = src.RotateCounterClockwise()
		}
		if err != nil {
			t.Fatal(err)
		}
		check("random", src)
	}
	for _, c := range lanegen.Classes() {
		s, err := lanegen.Generate(c, 1, 0)
		if err != nil {
			t.Fatal(err)
		}
		p := lumaOf(s.Img, nil)
		check(c.Name, newSource(p, nil, nil))
		check(c.Name+" inverted", newSource(invert(p, nil), nil, nil))
	}
}

// BenchmarkHybridMatrix thresholds one 640×480 frame without a code
// (lanegen negative/texture) with gozxing's HybridBinarizer and with
// fastHybrid.
//
//	go test -run '^$' -bench HybridMatrix -cpu 1 ./decode/
func BenchmarkHybridMatrix(b *testing.B) {
	c, ok := lanegen.ClassByName("negative/texture")
	if !ok {
		b.Fatal("no lanegen class negative/texture")
	}
	s, err := lanegen.Generate(c, 1, 0)
	if err != nil {
		b.Fatal(err)
	}
	p := lumaOf(s.Img, nil)
	for _, bin := range []struct {
		name string
		new  func(gozxing.LuminanceSource) gozxing.Binarizer
	}{{"gozxing", gozxing.NewHybridBinarizer}, {"fast", newFastHybrid}} {
		b.Run(bin.name, func(b *testing.B) {
			src := newSource(p, nil, nil)
			for b.Loop() {
				if _, err := bin.new(src).GetBlackMatrix(); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
