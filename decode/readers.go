package decode

import (
	"errors"
	"math"
	"strings"
	"unicode/utf8"

	"github.com/makiuchi-d/gozxing"
	"github.com/makiuchi-d/gozxing/oned"
	"github.com/makiuchi-d/gozxing/oned/rss"
	"github.com/makiuchi-d/gozxing/qrcode"
)

// readers is one worker's set of gozxing readers and hint maps. Nothing in
// it is shared between workers: several gozxing 1D readers keep per-call
// scratch state in the reader (Code 39, Code 93, Codabar, ITF, the UPC/EAN
// family, RSS-14), and go test -race reports data races, and Codabar even
// panics, when one instance serves two goroutines. QR and Code 128 readers
// showed no race, but being per worker costs nothing and does not depend on
// that staying true.
type readers struct {
	qr       gozxing.Reader                         // nil unless QR is enabled
	capd     map[gozxing.DecodeHintType]interface{} // hard plus the finder-candidate cap (maxFinderCandidates)
	capf     map[gozxing.DecodeHintType]interface{} // easy plus the cap, for the fast stage
	seen     int                                    // finder candidates of the current capped QR pass
	fastSeen int                                    // finder candidates of the fast stage's QR read
	oned     *oned.OneDReader                       // nil unless a 1D symbology is enabled
	rows     *multiRowDecoder                       // the decoders behind oned
	easy     map[gozxing.DecodeHintType]interface{} // fast stage
	hard     map[gozxing.DecodeHintType]interface{} // every later stage
}

func newReaders(set symbolSet, anyText bool) *readers {
	r := &readers{
		easy: map[gozxing.DecodeHintType]interface{}{},
		hard: map[gozxing.DecodeHintType]interface{}{gozxing.DecodeHintType_TRY_HARDER: true},
	}
	if set.has(QRCode) {
		r.qr = qrcode.NewQRCodeReader()
		cb := gozxing.ResultPointCallback(func(gozxing.ResultPoint) {
			if r.seen++; r.seen > maxFinderCandidates {
				panic(errTooManyFinders)
			}
		})
		r.capd = map[gozxing.DecodeHintType]interface{}{
			gozxing.DecodeHintType_TRY_HARDER:                 true,
			gozxing.DecodeHintType_NEED_RESULT_POINT_CALLBACK: cb,
		}
		r.capf = map[gozxing.DecodeHintType]interface{}{gozxing.DecodeHintType_NEED_RESULT_POINT_CALLBACK: cb}
	}
	if set.has1D() {
		r.rows = newMultiRowDecoder(set, anyText)
		r.oned = oned.NewOneDReader(r.rows)
	}
	return r
}

// maxFinderCandidates caps the QR finder-pattern candidates of one capped
// pass. gozxing keeps every cross-checked finder-shaped mark and pairs them
// in O(n³) (FinderPatternFinder.SelectBestPatterns, and the multi-code
// finder likewise): a woven, brick or keyboard texture, marks all over,
// costs hundreds of milliseconds per attempt for nothing, while a QR code
// is three marks plus the few its data modules fake (a cluttered photo
// holding a code shows a few dozen). Past the cap the pass is a miss.
const maxFinderCandidates = 80

// errTooManyFinders ends a capped QR pass from inside gozxing's finder (its
// result-point callback is the only hook there); capped recovers it.
var errTooManyFinders = errors.New("decode: too many QR finder candidates")

// capped runs f, a QR pass whose hints are r.capd (or whose finder was
// given its callback), and turns the cap's panic into ErrNotFound. Any
// other panic goes on to the attempt's handler.
func (r *readers) capped(f func() (found, error)) (res found, err error) {
	r.seen = 0
	defer func() {
		if v := recover(); v != nil {
			if v != errTooManyFinders {
				panic(v)
			}
			res, err = found{}, ErrNotFound
		}
	}()
	return f()
}

// finderCallback is the cap's callback in hints, or nil.
func finderCallback(hints map[gozxing.DecodeHintType]interface{}) gozxing.ResultPointCallback {
	cb, _ := hints[gozxing.DecodeHintType_NEED_RESULT_POINT_CALLBACK].(gozxing.ResultPointCallback)
	return cb
}

// multiRowDecoder tries every enabled 1D row decoder on each scanned row,
// so one OneDReader pass (one binarization per row, one rotation under
// TRY_HARDER) serves all 1D symbologies. gozxing v0.1.1 has no
// MultiFormatOneDReader; this plays its part.
type multiRowDecoder struct {
	anyText  bool // see Config.AnyText
	decoders []oned.RowDecoder
	readers  []gozxing.Reader // for Reset: RSS-14 collects pairs across rows
	notFound error            // gozxing builds a new exception per call; one will do
	partial  int              // rows where a decoder got past its start pattern (or read implausible text)
}

var _ oned.RowDecoder = (*multiRowDecoder)(nil)

