package decode

import (
	"errors"
	"image"
	"image/color"

	"github.com/makiuchi-d/gozxing"
)

// plane is an 8-bit luminance raster: pixel (x, y) is pix[y*stride+x] for
// 0 <= x < w, 0 <= y < h; 0 is black, 255 white. A plane may alias memory it
// does not own (a decoded image's Gray or Y plane, a caller's raw frame, a
// worker's arena buffer) and is never written through after construction.
type plane struct {
	pix          []byte
	stride, w, h int
}

func (p plane) pixels() int { return p.w * p.h }

// row returns row y without copying.
func (p plane) row(y int) []byte {
	o := y * p.stride
	return p.pix[o : o+p.w : o+p.w]
}

// lumSource adapts a plane to gozxing.LuminanceSource. gozxing's own sources
// either take packed RGB ints or, for image.Image, call At(x, y).RGBA() on
// every pixel, which allocates an interface value per pixel and discards the
// Y plane a JPEG already carries. This one reads the plane in place.
//
// Lifetime: a lumSource and everything gozxing derives from it (binarizers,
// bitmaps, rotated sources) live for one attempt on one worker; none is kept
// after the attempt returns, which is what lets the worker recycle arena
// buffers between images.
type lumSource struct {
	p                        plane
	left, top, width, height int

	// stop, when set, is polled once per GetRow so that a 1D scan (which
	// fetches rows one at a time) ends soon after the budget runs out or
	// the caller gives up. The fast stage runs without it.
	stop *stopper

	// mem supplies scratch buffers for GetMatrix copies and rotations; nil
	// means plain allocation.
	mem *arena

	// noRotate keeps OneDReader from scanning the frame turned 90° as
	// well: only the try-harder stage does that (vertical symbols), the
	// later ones would repeat it on the same content at twice the cost.
	noRotate bool
}

var _ gozxing.LuminanceSource = (*lumSource)(nil)

// errStopped ends a 1D row scan from inside GetRow. It is not a gozxing
// NotFoundException, so OneDReader gives up the attempt instead of moving to
// the next row; the search then reports the budget or context error.
var errStopped = errors.New("decode: stopped")

// errRowRange mirrors gozxing's IllegalArgumentException for a bad row.
var errRowRange = errors.New("decode: requested row is outside the image")

func newSource(p plane, stop *stopper, mem *arena) *lumSource {
	return &lumSource{p: p, width: p.w, height: p.h, stop: stop, mem: mem}
}

func (s *lumSource) GetWidth() int  { return s.width }
func (s *lumSource) GetHeight() int { return s.height }

// GetRow copies row y into row (reallocated if too short) and returns it.
func (s *lumSource) GetRow(y int, row []byte) ([]byte, error) {
	if y < 0 || y >= s.height {
		return row, errRowRange
	}
	if s.stop != nil && s.stop.done() {
		return row, errStopped
	}
	if len(row) < s.width {
		row = make([]byte, s.width)
	}
	o := (s.top+y)*s.p.stride + s.left
	copy(row, s.p.pix[o:o+s.width])
	return row, nil
}

// GetMatrix returns the luminance row-major with stride == width. When the
// source covers a tightly packed plane the plane itself is returned (gozxing
// promises not to modify it); otherwise the rows are copied once.
func (s *lumSource) GetMatrix() []byte {
	n := s.width * s.height
	if s.left == 0 && s.top == 0 && s.width == s.p.w && s.height == s.p.h && s.p.stride == s.p.w {
		return s.p.pix[:n:n]
	}
	m := s.mem.get(n)
	for y := 0; y < s.height; y++ {
		o := (s.top+y)*s.p.stride + s.left
		copy(m[y*s.width:(y+1)*s.width], s.p.pix[o:o+s.width])
	}
	return m
}

func (s *lumSource) IsCropSupported() bool { return true }

// Crop returns a view of the same plane; nothing is copied.
func (s *lumSource) Crop(left, top, width, height int) (gozxing.LuminanceSource, error) {
	if left < 0 || top < 0 || width < 1 || height < 1 || left+width > s.width || top+height > s.height {
		return nil, errors.New("decode: crop rectangle does not fit within image data")
	}
	c := *s
	c.left, c.top, c.width, c.height = s.left+left, s.top+top, width, height
	return &c, nil
}

// Invert is part of the interface; gozxing v0.1.1 readers never call it (the
// inverted stage builds its own plane).
func (s *lumSource) Invert() gozxing.LuminanceSource {
	return gozxing.NewInvertedLuminanceSource(s)
}

// IsRotateSupported is true (but for noRotate) so that OneDReader under
// TRY_HARDER also scans the frame turned 90°, which finds vertical 1D
// symbols.
func (s *lumSource) IsRotateSupported() bool { return !s.noRotate }

