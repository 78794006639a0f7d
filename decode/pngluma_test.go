package decode

import (
	"bytes"
	"compress/zlib"
	"context"
	"encoding/binary"
	"hash/crc32"
	"image"
	"image/color"
	"image/png"
	"math/rand/v2"
	"testing"

	"github.com/paycode/paycode/decode/decodetest"
	"github.com/paycode/paycode/decode/internal/lanegen"
)

// rawPNG writes a PNG by hand: rows (each its bytes, unfiltered) filtered
// with filters[y % len(filters)], the zlib stream split over idats IDAT
// chunks, extra chunks (type, body) before the IDATs. image/png's encoder
// picks its own filters; this covers all five on every pixel size.
func rawPNG(t testing.TB, w, h int, ct byte, depth byte, rows [][]byte, filters []byte, idats int, extra ...[2]string) []byte {
	t.Helper()
	var out bytes.Buffer
	out.WriteString("\x89PNG\r\n\x1a\n")
	chunk := func(typ string, body []byte) { decodetest.PNGChunk(&out, typ, body) }
	ihdr := make([]byte, 13)
	binary.BigEndian.PutUint32(ihdr[0:], uint32(w))
	binary.BigEndian.PutUint32(ihdr[4:], uint32(h))
	ihdr[8], ihdr[9] = depth, ct
	chunk("IHDR", ihdr)
	for _, e := range extra {
		chunk(e[0], []byte(e[1]))
	}
	bpp := map[byte]int{0: 1, 2: 3, 6: 4, 4: 2}[ct]
	var z bytes.Buffer
	zw := zlib.NewWriter(&z)
	prev := make([]byte, len(rows[0]))
	for y, row := range rows {
		ft := filters[y%len(filters)]
		f := make([]byte, len(row))
		for i := range row {
			var a, c byte
			if i >= bpp {
				a, c = row[i-bpp], prev[i-bpp]
			}
			b := prev[i]
			switch ft {
			case 0:
				f[i] = row[i]
			case 1:
				f[i] = row[i] - a
			case 2:
				f[i] = row[i] - b
			case 3:
				f[i] = row[i] - byte((int(a)+int(b))/2)
			case 4:
				pa, pb, pc := abs(int(b)-int(c)), abs(int(a)-int(c)), abs(int(a)+int(b)-2*int(c))
				pred := c
				if pa <= pb && pa <= pc {
					pred = a
				} else if pb <= pc {
					pred = b
				}
				f[i] = row[i] - pred
			default:
				f[i] = row[i]
			}
		}
		zw.Write([]byte{ft})
		zw.Write(f)
		prev = row
	}
	zw.Close()
	data := z.Bytes()
	for i := range idats {
		chunk("IDAT", data[i*len(data)/idats:(i+1)*len(data)/idats])
	}
	chunk("IEND", nil)
	return out.Bytes()
}

// randomRows is h rows of w pixels of bpp bytes: gradients with noise and
// flat runs, so that every filter sees carries, ties and wraps.
func randomRows(r *rand.Rand, w, h, bpp int) [][]byte {
	rows := make([][]byte, h)
	for y := range rows {
		rows[y] = make([]byte, w*bpp)
		for i := range rows[y] {
			switch r.IntN(4) {
			case 0:
				rows[y][i] = byte(r.IntN(256))
			case 1:
				rows[y][i] = byte(i*3 + y*5)
			case 2:
				rows[y][i] = 255
			default:
				rows[y][i] = 0
			}
		}
	}
	return rows
}

// stdLuma is what the decoder did before pngLuma: image/png, then lumaOf.
func stdLuma(t testing.TB, data []byte) (plane, bool) {
	img, err := png.Decode(bytes.NewReader(data))
	if err != nil {
		return plane{}, false
	}
	return lumaOf(img, nil), true
}

func samePlane(a, b plane) bool {
	if a.w != b.w || a.h != b.h {
		return false
	}
	for y := range a.h {
		if !bytes.Equal(a.row(y), b.row(y)) {
			return false
		}
	}
	return true
}

