package decode_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/paycode/paycode/decode"
	"github.com/paycode/paycode/decode/decodetest"
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
