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
	code128  int   // index of the Code 128 decoder, -1 if none
	runs     []int // decode128's scratch: run lengths, start pixels, a cleared row
	starts   []int
	cleared  *gozxing.BitArray
	skip     string                // a text to pass over as if not read (the second look of worker.unique)
	skipAt   skipSpan              // where skip was read, so its rows need not be decoded again
	lastRow  int                   // the row of the previous read128 call of the pass
	fwd, rev *gozxing.BitArray     // secondLook's scratch rows
	matrix   bool                  // the pass reads the hybrid matrix's rows
	seen     []string              // texts read by reads awaiting confirmation (decode128)
	bmp      *gozxing.BinaryBitmap // the pass's bitmap, for confirm's neighbour rows
	near     *gozxing.BitArray     // confirm's scratch row
	readers  []gozxing.Reader      // for Reset: RSS-14 collects pairs across rows
	notFound error                 // gozxing builds a new exception per call; one will do
	partials []trace               // rows where Code 128's reader got past its start pattern (read128), for linedUp
	traceOn  bool                  // record traces
	traces   [][2]int              // with traceOn: (x, y) of each row's first start pattern that read nothing
}

var _ oned.RowDecoder = (*multiRowDecoder)(nil)

func newMultiRowDecoder(set symbolSet, anyText bool) *multiRowDecoder {
	m := &multiRowDecoder{anyText: anyText, notFound: gozxing.NewNotFoundException(), code128: -1}
	add := func(r gozxing.Reader) {
		m.decoders = append(m.decoders, r.(oned.RowDecoder))
		m.readers = append(m.readers, r)
	}
	// Code 128 first: it carries payment codes.
	if set.has(Code128) {
		add(oned.NewCode128Reader())
		m.code128 = 0
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
// row must not hide, or stand in for, a real symbol on another. Code 128
// is tried from every start pattern of the row (decode128).
func (m *multiRowDecoder) DecodeRow(rowNumber int, row *gozxing.BitArray, hints map[gozxing.DecodeHintType]interface{}) (*gozxing.Result, error) {
	for i, d := range m.decoders {
		if i == m.code128 {
			if res := m.decode128(rowNumber, row, hints); res != nil {
				return res, nil
			}
			continue
		}
		res, err := d.DecodeRow(rowNumber, row, hints)
		if err == nil {
			if m.plausible1D(res.GetText()) && res.GetText() != m.skip {
				return res, nil
			}
			continue
		}
		if _, ok := err.(gozxing.ReaderException); !ok {
			return nil, err
		}
	}
	return nil, m.notFound
}

// decode128 reads a Code 128 symbol in row, trying each start pattern
// startsIn finds in turn: gozxing's reader decodes from the first
// one only, so a false start before the symbol (a bezel edge, clutter)
// hid it, and so did the first of two symbols side by side. A later start
// is handed to the reader on a copy of the row cleared before it, where
// it is the first. When the row holds no symbol in dark bars, its
// complement is tried the same way: a light symbol on a dark ground (a
// dark-mode wallet screen). The complement of a row thresholded at one
// black point is, but for pixels at the black point, the inverted row
// thresholded at its own, so every 1D pass reads such symbols, turned
// ones included, and the inverted stage need not scan the rows again.
//
// A read of m.skip counts as none. Only the first start's failure counts
// as a trace (m.partials), as when the reader saw the row alone. A read the stock reader would not have
// made on this row (a later start, the complement, a row of the hybrid
// matrix) is accepted only once a second row agrees (confirm): every
// extra decode is another draw against Code 128's one check character,
// and a misread of 1 in 103 draws is not rare over hundreds of rows
// (ZXing-C++ asks two rows of every 1D read).
func (m *multiRowDecoder) decode128(rowNumber int, row *gozxing.BitArray, hints map[gozxing.DecodeHintType]interface{}) *gozxing.Result {
	res, stock := m.read128(rowNumber, row, hints, "")
	if res == nil || stock || m.confirm(res.GetText(), rowNumber, row.GetSize(), hints) {
		return res
	}
	return nil
}

// read128 is decode128's search of one row: the first plausible read
// (of want, if given) other than m.skip, and whether the stock reader
// would have made it.
func (m *multiRowDecoder) read128(rowNumber int, row *gozxing.BitArray, hints map[gozxing.DecodeHintType]interface{}, want string) (*gozxing.Result, bool) {
	skipped := -1.0 // end of a read of m.skip on this row
	// OneDReader hands each row over twice, the second time reversed
	// (for a symbol upside down): only the first says where a symbol is.
	reversed := want == "" && rowNumber == m.lastRow
	if want == "" {
		m.lastRow = rowNumber
	}
	for _, light := range [2]bool{false, true} {
		if skipped >= 0 {
			break // a row with a dark symbol holds no light one
		}
		if !light {
			m.runs = rowRuns(row, m.runs)
		}
		m.starts = startsIn(m.runs, len(m.runs) > 0 && row.Get(0), light, m.starts)
		if !light && want == "" && !reversed {
			if end, ok := m.skipAt.covers(rowNumber, row.GetSize(), m.starts); ok {
				skipped = end
			}
		}
		for k, st := range m.starts {
			if float64(st) <= skipped {
				continue // inside the symbol passed over
			}
			in := row
			if k > 0 || light {
				in = m.copyFrom(row, st, light)
			}
			res, err := m.decoders[m.code128].DecodeRow(rowNumber, in, hints)
			ok := err == nil && m.plausible1D(res.GetText())
			if k == 0 && !light && !ok && want == "" {
				x := st // where the start pattern lies on the row as the frame shows it
				if reversed {
					x = row.GetSize() - 1 - st
				}
				if _, nf := err.(gozxing.NotFoundException); err == nil || !nf {
					m.partials = append(m.partials, trace{x: x, y: rowNumber, width: row.GetSize()})
				}
				if m.traceOn {
					m.traces = append(m.traces, [2]int{x, rowNumber})
				}
			}
			if ok && res.GetText() == m.skip {
				skipped = 0
				if pts := res.GetResultPoints(); len(pts) == 2 {
					skipped = pts[1].GetX()
				}
				if k == 0 && !light {
					m.passOver(res, rowNumber, row.GetSize())
				}
				continue
			}
			if !ok || (want != "" && res.GetText() != want) {
				continue
			}
			return res, k == 0 && !light && !m.matrix
		}
	}
	return nil, false
}

// confirm reports whether a second row agrees with a read of text on row
// y: a row of the current pass read it already, or one of the three rows
// either side does. The neighbours are fetched from the pass's bitmap
// (m.bmp) unless the pass has moved on to the frame turned 90° (its rows
// are another length); a symbol crosses many rows, a misread is unlikely
// to repeat on another. The text is remembered for later rows.
func (m *multiRowDecoder) confirm(text string, y, size int, hints map[gozxing.DecodeHintType]interface{}) bool {
	for _, t := range m.seen {
		if t == text {
			return true
		}
	}
	m.seen = append(m.seen, text)
	if m.bmp == nil || size != m.bmp.GetWidth() {
		return false
	}
	if m.near != nil && m.near.GetSize() != size {
		m.near = nil // gozxing reuses a longer row as is
	}
	for _, dy := range [...]int{1, -1, 2, -2, 3, -3} {
		if y+dy < 0 || y+dy >= m.bmp.GetHeight() {
			continue
		}
		row, err := m.bmp.GetBlackRow(y+dy, m.near)
		if err != nil {
			continue
		}
		m.near = row
		if res, _ := m.read128(y+dy, row, hints, text); res != nil {
			return true
		}
	}
	return false
}

// startPass readies m for a pass over bmp's rows: matrix when they are
// the hybrid matrix's (no read of it is the stock reader's), skip a text
// to pass over.
func (m *multiRowDecoder) startPass(bmp *gozxing.BinaryBitmap, matrix bool, skip string) {
	m.bmp, m.matrix, m.skip = bmp, matrix, skip
	m.skipAt, m.lastRow = skipSpan{}, -1
	clear(m.seen)
	m.seen = m.seen[:0]
}

// skipSpan is where a symbol a pass passes over (m.skip) was read: on row
// y of a row width wide, from x0 (its start pattern's centre) to x1 (its
// stop pattern's), as a 1D result's points say. Rows next to it whose
// first start pattern lies where the symbol's would are taken as the
// symbol again without decoding it (each decode costs a dozen
// allocations); decoding resumes past x1. A row without such a start
// pattern ends the symbol on its side (above or below y): a second
// symbol stacked over the first, even at the same x, is decoded.
type skipSpan struct {
	set      bool
	y, width int
	x0, x1   float64
	up, down bool // the symbol still continues above, below
}

// passOver records a read of the passed-over symbol on row y.
func (m *multiRowDecoder) passOver(res *gozxing.Result, y, width int) {
	if pts := res.GetResultPoints(); len(pts) == 2 {
		m.passOverAt(pts[0].GetX(), pts[1].GetX(), y, width)
	}
}

// passOverAt records the passed-over symbol's start and stop pattern
// centres, x0 and x1, on row y of a row width wide.
func (m *multiRowDecoder) passOverAt(x0, x1 float64, y, width int) {
	if x0 >= x1 || m.skipAt.set {
		return
	}
	x0 -= (x1 - x0) / 26 // the start pattern's first bar: half of its 11 modules of about 143
	m.skipAt = skipSpan{set: true, y: y, width: width, x0: x0, x1: x1, up: true, down: true}
}

// covers reports whether row y holds the passed-over symbol (see
// skipSpan), and if so where it ends.
func (s *skipSpan) covers(y, width int, starts []int) (float64, bool) {
	if !s.set || width != s.width {
		return 0, false
	}
	if y == s.y {
		return s.x1, true
	}
	above := y < s.y
	if (above && !s.up) || (!above && !s.down) {
		return 0, false
	}
	dy := float64(abs(y - s.y))
	slack := (s.x1-s.x0)/14 + 0.2*dy // about ten modules, and a tilt of up to 11°
	near := len(starts) > 0 && float64(starts[0]) >= s.x0-slack && float64(starts[0]) <= s.x0+slack

	if !near {
		if above {
			s.up = false
		} else {
			s.down = false
		}
		return 0, false
	}
	return s.x1 + 0.2*dy, true
}

// copyFrom returns a copy of row (in m's scratch), complemented if light,
// with every pixel before x white.
func (m *multiRowDecoder) copyFrom(row *gozxing.BitArray, x int, light bool) *gozxing.BitArray {
	size := row.GetSize()
	if m.cleared == nil || m.cleared.GetSize() != size {
		m.cleared = gozxing.NewBitArray(size)
	}
	dst, src := m.cleared.GetBitArray(), row.GetBitArray()
	copy(dst, src)
	if light {
		for i := range dst {
			dst[i] = ^dst[i]
		}
		if r := size % 32; r != 0 {
			dst[len(dst)-1] &= 1<<r - 1 // nothing past the row's end
		}
	}
	clear(dst[:x/32])
	if x%32 != 0 {
		dst[x/32] &^= 1<<(x%32) - 1
	}
	return m.cleared
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

// Code 128's start patterns (A, B, C), in modules per run, and the
// variance limits its reader matches them with.
var code128StartPatterns = [3][]int{{2, 1, 1, 4, 1, 2}, {2, 1, 1, 2, 1, 4}, {2, 1, 1, 2, 3, 2}}

const (
	code128MaxAvgVariance        = 0.25
	code128MaxIndividualVariance = 0.7
)

// rowRuns appends to runs[:0] the run lengths of row from its first
// pixel to its end, alternating colours (the first run is pixel 0's).
func rowRuns(row *gozxing.BitArray, runs []int) []int {
	rs := runs[:0]
	size := row.GetSize()
	for x, black := 0, size > 0 && row.Get(0); x < size; black = !black {
		var next int
		if black {
			next = row.GetNextUnset(x)
		} else {
			next = row.GetNextSet(x)
		}
		rs = append(rs, next-x)
		x = next
	}
	return rs
}

// startsIn appends to starts[:0] the pixel of every place in a row
// (or in its complement, if light) where gozxing's Code 128 reader would
// take a start pattern: six runs that
// pass the reader's variance test against start A, B or C, with a quiet
// zone before them (half the pattern's width, or up to the row's start).
// The first is where the reader itself would decode from; a row without
// any it fails on at once, so such rows are skipped without calling it.
// That is most of the saving on a frame without a code: the reader builds
// the runs pixel by pixel, tests the variance at every bar and allocates
// an exception with a stack trace per failed row, while this walks the
// runs word by word and tests the variance only where the quiet zone
// holds (on textures, hundreds of runs per row and hardly a quiet zone).
// all is the row's runs (rowRuns), black0 the colour of the first:
// the runs from the first bar (black, or white if light) on are the ones
// the reader sees.
func startsIn(all []int, black0, light bool, starts []int) []int {
	starts = starts[:0]
	first, rs := 0, all
	if len(rs) > 0 && black0 == light { // the first run is not a bar's colour
		first, rs = rs[0], rs[1:]
	}
	start := first // pixel where rs[j] begins
	// The reader tests a pattern of six runs when the seventh begins.
	for j := 0; j+6 < len(rs); j += 2 {
		w := 0
		for _, r := range rs[j : j+6] {
			w += r
		}
		quiet := start // white before the first bar: all of it
		if j > 0 {
			quiet = rs[j-1]
		}
		if min(start, w/2) <= quiet {
			for _, p := range code128StartPatterns {
				if oned.PatternMatchVariance(rs[j:j+6], p, code128MaxIndividualVariance) < code128MaxAvgVariance {
					starts = append(starts, start)
					break
				}
			}
		}
		start += rs[j] + rs[j+1]
	}
	return starts
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

// matrixRows is a gozxing.Binarizer whose rows are those of a black matrix
// already computed (the hybrid binarizer's, local thresholds per block),
// for a 1D pass that sees what the QR pass saw. gozxing's hybrid binarizer
// hands 1D readers rows thresholded per row instead (one black point for
// the whole row), and a row crossing a light card and a dark background,
// or two cards, gets a black point that suits neither: thin bars merge.
// The frame turned 90° gets its own hybrid matrix, made when first asked.
type matrixRows struct {
	src  gozxing.LuminanceSource
	m    *gozxing.BitMatrix
	stop *stopper
}

var _ gozxing.Binarizer = (*matrixRows)(nil)

func (b *matrixRows) GetLuminanceSource() gozxing.LuminanceSource { return b.src }
func (b *matrixRows) GetWidth() int                               { return b.src.GetWidth() }
func (b *matrixRows) GetHeight() int                              { return b.src.GetHeight() }

func (b *matrixRows) GetBlackMatrix() (*gozxing.BitMatrix, error) {
	if b.m == nil {
		m, err := newFastHybrid(b.src).GetBlackMatrix()
		if err != nil {
			return nil, err
		}
		b.m = m
	}
	return b.m, nil
}

func (b *matrixRows) GetBlackRow(y int, row *gozxing.BitArray) (*gozxing.BitArray, error) {
	if b.stop != nil && b.stop.done() {
		return nil, errStopped
	}
	m, err := b.GetBlackMatrix()
	if err != nil {
		return nil, err
	}
	return m.GetRow(y, row), nil
}

func (b *matrixRows) CreateBinarizer(src gozxing.LuminanceSource) gozxing.Binarizer {
	return &matrixRows{src: src, stop: b.stop}
}

// secondLook runs m over the rows OneDReader would scan in bmp with
// hints (the middle half in 15 rows, or every row with TRY_HARDER; each
// row forward and reversed), passing over skip. at, if not nil, is where
// skip was read on its row of bmp: start and stop pattern centres and the
// row ({x0, x1, y}). It returns the first read of another text. Unlike
// OneDReader it allocates nothing per row and does not turn the frame: a
// second symbol is looked for in the orientation the first was found in.
func (m *multiRowDecoder) secondLook(bmp *gozxing.BinaryBitmap, hints map[gozxing.DecodeHintType]interface{}, skip string, at *[3]float64) *gozxing.Result {
	m.startPass(bmp, false, skip)
	defer m.startPass(nil, false, "")
	if at != nil {
		m.passOverAt(at[0], at[1], int(at[2]), bmp.GetWidth())
	}
	height := bmp.GetHeight()
	_, tryHarder := hints[gozxing.DecodeHintType_TRY_HARDER]
	step, lines := max(1, height>>5), 15
	if tryHarder {
		step, lines = max(1, height>>8), height
	}
	return m.scanRows(bmp, hints, 0, height, step, lines)
}

// scanRows runs m over up to lines rows of bmp between rows y0 and y1
// (exclusive), from the middle outwards, step rows apart (OneDReader's
// order), each forward and reversed, and returns the first read. It
// allocates nothing per row.
func (m *multiRowDecoder) scanRows(bmp *gozxing.BinaryBitmap, hints map[gozxing.DecodeHintType]interface{}, y0, y1, step, lines int) *gozxing.Result {
	width := bmp.GetWidth()
	if m.fwd != nil && m.fwd.GetSize() != width {
		m.fwd = nil // gozxing reuses a longer row as is
	}
	for x := 0; x < lines; x++ {
		y := (y0 + y1) / 2
		if n := (x + 1) / 2; x&1 == 0 {
			y += step * n
		} else {
			y -= step * n
		}
		if y < y0 || y >= y1 {
			break
		}
		row, err := bmp.GetBlackRow(y, m.fwd)
		if err != nil {
			if _, nf := err.(gozxing.NotFoundException); nf {
				continue
			}
			return nil
		}
		m.fwd = row
		if got, err := m.DecodeRow(y, row, hints); err == nil {
			return got
		}
		if m.rev == nil || m.rev.GetSize() != width {
			m.rev = gozxing.NewBitArray(width)
		}
		reverseInto(m.rev, row)
		if got, err := m.DecodeRow(y, m.rev, hints); err == nil {
			return got
		}
	}
	return nil
}

// reverseInto writes src reversed into dst, of the same size.
func reverseInto(dst, src *gozxing.BitArray) {
	dst.Clear()
	n := min(src.GetSize(), dst.GetSize())
	for x := src.GetNextSet(0); x < n; {
		end := src.GetNextUnset(x)
		for i := x; i < end; i++ {
			dst.Set(n - 1 - i)
		}
		x = src.GetNextSet(end)
	}
}

// trace is a row where a Code 128 start pattern was followed by a failed
// check or an implausible text: x is where the start pattern lies, on row
// y of a row width pixels long (the frame's, or the frame turned 90°).
type trace struct{ x, y, width int }

// linedUp reports whether two of ts line up as the rows of one symbol do:
// start patterns at the same x (within 3 pixels) on rows of the same
// frame, or within 16 rows of each other and as far apart as a tilt of
// 11° moves them. A start pattern within 8 pixels of either end of its
// row is not counted: a texture that fills the frame meets the frame's
// edge as if it were a quiet zone, while a symbol has its own. Textures
// fake a check failure here and there; a symbol, tall and read on every
// row, shows the same start pattern on row after row (ZXing-C++ likewise
// wants two rows of every 1D read).
func linedUp(ts []trace) bool {
	for i, a := range ts {
		if a.x < 8 || a.x >= a.width-8 {
			continue
		}
		for _, b := range ts[i+1:] {
			if b.width != a.width || b.x < 8 || b.x >= b.width-8 {
				continue
			}
			dx, dy := abs(a.x-b.x), abs(a.y-b.y)
			if dx <= 3 || (dy <= 16 && dx <= 3+dy/5) {
				return true
			}
		}
	}
	return false
}
