// Package decodetest provides images for tests of the decode package and
// of the code that calls it (engine/httpapi, ...): payment codes rendered
// as QR and Code 128 pictures with gozxing's writers, PNG files, a PNG
// header that declares any size, and the directory of the photographed
// corpus. Like net/http/httptest it is for tests only.
//
// The accuracy tests render with decode/internal/lanegen instead, so that
// the decoder is not graded against its own encoder; these helpers are for
// tests that need a clean, readable code.
package decodetest

import (
	"bytes"
	"encoding/binary"
	"hash/crc32"
	"image"
	"image/png"
	"os"
	"path/filepath"
	"testing"

	"github.com/makiuchi-d/gozxing"
	"github.com/makiuchi-d/gozxing/oned"
	"github.com/makiuchi-d/gozxing/qrcode"
)

// Gray renders a gozxing bit matrix (true = black) as a gray image, black
// on white.
func Gray(m *gozxing.BitMatrix) *image.Gray {
	img := image.NewGray(image.Rect(0, 0, m.GetWidth(), m.GetHeight()))
	for y := 0; y < m.GetHeight(); y++ {
		for x := 0; x < m.GetWidth(); x++ {
			if !m.Get(x, y) {
				img.Pix[y*img.Stride+x] = 0xff
			}
		}
	}
	return img
}

// QR renders text as a QR code of side px pixels, quiet zone included. It
// fails tb if text cannot be encoded.
func QR(tb testing.TB, text string, px int) *image.Gray {
	tb.Helper()
	m, err := qrcode.NewQRCodeWriter().Encode(text, gozxing.BarcodeFormat_QR_CODE, px, px, nil)
	if err != nil {
		tb.Fatal(err)
	}
	return Gray(m)
}

// Code128 renders text as a Code 128 barcode of w x h pixels, quiet zone
// included. It fails tb if text cannot be encoded.
func Code128(tb testing.TB, text string, w, h int) *image.Gray {
	tb.Helper()
	m, err := oned.NewCode128Writer().Encode(text, gozxing.BarcodeFormat_CODE_128, w, h, nil)
	if err != nil {
		tb.Fatal(err)
	}
	return Gray(m)
}

// Beside draws imgs left to right on one white frame, gap pixels apart
// and around: a frame holding several codes.
func Beside(gap int, imgs ...*image.Gray) *image.Gray {
	w, h := gap, 0
	for _, m := range imgs {
		w += m.Rect.Dx() + gap
		h = max(h, m.Rect.Dy())
	}
	out := image.NewGray(image.Rect(0, 0, w, h+2*gap))
	for i := range out.Pix {
		out.Pix[i] = 0xff
	}
	x := gap
	for _, m := range imgs {
		for y := 0; y < m.Rect.Dy(); y++ {
			copy(out.Pix[(gap+y)*out.Stride+x:], m.Pix[y*m.Stride:y*m.Stride+m.Rect.Dx()])
		}
		x += m.Rect.Dx() + gap
	}
	return out
}

// PNG encodes img as a PNG file. It fails tb if encoding fails.
func PNG(tb testing.TB, img image.Image) []byte {
	tb.Helper()
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		tb.Fatal(err)
	}
	return b.Bytes()
}

// PNGChunk writes one PNG chunk to b: length, type, data and the CRC of
// type and data.
func PNGChunk(b *bytes.Buffer, typ string, data []byte) {
	var n [4]byte
	binary.BigEndian.PutUint32(n[:], uint32(len(data)))
	b.Write(n[:])
	b.WriteString(typ)
	b.Write(data)
	c := crc32.NewIEEE()
	c.Write([]byte(typ))
	c.Write(data)
	binary.BigEndian.PutUint32(n[:], c.Sum32())
	b.Write(n[:])
}

// PNGDeclaring builds a syntactically valid PNG whose IHDR declares w x h
// 8-bit grayscale, followed by a tiny IDAT: what an attacker sends to make
// a decoder allocate w*h bytes (a decompression bomb's shape).
func PNGDeclaring(w, h uint32) []byte {
	var b bytes.Buffer
	b.WriteString("\x89PNG\r\n\x1a\n")
	chunk := func(typ string, data []byte) { PNGChunk(&b, typ, data) }
	ihdr := make([]byte, 13)
	binary.BigEndian.PutUint32(ihdr[0:], w)
	binary.BigEndian.PutUint32(ihdr[4:], h)
	ihdr[8], ihdr[9] = 8, 0 // bit depth 8, grayscale
	chunk("IHDR", ihdr)
	chunk("IDAT", []byte{0x78, 0x9c, 0x63, 0x00, 0x00, 0x00, 0x01, 0x00, 0x01}) // zlib of one zero byte
	chunk("IEND", nil)
	return b.Bytes()
}

// CorpusDir locates the photographed-barcode corpus: $PAYCODE_CORPUS, or
// testdata/corpus at the module root (ZXing's blackbox images, committed
// with their licence notice, so a plain clone has them). A missing corpus
// fails tb rather than skipping: a gate over the corpus must not pass
// vacuously.
func CorpusDir(tb testing.TB) string {
	tb.Helper()
	if dir := os.Getenv("PAYCODE_CORPUS"); dir != "" {
		if _, err := os.Stat(filepath.Join(dir, "README.md")); err != nil {
			tb.Fatalf("PAYCODE_CORPUS=%s is not the decoder corpus: %v", dir, err)
		}
		return dir
	}
	root, err := os.Getwd()
	if err != nil {
		tb.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(root, "go.mod")); err == nil {
			break
		}
		parent := filepath.Dir(root)
		if parent == root {
			tb.Fatal("cannot find the module root (go.mod) above the test directory")
		}
		root = parent
	}
	dir := filepath.Join(root, "testdata", "corpus")
	if _, err := os.Stat(filepath.Join(dir, "README.md")); err != nil {
		tb.Fatalf("decoder corpus not found at %s: set PAYCODE_CORPUS to the directory holding qrcode-1/, qrcode-2/, qrcode-3/ and code128-1/ (see testdata/corpus/README.md)", dir)
	}
	return dir
}
