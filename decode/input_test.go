package decode_test

import (
	"context"
	"encoding/binary"
	"errors"
	"image"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/paycode/paycode/decode"
	"github.com/paycode/paycode/decode/decodetest"
)

// jpegWithHeader is SOI, a baseline SOF0 declaring w x h with three
// components, and the start of an SOS segment (where a header-only read
// stops).
func jpegWithHeader(w, h uint16) []byte {
	b := []byte{0xff, 0xd8, 0xff, 0xc0, 0x00, 0x11, 0x08}
	b = binary.BigEndian.AppendUint16(b, h)
	b = binary.BigEndian.AppendUint16(b, w)
	b = append(b, 3, 1, 0x22, 0, 2, 0x11, 1, 3, 0x11, 1)
	return append(b, 0xff, 0xda, 0x00, 0x0c, 3, 1, 0, 2, 0x11, 3, 0x11, 0, 0x3f, 0)
}

// gifWithHeader declares a w x h logical screen.
func gifWithHeader(w, h uint16) []byte {
	b := []byte("GIF89a")
	b = binary.LittleEndian.AppendUint16(b, w)
	b = binary.LittleEndian.AppendUint16(b, h)
	return append(b, 0, 0, 0, ';')
}

func TestInputErrors(t *testing.T) {
	const maxPixels = 1 << 20
	d := newDecoder(t, decode.Config{MaxBytes: 64 << 10, MaxPixels: maxPixels, Budget: time.Minute})
	validPNG := decodetest.PNG(t, qrFixture(t))
	validJPEG := encodeJPEG(t, qrFixture(t), 80)
	ctx := context.Background()
	tests := []struct {
		name string
		data []byte
		want error
	}{
		{"empty", nil, decode.ErrFormat},
		{"garbage", []byte("this is not an image, just some text"), decode.ErrFormat},
		{"bmp magic", append([]byte("BM"), make([]byte, 64)...), decode.ErrFormat},
		{"png signature only", []byte("\x89PNG\r\n\x1a\n"), decode.ErrFormat},
		{"png truncated", validPNG[:len(validPNG)/2], decode.ErrFormat},
		{"jpeg truncated", validJPEG[:len(validJPEG)/2], decode.ErrFormat},
		{"gif truncated", gifWithHeader(10, 10)[:8], decode.ErrFormat},
		{"png zero width", decodetest.PNGDeclaring(0, 10), decode.ErrFormat},
		{"png at the pixel cap, no data", decodetest.PNGDeclaring(1024, 1024), decode.ErrFormat},
		{"png one row over the cap", decodetest.PNGDeclaring(1024, 1025), decode.ErrTooLarge},
		{"png 10 gigapixels", decodetest.PNGDeclaring(100000, 100000), decode.ErrTooLarge},
		{"png 2^31 square", decodetest.PNGDeclaring(1<<31-1, 1<<31-1), decode.ErrFormat}, // image/png: "dimension overflow"
		{"jpeg 60000 square", jpegWithHeader(60000, 60000), decode.ErrTooLarge},
		{"gif 65535 square", gifWithHeader(65535, 65535), decode.ErrTooLarge},
		{"over MaxBytes", make([]byte, 64<<10+1), decode.ErrTooLarge},
		{"blank white image", decodetest.PNG(t, pad(image.NewGray(image.Rect(0, 0, 0, 0)), 100)), decode.ErrNotFound},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := d.Decode(ctx, tt.data)
			if !errors.Is(err, tt.want) {
				t.Fatalf("err %v, want %v", err, tt.want)
			}
			if !strings.HasPrefix(err.Error(), "decode: ") {
				t.Errorf("error %q lacks the package prefix", err)
			}
		})
	}
}

// TestTooLargeDoesNotAllocate: a 10-gigapixel PNG header is refused having
// allocated next to nothing (the raster would be 10 GB).
func TestTooLargeDoesNotAllocate(t *testing.T) {
	d := newDecoder(t, decode.Config{Workers: 1})
	bomb := decodetest.PNGDeclaring(100000, 100000)
	ctx := context.Background()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	for range 10 {
		if _, err := d.Decode(ctx, bomb); !errors.Is(err, decode.ErrTooLarge) {
			t.Fatalf("err %v, want ErrTooLarge", err)
		}
	}
	runtime.ReadMemStats(&after)
	if got := after.TotalAlloc - before.TotalAlloc; got > 4<<20 {
		t.Errorf("10 refusals allocated %d bytes; the header alone should suffice", got)
	}
}

func TestGrayInputErrors(t *testing.T) {
	d := newDecoder(t, decode.Config{MaxPixels: 1 << 20})
	ctx := context.Background()
	tests := []struct {
		name string
		pix  []byte
		w, h int
		want error
	}{
		{"zero width", make([]byte, 100), 0, 10, decode.ErrFormat},
		{"negative height", make([]byte, 100), 10, -1, decode.ErrFormat},
		{"short buffer", make([]byte, 99), 10, 10, decode.ErrFormat},
		{"over the pixel cap", nil, 1025, 1024, decode.ErrTooLarge},
		{"overflowing dimensions", nil, 1 << 40, 1 << 40, decode.ErrTooLarge},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := d.DecodeGray(ctx, tt.pix, tt.w, tt.h); !errors.Is(err, tt.want) {
				t.Fatalf("err %v, want %v", err, tt.want)
			}
		})
	}
	if _, err := d.DecodeImage(ctx, image.NewGray(image.Rect(5, 5, 5, 9))); !errors.Is(err, decode.ErrFormat) {
		t.Errorf("empty image: err %v, want ErrFormat", err)
	}
}

// TestSubImage: a sub-image (non-zero origin, stride wider than the frame)
// is read through its own bounds.
func TestSubImage(t *testing.T) {
	d := newDecoder(t, decode.Config{})
	big := pad(qrFixture(t), 100)
	sub := big.SubImage(image.Rect(60, 60, big.Rect.Dx()-60, big.Rect.Dy()-60))
	res, err := d.DecodeImage(context.Background(), sub)
	if err != nil || res.Text != payCode {
		t.Fatalf("%v, %v", res, err)
	}
}
