package decode

import (
	"bytes"
	"context"
	"fmt"
	"image"
	"image/jpeg"
	"image/png"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/makiuchi-d/gozxing"
	"github.com/makiuchi-d/gozxing/oned"
	"github.com/makiuchi-d/gozxing/qrcode"

	"github.com/paycode/paycode/decode/internal/lanegen"
)

// benchFrame is a lane-like camera frame (lanegen's "plain" class: a code
// on a phone screen, slightly turned, mild blur and noise) at a camera
// resolution, in the three input forms.
type benchFrame struct {
	name      string
	sym       Symbology
	text      string
	gray      *image.Gray
	png, jpeg []byte
}

func benchFrames(b *testing.B) []benchFrame {
	b.Helper()
	fast, err := New(Config{Workers: 1, FastOnly: true})
	if err != nil {
		b.Fatal(err)
	}
	defer fast.Close()
	var out []benchFrame
	for _, c := range []struct {
		class string
		sym   Symbology
	}{{"qr/plain", QRCode}, {"code128/plain", Code128}} {
		class, _ := lanegen.ClassByName(c.class)
		for _, size := range [][2]int{{640, 480}, {1280, 720}} {
			// The first frame of the class that the fast stage reads.
			var s lanegen.Sample
			for i := 0; ; i++ {
				if s, err = lanegen.GenerateFrame(class, 1, i, size[0], size[1]); err != nil {
					b.Fatal(err)
				}
				if res, err := fast.DecodeImage(context.Background(), s.Img); err == nil && res.Text == s.Text {
					break
				}
				if i == 20 {
					b.Fatalf("%s %v: no frame read by the fast stage", c.class, size)
				}
			}
			var p, j bytes.Buffer
			if err := png.Encode(&p, s.Img); err != nil {
				b.Fatal(err)
			}
			// Colour JPEG (YCbCr 4:2:0) at a phone camera's quality.
			rgba := image.NewRGBA(s.Img.Rect)
			for i, v := range s.Img.Pix {
				rgba.Pix[4*i], rgba.Pix[4*i+1], rgba.Pix[4*i+2], rgba.Pix[4*i+3] = v, v, v, 0xff
			}
			if err := jpeg.Encode(&j, rgba, &jpeg.Options{Quality: 85}); err != nil {
				b.Fatal(err)
			}
			out = append(out, benchFrame{
				name: fmt.Sprintf("%s/%dx%d", c.sym.benchName(), size[0], size[1]),
				sym:  c.sym, text: s.Text, gray: s.Img, png: p.Bytes(), jpeg: j.Bytes(),
			})
		}
	}
	return out
}

func (s Symbology) benchName() string {
	if s == QRCode {
		return "qr"
	}
	return "code128"
}