func newMultiRowDecoder(set symbolSet, anyText bool) *multiRowDecoder {
	m := &multiRowDecoder{anyText: anyText, notFound: gozxing.NewNotFoundException()}
	add := func(r gozxing.Reader) {
		m.decoders = append(m.decoders, r.(oned.RowDecoder))
		m.readers = append(m.readers, r)
	}
	// Code 128 first: it carries payment codes.
	if set.has(Code128) {
		add(oned.NewCode128Reader())
	}
	var upcean []gozxing.BarcodeFormat
	for _, f := range []struct {
		s Symbology
		f gozxing.BarcodeFormat
	}{{EAN13, gozxing.BarcodeFormat_EAN_13}, {UPCA, gozxing.BarcodeFormat_UPC_A}, {EAN8, gozxing.BarcodeFormat_EAN_8}, {UPCE, gozxing.BarcodeFormat_UPC_E}} {
		if set.has(f.s) {
			upcean = append(upcean, f.f)
		}
	}
	if len(upcean) > 0 {
		add(oned.NewMultiFormatUPCEANReader(map[gozxing.DecodeHintType]interface{}{
			gozxing.DecodeHintType_POSSIBLE_FORMATS: upcean,
		}))
	}
	if set.has(Code39) {
		add(oned.NewCode39Reader())
	}
	if set.has(Code93) {
		add(oned.NewCode93Reader())
	}
	if set.has(Codabar) {
		add(oned.NewCodaBarReader())
	}
	if set.has(ITF) {
		add(oned.NewITFReader())
	}
	if set.has(RSS14) {
		add(rss.NewRSS14Reader())
	}
	return m
}

// DecodeRow implements oned.RowDecoder. A reader's "not this symbology"
// (any ReaderException) moves on to the next reader; anything else ends the
// row, as in ZXing's MultiFormatOneDReader. A read whose text is not
// plausible (plausible1D) is a miss of that reader on this row, so the scan
// goes on to the next row: a texture that fakes a short Code 128 on one
// row must not hide, or stand in for, a real symbol on another.
func (m *multiRowDecoder) DecodeRow(rowNumber int, row *gozxing.BitArray, hints map[gozxing.DecodeHintType]interface{}) (*gozxing.Result, error) {
	for _, d := range m.decoders {
		res, err := d.DecodeRow(rowNumber, row, hints)
		if err == nil {
			if m.plausible1D(res.GetText()) {
				return res, nil
			}
			m.partial++
			continue
		}
		if _, ok := err.(gozxing.ReaderException); !ok {
			return nil, err
		}
		if _, ok := err.(gozxing.NotFoundException); !ok {
			m.partial++ // a checksum or format failure: a symbol may be there
		}
	}
	return nil, m.notFound
}

// plausible1D: never empty, and unless AnyText a payment code. A 1D
// symbol's only guard is one check character (mod 103 for Code 128), so a
// random bar pattern passes now and then; the payment-code shape (16 to 32
// digits, which in Code 128 is 8 to 16 code-C symbol characters between
// start and check) is a far stronger filter.
func (m *multiRowDecoder) plausible1D(text string) bool {
	if text == "" {
		return false
	}
	return m.anyText || isPaymentCode(text)
}

func (m *multiRowDecoder) reset() {
	for _, r := range m.readers {
		r.Reset()
	}
}

// found is what one successful attempt yields, before timing is added.
type found struct {
	text      string
	symbology Symbology
	rotated   int
}

// convert maps a gozxing result to ours. ok is false for formats this
// package does not report.
func convert(r *gozxing.Result) (found, bool) {
	sym := fromFormat(r.GetBarcodeFormat())
	if sym == SymbologyUnknown {
		return found{}, false
	}
	f := found{text: r.GetText(), symbology: sym}
	if f.text == "" {
		return found{}, false // never a payment code, nor anything to act on
	}
	if sym == QRCode {
		f.rotated = qrRotation(r.GetResultPoints())
		return f, true
	}
	// gozxing's Code 128 reader returns FNC4 (extended) characters as raw
	// ISO-8859-1 bytes; ZXing's Java reader returns them as characters. The
	// other 1D symbologies are ASCII, but are treated the same way should a
	// byte above 0x7f appear.
	if sym == Code128 || !utf8.ValidString(f.text) {
		f.text = latin1ToUTF8(f.text)
	}
	f.rotated = oneDRotation(r.GetResultMetadata())
	return f, true
}

// qrRotation derives the symbol's clockwise rotation from its finder
// patterns: gozxing reports bottom-left, top-left, top-right, and the
// top-left to top-right edge points right in an upright symbol. (A mirrored
// symbol's points are already swapped back by the reader.)
func qrRotation(points []gozxing.ResultPoint) int {
	if len(points) < 3 {
		return 0
	}
	dx := points[2].GetX() - points[1].GetX()
	dy := points[2].GetY() - points[1].GetY() // y grows downwards: clockwise positive
	quarter := int(math.Round(math.Atan2(dy, dx) / (math.Pi / 2)))
	return ((quarter%4 + 4) % 4) * 90
}

// oneDRotation converts OneDReader's ORIENTATION metadata to our clockwise
// convention. OneDReader records 180 for a row read right to left, and 270
// (plus that 180) when the code was found in the frame turned 90°
// counter-clockwise, that is when the symbol stood at 90° clockwise.
func oneDRotation(md map[gozxing.ResultMetadataType]interface{}) int {
	o, _ := md[gozxing.ResultMetadataType_ORIENTATION].(int)
	switch o {
	case 270:
		return 90
	case 90:
		return 270
	}
	return o
}

// latin1ToUTF8 reinterprets each byte of s as an ISO-8859-1 code point.
func latin1ToUTF8(s string) string {
	ascii := true
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			ascii = false
			break
		}
	}
	if ascii {
		return s
	}
	var b strings.Builder
	b.Grow(len(s) * 2)
	for i := 0; i < len(s); i++ {
		b.WriteRune(rune(s[i]))
	}
	return b.String()
}
