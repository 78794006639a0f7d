package decode

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/makiuchi-d/gozxing"
	multidetector "github.com/makiuchi-d/gozxing/multi/qrcode/detector"
	qrdecoder "github.com/makiuchi-d/gozxing/qrcode/decoder"
	"github.com/makiuchi-d/gozxing/qrcode/detector"
)

// stopper answers "should this image stop now?" and keeps its work
// account. Two limits, of different kinds:
//
//   - work: pixels the fallback stages may still examine. Charged before
//     each attempt from the frame's plan alone, so where it runs out is
//     the same on every machine and under any load (ErrNotFound).
//   - deadline: the wall-time safety net (Config.Budget), far above the
//     normal cost, and the caller's context. Polled between attempts and
//     on every 1D row; when the deadline ends an image, fired records it
//     (ErrBudget, Decoder.SafetyNetFired).
type stopper struct {
	ctx      context.Context
	deadline time.Time
	work     int
	fired    bool
}

func (s *stopper) done() bool {
	if s.ctx.Err() != nil {
		return true
	}
	if !time.Now().Before(s.deadline) {
		s.fired = true
		return true
	}
	return false
}

// charge takes px pixels of work from the account; false (and nothing
// taken) when fewer remain.
func (s *stopper) charge(px int) bool {
	if px > s.work {
		return false
	}
	s.work -= px
	return true
}

// err is the error to return once done: the caller's context error takes
// precedence over the safety net.
func (s *stopper) err() error {
	if e := s.ctx.Err(); e != nil {
		return ctxError(e)
	}
	return ErrBudget
}

// ctxError prefixes a context error while keeping it matchable with
// errors.Is(err, context.Canceled) and context.DeadlineExceeded.
func ctxError(e error) error { return fmt.Errorf("decode: %w", e) }

// binarizer selects gozxing's thresholding.
type binarizer uint8

const (
	hybrid binarizer = iota // local thresholds per 8x8 block: shadows, gradients
	global                  // one threshold per row: fine detail, low contrast
)

// minSide is the smallest frame side worth halving: below it a QR code's
// modules would shrink under a pixel.
const minSide = 96

