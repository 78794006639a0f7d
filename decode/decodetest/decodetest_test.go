package decodetest_test

import (
	"bytes"
	"image/color"
	"image/png"
	"testing"

	"github.com/paycode/paycode/decode/decodetest"
)

// TestPNGDeclaring: the standard decoder reads the declared size and a
// gray 8-bit model from the header.
func TestPNGDeclaring(t *testing.T) {
	b := decodetest.PNGDeclaring(100000, 7)
	cfg, err := png.DecodeConfig(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Width != 100000 || cfg.Height != 7 {
		t.Errorf("declared %dx%d, want 100000x7", cfg.Width, cfg.Height)
	}
	if cfg.ColorModel != color.GrayModel {
		t.Errorf("colour model %v, want gray", cfg.ColorModel)
	}
}

// TestQRQuietZone: a rendered code has the asked size and a white border.
func TestQRQuietZone(t *testing.T) {
	img := decodetest.QR(t, "281001020123456789012345", 120)
	if b := img.Bounds(); b.Dx() != 120 || b.Dy() != 120 {
		t.Fatalf("bounds %v, want 120x120", b)
	}
	if img.Pix[0] != 0xff || img.Pix[len(img.Pix)-1] != 0xff {
		t.Error("corners are not white")
	}
	var black int
	for _, p := range img.Pix {
		if p == 0 {
			black++
		}
	}
	if black == 0 {
		t.Error("no black module")
	}
}
