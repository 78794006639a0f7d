package decode_test

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/paycode/paycode/decode"
	"github.com/paycode/paycode/decode/decodetest"
)

// fuzzConfig keeps each fuzz input cheap: small frames and a short budget,
// so the fuzzer spends its time on parsing and gozxing's edge cases.
var fuzzConfig = decode.Config{
	Workers:   1,
	MaxBytes:  1 << 20,
	MaxPixels: 1 << 20,
	Budget:    50 * time.Millisecond,
}

// checkOutcome asserts the API contract for any input: either a plausible
// Result, or an error that is one of the documented sentinels for that
// situation and carries the package prefix. A panic escaping Decode fails
// the fuzzer by itself; a panic recovered inside surfaces as ErrInternal,
// which is allowed (that recovery is the guarantee being tested) but
// logged, since it points at a gozxing bug worth a look.
func checkOutcome(t *testing.T, res decode.Result, err error) {
	t.Helper()
	if err == nil {
		if res.Symbology != decode.QRCode && res.Symbology != decode.Code128 {
			t.Fatalf("symbology %v not enabled", res.Symbology)
		}
		if res.Stage == decode.StageNone {
			t.Fatal("success without a stage")
		}
		if res.Text == "" {
			t.Fatal("success with empty text")
		}
		if res.Symbology != decode.QRCode && !decode.IsPaymentCode(res.Text) {
			t.Fatalf("a %v whose text is no payment code", res.Symbology)
		}
		if res.Rotated%90 != 0 || res.Rotated < 0 || res.Rotated >= 360 {
			t.Fatalf("rotated %d", res.Rotated)
		}
		return
	}
	if !strings.HasPrefix(err.Error(), "decode: ") {
		t.Fatalf("error without prefix: %v", err)
	}
	switch {
	case errors.Is(err, decode.ErrFormat), errors.Is(err, decode.ErrTooLarge),
		errors.Is(err, decode.ErrNotFound), errors.Is(err, decode.ErrBudget), errors.Is(err, decode.ErrAmbiguous):
	case errors.Is(err, decode.ErrInternal):
		t.Logf("recovered panic: %v", err)
	default:
		t.Fatalf("unexpected error %v", err)
	}
}

// FuzzDecode feeds arbitrary bytes to Decode. Seeds (testdata/fuzz/
// FuzzDecode) are small PNG, GIF and JPEG codes, truncated and oversized
// headers, and textures that fake barcodes (woven fabric, brick, keyboard,
// stripes, printed digits; texture-*); two generated ones are added here.
func FuzzDecode(f *testing.F) {
	f.Add(decodetest.PNG(f, decodetest.QR(f, payCode, 60)))
	f.Add(encodeJPEG(f, decodetest.Code128(f, "12345", 120, 20), 90))
	d := newDecoder(f, fuzzConfig)
	f.Fuzz(func(t *testing.T, data []byte) {
		orig := bytes.Clone(data)
		res, err := d.Decode(context.Background(), data)
		checkOutcome(t, res, err)
		if !bytes.Equal(orig, data) {
			t.Fatal("Decode modified its input")
		}
	})
}

// FuzzDecodeGray feeds arbitrary frames and dimensions (negative, zero,
// inconsistent with the buffer) to DecodeGray, and checks that the frame is
// never written to. Seeds include the texture negatives (texture-*).
func FuzzDecodeGray(f *testing.F) {
	qr := decodetest.QR(f, payCode, 64)
	f.Add(qr.Pix, int16(64), int16(64))
	f.Add([]byte{0, 255, 0, 255}, int16(2), int16(2))
	d := newDecoder(f, fuzzConfig)
	f.Fuzz(func(t *testing.T, pix []byte, width, height int16) {
		orig := bytes.Clone(pix)
		res, err := d.DecodeGray(context.Background(), pix, int(width), int(height))
		checkOutcome(t, res, err)
		valid := width > 0 && height > 0 && int(width)*int(height) <= len(pix)
		if !valid && !errors.Is(err, decode.ErrFormat) {
			t.Fatalf("invalid frame %dx%d of %d bytes: err %v, want ErrFormat", width, height, len(pix), err)
		}
		if !bytes.Equal(orig, pix) {
			t.Fatal("DecodeGray modified its input")
		}
	})
}
