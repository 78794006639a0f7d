package decode_test

import (
	"context"
	"errors"
	"image"
	"image/draw"
	"testing"
	"time"

	"github.com/paycode/paycode/decode"
	"github.com/paycode/paycode/decode/decodetest"
	"github.com/paycode/paycode/decode/internal/lanegen"
)

// TestTwoCodes: a frame with two different payment codes is refused with
// ErrAmbiguous, whichever symbologies carry them; the same code twice is
// read; a payment code beside a QR code that is not one is read.
func TestTwoCodes(t *testing.T) {
	const other = "281001020123456789099999"
	d := newDecoder(t, decode.Config{Budget: time.Minute})
	tests := []struct {
		name  string
		frame func(t *testing.T) []byte
		want  string // "" means ErrAmbiguous
	}{
		{"two QR codes", func(t *testing.T) []byte {
			return decodetest.PNG(t, decodetest.Beside(30, decodetest.QR(t, payCode, 200), decodetest.QR(t, other, 200)))
		}, ""},
		{"two QR codes, JPEG", func(t *testing.T) []byte {
			return encodeJPEG(t, decodetest.Beside(30, decodetest.QR(t, payCode, 180), decodetest.QR(t, other, 180)), 75)
		}, ""},
		{"Code 128 and a different QR", func(t *testing.T) []byte {
			return decodetest.PNG(t, decodetest.Beside(30, decodetest.Code128(t, payCode, 480, 120), decodetest.QR(t, other, 200)))
		}, ""},
		{"two QR codes one above the other", func(t *testing.T) []byte {
			// The single finder stops once it has confirmed three
			// patterns, so the fast read saw the upper code's three
			// only: the check must not be skipped on that count.
			return decodetest.PNG(t, above(30, decodetest.QR(t, payCode, 200), decodetest.QR(t, other, 200)))
		}, ""},
		{"two Code 128 side by side", func(t *testing.T) []byte {
			return decodetest.PNG(t, decodetest.Beside(40, decodetest.Code128(t, payCode, 480, 120), decodetest.Code128(t, other, 480, 120)))
		}, ""},
		{"two Code 128 side by side, turned 90°", func(t *testing.T) []byte {
			return decodetest.PNG(t, rotateCW(decodetest.Beside(40, decodetest.Code128(t, payCode, 480, 120), decodetest.Code128(t, other, 480, 120)), 1))
		}, ""},
		{"two Code 128 one above the other", func(t *testing.T) []byte {
			return decodetest.PNG(t, above(40, decodetest.Code128(t, payCode, 480, 100), decodetest.Code128(t, other, 480, 100)))
		}, ""},
		{"a QR code and a different Code 128 on a dark ground", func(t *testing.T) []byte {
			// One black point per row suits neither the Code 128's card nor
			// the dark half: only the hybrid matrix's rows read its bars.
			return decodetest.PNG(t, darkRight(decodetest.Beside(60, decodetest.Code128(t, other, 360, 90), decodetest.QR(t, payCode, 150))))
		}, ""},
		{"the same code as two Code 128", func(t *testing.T) []byte {
			return decodetest.PNG(t, decodetest.Beside(40, decodetest.Code128(t, payCode, 480, 120), decodetest.Code128(t, payCode, 480, 120)))
		}, payCode},
		{"the same QR twice", func(t *testing.T) []byte {
			return decodetest.PNG(t, decodetest.Beside(30, decodetest.QR(t, payCode, 200), decodetest.QR(t, payCode, 200)))
		}, payCode},
		{"the same code as Code 128 and QR", func(t *testing.T) []byte {
			return decodetest.PNG(t, decodetest.Beside(30, decodetest.Code128(t, payCode, 480, 120), decodetest.QR(t, payCode, 200)))
		}, payCode},
		{"a payment code beside a URL", func(t *testing.T) []byte {
			return decodetest.PNG(t, decodetest.Beside(30, decodetest.QR(t, "https://example.com/menu", 200), decodetest.QR(t, payCode, 200)))
		}, payCode},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, err := d.Decode(context.Background(), tt.frame(t))
			if tt.want == "" {
				if !errors.Is(err, decode.ErrAmbiguous) {
					t.Fatalf("got %v, %v; want ErrAmbiguous", res, err)
				}
				if err.Error() != "decode: more than one payment code in the image" {
					t.Errorf("message %q", err)
				}
				return
			}
			if err != nil || res.Text != tt.want {
				t.Fatalf("got %v, %v; want %s", res, err, decode.Mask(tt.want))
			}
		})
	}
}

// above stacks a over b with gap white rows between, left-aligned.
func above(gap int, a, b *image.Gray) *image.Gray {
	w := max(a.Rect.Dx(), b.Rect.Dx())
	out := image.NewGray(image.Rect(0, 0, w, a.Rect.Dy()+gap+b.Rect.Dy()))
	for i := range out.Pix {
		out.Pix[i] = 0xff
	}
	draw.Draw(out, a.Rect, a, image.Point{}, draw.Src)
	draw.Draw(out, b.Rect.Add(image.Pt(0, a.Rect.Dy()+gap)), b, image.Point{}, draw.Src)
	return out
}

// darkRight renders img as a camera would see it under uneven light: the
// left half's white at 200, the right half (the QR code's side) dimmed to
// a dark ground with its white at 90, black at 20 everywhere.
func darkRight(img *image.Gray) *image.Gray {
	w, h := img.Rect.Dx(), img.Rect.Dy()
	out := image.NewGray(img.Rect)
	for y := range h {
		for x := range w {
			v := int(img.Pix[y*img.Stride+x])
			white := 200
			if x >= w/2 {
				white = 90
			}
			out.Pix[y*out.Stride+x] = uint8(20 + (white-20)*v/255)
		}
	}
	return out
}

// TestShortCode128: a Code 128 whose text is not a payment code is a miss
// by default (what a texture fakes is short) and read with AnyText.
func TestShortCode128(t *testing.T) {
	png := decodetest.PNG(t, decodetest.Code128(t, "12345", 240, 80))
	if res, err := newDecoder(t, decode.Config{Budget: time.Minute}).Decode(context.Background(), png); !errors.Is(err, decode.ErrNotFound) {
		t.Fatalf("default: got %v, %v; want ErrNotFound", res, err)
	}
	res, err := newDecoder(t, decode.Config{Budget: time.Minute, AnyText: true}).Decode(context.Background(), png)
	if err != nil || res.Text != "12345" {
		t.Fatalf("AnyText: got %v, %v", res, err)
	}
}

// TestTwoCodesAtTheEdge: generated two-code frames (lanegen's "two",
// seed laneSeed) whose Code 128 lies near the top edge, above the middle
// half the fast stage scans, beside a QR code the fast stage reads, are
// refused. Frame 5's bars are about 1.7 px per module and read only in
// the frame enlarged 3/2; frame 16's only in the rows of the hybrid
// matrix.
func TestTwoCodesAtTheEdge(t *testing.T) {
	d := newDecoder(t, decode.Config{Budget: time.Minute})
	c, ok := lanegen.ClassByName("two")
	if !ok {
		t.Fatal("no class two")
	}
	for _, i := range []int{5, 16} {
		s, err := lanegen.Generate(c, laneSeed, i)
		if err != nil {
			t.Fatal(err)
		}
		frame, err := s.Encode()
		if err != nil {
			t.Fatal(err)
		}
		if res, err := d.Decode(context.Background(), frame); !errors.Is(err, decode.ErrAmbiguous) {
			t.Errorf("frame %d: got %v, %v; want ErrAmbiguous", i, res, err)
		}
	}
}