// search runs the stages over p until one finds a code (see the package
// comment for the order and the reasons). The fast stage always runs; each
// later attempt runs only if the work account covers it and the safety net
// has not fired. On error the Stage returned is where the search stopped
// (StageNone when every planned attempt ran).
func (w *worker) search(p plane, stop *stopper) (found, Stage, error) {
	var firstErr error // a panic (ErrInternal) or an ambiguous frame
	try := func(st Stage, q plane, b binarizer, s *stopper) (found, bool) {
		f, err := w.attempt(st, q, b, s)
		if err == nil {
			return f, true
		}
		if firstErr == nil && (isInternal(err) || errors.Is(err, ErrAmbiguous)) {
			firstErr = err
		}
		return found{}, false
	}
	if w.readers.rows != nil {
		w.readers.rows.partials = w.readers.rows.partials[:0]
	}
	w.readers.fastSeen = 0
	w.lean, w.noQR, w.trace1D = false, false, false
	if f, ok := try(StageFast, p, hybrid, nil); ok {
		return f, StageFast, nil
	}
	// Lean plan for a frame the fast stage saw no trace of a code in (no
	// QR finder candidate, no 1D row past its start pattern): most frames
	// a lane camera sends. Measured on the generated classes, such frames
	// are read later only by tryharder's 1D pass (a Code 128 turned 90°,
	// blurred or faint); by upscale's 1D passes (tiny bars) on a frame
	// whose tryharder pass did see a 1D trace (two to 43 rows on those
	// read, where most frames without a code show none); by the QR global
	// and contrast stages on a frame whose luminance spans a narrow range
	// (a faint code filling the frame: narrowRange); by inverted's QR pass
	// (a light code's finders are not dark); and, outside the generated
	// classes, by contrast's 1D pass (a faint Code 128,
	// TestFallbackStagesFind). Everything else is skipped: the QR passes
	// of tryharder and upscale, the downscale stage, and global, upscale
	// and contrast when their condition fails. Each decision is the
	// frame's own, like the rest of the plan. A fast stage that panicked
	// saw nothing: no lean plan after it.
	w.lean = firstErr == nil && w.readers.fastSeen == 0
	// A frame whose fast stage saw a single finder candidate gets the
	// fallback stages that read such frames on the generated classes
	// (global, downscale: a faint or small QR code), but not the QR
	// passes of tryharder and upscale, which read none of them and cost
	// most; a QR code shows three finder patterns.
	w.noQR = w.lean || (firstErr == nil && w.readers.fastSeen == 1)
	if w.cfg.FastOnly || errors.Is(firstErr, ErrAmbiguous) {
		return found{}, StageNone, w.notFound(firstErr)
	}

	// Later stages work on a frame no larger than DownscaleAbove.
	work := p
	for work.pixels() > w.cfg.DownscaleAbove && min(work.w, work.h) >= 2*minSide {
		work = halve(work, &w.mem)
	}
	large := work.pixels() != p.pixels()
	lo, hi := lumRange(work)
	narrow := hi-lo <= narrowRange

	type step struct {
		stage Stage
		src   func() (plane, bool)
		bins  []binarizer
	}
	same := func() (plane, bool) { return work, true }
	hybridOnly := []binarizer{hybrid}
	both := []binarizer{hybrid, global}
	steps := [...]step{
		{StageTryHarder, same, hybridOnly},
		{StageGlobal, func() (plane, bool) { return work, !w.lean || narrow }, []binarizer{global}},
		{StageDownscale, func() (plane, bool) {
			if w.lean || min(work.w, work.h) < 2*minSide {
				return plane{}, false
			}
			return halve(work, &w.mem), true
		}, both},
		{StageUpscale, func() (plane, bool) {
			w2, h2 := work.w*3/2, work.h*3/2
			if large || w2*h2 > w.cfg.DownscaleAbove || (w.noQR && !w.trace1D) {
				return plane{}, false
			}
			return resize(work, w2, h2, &w.mem), true
		}, both},
		{StageContrast, func() (plane, bool) { return stretch(work, lo, hi, &w.mem) }, hybridOnly},
		{StageInverted, func() (plane, bool) {
			if w.readers.qr == nil { // every 1D pass read light symbols already
				return plane{}, false
			}
			return invert(work, &w.mem), true
		}, hybridOnly},
		{StageMagnify, func() (plane, bool) {
			w2, h2 := work.w*5/2, work.h*5/2
			if w.readers.qr == nil || w.readers.fastSeen < minMagnifySeen || large || w2*h2 > w.cfg.DownscaleAbove {
				return plane{}, false
			}
			return resize(work, w2, h2, &w.mem), true
		}, hybridOnly},
	}
	for _, s := range steps {
		if stop.done() {
			return found{}, s.stage, stop.err()
		}
		q, ok := s.src()
		if !ok {
			continue
		}
		for _, b := range s.bins {
			if b == global && (w.readers.qr == nil || (w.noQR && s.stage == StageUpscale)) {
				continue // 1D rows are binarized alike by both; only QR gains
			}
			if !stop.charge(attemptCost(s.stage, q)) {
				return found{}, StageNone, w.notFound(firstErr)
			}
			if stop.done() {
				return found{}, s.stage, stop.err()
			}
			if f, ok := try(s.stage, q, b, stop); ok {
				return f, s.stage, nil
			}
			if s.stage == StageTryHarder {
				w.trace1D = w.readers.rows != nil && linedUp(w.readers.rows.partials)
			}
			if errors.Is(firstErr, ErrAmbiguous) {
				return found{}, s.stage, firstErr
			}
		}
	}
	return found{}, StageNone, w.notFound(firstErr)
}

