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
		w.readers.rows.partial = 0
	}
	w.readers.fastSeen = 0
	w.lean = false
	if f, ok := try(StageFast, p, hybrid, nil); ok {
		return f, StageFast, nil
	}
	// Lean plan for a frame the fast stage saw no trace of a code in (no
	// QR finder candidate, no 1D row past its start pattern): most frames
	// a lane camera sends. Measured on the generated classes, such frames
	// are read later only by a 1D pass (a Code 128 turned 90°, blurred,
	// faint or tiny: tryharder, upscale), by the QR global and contrast
	// stages (faint QR codes the hybrid binarizer flattens) or inverted
	// (a light code's finders are not dark); the QR passes of tryharder
	// and upscale and the whole downscale stage only ever read frames
	// with a trace, so they are skipped. The decision is the frame's own,
	// like the rest of the plan. A fast stage that panicked saw nothing:
	// no lean plan after it.
	w.lean = firstErr == nil && w.readers.fastSeen == 0 && (w.readers.rows == nil || w.readers.rows.partial == 0)
	if w.cfg.FastOnly || errors.Is(firstErr, ErrAmbiguous) {
		return found{}, StageNone, w.notFound(firstErr)
	}

	// Later stages work on a frame no larger than DownscaleAbove.
	work := p
	for work.pixels() > w.cfg.DownscaleAbove && min(work.w, work.h) >= 2*minSide {
		work = halve(work, &w.mem)
	}
	large := work.pixels() != p.pixels()

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
		{StageGlobal, same, []binarizer{global}},
		{StageDownscale, func() (plane, bool) {
			if w.lean || min(work.w, work.h) < 2*minSide {
				return plane{}, false
			}
			return halve(work, &w.mem), true
		}, both},
		{StageUpscale, func() (plane, bool) {
			w2, h2 := work.w*3/2, work.h*3/2
			if large || w2*h2 > w.cfg.DownscaleAbove {
				return plane{}, false
			}
			return resize(work, w2, h2, &w.mem), true
		}, both},
		{StageContrast, func() (plane, bool) { return stretch(work, &w.mem) }, hybridOnly},
		{StageInverted, func() (plane, bool) { return invert(work, &w.mem), true }, hybridOnly},
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
			if b == global && (w.readers.qr == nil || (w.lean && s.stage == StageUpscale)) {
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
		bin = gozxing.NewHybridBinarizer(src)
	}
	bmp, err := gozxing.NewBinaryBitmap(bin)
	if err != nil {
		return found{}, err
	}
	hints := w.readers.hard
	if st == StageFast {
		hints = w.readers.easy
	}
	r := w.readers
	if r.oned != nil && b == hybrid {
		res, err := r.oned.Decode(bmp, hints)
		r.rows.reset()
		if err == nil {
			if f, ok := convert(res); ok {
				return w.unique(f, bmp)
			}
		}
		if stop != nil && stop.done() {
			return found{}, stop.err()
		}
	}
	if r.qr != nil && !(w.lean && (st == StageTryHarder || st == StageUpscale)) {
		qrHints := r.capd
		if st == StageFast {
			qrHints = r.capf
		}
		return r.capped(func() (found, error) {
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
				return w.unique(f, bmp)
			}
			return found{}, ErrNotFound
		})
	}
	return found{}, ErrNotFound
}

// unique checks that f is the only payment code in the frame: a frame
// holding two different ones is ambiguous (ErrAmbiguous), since paying
// whichever was read first could charge the wrong customer. The same code
// twice (a wallet screen often shows it as a QR and a Code 128) is fine.
//
// The check looks for every QR finder-pattern triple in the bitmap the
// attempt already binarized and decodes each. With a single triple and a
// QR result there is nothing to decode, so for the usual frame it costs
// one scan of the cached black matrix; a 1D result costs a binarization
// more. Text that is not a payment code is not compared: only two payment
// codes make a frame ambiguous.
func (w *worker) unique(f found, bmp *gozxing.BinaryBitmap) (found, error) {
	if w.readers.qr == nil || !isPaymentCode(f.text) {
		return f, nil
	}
	m, err := bmp.GetBlackMatrix()
	if err != nil {
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
