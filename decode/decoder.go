package decode

import (
	"context"
	"fmt"
	"image"
	"sync"
	"sync/atomic"
	"time"

	"github.com/makiuchi-d/gozxing"
)

// Decoder finds and decodes barcodes with a fixed pool of workers. It is
// safe for concurrent use; create one per process (or per tenant that needs
// its own limits) with New and stop it with Close.
//
// Admission is strict: at most Workers images are decoded and QueueSize
// more wait; a call beyond that fails with ErrBusy at once, so a burst of
// uploads cannot queue without bound or starve the rest of the process.
type Decoder struct {
	cfg Config
	set symbolSet

	slots chan struct{} // one token per admitted image, running or queued
	jobs  chan *job     // same capacity as slots, so a send never blocks

	mu     sync.RWMutex // guards closed against sends on a closed jobs
	closed bool
	wg     sync.WaitGroup

	pool sync.Pool // *job

	// hook, if set (by tests, before the first call), runs on the worker
	// before every attempt.
	hook func(Stage)

	// rejected counts ErrBusy answers, safetyNet images the wall-time
	// safety net stopped; onDecoded is OnDecoded's (metrics.go).
	rejected  atomic.Uint64
	safetyNet atomic.Uint64
	onDecoded atomic.Pointer[func(time.Duration, error)]
}

// New validates cfg (after EnsureDefaults) and starts the workers.
func New(cfg Config) (*Decoder, error) {
	cfg.EnsureDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg.Symbologies = append([]Symbology(nil), cfg.Symbologies...) // no aliasing of the caller's slice
	capacity := cfg.Workers + cfg.queue()
	d := &Decoder{
		cfg:   cfg,
		set:   setOf(cfg.Symbologies),
		slots: make(chan struct{}, capacity),
		jobs:  make(chan *job, capacity),
	}
	d.pool.New = func() any { return &job{done: make(chan struct{}, 1)} }
	d.wg.Add(cfg.Workers)
	for range cfg.Workers {
		w := &worker{d: d, cfg: &d.cfg, set: d.set, readers: newReaders(d.set, cfg.AnyText)}
		go w.loop()
	}
	return d, nil
}

// Config returns the effective configuration, defaults filled in.
func (d *Decoder) Config() Config {
	c := d.cfg
	c.Symbologies = append([]Symbology(nil), c.Symbologies...)
	return c
}

// Decode decodes the first barcode found in a PNG, JPEG or GIF image (the
// first frame of an animated GIF).
//
// It returns ErrTooLarge if data exceeds MaxBytes or the header declares
// more than MaxPixels, before any pixel memory is allocated; ErrFormat for
// anything else that is not a well-formed image; ErrBusy if the pool is
// full; ErrNotFound, ErrBudget or ErrInternal when no code was read;
// ErrAmbiguous when two different payment codes were; a context error if
// ctx ends first. With ErrBudget, the Result's Stage names the stage the
// safety net stopped. data is only read, and not retained after
// Decode returns.
func (d *Decoder) Decode(ctx context.Context, data []byte) (Result, error) {
	if len(data) > d.cfg.MaxBytes {
		return Result{}, fmt.Errorf("%w: %d bytes exceeds the limit of %d", ErrTooLarge, len(data), d.cfg.MaxBytes)
	}
	if len(data) == 0 {
		return Result{}, fmt.Errorf("%w: empty input", ErrFormat)
	}
	j := d.pool.Get().(*job)
	j.kind, j.data = inputEncoded, data
	return d.run(ctx, j)
}

// DecodeGray decodes a raw 8-bit grayscale frame, row-major without
// padding: pixel (x, y) is pix[y*width+x], 0 black, 255 white (a camera's Y
// plane, for instance). pix is read in place, never copied or modified, and
// not retained after DecodeGray returns. Errors are as for Decode; a frame
// shorter than width*height is ErrFormat.
func (d *Decoder) DecodeGray(ctx context.Context, pix []byte, width, height int) (Result, error) {
	if err := checkDims(width, height, d.cfg.MaxPixels); err != nil {
		return Result{}, err
	}
	if len(pix) < width*height {
		return Result{}, fmt.Errorf("%w: %d bytes is short of a %dx%d frame", ErrFormat, len(pix), width, height)
	}
	j := d.pool.Get().(*job)
	j.kind, j.data, j.w, j.h = inputGray, pix, width, height
	return d.run(ctx, j)
}

// DecodeImage decodes an already decoded image, for callers that have one.
// Gray and YCbCr images are read in place; others are converted to
// luminance once. Errors are as for DecodeGray.
func (d *Decoder) DecodeImage(ctx context.Context, img image.Image) (Result, error) {
	b := img.Bounds()
	if err := checkDims(b.Dx(), b.Dy(), d.cfg.MaxPixels); err != nil {
		return Result{}, err
	}
	j := d.pool.Get().(*job)
	j.kind, j.img = inputImage, img
	return d.run(ctx, j)
}

// Close stops accepting work (calls fail with ErrClosed), lets admitted
// images finish, and waits for the workers to exit. It is idempotent.
func (d *Decoder) Close() {
	d.mu.Lock()
	if d.closed {
		d.mu.Unlock()
		return
	}
	d.closed = true
	close(d.jobs)
	d.mu.Unlock()
	d.wg.Wait()
}