// TestPNGLumaExact: the fast path gives image/png and lumaOf's plane, bit
// for bit, on gray, RGB and RGBA (alpha from 0 to 255) frames with every
// filter type, one or several IDAT chunks and ancillary chunks, and on
// image/png's own encodings at each compression level; anything else
// (16-bit, gray with alpha, palette, tRNS, interlaced, a bad CRC, a bad
// filter type, too little or too much pixel data, no IEND, a bomb past the
// rows) is left to image/png.
func TestPNGLumaExact(t *testing.T) {
	ctx := context.Background()
	r := rand.New(rand.NewPCG(1, 2))
	fast := func(t *testing.T, data []byte) {
		t.Helper()
		got, ok, err := pngLuma(ctx, data, DefaultMaxPixels, nil)
		if err != nil || !ok {
			t.Fatalf("not read by the fast path: %v", err)
		}
		want, ok := stdLuma(t, data)
		if !ok {
			t.Fatal("image/png rejects what the fast path read")
		}
		if !samePlane(got, want) {
			t.Fatal("planes differ")
		}
	}
	for _, ct := range []byte{0, 2, 6} {
		bpp := map[byte]int{0: 1, 2: 3, 6: 4}[ct]
		for _, size := range [][2]int{{1, 1}, {3, 2}, {37, 23}, {640, 48}} {
			rows := randomRows(r, size[0], size[1], bpp)
			for _, filters := range [][]byte{{0}, {1}, {2}, {3}, {4}, {0, 1, 2, 3, 4}, {4, 3, 2, 1}} {
				for _, idats := range []int{1, 3} {
					t.Run("", func(t *testing.T) {
						fast(t, rawPNG(t, size[0], size[1], ct, 8, rows, filters, idats, [2]string{"gAMA", "\x00\x00\xb1\x8f"}, [2]string{"tEXt", "a\x00b"}))
					})
				}
			}
		}
	}
	// image/png's encoder, its filter choice, on the image types it
	// writes as 8-bit gray, RGB and RGBA.
	gray := image.NewGray(image.Rect(0, 0, 97, 61))
	rgba := image.NewRGBA(gray.Rect)
	nrgba := image.NewNRGBA(gray.Rect)
	for i := range gray.Pix {
		gray.Pix[i] = byte(r.IntN(256) & ^(i & 0x30))
	}
	for i := range rgba.Pix {
		rgba.Pix[i] = byte(r.IntN(256) | 0xc0)
		if i%4 == 3 {
			rgba.Pix[i] = 0xff
		}
		nrgba.Pix[i] = byte(r.IntN(256))
	}
	for _, img := range []image.Image{gray, rgba, nrgba} {
		for _, lvl := range []png.CompressionLevel{png.DefaultCompression, png.NoCompression, png.BestSpeed, png.BestCompression} {
			var b bytes.Buffer
			if err := (&png.Encoder{CompressionLevel: lvl}).Encode(&b, img); err != nil {
				t.Fatal(err)
			}
			t.Run("", func(t *testing.T) { fast(t, b.Bytes()) })
		}
	}

	rows := randomRows(r, 20, 10, 1)
	good := rawPNG(t, 20, 10, 0, 8, rows, []byte{0, 1, 2, 3, 4}, 2)
	fast(t, good)
	flip := func(i int) []byte { b := bytes.Clone(good); b[i] ^= 1; return b }
	var long [][]byte
	for range 11 {
		long = append(long, rows[0])
	}
	var transparent bytes.Buffer
	if err := png.Encode(&transparent, &image.Paletted{Pix: make([]byte, 4), Stride: 2, Rect: image.Rect(0, 0, 2, 2), Palette: color.Palette{color.Gray{7}}}); err != nil {
		t.Fatal(err)
	}
	interlaced := bytes.Clone(good)
	interlaced[8+8+12] = 1 // IHDR's interlace byte
	binary.BigEndian.PutUint32(interlaced[8+8+13:], crc32.ChecksumIEEE(interlaced[8+4:8+8+13]))
	ga := randomRows(r, 5, 5, 2)
	for name, data := range map[string][]byte{
		"16-bit":           rawPNG(t, 10, 10, 0, 16, randomRows(r, 20, 10, 1), []byte{0}, 1),
		"gray and alpha":   rawPNG(t, 5, 5, 4, 8, ga, []byte{0}, 1),
		"palette":          transparent.Bytes(),
		"tRNS":             rawPNG(t, 20, 10, 0, 8, rows, []byte{0}, 1, [2]string{"tRNS", "\x00\x07"}),
		"interlaced":       interlaced,
		"bad IHDR CRC":     flip(8 + 8 + 13),
		"bad IDAT data":    flip(8 + 25 + 8 + 3),
		"bad filter type":  rawPNG(t, 20, 10, 0, 8, rows, []byte{0, 5}, 1),
		"too little data":  rawPNG(t, 20, 11, 0, 8, rows, []byte{0}, 1),
		"too much data":    rawPNG(t, 20, 10, 0, 8, long, []byte{0}, 1),
		"no IEND":          good[:len(good)-12],
		"IDAT after other": idatSplit(t, rawPNG(t, 20, 10, 0, 8, rows, []byte{0}, 2)),
		"not a PNG":        []byte("GIF89a"),
	} {
		t.Run(name, func(t *testing.T) {
			if _, ok, err := pngLuma(ctx, data, DefaultMaxPixels, nil); ok || err != nil {
				t.Fatalf("fast path took it: ok %v err %v", ok, err)
			}
		})
	}
	t.Run("too many pixels", func(t *testing.T) {
		if _, ok, _ := pngLuma(ctx, good, 199, nil); ok {
			t.Fatal("fast path took 200 pixels over a limit of 199")
		}
	})
	t.Run("cancelled", func(t *testing.T) {
		c, cancel := context.WithCancel(ctx)
		cancel()
		if _, ok, err := pngLuma(c, good, DefaultMaxPixels, nil); ok || err == nil {
			t.Fatalf("ok %v err %v, want the context's error", ok, err)
		}
	})
}

