package decode_test

import (
	"bytes"
	"compress/zlib"
	"context"
	"encoding/binary"
	"errors"
	"hash/crc32"
	"image"
	"image/color"
	"image/gif"
	"runtime"
	"testing"
	"time"

	"github.com/paycode/paycode/decode"
)

// pngChunks builds a PNG from an IHDR for a w x h 8-bit grayscale image and
// the given IDAT payload.
func pngChunks(w, h uint32, idat []byte) []byte {
	var b bytes.Buffer
	b.WriteString("\x89PNG\r\n\x1a\n")
	chunk := func(typ string, data []byte) {
		b.Write(binary.BigEndian.AppendUint32(nil, uint32(len(data))))
		b.WriteString(typ)
		b.Write(data)
		b.Write(binary.BigEndian.AppendUint32(nil, crc32.ChecksumIEEE(append([]byte(typ), data...))))
	}
	ihdr := binary.BigEndian.AppendUint32(binary.BigEndian.AppendUint32(nil, w), h)
	chunk("IHDR", append(ihdr, 8, 0, 0, 0, 0))
	chunk("IDAT", idat)
	chunk("IEND", nil)
	return b.Bytes()
}

// zlibZeros is a zlib stream of n zero bytes: about a thousandth of n.
func zlibZeros(tb testing.TB, n int) []byte {
	tb.Helper()
	var b bytes.Buffer
	zw, _ := zlib.NewWriterLevel(&b, zlib.BestCompression)
	zero := make([]byte, 1<<20)
	for n > 0 {
		k := min(n, len(zero))
		if _, err := zw.Write(zero[:k]); err != nil {
			tb.Fatal(err)
		}
		n -= k
	}
	if err := zw.Close(); err != nil {
		tb.Fatal(err)
	}
	return b.Bytes()
}

// gifFrames is a GIF of n w x h frames on a w x h screen.
func gifFrames(tb testing.TB, n, w, h int) []byte {
	tb.Helper()
	g := &gif.GIF{}
	pal := color.Palette{color.Black, color.White}
	for range n {
		g.Image = append(g.Image, image.NewPaletted(image.Rect(0, 0, w, h), pal))
		g.Delay = append(g.Delay, 0)
	}
	var b bytes.Buffer
	if err := gif.EncodeAll(&b, g); err != nil {
		tb.Fatal(err)
	}
	return b.Bytes()
}

// gifFrameOutside is a 10 x 10 screen whose one frame declares 60000 x
// 60000 pixels: the header check passes, the frame must not.
func gifFrameOutside() []byte {
	b := []byte("GIF89a")
	b = binary.LittleEndian.AppendUint16(b, 10)
	b = binary.LittleEndian.AppendUint16(b, 10)
	b = append(b, 0x80, 0, 0, 0, 0, 0, 0xff, 0xff, 0xff) // 2-entry global palette
	b = append(b, ',', 0, 0, 0, 0)
	b = binary.LittleEndian.AppendUint16(b, 60000)
	b = binary.LittleEndian.AppendUint16(b, 60000)
	return append(b, 0, 2, 2, 0x4c, 0x01, 0, ';')
}

// TestDecompressionBombs: inputs small on the wire that claim or expand to
// far more than the pixel cap end in ErrFormat or ErrTooLarge (or, for a
// legitimate picture without a code, ErrNotFound), never a panic, with
// memory bounded by the cap rather than by what the input claims.
func TestDecompressionBombs(t *testing.T) {
	const maxPixels = 1 << 20
	d := newDecoder(t, decode.Config{Workers: 1, MaxBytes: 4 << 20, MaxPixels: maxPixels, Budget: time.Minute})
	rowsOf := func(w, h int) int { return (w + 1) * h } // a filter byte per row
	tests := []struct {
		name  string
		data  []byte
		kinds []error
	}{
		// 1000 x 1000 declared (within the cap), 256 MiB of zeros in IDAT.
		{"png zlib bomb past its rows", pngChunks(1000, 1000, zlibZeros(t, 256<<20)), []error{decode.ErrFormat, decode.ErrNotFound}},
		{"png exact rows", pngChunks(1000, 1000, zlibZeros(t, rowsOf(1000, 1000))), []error{decode.ErrNotFound}},
		{"png rows cut short", pngChunks(1000, 1000, zlibZeros(t, rowsOf(1000, 1000))[:200]), []error{decode.ErrFormat}},
		{"png 60000 square, zeros for every row", pngChunks(60000, 60000, zlibZeros(t, 1<<20)), []error{decode.ErrTooLarge}},
		{"gif 2000 frames", gifFrames(t, 2000, 200, 200), []error{decode.ErrNotFound}},
		{"gif frame outside its screen", gifFrameOutside(), []error{decode.ErrFormat}},
		{"webp", append([]byte("RIFF\x24\x00\x00\x00WEBPVP8 "), make([]byte, 32)...), []error{decode.ErrFormat}},
		{"tiff little-endian", append([]byte("II*\x00\x08\x00\x00\x00"), make([]byte, 32)...), []error{decode.ErrFormat}},
		{"tiff big-endian", append([]byte("MM\x00*\x00\x00\x00\x08"), make([]byte, 32)...), []error{decode.ErrFormat}},
		{"svg", []byte(`<svg xmlns="http://www.w3.org/2000/svg" width="60000" height="60000"/>`), []error{decode.ErrFormat}},
		{"jpeg SOI only", []byte{0xff, 0xd8}, []error{decode.ErrFormat}},
	}
	ctx := context.Background()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var before, after runtime.MemStats
			runtime.GC()
			runtime.ReadMemStats(&before)
			_, err := d.Decode(ctx, tt.data)
			runtime.ReadMemStats(&after)
			alloc := after.TotalAlloc - before.TotalAlloc
			t.Logf("%d bytes in: %v; %d bytes allocated", len(tt.data), err, alloc)
			matched := false
			for _, k := range tt.kinds {
				matched = matched || errors.Is(err, k)
			}
			if !matched {
				t.Fatalf("err %v, want one of %v", err, tt.kinds)
			}
			// A 1 MiB-pixel frame costs a few MiB per decoding pass; what
			// the input claims (256 MiB of pixels, 3.6 gigapixels, 2000
			// frames) must not show.
			if alloc > 96<<20 {
				t.Fatalf("allocated %d bytes", alloc)
			}
		})
	}
}
