package decode_test

import (
	"bytes"
	"context"
	"image"
	_ "image/gif"
	_ "image/jpeg"
	"testing"

	"github.com/makiuchi-d/gozxing"
	"github.com/makiuchi-d/gozxing/oned"
	"github.com/makiuchi-d/gozxing/qrcode"

	"github.com/paycode/paycode/decode"
	"github.com/paycode/paycode/decode/decodetest"
)

// BenchmarkDecodeFast measures one fast-path decode of a generated 24-digit
// payment code through the Decoder (worker hand-off included), per input
// form. The "stock" rows do the same with gozxing's documented path
// (image.Decode, NewBinaryBitmapFromImage, one reader) for comparison.
func BenchmarkDecodeFast(b *testing.B) {
	qr, c128 := qrFixture(b), c128Fixture(b)
	d := newDecoder(b, decode.Config{Workers: 1})
	ctx := context.Background()
	for _, fx := range []struct {
		name   string
		img    *image.Gray
		reader func() gozxing.Reader
	}{
		{"qr", qr, qrcode.NewQRCodeReader},
		{"code128", c128, oned.NewCode128Reader},
	} {
		pngData, jpegData := decodetest.PNG(b, fx.img), encodeJPEG(b, fx.img, 75)
		w, h := fx.img.Rect.Dx(), fx.img.Rect.Dy()
		run := func(name string, f func() (decode.Result, error)) {
			b.Run(fx.name+"/"+name, func(b *testing.B) {
				if res, err := f(); err != nil || res.Text != payCode || res.Stage != decode.StageFast {
					b.Fatalf("not a fast-path decode: %v, %v", res, err)
				}
				b.ReportAllocs()
				for b.Loop() {
					if _, err := f(); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
		run("png", func() (decode.Result, error) { return d.Decode(ctx, pngData) })
		run("jpeg", func() (decode.Result, error) { return d.Decode(ctx, jpegData) })
		run("gray", func() (decode.Result, error) { return d.DecodeGray(ctx, fx.img.Pix, w, h) })
		for _, in := range []struct {
			name string
			data []byte
		}{{"png", pngData}, {"jpeg", jpegData}} {
			b.Run(fx.name+"/"+in.name+"/stock", func(b *testing.B) {
				r := fx.reader()
				b.ReportAllocs()
				for b.Loop() {
					img, _, err := image.Decode(bytes.NewReader(in.data))
					if err != nil {
						b.Fatal(err)
					}
					bmp, err := gozxing.NewBinaryBitmapFromImage(img)
					if err != nil {
						b.Fatal(err)
					}
					if _, err := r.Decode(bmp, nil); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}

// BenchmarkCorpus decodes every corpus image once (as is, from its PNG
// bytes, default configuration) per iteration: the cost of a realistic mix
// where some images need fallback stages and a few are never read.
func BenchmarkCorpus(b *testing.B) {
	images := loadCorpus(b)
	d := newDecoder(b, decode.Config{Workers: 1})
	ctx := context.Background()
	b.ReportAllocs()
	decoded := 0
	for b.Loop() {
		decoded = 0
		for _, im := range images {
			if res, err := d.Decode(ctx, im.data); err == nil && res.Text == string(im.want) {
				decoded++
			}
		}
	}
	b.ReportMetric(float64(len(images)), "images/op")
	b.ReportMetric(float64(decoded), "decoded/op")
}
