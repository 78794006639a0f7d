// Package codeimage draws payment codes as the pictures a customer's
// phone shows a lane's camera: a QR code or a Code 128 barcode, as PNG,
// sized for a phone screen. `paycode code -png` and the status page's
// test codes use it; paycode's decoder (decode) reads them back.
//
// The images are plain black on white with the quiet zone each symbology
// needs; nothing in them but the code, so they are for test codes only.
package codeimage

import (
	"bytes"
	"errors"
	"fmt"
	"image"
	"image/png"

	"github.com/makiuchi-d/gozxing"
	"github.com/makiuchi-d/gozxing/oned"
	"github.com/makiuchi-d/gozxing/qrcode"
)

// Format is the symbology drawn.
type Format uint8

const (
	QR      Format = iota // QR code, error correction M
	Code128               // Code 128 (digits pack two per symbol)
)

func (f Format) String() string {
	if f == Code128 {
		return "code128"
	}
	return "qr"
}

// Sizes for a phone screen (pixels): a QR code about half a 1080-pixel
// wide screen, a barcode most of its width and a third of it high.
const (
	QRSide        = 480
	BarcodeWidth  = 720
	BarcodeHeight = 240
)

// pngEncoder favours speed: the status page draws a code per outcome row
// on every refresh, and two-tone images compress well at any level.
var pngEncoder = png.Encoder{CompressionLevel: png.BestSpeed}

// ErrEmpty is returned for an empty text.
var ErrEmpty = errors.New("codeimage: nothing to draw")

// PNG draws text in format f at the phone-screen size.
func PNG(text string, f Format) ([]byte, error) {
	if f == Code128 {
		return SizedPNG(text, f, BarcodeWidth, BarcodeHeight)
	}
	return SizedPNG(text, f, QRSide, QRSide)
}

// SizedPNG draws text in format f in a width×height image (the symbol
// keeps its proportions and quiet zone; a too small size gets the
// symbol's least).
func SizedPNG(text string, f Format, width, height int) ([]byte, error) {
	if text == "" {
		return nil, ErrEmpty
	}
	var (
		m   *gozxing.BitMatrix
		err error
	)
	switch f {
	case QR:
		m, err = qrcode.NewQRCodeWriter().Encode(text, gozxing.BarcodeFormat_QR_CODE, width, height,
			map[gozxing.EncodeHintType]any{gozxing.EncodeHintType_ERROR_CORRECTION: "M", gozxing.EncodeHintType_MARGIN: 4})
	case Code128:
		m, err = oned.NewCode128Writer().Encode(text, gozxing.BarcodeFormat_CODE_128, width, height,
			map[gozxing.EncodeHintType]any{gozxing.EncodeHintType_MARGIN: 20})
	default:
		return nil, fmt.Errorf("codeimage: unknown format %d", f)
	}
	if err != nil {
		return nil, fmt.Errorf("codeimage: %s: %w", f, err)
	}
	img := image.NewGray(image.Rect(0, 0, m.GetWidth(), m.GetHeight()))
	for y := range m.GetHeight() {
		row := img.Pix[y*img.Stride:]
		for x := range m.GetWidth() {
			if !m.Get(x, y) {
				row[x] = 0xff
			}
		}
	}
	var buf bytes.Buffer
	if err := pngEncoder.Encode(&buf, img); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}
