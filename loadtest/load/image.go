package load

import (
	"bytes"
	"image"
	"image/png"

	"github.com/makiuchi-d/gozxing"
	"github.com/makiuchi-d/gozxing/qrcode"
)

// Pay by image (engine/httpapi image.go): a multipart/form-data pay with
// a "request" part, the pay JSON without paymentMethodId, and an "image"
// part, a PNG of the code as the lane's camera would see it on the
// customer's screen.

// imageBoundary separates the parts; long and odd enough never to occur
// in a PNG.
const imageBoundary = "paycode-load-7c1f0e9a2b4d48e6a5c3"

// imageSide is the QR code's rendered width and height in pixels.
const imageSide = 132

var pngEncoder = png.Encoder{CompressionLevel: png.BestSpeed}

// appendQRPNG appends a PNG of a QR code holding text.
func appendQRPNG(dst []byte, text []byte) ([]byte, error) {
	m, err := qrcode.NewQRCodeWriter().Encode(string(text), gozxing.BarcodeFormat_QR_CODE, imageSide, imageSide, nil)
	if err != nil {
		return dst, err
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
	buf := bytes.NewBuffer(dst)
	if err := pngEncoder.Encode(buf, img); err != nil {
		return dst, err
	}
	return buf.Bytes(), nil
}

// appendImagePay writes the multipart body of a pay by image for p.
func (t *Targeter) appendImagePay(b []byte, p *Payment) []byte {
	b = append(b, "--"+imageBoundary+"\r\nContent-Disposition: form-data; name=\"request\"\r\nContent-Type: application/json\r\n\r\n"...)
	b = t.appendPayJSON(b, p, false)
	b = append(b, "\r\n--"+imageBoundary+"\r\nContent-Disposition: form-data; name=\"image\"; filename=\"code.png\"\r\nContent-Type: image/png\r\n\r\n"...)
	var cb [32]byte
	b, _ = appendQRPNG(b, t.AppendCode(cb[:0], p)) // a failure leaves no image: paycode answers PARAM_ILLEGAL, counted
	return append(b, "\r\n--"+imageBoundary+"--\r\n"...)
}