// attemptCost is the work an attempt at st on q is charged: the pixels it
// binarizes, twice in the try-harder stage, whose 1D pass also scans the
// frame turned 90°.
func attemptCost(st Stage, q plane) int {
	if st == StageTryHarder {
		return 2 * q.pixels()
	}
	return q.pixels()
}

func (w *worker) notFound(panicErr error) error {
	if panicErr != nil {
		return panicErr
	}
	return ErrNotFound
}

// attempt is one gozxing pass: a fresh binarizer and bitmap over q (a
// BinaryBitmap caches its black matrix and its binarizer keeps row buffers,
// so neither may outlive the attempt or be shared), the 1D readers first
// (a few row scans, cheap), then QR (binarizes the whole frame). A panic in
// gozxing is recovered here and the worker's readers are rebuilt, since a
// reader that panicked mid-call may hold inconsistent scratch state.
func (w *worker) attempt(st Stage, q plane, b binarizer, stop *stopper) (f found, err error) {
	defer func() {
		if v := recover(); v != nil {
			err = panicError(st.String()+" stage", v)
			w.readers = newReaders(w.set, w.cfg.AnyText)
		}
	}()
	if h := w.d.hook; h != nil {
		h(st)
	}
	src := newSource(q, stop, &w.mem)
	src.noRotate = st != StageTryHarder
	var bin gozxing.Binarizer
	if b == global {
		bin = gozxing.NewGlobalHistgramBinarizer(src)
	} else {
		bin = newFastHybrid(src)
	}
	bin = withFastRows(bin, src)
	bmp, err := gozxing.NewBinaryBitmap(bin)
	if err != nil {
		return found{}, err
	}
	hints := w.readers.hard
	if st == StageFast {
		hints = w.readers.easy
	}
	r := w.readers
	// Every 1D pass reads light symbols too (decode128), so the inverted
	// stage is for QR only.
	if r.oned != nil && b == hybrid && st != StageInverted && st != StageMagnify {
		r.rows.startPass(bmp, false, "")
		res, err := r.oned.Decode(bmp, hints)
		r.rows.reset()
		if err == nil {
			if f, ok := convert(res); ok {
				return w.unique(f, res, bmp, src, hints, stop)
			}
		}
		if stop != nil && stop.done() {
			return found{}, stop.err()
		}
	}
	notFound := error(ErrNotFound)
	if r.qr != nil && !(w.noQR && (st == StageTryHarder || st == StageUpscale)) {
		qrHints := r.capd
		if st == StageFast {
			qrHints = r.capf
		}
		hints1D := hints
		if b != hybrid {
			hints1D = nil
		}
		f, err := r.capped(func() (found, error) {
			res, err := r.qr.Decode(bmp, qrHints)
			if st == StageFast {
				r.fastSeen = r.seen
			}
			if err != nil {
				if st == StageFast || st == StageTryHarder {
					if f, err := severalQR(r, bmp); err == nil || errors.Is(err, ErrAmbiguous) {
						return f, err
					}
					r.seen = 0 // the keystone search counts afresh
				}
				if st == StageTryHarder || st == StageGlobal { // see keystone.go
					if f, ok := keystoneQR(bmp, qrHints, stop); ok {
						return f, nil
					}
				}
				return found{}, err
			}
			if f, ok := convert(res); ok {
				return w.unique(f, res, bmp, src, hints1D, stop)
			}
			return found{}, ErrNotFound
		})
		if err == nil || errors.Is(err, ErrAmbiguous) {
			return f, err
		}
		notFound = err
	}
	if r.oned != nil && b == hybrid && matrixPass(st) {
		if stop != nil && stop.done() {
			return found{}, stop.err()
		}
		if mb := matrixBitmap(bmp, src, stop); mb != nil {
			r.rows.startPass(mb, true, "")
			res, err := r.oned.Decode(mb, hints)
			r.rows.reset()
			if err == nil {
				if f, ok := convert(res); ok {
					return w.unique(f, res, bmp, src, hints, stop)
				}
			}
		}
	}
	return found{}, notFound
}