// RotateCounterClockwise returns a new source whose plane is this one turned
// 90° counter-clockwise: source pixel (x, y) lands at (y, width-1-x).
func (s *lumSource) RotateCounterClockwise() (gozxing.LuminanceSource, error) {
	w, h := s.width, s.height
	out := s.mem.get(w * h)
	for y := 0; y < h; y++ {
		src := s.p.pix[(s.top+y)*s.p.stride+s.left:]
		for x := 0; x < w; x++ {
			out[(w-1-x)*h+y] = src[x]
		}
	}
	return newSource(plane{pix: out, stride: h, w: h, h: w}, s.stop, s.mem), nil
}

func (s *lumSource) RotateCounterClockwise45() (gozxing.LuminanceSource, error) {
	return nil, errors.New("decode: rotation by 45 degrees is not supported")
}

func (s *lumSource) String() string { return gozxing.LuminanceSourceString(s) }

// lumaOf extracts the luminance plane of img. Gray images and the Y plane of
// YCbCr images (what image/jpeg returns) are used in place; other layouts
// are converted in one pass over their Pix slice, never through
// color.Color. For RGB the weights are gozxing's own green-favouring
// average (R+2G+B)/4, composited over white by alpha, so results match the
// stock path exactly; for YCbCr the JPEG's Y (BT.601 luma) is used as is,
// which differs from that average only on saturated colours (by at most 36
// levels for colours inside the RGB gamut).
//
// The returned plane may alias img. img must have non-empty bounds.
func lumaOf(img image.Image, mem *arena) plane {
	b := img.Bounds()
	w, h := b.Dx(), b.Dy()
	switch m := img.(type) {
	case *image.Gray:
		return plane{pix: m.Pix[m.PixOffset(b.Min.X, b.Min.Y):], stride: m.Stride, w: w, h: h}
	case *image.YCbCr:
		return plane{pix: m.Y[m.YOffset(b.Min.X, b.Min.Y):], stride: m.YStride, w: w, h: h}
	}
	out := plane{pix: mem.get(w * h), stride: w, w: w, h: h}
	switch m := img.(type) {
	case *image.Paletted:
		// PNG and GIF pad short palettes with black; so does this table.
		var lut [256]uint8
		for i, c := range m.Palette {
			if i < len(lut) {
				lut[i] = lum16(c.RGBA())
			}
		}
		for y := 0; y < h; y++ {
			src := m.Pix[m.PixOffset(b.Min.X, b.Min.Y+y):][:w]
			dst := out.pix[y*w : (y+1)*w]
			for x, v := range src {
				dst[x] = lut[v]
			}
		}
	case *image.RGBA:
		for y := 0; y < h; y++ {
			src := m.Pix[m.PixOffset(b.Min.X, b.Min.Y+y):][:4*w]
			dst := out.pix[y*w : (y+1)*w]
			for x := range dst {
				p := src[4*x : 4*x+4 : 4*x+4]
				// Premultiplied: over white adds the uncovered share.
				dst[x] = uint8(min(255, (uint32(p[0])+2*uint32(p[1])+uint32(p[2]))/4+255-uint32(p[3])))
			}
		}
	case *image.NRGBA:
		for y := 0; y < h; y++ {
			src := m.Pix[m.PixOffset(b.Min.X, b.Min.Y+y):][:4*w]
			lumaRow(out.pix[y*w:(y+1)*w], src, 4)
		}
	case *image.Gray16:
		for y := 0; y < h; y++ {
			src := m.Pix[m.PixOffset(b.Min.X, b.Min.Y+y):][:2*w]
			dst := out.pix[y*w : (y+1)*w]
			for x := range dst {
				dst[x] = uint8((uint32(src[2*x])<<8 | uint32(src[2*x+1])) / 257)
			}
		}
	default:
		// RGBA64, NRGBA64, CMYK, ...: rare in practice (16-bit PNG,
		// Adobe CMYK JPEG); correctness over speed.
		for y := 0; y < h; y++ {
			dst := out.pix[y*w : (y+1)*w]
			for x := range dst {
				dst[x] = lum16(img.At(b.Min.X+x, b.Min.Y+y).RGBA())
			}
		}
	}
	return out
}

// lum16 maps premultiplied 16-bit RGBA to 8-bit luminance over white:
// gozxing's (R+2G+B)/4 on 0..0xffff, plus the uncovered share of white,
// scaled by 255/0xffff (= 1/257) with truncation as gozxing does. The clamp
// only matters for invalid colours whose channels exceed their alpha.
func lum16(r, g, b, a uint32) uint8 {
	return uint8(min(255, ((r+2*g+b)/4+0xffff-a)/257))
}

// lumNRGBA is lum16 of a non-premultiplied 8-bit colour.
func lumNRGBA(r, g, b, a uint8) uint8 {
	return lum16(color.NRGBA{r, g, b, a}.RGBA())
}
