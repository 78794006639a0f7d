package decode

import (
	"bytes"
	"image"
	"image/color"
	"math/rand/v2"
	"testing"

	"github.com/makiuchi-d/gozxing"
)

// randomImages returns one image per layout lumaOf handles, each with a
// non-zero origin so that Stride and PixOffset arithmetic is exercised.
func randomImages(w, h int, neutralChroma bool) map[string]image.Image {
	r := rand.New(rand.NewPCG(7, 8))
	rect := image.Rect(3, 5, 3+w, 5+h)
	fill := func(p []byte) {
		for i := range p {
			p[i] = uint8(r.UintN(256))
		}
	}
	g := image.NewGray(rect)
	fill(g.Pix)
	y := image.NewYCbCr(rect, image.YCbCrSubsampleRatio420)
	fill(y.Y)
	if neutralChroma {
		for i := range y.Cb {
			y.Cb[i], y.Cr[i] = 128, 128
		}
	} else {
		fill(y.Cb)
		fill(y.Cr)
	}
	rgba := image.NewRGBA(rect) // opaque
	fill(rgba.Pix)
	for i := 3; i < len(rgba.Pix); i += 4 {
		rgba.Pix[i] = 0xff
	}
	nrgba := image.NewNRGBA(rect) // any alpha
	fill(nrgba.Pix)
	pal := make(color.Palette, 200) // short palette: indices >= 200 are padding
	for i := range pal {
		pal[i] = color.NRGBA{uint8(r.UintN(256)), uint8(r.UintN(256)), uint8(r.UintN(256)), uint8(r.UintN(256))}
	}
	p := image.NewPaletted(rect, pal)
	for i := range p.Pix {
		p.Pix[i] = uint8(r.UintN(200))
	}
	g16 := image.NewGray16(rect)
	fill(g16.Pix)
	n64 := image.NewNRGBA64(rect)
	fill(n64.Pix)
	cmyk := image.NewCMYK(rect)
	fill(cmyk.Pix)
	return map[string]image.Image{
		"gray": g, "ycbcr": y, "rgba": rgba, "nrgba": nrgba, "paletted": p,
		"gray16": g16, "nrgba64": n64, "cmyk": cmyk,
	}
}

// reference computes each pixel through color.Color, the slow way, with
// lum16: what every fast path in lumaOf must reproduce exactly (except
// YCbCr, where the Y plane is used instead).
func reference(img image.Image) []byte {
	b := img.Bounds()
	out := make([]byte, 0, b.Dx()*b.Dy())
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			out = append(out, lum16(img.At(x, y).RGBA()))
		}
	}
	return out
}

// TestLumaMatchesReference: every layout's fast path equals the per-pixel
// computation, for both GetMatrix and GetRow.
func TestLumaMatchesReference(t *testing.T) {
	for name, img := range randomImages(37, 23, false) {
		if name == "ycbcr" {
			continue // Y plane by design; see TestLumaMatchesStock
		}
		t.Run(name, func(t *testing.T) {
			src := newSource(lumaOf(img, nil), nil, nil)
			want := reference(img)
			if got := src.GetMatrix(); !bytes.Equal(got[:len(want)], want) {
				t.Fatalf("GetMatrix differs from reference")
			}
			row := make([]byte, 5) // too short: must be replaced
			for y := range src.GetHeight() {
				var err error
				row, err = src.GetRow(y, row)
				if err != nil {
					t.Fatal(err)
				}
				if !bytes.Equal(row[:src.GetWidth()], want[y*37:(y+1)*37]) {
					t.Fatalf("row %d differs", y)
				}
			}
		})
	}
}

// colourYCbCr holds random RGB colours converted to YCbCr 4:4:4, i.e. what
// a JPEG of a colourful scene carries before compression.
func colourYCbCr(w, h int) *image.YCbCr {
	r := rand.New(rand.NewPCG(9, 10))
	img := image.NewYCbCr(image.Rect(0, 0, w, h), image.YCbCrSubsampleRatio444)
	for i := range img.Y {
		img.Y[i], img.Cb[i], img.Cr[i] = color.RGBToYCbCr(uint8(r.UintN(256)), uint8(r.UintN(256)), uint8(r.UintN(256)))
	}
	return img
}