// matrixPass reports whether an attempt at st runs the 1D pass over its
// black matrix's rows (matrixRows) after the row-binarized pass and QR
// failed: in the fast stage (15 rows of a matrix the QR pass made) and in
// upscale, where it reads most of the tiny Code 128 symbols (1 to 1.5 px
// per module) that are read at all. In the other stages it read nothing
// more on the generated classes.
func matrixPass(st Stage) bool {
	return st == StageFast || st == StageUpscale
}

// matrixBitmap is a bitmap over bmp's black matrix whose rows a 1D pass
// reads (matrixRows), or nil if bmp has none.
func matrixBitmap(bmp *gozxing.BinaryBitmap, src gozxing.LuminanceSource, stop *stopper) *gozxing.BinaryBitmap {
	m, err := bmp.GetBlackMatrix()
	if err != nil {
		return nil
	}
	mb, err := gozxing.NewBinaryBitmap(&matrixRows{src: src, m: m, stop: stop})
	if err != nil {
		return nil
	}
	return mb
}

// unique checks that f is the only payment code in the frame: a frame
// holding two different ones is ambiguous (ErrAmbiguous), since paying
// whichever was read first could charge the wrong customer. The same code
// twice (a wallet screen often shows it as a QR and a Code 128) is fine.
// Text that is not a payment code is not compared: only two payment codes
// make a frame ambiguous.
//
// With 1D symbologies enabled and a hybrid bitmap (hints1D: the stage's 1D
// hints, nil otherwise), other 1D symbols are looked for. For a 1D read,
// the row pass is run once more over the same rows, passing over f's text
// (and on to the next start pattern of a row: decode128), so a second
// symbol beside it or on another row is found; the rows that show f's
// symbol again are passed over without decoding it (skipSpan). For a QR
// read, a 1D pass over the rows of the hybrid black matrix looks for a
// Code 128: those rows show bars that one black point per row does not
// (a row crossing a light card and a dark ground), and the row pass found
// none already. That is 15 rows for a
// fast-stage read, every row (and the frame turned) for a try-harder one,
// which is the slow path anyway. Then every QR finder-pattern triple in
// the bitmap the attempt binarized is decoded. With a single triple and a
// QR result there is nothing to decode, so for the usual fast-stage QR
// read the whole check is 15 matrix rows and one finder scan of the
// cached black matrix; a 1D read costs a binarization more.
func (w *worker) unique(f found, res *gozxing.Result, bmp *gozxing.BinaryBitmap, src gozxing.LuminanceSource, hints1D map[gozxing.DecodeHintType]interface{}, stop *stopper) (found, error) {
	if !isPaymentCode(f.text) {
		return f, nil
	}
	if r := w.readers; r.oned != nil && hints1D != nil {
		var other *gozxing.Result
		switch {
		case f.symbology == QRCode:
			if mb := matrixBitmap(bmp, src, stop); mb != nil {
				r.rows.startPass(mb, true, f.text)
				if _, hard := hints1D[gozxing.DecodeHintType_TRY_HARDER]; hard {
					if res, err := r.oned.Decode(mb, hints1D); err == nil {
						other = res
					}
				} else {
					other = w.wideLook(mb, src, hints1D, f.text, stop)
				}
				r.rows.startPass(nil, false, "")
			}
		case res != nil:
			other = secondLook(r.rows, bmp, hints1D, f.text, res)
		}
		r.rows.reset()
		if other != nil && isPaymentCode(other.GetText()) {
			return found{}, ErrAmbiguous
		}
		if stop != nil && stop.done() {
			return found{}, stop.err() // not checked: not returned
		}
	}
	if w.readers.qr == nil {
		return f, nil
	}
	m, err := bmp.GetBlackMatrix()
	if err != nil {
		return f, nil
	}
	// A QR code read, and no row the multi-code finder scans shows a
	// finder-like crossing outside it: no second symbol can be found.
	if f.symbology == QRCode && res != nil && !w.crossingOutside(m, res.GetResultPoints()) {
		return f, nil
	}
	// A frame with more finder candidates than the cap (a texture) cannot
	// be checked at a bounded cost; its one code stands.
	for _, o := range everyQR(w.readers, m, f.symbology == QRCode) {
		if o.text != f.text && isPaymentCode(o.text) {
			return found{}, ErrAmbiguous
		}
	}
	return f, nil
}

