package decode

import (
	"bytes"
	"compress/zlib"
	"context"
	"encoding/binary"
	"errors"
	"image/png"
	"runtime"
	"testing"
	"time"

	"github.com/paycode/paycode/decode/decodetest"
)

// declaredPNG is a PNG whose header declares w×h pixels of colour type ct
// at depth bits (interlaced or not) and whose one IDAT chunk holds n
// zero bytes, zlib-compressed at best (about a thousandth of n).
func declaredPNG(tb testing.TB, w, h int, ct, depth byte, interlaced bool, n int) []byte {
	tb.Helper()
	var out, z bytes.Buffer
	out.WriteString("\x89PNG\r\n\x1a\n")
	ihdr := make([]byte, 13)
	binary.BigEndian.PutUint32(ihdr[0:], uint32(w))
	binary.BigEndian.PutUint32(ihdr[4:], uint32(h))
	ihdr[8], ihdr[9] = depth, ct
	if interlaced {
		ihdr[12] = 1
	}
	decodetest.PNGChunk(&out, "IHDR", ihdr)
	if ct == 3 {
		decodetest.PNGChunk(&out, "PLTE", []byte{0, 0, 0, 255, 255, 255})
	}
	zw, _ := zlib.NewWriterLevel(&z, zlib.BestCompression)
	if _, err := zw.Write(make([]byte, n)); err != nil {
		tb.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		tb.Fatal(err)
	}
	decodetest.PNGChunk(&out, "IDAT", z.Bytes())
	decodetest.PNGChunk(&out, "IEND", nil)
	return out.Bytes()
}

// TestTinyPNGDeclaringManyPixels: a PNG of a few hundred bytes that
// declares 16 M pixels (within the default cap) is refused (ErrFormat)
// before either decoder allocates the raster its header declares: its
// data could not hold the rows even at deflate's best ratio. Without
// the check, pngLuma took a 16 MB plane and image/png a 16 to 64 MB
// image, each found short only after. The rows' worth of data, and the
// rows at deflate's best ratio, are not refused by the check.
func TestTinyPNGDeclaringManyPixels(t *testing.T) {
	d, err := New(Config{Workers: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	const side = 4096 // 16 M pixels: DefaultMaxPixels
	for _, tc := range []struct {
		name       string
		ct, depth  byte
		interlaced bool
	}{
		{"gray", 0, 8, false},       // pngLuma's path
		{"rgb", 2, 8, false},        // pngLuma's path
		{"rgba", 6, 8, false},       // pngLuma's path
		{"gray 1-bit", 0, 1, false}, // image/png's
		{"paletted 1-bit", 3, 1, false},
		{"rgba 16-bit", 6, 16, false},
		{"gray interlaced", 0, 8, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			data := declaredPNG(t, side, side, tc.ct, tc.depth, tc.interlaced, 1000)
			var before, after runtime.MemStats
			runtime.GC()
			runtime.ReadMemStats(&before)
			_, err := d.Decode(context.Background(), data)
			runtime.ReadMemStats(&after)
			alloc := after.TotalAlloc - before.TotalAlloc
			t.Logf("%d bytes declaring %dx%d: %v; %d bytes allocated", len(data), side, side, err, alloc)
			if !errors.Is(err, ErrFormat) {
				t.Fatalf("err %v, want ErrFormat", err)
			}
			if alloc > 2<<20 {
				t.Fatalf("allocated %d bytes for %d bytes of input", alloc, len(data))
			}
		})
	}
	// The bound is a bound: rows that are there are never refused by it.
	for _, tc := range []struct {
		w, h, bits int
		interlaced bool
		idat       int
	}{
		{4096, 4096, 8, false, (4096 + 1) * 4096 / maxDeflateRatio},
		{4096, 4096, 1, true, 4096 * 4096 / 8 / maxDeflateRatio},
		{1, 1, 64, false, 0},
	} {
		if !pngRowsFit(tc.idat, tc.w, tc.h, tc.bits, tc.interlaced) {
			t.Errorf("pngRowsFit(%d, %d, %d, %d, %v) = false: rows deflate's best ratio holds refused", tc.idat, tc.w, tc.h, tc.bits, tc.interlaced)
		}
	}
	// A real image compressed at best (zeros, the most compressible
	// rows) decodes through both paths. A 4-megapixel search takes a
	// second or more on a loaded 2-core machine: this decoder's wall-time
	// safety net is out of the way (what is asserted is the answer, not
	// the time).
	d, err = New(Config{Workers: 1, Budget: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	for _, ct := range []byte{0, 3} {
		data := declaredPNG(t, 2000, 2000, ct, 8, false, (2000+1)*2000)
		if !pngPlausible(data) {
			t.Fatalf("colour type %d: refused rows that are all there", ct)
		}
		if _, err := d.Decode(context.Background(), data); !errors.Is(err, ErrNotFound) {
			t.Fatalf("colour type %d: %v, want ErrNotFound (a blank picture)", ct, err)
		}
	}
}

// FuzzPNGPlausible: pngPlausible refuses only what image/png rejects too.
func FuzzPNGPlausible(f *testing.F) {
	f.Add(declaredPNG(f, 64, 64, 0, 8, false, 65*64))
	f.Add(declaredPNG(f, 64, 64, 3, 1, true, 8*64))
	f.Add(declaredPNG(f, 4096, 4096, 0, 8, false, 1000))
	f.Fuzz(func(t *testing.T, data []byte) {
		if !bytes.HasPrefix(data, []byte("\x89PNG\r\n\x1a\n")) || pngPlausible(data) {
			return
		}
		c, err := png.DecodeConfig(bytes.NewReader(data))
		if err != nil || checkDims(c.Width, c.Height, 1<<20) != nil {
			return
		}
		if _, err := png.Decode(bytes.NewReader(data)); err == nil {
			t.Fatal("pngPlausible refused a PNG image/png decodes")
		}
	})
}