// idatSplit puts a tEXt chunk between the first two IDAT chunks of data.
func idatSplit(t *testing.T, data []byte) []byte {
	t.Helper()
	i := bytes.Index(data, []byte("IDAT"))
	j := i + bytes.Index(data[i+4:], []byte("IDAT")) + 4 - 4 // the second IDAT's length
	if i < 0 || j <= i {
		t.Fatal("fewer than two IDAT chunks")
	}
	text := []byte("\x00\x00\x00\x03tEXta\x00b")
	text = binary.BigEndian.AppendUint32(text, crc32.ChecksumIEEE(text[4:]))
	return append(append(bytes.Clone(data[:j]), text...), data[j:]...)
}

// FuzzPNGLuma: whatever the bytes, a plane the fast path returns is the
// one image/png and lumaOf give, and image/png accepts the file. Seeds
// (testdata/fuzz/FuzzPNGLuma): a QR code, a zlib bomb past the rows,
// truncated data, inputs the fuzzer found, and the three layouts here.
func FuzzPNGLuma(f *testing.F) {
	r := rand.New(rand.NewPCG(3, 4))
	for _, ct := range []byte{0, 2, 6} {
		bpp := map[byte]int{0: 1, 2: 3, 6: 4}[ct]
		f.Add(rawPNG(f, 9, 7, ct, 8, randomRows(r, 9, 7, bpp), []byte{0, 1, 2, 3, 4}, 2))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		got, ok, err := pngLuma(context.Background(), data, 1<<20, nil)
		if err != nil {
			t.Fatal(err)
		}
		if !ok {
			return
		}
		want, ok := stdLuma(t, data)
		if !ok {
			t.Fatal("image/png rejects what the fast path read")
		}
		if !samePlane(got, want) {
			t.Fatal("planes differ")
		}
	})
}

// BenchmarkPNGLuma: a generated 640×480 frame without a code (lanegen
// negative, gray PNG as run.sh writes it) to a luminance plane, through
// image/png and lumaOf and through pngLuma.
//
//	go test -run '^$' -bench PNGLuma -cpu 1 ./decode/
func BenchmarkPNGLuma(b *testing.B) {
	c, ok := lanegen.ClassByName("negative")
	if !ok {
		b.Fatal("no class negative")
	}
	s, err := lanegen.Generate(c, 1, 0)
	if err != nil {
		b.Fatal(err)
	}
	data, err := s.Encode()
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	var mem arena
	b.Run("image-png", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			img, err := decodeImage(ctx, data, DefaultMaxPixels)
			if err != nil {
				b.Fatal(err)
			}
			lumaOf(img, &mem)
			mem.reset()
		}
	})
	b.Run("fast", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, ok, err := pngLuma(ctx, data, DefaultMaxPixels, &mem); !ok || err != nil {
				b.Fatal("not read")
			}
			mem.reset()
		}
	})
}