// severalQR reads a bitmap on which the QR reader failed although it may
// hold QR codes: with two or more codes in the frame, the single reader
// can pair finder patterns of different symbols and give up. Each
// finder-pattern triple is decoded on its own; two different payment
// codes are ErrAmbiguous, one is the result, and otherwise the first code
// read (ErrNotFound if none).
func severalQR(r *readers, bmp *gozxing.BinaryBitmap) (found, error) {
	m, err := bmp.GetBlackMatrix()
	if err != nil {
		return found{}, ErrNotFound
	}
	var pay, first found
	for _, o := range everyQR(r, m, true) {
		switch {
		case isPaymentCode(o.text) && pay.text == "":
			pay = o
		case isPaymentCode(o.text) && o.text != pay.text:
			return found{}, ErrAmbiguous
		case first.text == "":
			first = o
		}
	}
	switch {
	case pay.text != "":
		return pay, nil
	case first.text != "":
		return first, nil
	}
	return found{}, ErrNotFound
}

// everyQR decodes every QR finder-pattern triple of m (gozxing's
// multi-code finder), in the finder's order, with r's candidate cap (nil
// past it). With needTwo, a frame with a single triple yields nothing: the
// caller has read that one already.
func everyQR(r *readers, m *gozxing.BitMatrix, needTwo bool) (out []found) {
	r.seen = 0
	defer func() {
		if v := recover(); v != nil {
			if v != errTooManyFinders {
				panic(v)
			}
			out = nil
		}
	}()
	hints := r.capd
	infos, err := multidetector.NewMultiFinderPatternFinder(m, finderCallback(hints)).FindMulti(hints)
	if err != nil || (needTwo && len(infos) < 2) {
		return nil
	}
	det := detector.NewDetector(m)
	dec := qrdecoder.NewDecoder()
	for _, info := range infos {
		dr, err := det.ProcessFinderPatternInfo(info)
		if err != nil {
			continue
		}
		res, err := dec.Decode(dr.GetBits(), hints)
		if err != nil {
			continue
		}
		points := []gozxing.ResultPoint{info.GetBottomLeft(), info.GetTopLeft(), info.GetTopRight()}
		if f, ok := convert(gozxing.NewResult(res.GetText(), res.GetRawBytes(), points, gozxing.BarcodeFormat_QR_CODE)); ok {
			out = append(out, f)
		}
	}
	return out
}

// secondLook looks for a 1D symbol other than r (read with hints on bmp)
// in the orientation r was read in: bmp's rows, or those of bmp turned 90°
// counter-clockwise for a symbol OneDReader found turned. Where r lies
// on its row is passed on, unless r was read reversed.
func secondLook(m *multiRowDecoder, bmp *gozxing.BinaryBitmap, hints map[gozxing.DecodeHintType]interface{}, text string, r *gozxing.Result) *gozxing.Result {
	o, _ := r.GetResultMetadata()[gozxing.ResultMetadataType_ORIENTATION].(int)
	pts := r.GetResultPoints()
	var at *[3]float64
	switch {
	case o == 0 && len(pts) == 2:
		at = &[3]float64{pts[0].GetX(), pts[1].GetX(), pts[0].GetY()}
	case (o == 90 || o == 270) && bmp.IsRotateSupported():
		if o == 270 && len(pts) == 2 {
			// OneDReader mapped (x, y) of the turned frame to (h-1-y, x),
			// h its height, the frame's width.
			w := float64(bmp.GetWidth())
			at = &[3]float64{pts[0].GetY(), pts[1].GetY(), w - 1 - pts[0].GetX()}
		}
		rb, err := bmp.RotateCounterClockwise()
		if err != nil {
			return nil
		}
		bmp = rb
	}
	return m.secondLook(bmp, hints, text, at)
}

