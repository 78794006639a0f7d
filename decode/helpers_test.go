package decode_test

import (
	"bytes"
	"fmt"
	"image"
	"image/gif"
	"image/jpeg"
	"testing"

	"github.com/paycode/paycode/decode"
)

// payCode is a 24-digit payment code of the shape the engine issues.
const payCode = "281001020123456789012345"

// newDecoder builds a Decoder that is closed when the test ends.
func newDecoder(tb testing.TB, cfg decode.Config) *decode.Decoder {
	tb.Helper()
	d, err := decode.New(cfg)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(d.Close)
	return d
}

// encodeJPEG encodes img as a colour JPEG (YCbCr 4:2:0), the way a phone
// would, whatever img's type.
func encodeJPEG(tb testing.TB, img image.Image, quality int) []byte {
	tb.Helper()
	b := img.Bounds()
	rgb := image.NewRGBA(b)
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			rgb.Set(x, y, img.At(x, y))
		}
	}
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, rgb, &jpeg.Options{Quality: quality}); err != nil {
		tb.Fatal(err)
	}
	return buf.Bytes()
}

// encodeGrayJPEG encodes a single-channel JPEG (decoded as *image.Gray).
func encodeGrayJPEG(tb testing.TB, img *image.Gray, quality int) []byte {
	tb.Helper()
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, img, &jpeg.Options{Quality: quality}); err != nil {
		tb.Fatal(err)
	}
	return buf.Bytes()
}

func encodeGIF(tb testing.TB, img image.Image) []byte {
	tb.Helper()
	var b bytes.Buffer
	if err := gif.Encode(&b, img, nil); err != nil {
		tb.Fatal(err)
	}
	return b.Bytes()
}

// rotateCW returns img turned clockwise by quarters*90 degrees, with the
// same pixel type, by plain byte copies. It panics on a pixel type it does
// not know (it is called from helper goroutines, where t.Fatal is not
// allowed).
func rotateCW(img image.Image, quarters int) image.Image {
	quarters = ((quarters % 4) + 4) % 4
	if quarters == 0 {
		return img
	}
	b := img.Bounds()
	w, h := b.Dx(), b.Dy()
	r := image.Rect(0, 0, w, h)
	if quarters%2 == 1 {
		r = image.Rect(0, 0, h, w)
	}
	var (
		src, dst []byte
		dstride  int
		bpp      int
		srcOff   func(x, y int) int
		out      image.Image
	)
	switch m := img.(type) {
	case *image.Gray:
		o := image.NewGray(r)
		src, srcOff, bpp, dst, dstride, out = m.Pix, m.PixOffset, 1, o.Pix, o.Stride, o
	case *image.Paletted:
		o := image.NewPaletted(r, m.Palette)
		src, srcOff, bpp, dst, dstride, out = m.Pix, m.PixOffset, 1, o.Pix, o.Stride, o
	case *image.Gray16:
		o := image.NewGray16(r)
		src, srcOff, bpp, dst, dstride, out = m.Pix, m.PixOffset, 2, o.Pix, o.Stride, o
	case *image.RGBA:
		o := image.NewRGBA(r)
		src, srcOff, bpp, dst, dstride, out = m.Pix, m.PixOffset, 4, o.Pix, o.Stride, o
	case *image.NRGBA:
		o := image.NewNRGBA(r)
		src, srcOff, bpp, dst, dstride, out = m.Pix, m.PixOffset, 4, o.Pix, o.Stride, o
	case *image.RGBA64:
		o := image.NewRGBA64(r)
		src, srcOff, bpp, dst, dstride, out = m.Pix, m.PixOffset, 8, o.Pix, o.Stride, o
	case *image.NRGBA64:
		o := image.NewNRGBA64(r)
		src, srcOff, bpp, dst, dstride, out = m.Pix, m.PixOffset, 8, o.Pix, o.Stride, o
	default:
		panic(fmt.Sprintf("rotateCW: unsupported image type %T", img))
	}
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			var nx, ny int
			switch quarters {
			case 1:
				nx, ny = h-1-y, x
			case 2:
				nx, ny = w-1-x, h-1-y
			case 3:
				nx, ny = y, w-1-x
			}
			s := srcOff(b.Min.X+x, b.Min.Y+y)
			copy(dst[ny*dstride+nx*bpp:][:bpp], src[s:s+bpp])
		}
	}
	return out
}

// pad places img on a white canvas with margin pixels on every side, so a
// code is not the whole picture.
func pad(img *image.Gray, margin int) *image.Gray {
	b := img.Bounds()
	out := image.NewGray(image.Rect(0, 0, b.Dx()+2*margin, b.Dy()+2*margin))
	for i := range out.Pix {
		out.Pix[i] = 0xff
	}
	for y := 0; y < b.Dy(); y++ {
		copy(out.Pix[(y+margin)*out.Stride+margin:], img.Pix[y*img.Stride:y*img.Stride+b.Dx()])
	}
	return out
}
