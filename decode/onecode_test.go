package decode

import (
	"image"
	"testing"

	"github.com/makiuchi-d/gozxing"
	"github.com/makiuchi-d/gozxing/qrcode"

	"github.com/paycode/paycode/decode/decodetest"
)

// TestCrossingOutside: the one-code check's finder pass is skipped for a
// QR code alone in its frame (on a plain ground, turned, small), and run
// whenever another finder-like mark lies outside the symbol read: a
// second QR code beside it, below it, or much smaller in a corner.
func TestCrossingOutside(t *testing.T) {
	const code, other = "281001020123456789012345", "281001020123456789099999"
	// stack puts b under a, gap rows apart; turn turns img 90°.
	stack := func(gap int, a, b *image.Gray) *image.Gray {
		out := image.NewGray(image.Rect(0, 0, max(a.Rect.Dx(), b.Rect.Dx()), a.Rect.Dy()+gap+b.Rect.Dy()))
		for i := range out.Pix {
			out.Pix[i] = 255
		}
		for y := range a.Rect.Dy() {
			copy(out.Pix[y*out.Stride:], a.Pix[y*a.Stride:y*a.Stride+a.Rect.Dx()])
		}
		for y := range b.Rect.Dy() {
			copy(out.Pix[(a.Rect.Dy()+gap+y)*out.Stride:], b.Pix[y*b.Stride:y*b.Stride+b.Rect.Dx()])
		}
		return out
	}
	turn := func(img *image.Gray) *image.Gray {
		w, h := img.Rect.Dx(), img.Rect.Dy()
		out := image.NewGray(image.Rect(0, 0, h, w))
		for y := range h {
			for x := range w {
				out.Pix[x*out.Stride+h-1-y] = img.Pix[y*img.Stride+x]
			}
		}
		return out
	}
	qr := func(text string, px int) *image.Gray { return decodetest.QR(t, text, px) }
	corner := func(big, small *image.Gray) *image.Gray {
		out := image.NewGray(image.Rect(0, 0, big.Rect.Dx()+small.Rect.Dx()/2, big.Rect.Dy()+small.Rect.Dy()/2))
		for i := range out.Pix {
			out.Pix[i] = 255
		}
		for y := range big.Rect.Dy() {
			copy(out.Pix[y*out.Stride:], big.Pix[y*big.Stride:y*big.Stride+big.Rect.Dx()])
		}
		ox, oy := big.Rect.Dx()-small.Rect.Dx()/2, big.Rect.Dy()-small.Rect.Dy()/2
		for y := range small.Rect.Dy() {
			copy(out.Pix[(oy+y)*out.Stride+ox:], small.Pix[y*small.Stride:y*small.Stride+small.Rect.Dx()])
		}
		return out
	}
	tests := []struct {
		name    string
		img     image.Image
		outside bool
	}{
		{"one QR code", qr(code, 240), false},
		{"one QR code turned", turn(qr(code, 240)), false},
		{"one small QR code", qr(code, 60), false},
		{"two QR codes side by side", decodetest.Beside(30, qr(code, 200), qr(other, 200)), true},
		{"two QR codes one above the other", stack(30, qr(code, 200), qr(other, 200)), true},
		{"a small QR code at the corner", corner(qr(code, 240), qr(other, 60)), true},
	}
	cfg := DefaultConfig()
	set := setOf(DefaultSymbologies())
	w := &worker{d: &Decoder{}, cfg: &cfg, set: set, readers: newReaders(set, false)}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := lumaOf(tt.img, nil)
			bmp, err := gozxing.NewBinaryBitmap(newFastHybrid(newSource(p, nil, nil)))
			if err != nil {
				t.Fatal(err)
			}
			res, err := qrcode.NewQRCodeReader().Decode(bmp, nil)
			if err != nil {
				t.Fatalf("QR not read: %v", err)
			}
			m, _ := bmp.GetBlackMatrix()
			if got := w.crossingOutside(m, res.GetResultPoints()); got != tt.outside {
				t.Errorf("crossingOutside = %v, want %v", got, tt.outside)
			}
		})
	}
}