type inputKind uint8

const (
	inputEncoded inputKind = iota
	inputGray
	inputImage
)

// Job states. A queued job is claimed by exactly one of: the worker
// (running) or the caller giving up (abandoned), by compare-and-swap. The
// side that loses never touches the input again, which is what lets Decode
// return early for a queued job without the worker reading freed data.
const (
	jobQueued uint32 = iota
	jobRunning
	jobAbandoned
)

// job carries one image to a worker and its result back. Jobs are pooled;
// ownership passes caller -> worker -> caller via the channels, or caller ->
// worker for good when the caller abandons it.
type job struct {
	ctx   context.Context
	kind  inputKind
	data  []byte
	w, h  int
	img   image.Image
	start time.Time

	state atomic.Uint32
	done  chan struct{} // receives one value when the worker has finished

	res Result
	err error
}

func (d *Decoder) release(j *job) {
	*j = job{done: j.done}
	d.pool.Put(j)
}

// run admits j, waits for it and returns its outcome.
func (d *Decoder) run(ctx context.Context, j *job) (Result, error) {
	j.start = time.Now()
	j.ctx = ctx
	if err := ctx.Err(); err != nil {
		d.release(j)
		return Result{}, ctxError(err)
	}
	d.mu.RLock()
	if d.closed {
		d.mu.RUnlock()
		d.release(j)
		return Result{}, ErrClosed
	}
	select {
	case d.slots <- struct{}{}:
	default:
		d.mu.RUnlock()
		d.release(j)
		d.rejected.Add(1)
		return Result{}, ErrBusy
	}
	j.state.Store(jobQueued)
	d.jobs <- j
	d.mu.RUnlock()

	select {
	case <-j.done:
	case <-ctx.Done():
		if j.state.CompareAndSwap(jobQueued, jobAbandoned) {
			// Still queued: the worker will drop it and recycle it.
			return Result{}, ctxError(ctx.Err())
		}
		// Running: the worker checks ctx between attempts and on every
		// 1D row, so this wait is short; the input must not be released
		// to the caller while gozxing may still read it.
		<-j.done
	}
	res, err := j.res, j.err
	start := j.start
	d.release(j)
	res.Elapsed = time.Since(start)
	if f := d.onDecoded.Load(); f != nil {
		(*f)(res.Elapsed, err)
	}
	return res, err
}

// worker owns its gozxing readers and scratch memory; nothing in it is
// shared with other workers.
type worker struct {
	d       *Decoder
	cfg     *Config
	set     symbolSet
	readers *readers
	mem     arena
	lean    bool // the current image runs the lean plan (search.go)
	noQR    bool // nor QR passes in tryharder and upscale (lean, or one finder candidate)
	trace1D bool // the current image's try-harder 1D pass saw a trace of a symbol

	crossRow  *gozxing.BitArray // crossingOutside's scratch row
	crossRuns []int             // and its runs
}

func (w *worker) loop() {
	defer w.d.wg.Done()
	for j := range w.d.jobs {
		if !j.state.CompareAndSwap(jobQueued, jobRunning) {
			<-w.d.slots
			w.d.release(j) // abandoned by its caller: ours to recycle
			continue
		}
		j.res, j.err = w.process(j)
		w.mem.reset()
		// Free the slot before signalling, so a caller that issues its next
		// call as soon as this one returns never sees its own slot taken.
		<-w.d.slots
		j.done <- struct{}{}
	}
}

// process turns one job into a result. Any panic (gozxing's are caught per
// attempt; this catches the image decoders and this package) becomes
// ErrInternal and the worker carries on with fresh readers.
func (w *worker) process(j *job) (res Result, err error) {
	defer func() {
		if v := recover(); v != nil {
			res, err = Result{}, panicError("decoder", v)
			w.readers = newReaders(w.set, w.cfg.AnyText)
		}
	}()
	stop := stopper{ctx: j.ctx, deadline: time.Now().Add(w.cfg.Budget), work: w.cfg.Work}
	var p plane
	switch j.kind {
	case inputEncoded:
		q, ok, err := pngLuma(j.ctx, j.data, w.cfg.MaxPixels, &w.mem)
		if err != nil {
			return Result{}, err
		}
		if ok {
			p = q
			break
		}
		img, err := decodeImage(j.ctx, j.data, w.cfg.MaxPixels)
		if err != nil {
			return Result{}, err
		}
		p = lumaOf(img, &w.mem)
	case inputGray:
		p = plane{pix: j.data, stride: j.w, w: j.w, h: j.h}
	case inputImage:
		p = lumaOf(j.img, &w.mem)
	}
	if err := j.ctx.Err(); err != nil {
		return Result{}, ctxError(err)
	}
	f, st, err := w.search(p, &stop)
	if stop.fired {
		w.d.safetyNet.Add(1)
	}
	if err != nil {
		return Result{Stage: st}, err
	}
	return Result{Text: f.text, Symbology: f.symbology, Stage: st, Rotated: f.rotated}, nil
}