// wideLook looks for a Code 128 beside a QR code the fast stage read, in
// the rows of mb (the fast attempt's hybrid black matrix over src), other
// than skip. The fast stage's rows cover the middle half of the frame;
// this covers the whole height at the same spacing (height/32, 31 rows),
// forward and reversed. Where that reads nothing but several of its rows
// show a Code 128 start pattern at about the same x that decoded to
// nothing (the left edge of a symbol too thin or too blurred for these
// rows), the band of rows around them is read again: every row of the
// matrix, then every row of the band enlarged 3/2 with both its row and
// its matrix passes, as the upscale stage reads tiny bars. A QR code's
// own modules seldom line up start patterns over several rows, so a
// frame with one code rarely pays for more than the 31 rows.
func (w *worker) wideLook(mb *gozxing.BinaryBitmap, src gozxing.LuminanceSource, hints map[gozxing.DecodeHintType]interface{}, skip string, stop *stopper) *gozxing.Result {
	r := w.readers.rows
	h := mb.GetHeight()
	step := max(1, h>>5)
	r.traceOn, r.traces = true, r.traces[:0]
	res := r.scanRows(mb, hints, 0, h, step, h/step+1)
	r.traceOn = false
	if res != nil {
		return res
	}
	y0, y1, ok := alignedTraces(r.traces, step)
	ls, isPlane := src.(*lumSource)
	if !ok || !isPlane || (stop != nil && stop.done()) {
		return nil
	}
	y0, y1 = max(0, y0-2*step), min(h, y1+2*step+1)
	if res := r.scanRows(mb, hints, y0, y1, 1, y1-y0); res != nil {
		return res
	}
	band := ls.p
	up := resize(band, band.w*3/2, band.h*3/2, &w.mem)
	y0, y1 = y0*3/2, y1*3/2
	usrc := newSource(up, stop, &w.mem)
	usrc.noRotate = true
	ub, err := gozxing.NewBinaryBitmap(withFastRows(newFastHybrid(usrc), usrc))
	if err != nil {
		return nil
	}
	r.startPass(ub, false, skip)
	if res := r.scanRows(ub, hints, y0, y1, 1, y1-y0); res != nil {
		return res
	}
	if umb := matrixBitmap(ub, usrc, stop); umb != nil {
		r.startPass(umb, true, skip)
		return r.scanRows(umb, hints, y0, y1, 1, y1-y0)
	}
	return nil
}

// alignedTraces finds, among traces ((x, y) of rows whose first Code 128
// start pattern decoded to nothing, rows step apart), three or more within
// four steps of each other whose start patterns line up (within 2 pixels,
// and a tilt of up to 4°), and returns the rows they span. Noise fakes
// start patterns on many rows, but seldom at one x.
func alignedTraces(traces [][2]int, step int) (y0, y1 int, ok bool) {
	best := 0
	for _, a := range traces {
		n, lo, hi := 0, a[1], a[1]
		for _, b := range traces {
			dy := abs(b[1] - a[1])
			if dy > 4*step || abs(b[0]-a[0]) > 2+dy/15 {
				continue
			}
			n++
			lo, hi = min(lo, b[1]), max(hi, b[1])
		}
		if n >= 3 && n > best {
			best, y0, y1 = n, lo, hi
		}
	}
	return y0, y1, best >= 3
}

// minMagnifySeen is how many QR finder candidates the fast stage must have
// seen for the magnify stage to run. A QR code at 1 to 2 px per module
// (a phone far from the camera) that nothing before could read still
// shows two or three of its finder patterns at the frame's size; on the
// generated classes enlarged 5/2 it is read (qr/tiny), while frames
// without a code show none or one, and the stage, on a plane 6.25 times
// the frame's, is the costliest attempt of the search.
const minMagnifySeen = 2