// TestLumaMatchesStock compares with gozxing's own image path
// (NewLuminanceSourceFromImage, which goes through RGBA per pixel).
// Opaque layouts must agree exactly; YCbCr with neutral chroma (a gray
// JPEG) within rounding of the YCbCr->RGB conversion; YCbCr of arbitrary
// in-gamut colours within 36 levels, the documented gap between BT.601
// luma and gozxing's (R+2G+B)/4 (at most 0.136*255 plus rounding).
func TestLumaMatchesStock(t *testing.T) {
	neutral := randomImages(64, 48, true)
	tests := []struct {
		name  string
		img   image.Image
		limit int
	}{
		{"gray", neutral["gray"], 0},
		{"rgba opaque", neutral["rgba"], 0},
		{"gray16", neutral["gray16"], 0},
		{"ycbcr neutral chroma", neutral["ycbcr"], 1},
		{"ycbcr colours", colourYCbCr(64, 48), 36},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			stock := gozxing.NewLuminanceSourceFromImage(tt.img).GetMatrix()
			own := newSource(lumaOf(tt.img, nil), nil, nil).GetMatrix()
			worst := 0
			for i := range stock {
				worst = max(worst, absDiff(stock[i], own[i]))
			}
			if worst > tt.limit {
				t.Errorf("largest difference %d levels, limit %d", worst, tt.limit)
			}
		})
	}
}

func absDiff(a, b uint8) int {
	if a > b {
		return int(a - b)
	}
	return int(b - a)
}

// TestLumaInPlace: Gray and YCbCr are not copied.
func TestLumaInPlace(t *testing.T) {
	imgs := randomImages(16, 16, true)
	g := imgs["gray"].(*image.Gray)
	if p := lumaOf(g, nil); &p.pix[0] != &g.Pix[0] || p.stride != g.Stride {
		t.Error("gray plane was copied")
	}
	y := imgs["ycbcr"].(*image.YCbCr)
	if p := lumaOf(y, nil); &p.pix[0] != &y.Y[0] || p.stride != y.YStride {
		t.Error("Y plane was copied")
	}
}

func TestSourceViews(t *testing.T) {
	const w, h = 7, 5
	pix := make([]byte, w*h)
	for i := range pix {
		pix[i] = uint8(i)
	}
	src := newSource(plane{pix: pix, stride: w, w: w, h: h}, nil, nil)
	at := func(s gozxing.LuminanceSource, x, y int) byte { return s.GetMatrix()[y*s.GetWidth()+x] }

	// Rotation: (x, y) -> (y, w-1-x).
	rot, err := src.RotateCounterClockwise()
	if err != nil {
		t.Fatal(err)
	}
	if rot.GetWidth() != h || rot.GetHeight() != w {
		t.Fatalf("rotated size %dx%d", rot.GetWidth(), rot.GetHeight())
	}
	for y := range h {
		for x := range w {
			if at(rot, y, w-1-x) != pix[y*w+x] {
				t.Fatalf("rotated pixel for (%d,%d) wrong", x, y)
			}
		}
	}

	// Crop, then rotate the crop.
	c, err := src.Crop(2, 1, 3, 2)
	if err != nil {
		t.Fatal(err)
	}
	if got := c.GetMatrix(); !bytes.Equal(got, []byte{9, 10, 11, 16, 17, 18}) {
		t.Errorf("cropped matrix %v", got)
	}
	row, err := c.GetRow(1, nil)
	if err != nil || !bytes.Equal(row[:3], []byte{16, 17, 18}) {
		t.Errorf("cropped row %v, %v", row, err)
	}
	cr, _ := c.RotateCounterClockwise()
	if got := cr.GetMatrix(); !bytes.Equal(got, []byte{11, 18, 10, 17, 9, 16}) {
		t.Errorf("rotated crop %v", got)
	}
	if _, err := src.Crop(5, 0, 3, 1); err == nil {
		t.Error("crop beyond the edge accepted")
	}
	if _, err := src.GetRow(h, nil); err == nil {
		t.Error("row past the end accepted")
	}
	if _, err := src.GetRow(-1, nil); err == nil {
		t.Error("negative row accepted")
	}
	if _, err := src.RotateCounterClockwise45(); err == nil {
		t.Error("45° rotation claimed")
	}
	inv := src.Invert().GetMatrix()
	if inv[0] != 255 || inv[w*h-1] != 255-pix[w*h-1] {
		t.Errorf("inverted %v", inv)
	}
}