// BenchmarkStages splits one fast-path decode of a 640x480 and a 1280x720
// frame into its parts, per input form (png, jpeg, gray = raw 8-bit frame):
//
//	imagedecode  PNG/JPEG bytes to image.Image (header check included)
//	luma         image.Image to luminance plane (in place for Gray/YCbCr)
//	binarize     hybrid binarizer over the whole plane (the QR path's
//	             black matrix; 1D binarizes row by row inside symbol)
//	symbol       QR: detect and decode on the cached black matrix;
//	             Code 128: OneDReader's row scans, row binarizing included
//	attempt      the whole fast-stage gozxing pass on a plane: binarizer,
//	             1D rows (which a QR frame pays for too), QR
//	total        Decoder.Decode / DecodeGray end to end, hand-off included
//
// For one-core figures run with -cpu 1.
func BenchmarkStages(b *testing.B) {
	ctx := context.Background()
	set := setOf(DefaultSymbologies())
	for _, fr := range benchFrames(b) {
		inputs := []struct {
			name string
			data []byte
		}{{"png", fr.png}, {"jpeg", fr.jpeg}, {"gray", nil}}
		for _, in := range inputs {
			prefix := fr.name + "/" + in.name + "/"
			var img image.Image = fr.gray
			if in.data != nil {
				var err error
				if img, err = decodeImage(ctx, in.data, DefaultMaxPixels); err != nil {
					b.Fatal(err)
				}
				b.Run(prefix+"imagedecode", func(b *testing.B) {
					b.ReportAllocs()
					for b.Loop() {
						if _, err := decodeImage(ctx, in.data, DefaultMaxPixels); err != nil {
							b.Fatal(err)
						}
					}
				})
			}
			var mem arena
			p := lumaOf(img, &mem)
			b.Run(prefix+"luma", func(b *testing.B) {
				b.ReportAllocs()
				for b.Loop() {
					_ = lumaOf(img, &mem)
					mem.reset()
				}
			})
			p = lumaOf(img, nil) // stable copy for the rest
			b.Run(prefix+"binarize", func(b *testing.B) {
				b.ReportAllocs()
				for b.Loop() {
					if _, err := gozxing.NewHybridBinarizer(newSource(p, nil, nil)).GetBlackMatrix(); err != nil {
						b.Fatal(err)
					}
				}
			})
			b.Run(prefix+"symbol", func(b *testing.B) {
				easy := map[gozxing.DecodeHintType]interface{}{}
				if fr.sym == QRCode {
					r := qrcode.NewQRCodeReader()
					bmp, _ := gozxing.NewBinaryBitmap(gozxing.NewHybridBinarizer(newSource(p, nil, nil)))
					if _, err := bmp.GetBlackMatrix(); err != nil {
						b.Fatal(err)
					}
					b.ReportAllocs()
					for b.Loop() {
						if res, err := r.Decode(bmp, easy); err != nil || res.GetText() != fr.text {
							b.Fatalf("QR: %v", err)
						}
					}
					return
				}
				rows := newMultiRowDecoder(set, false)
				r := oned.NewOneDReader(rows)
				b.ReportAllocs()
				for b.Loop() {
					bmp, _ := gozxing.NewBinaryBitmap(gozxing.NewHybridBinarizer(newSource(p, nil, nil)))
					if res, err := r.Decode(bmp, easy); err != nil || res.GetText() != fr.text {
						b.Fatalf("Code 128: %v", err)
					}
					rows.reset()
				}
			})
			b.Run(prefix+"attempt", func(b *testing.B) {
				cfg := DefaultConfig()
				w := &worker{d: &Decoder{}, cfg: &cfg, set: set, readers: newReaders(set, cfg.AnyText)}
				b.ReportAllocs()
				for b.Loop() {
					if f, err := w.attempt(StageFast, p, hybrid, nil); err != nil || f.text != fr.text {
						b.Fatalf("fast attempt: %v", err)
					}
					w.mem.reset()
				}
			})
			b.Run(prefix+"total", func(b *testing.B) {
				d, err := New(Config{Workers: 1})
				if err != nil {
					b.Fatal(err)
				}
				defer d.Close()
				run := func() (Result, error) {
					if in.data == nil {
						return d.DecodeGray(ctx, fr.gray.Pix, fr.gray.Rect.Dx(), fr.gray.Rect.Dy())
					}
					return d.Decode(ctx, in.data)
				}
				if res, err := run(); err != nil || res.Text != fr.text || res.Stage != StageFast {
					b.Fatalf("not a fast-path decode: %v %v", res, err)
				}
				b.ReportAllocs()
				var lat []time.Duration
				for b.Loop() {
					t := time.Now()
					if _, err := run(); err != nil {
						b.Fatal(err)
					}
					lat = append(lat, time.Since(t))
				}
				reportP50(b, lat)
			})
		}
	}
}

// reportP50 adds the median latency of the loop's calls as "p50-ms".
func reportP50(b *testing.B, lat []time.Duration) {
	if len(lat) == 0 {
		return
	}
	s := slices.Clone(lat)
	slices.Sort(s)
	b.ReportMetric(float64(s[len(s)/2])/1e6, "p50-ms")
}

// BenchmarkFallbackAttempt: one attempt of each kind on a frame of
// DefaultDownscaleAbove pixels with no code in it (mid-gray noise), the
// worst case for the finder, in ns per pixel. The figures behind
// DefaultDownscaleAbove's comment.
//
//	go test -run '^$' -bench FallbackAttempt -cpu 1 ./decode/
func BenchmarkFallbackAttempt(b *testing.B) {
	const w = 2048
	h := DefaultDownscaleAbove / w
	r := rand.New(rand.NewPCG(1, 2))
	pix := make([]byte, w*h)
	for i := range pix {
		pix[i] = byte(100 + r.IntN(80))
	}
	p := plane{pix: pix, stride: w, w: w, h: h}
	set := setOf(DefaultSymbologies())
	cfg := DefaultConfig()
	wk := &worker{d: &Decoder{}, cfg: &cfg, set: set, readers: newReaders(set, cfg.AnyText)}
	for _, a := range []struct {
		st  Stage
		bin binarizer
	}{{StageFast, hybrid}, {StageTryHarder, hybrid}, {StageGlobal, global}} {
		b.Run(a.st.String(), func(b *testing.B) {
			for b.Loop() {
				if _, err := wk.attempt(a.st, p, a.bin, nil); err == nil {
					b.Fatal("a code was found in noise")
				}
				wk.mem.reset()
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(w*h), "ns/px")
		})
	}
}
