package decode

import (
	"context"
	"fmt"
	"time"

	"github.com/makiuchi-d/gozxing"
)

// stopper answers "should this image stop now?": the caller's context is
// done, or the per-image budget has run out.
type stopper struct {
	ctx      context.Context
	deadline time.Time
}

func (s *stopper) done() bool {
	return s.ctx.Err() != nil || !time.Now().Before(s.deadline)
}

// err is the error to return once done: the caller's context error takes
// precedence over the budget.
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
// later attempt starts only if stop is not yet done.
func (w *worker) search(p plane, stop *stopper) (found, Stage, error) {
	var firstPanic error
	try := func(st Stage, q plane, b binarizer, s *stopper) (found, bool) {
		f, err := w.attempt(st, q, b, s)
		if err == nil {
			return f, true
		}
		if firstPanic == nil && isInternal(err) {
			firstPanic = err
		}
		return found{}, false
	}
	if f, ok := try(StageFast, p, hybrid, nil); ok {
		return f, StageFast, nil
	}
	if w.cfg.FastOnly {
		return found{}, StageNone, w.notFound(firstPanic)
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
			if min(work.w, work.h) < 2*minSide {
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
			return found{}, StageNone, stop.err()
		}
		q, ok := s.src()
		if !ok {
			continue
		}
		for _, b := range s.bins {
			if b == global && w.readers.qr == nil {
				continue // 1D rows are binarized alike by both; only QR gains
			}
			if stop.done() {
				return found{}, StageNone, stop.err()
			}
			if f, ok := try(s.stage, q, b, stop); ok {
				return f, s.stage, nil
			}
		}
	}
	return found{}, StageNone, w.notFound(firstPanic)
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
			w.readers = newReaders(w.set)
		}
	}()
	if h := w.d.hook; h != nil {
		h(st)
	}
	src := newSource(q, stop, &w.mem)
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
				return f, nil
			}
		}
		if stop != nil && stop.done() {
			return found{}, stop.err()
		}
	}
	if r.qr != nil {
		res, err := r.qr.Decode(bmp, hints)
		if err != nil {
			if st == StageTryHarder || st == StageGlobal { // see keystone.go
				if f, ok := keystoneQR(bmp, hints, stop); ok {
					return f, nil
				}
			}
			return found{}, err
		}
		if f, ok := convert(res); ok {
			return f, nil
		}
	}
	return found{}, ErrNotFound
}
