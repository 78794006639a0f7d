package decode_test

import (
	"context"
	"errors"
	"fmt"
	"image"

	"github.com/makiuchi-d/gozxing"
	"github.com/makiuchi-d/gozxing/qrcode"

	"github.com/paycode/paycode/decode"
	"github.com/paycode/paycode/decode/decodetest"
)

// A camera hands over its Y plane; the decoder reads it in place. Printing
// the Result masks the payment code.
func ExampleDecoder_DecodeGray() {
	d, err := decode.New(decode.Config{}) // defaults: GOMAXPROCS workers, 200 ms budget, QR + Code 128
	if err != nil {
		panic(err)
	}
	defer d.Close()

	frame := exampleFrame("281001020123456789012345") // stands in for a camera frame
	res, err := d.DecodeGray(context.Background(), frame.Pix, frame.Rect.Dx(), frame.Rect.Dy())
	switch {
	case errors.Is(err, decode.ErrBusy):
		fmt.Println("overloaded, retry later")
	case err != nil:
		fmt.Println(err)
	default:
		fmt.Println(res.Symbology, decode.Mask(res.Text), res.Stage)
	}
	// Output: QR_CODE 281001**************2345 fast
}

func ExampleMask() {
	fmt.Println(decode.Mask("281001020123456789012345"))
	fmt.Println(decode.Mask("https://example.com/checkout"))
	fmt.Println(decode.Mask("abc"))
	// Output:
	// 281001**************2345
	// https:*kout
	// abc
}

func exampleFrame(text string) *image.Gray {
	m, err := qrcode.NewQRCodeWriter().Encode(text, gozxing.BarcodeFormat_QR_CODE, 240, 240, nil)
	if err != nil {
		panic(err)
	}
	return decodetest.Gray(m)
}