func TestTransforms(t *testing.T) {
	p := plane{pix: []byte{
		0, 100, 200, 40,
		50, 250, 60, 80,
		9, 9, 9, 9,
	}, stride: 4, w: 4, h: 3}

	half := halve(p, nil)
	if half.w != 2 || half.h != 1 || !bytes.Equal(half.pix, []byte{100, 95}) {
		t.Errorf("halve: %dx%d %v", half.w, half.h, half.pix)
	}
	if same := resize(p, 4, 3, nil); !bytes.Equal(same.pix, p.pix) {
		t.Errorf("resize to the same size changed pixels: %v", same.pix)
	}
	up := resize(plane{pix: []byte{0, 255}, stride: 2, w: 2, h: 1}, 3, 1, nil)
	if up.pix[0] != 0 || up.pix[2] != 255 || up.pix[1] != 128 {
		t.Errorf("resize 2->3: %v", up.pix)
	}
	inv := invert(p, nil)
	for i := range p.pix {
		if inv.pix[i] != 255-p.pix[i] {
			t.Fatalf("invert: %v", inv.pix)
		}
	}

	// A faint ramp is stretched to the full range; a full-range image and a
	// flat one are left alone.
	faint := plane{pix: make([]byte, 200), stride: 200, w: 200, h: 1}
	for i := range faint.pix {
		faint.pix[i] = uint8(100 + i/10) // 100..119
	}
	lo, hi := lumRange(faint)
	s, ok := stretch(faint, lo, hi, nil)
	if !ok || s.pix[0] != 0 || s.pix[199] != 255 {
		t.Errorf("stretch faint: ok=%v ends %d %d", ok, s.pix[0], s.pix[199])
	}
	full := plane{pix: make([]byte, 256), stride: 256, w: 256, h: 1}
	for i := range full.pix {
		full.pix[i] = uint8(i)
	}
	lo, hi = lumRange(full)
	if _, ok := stretch(full, lo, hi, nil); ok {
		t.Error("stretch of a full-range image reported useful")
	}
	wide := plane{pix: make([]byte, 200), stride: 200, w: 200, h: 1}
	for i := range wide.pix {
		wide.pix[i] = uint8(60 + i*3/5) // 60..179: wider than narrowRange
	}
	lo, hi = lumRange(wide)
	if _, ok := stretch(wide, lo, hi, nil); ok {
		t.Errorf("stretch of a %d-level range reported useful", hi-lo)
	}
	flat := plane{pix: bytes.Repeat([]byte{77}, 50), stride: 50, w: 50, h: 1}
	lo, hi = lumRange(flat)
	if _, ok := stretch(flat, lo, hi, nil); ok {
		t.Error("stretch of a flat image reported useful")
	}
}

// TestArenaReuse: buffers come back after reset; large ones are not kept.
func TestArenaReuse(t *testing.T) {
	var a arena
	b1 := a.get(1000)
	a.reset()
	b2 := a.get(800)
	if &b1[0] != &b2[0] {
		t.Error("buffer not reused after reset")
	}
	b3 := a.get(900) // b2 still in use: must be a different buffer
	if &b3[0] == &b2[0] {
		t.Error("buffer handed out twice")
	}
	big := a.get(arenaMaxBuf + 1)
	a.reset()
	if again := a.get(arenaMaxBuf + 1); &again[0] == &big[0] {
		t.Error("oversized buffer retained")
	}
}

// BenchmarkLuminance compares building a luminance source and reading its
// matrix (what the hybrid binarizer does) with gozxing's stock path.
func BenchmarkLuminance(b *testing.B) {
	for _, kind := range []string{"gray", "ycbcr", "rgba"} {
		img := randomImages(640, 480, true)[kind]
		b.Run(kind+"/own", func(b *testing.B) {
			var mem arena
			b.ReportAllocs()
			for b.Loop() {
				newSource(lumaOf(img, &mem), nil, &mem).GetMatrix()
				mem.reset()
			}
		})
		b.Run(kind+"/stock", func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				gozxing.NewLuminanceSourceFromImage(img).GetMatrix()
			}
		})
	}
}
