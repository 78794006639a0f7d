package decode_test

import (
	"context"
	"errors"
	"fmt"
	"image"
	"math/rand/v2"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/makiuchi-d/gozxing"
	"github.com/makiuchi-d/gozxing/oned"

	"github.com/paycode/paycode/decode"
	"github.com/paycode/paycode/decode/decodetest"
	"github.com/paycode/paycode/decode/internal/lanegen"
)

// Fixtures shared by several tests: a padded QR and Code 128 of payCode.
func qrFixture(tb testing.TB) *image.Gray { return pad(decodetest.QR(tb, payCode, 200), 40) }
func c128Fixture(tb testing.TB) *image.Gray {
	return pad(decodetest.Code128(tb, payCode, 400, 120), 30)
}

// noise is a mid-gray random frame with no code in it, seeded for
// repeatability; its range (100..179) leaves room for the contrast stage.
func noise(w, h int) *image.Gray {
	r := rand.New(rand.NewPCG(1, 2))
	img := image.NewGray(image.Rect(0, 0, w, h))
	for i := range img.Pix {
		img.Pix[i] = uint8(100 + r.IntN(80))
	}
	return img
}

// ramp is a frame without a code or any trace of one that spans the whole
// luminance range: each row runs from black to white.
func ramp(w, h int) *image.Gray {
	img := image.NewGray(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			img.Pix[y*img.Stride+x] = uint8(x * 255 / (w - 1))
		}
	}
	return img
}

// TestGeneratedPaymentCodes round-trips a 24-digit payment code through
// gozxing's writers, every input format, and the decoder.
func TestGeneratedPaymentCodes(t *testing.T) {
	qr, c128 := qrFixture(t), c128Fixture(t)
	d := newDecoder(t, decode.Config{})
	ctx := context.Background()
	decodeBytes := func(b []byte) func() (decode.Result, error) {
		return func() (decode.Result, error) { return d.Decode(ctx, b) }
	}
	tests := []struct {
		name string
		sym  decode.Symbology
		run  func() (decode.Result, error)
	}{
		{"qr/png", decode.QRCode, decodeBytes(decodetest.PNG(t, qr))},
		{"qr/jpeg", decode.QRCode, decodeBytes(encodeJPEG(t, qr, 75))},
		{"qr/jpeg-gray", decode.QRCode, decodeBytes(encodeGrayJPEG(t, qr, 75))},
		{"qr/gif", decode.QRCode, decodeBytes(encodeGIF(t, qr))},
		{"qr/raw", decode.QRCode, func() (decode.Result, error) {
			return d.DecodeGray(ctx, qr.Pix, qr.Rect.Dx(), qr.Rect.Dy())
		}},
		{"qr/image", decode.QRCode, func() (decode.Result, error) { return d.DecodeImage(ctx, qr) }},
		{"code128/png", decode.Code128, decodeBytes(decodetest.PNG(t, c128))},
		{"code128/jpeg", decode.Code128, decodeBytes(encodeJPEG(t, c128, 75))},
		{"code128/gif", decode.Code128, decodeBytes(encodeGIF(t, c128))},
		{"code128/raw", decode.Code128, func() (decode.Result, error) {
			return d.DecodeGray(ctx, c128.Pix, c128.Rect.Dx(), c128.Rect.Dy())
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, err := tt.run()
			if err != nil {
				t.Fatal(err)
			}
			if res.Text != payCode {
				t.Errorf("text %s, want %s", decode.Mask(res.Text), decode.Mask(payCode))
			}
			if res.Symbology != tt.sym {
				t.Errorf("symbology %v, want %v", res.Symbology, tt.sym)
			}
			if res.Stage != decode.StageFast {
				t.Errorf("stage %v: a clean generated code should decode in the fast stage", res.Stage)
			}
			if res.Elapsed <= 0 {
				t.Errorf("elapsed %v", res.Elapsed)
			}
		})
	}
}

// TestRotationReported checks Result.Rotated against a known rotation, and
// that vertical Code 128 is found (by the TRY_HARDER stage's 90° turn).
func TestRotationReported(t *testing.T) {
	d := newDecoder(t, decode.Config{})
	for _, fx := range []struct {
		name string
		img  *image.Gray
		sym  decode.Symbology
	}{{"qr", qrFixture(t), decode.QRCode}, {"code128", c128Fixture(t), decode.Code128}} {
		for q := range 4 {
			t.Run(fx.name+"/"+[]string{"0", "90", "180", "270"}[q], func(t *testing.T) {
				res, err := d.DecodeImage(context.Background(), rotateCW(fx.img, q))
				if err != nil {
					t.Fatal(err)
				}
				if res.Text != payCode || res.Symbology != fx.sym {
					t.Fatalf("got %v", res)
				}
				if res.Rotated != q*90 {
					t.Errorf("rotated %d, want %d", res.Rotated, q*90)
				}
				want := decode.StageFast
				if fx.sym == decode.Code128 && q%2 == 1 {
					want = decode.StageTryHarder
				}
				if res.Stage != want {
					t.Errorf("stage %v, want %v", res.Stage, want)
				}
			})
		}
	}
}

// TestFallbackStagesFind: codes the fast stage cannot read are found by the
// stage meant for them: a faint print (16 gray levels of contrast, under
// the hybrid binarizer's 24-level floor) by the contrast stretch, a light
// QR code on a dark ground by the inverted stage. A light Code 128 is read
// by the 1D passes themselves, which try each row's complement: upright in
// the fast stage, turned 90° in tryharder.
func TestFallbackStagesFind(t *testing.T) {
	faint := func(img *image.Gray) *image.Gray {
		for i, v := range img.Pix {
			img.Pix[i] = uint8(120 + int(v)*16/255)
		}
		return img
	}
	inverted := func(img *image.Gray) *image.Gray {
		for i, v := range img.Pix {
			img.Pix[i] = 255 - v
		}
		return img
	}
	d := newDecoder(t, decode.Config{Budget: time.Minute})
	tests := []struct {
		name  string
		img   *image.Gray
		sym   decode.Symbology
		stage decode.Stage
	}{
		{"faint qr", faint(qrFixture(t)), decode.QRCode, decode.StageContrast},
		{"faint code128", faint(c128Fixture(t)), decode.Code128, decode.StageContrast},
		{"inverted qr", inverted(qrFixture(t)), decode.QRCode, decode.StageInverted},
		{"inverted code128", inverted(c128Fixture(t)), decode.Code128, decode.StageFast},
		{"inverted code128 turned", inverted(rotateCW(c128Fixture(t), 1).(*image.Gray)), decode.Code128, decode.StageTryHarder},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, err := d.DecodeImage(context.Background(), tt.img)
			if err != nil {
				t.Fatal(err)
			}
			if res.Text != payCode || res.Symbology != tt.sym || res.Stage != tt.stage {
				t.Errorf("got %v, want %v in stage %v", res, tt.sym, tt.stage)
			}
		})
	}
}

// TestOtherOneDOptIn: an EAN-13 is ignored by default and read once the
// options list it and accept text that is not a payment code.
func TestOtherOneDOptIn(t *testing.T) {
	m, err := oned.NewEAN13Writer().Encode("5901234123457", gozxing.BarcodeFormat_EAN_13, 300, 100, nil)
	if err != nil {
		t.Fatal(err)
	}
	png := decodetest.PNG(t, pad(decodetest.Gray(m), 20))
	ctx := context.Background()

	// Minute budgets: the point is that the whole search misses it.
	if _, err := newDecoder(t, decode.Config{Budget: time.Minute}).Decode(ctx, png); !errors.Is(err, decode.ErrNotFound) {
		t.Errorf("default config: err %v, want ErrNotFound", err)
	}
	all := append([]decode.Symbology{decode.QRCode}, decode.All1D()...)
	if _, err := newDecoder(t, decode.Config{Symbologies: all, Budget: time.Minute}).Decode(ctx, png); !errors.Is(err, decode.ErrNotFound) {
		t.Errorf("13 digits are no payment code: err %v, want ErrNotFound", err)
	}
	res, err := newDecoder(t, decode.Config{Symbologies: all, Budget: time.Minute, AnyText: true}).Decode(ctx, png)
	if err != nil {
		t.Fatal(err)
	}
	if res.Text != "5901234123457" || res.Symbology != decode.EAN13 {
		t.Errorf("got %q %v", res.Text, res.Symbology)
	}
}

// TestStageOrder records the attempts made on an image without a code. A
// frame in which the fast stage saw a trace of a code (here a QR code whose
// data modules are wiped, so its finder patterns remain) gets the whole
// documented sequence, each stage once per binarizer (the wiped code is
// black and white already, so the contrast stage has nothing to stretch
// and is skipped), magnify last (its three finder patterns remain). A frame without a QR finder candidate gets the lean
// plan: no downscale stage; upscale with the hybrid binarizer only, and
// only after the 1D passes saw start patterns that line up (a tiny Code
// 128, read there; noise shows a few scattered ones, which do not count);
// global and contrast only on a narrow luminance range (the noise spans
// 80 levels, a ramp all 256); inverted for QR only. Without QR the global
// binarizer is never tried (1D rows come out the same either way), nor
// the inverted stage (every 1D pass reads light symbols).
func TestStageOrder(t *testing.T) {
	const (
		fast, th, gl, down = decode.StageFast, decode.StageTryHarder, decode.StageGlobal, decode.StageDownscale
		up, con, inv, mag  = decode.StageUpscale, decode.StageContrast, decode.StageInverted, decode.StageMagnify
	)
	wiped := pad(decodetest.QR(t, payCode, 200), 50)
	for y := 130; y < 170; y++ { // the centre, clear of the finder patterns
		for x := 130; x < 170; x++ {
			wiped.Pix[y*wiped.Stride+x] = 0xff
		}
	}
	tinyClass, _ := lanegen.ClassByName("code128/tiny")
	tiny, err := lanegen.Generate(tinyClass, laneSeed, 1)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		syms []decode.Symbology
		img  *image.Gray
		want []decode.Stage
		text string // "" for ErrNotFound
	}{
		{"qr and code128, a trace", nil, wiped, []decode.Stage{fast, th, gl, down, down, up, up, inv, mag}, ""},
		{"qr only, a trace", []decode.Symbology{decode.QRCode}, wiped, []decode.Stage{fast, th, gl, down, down, up, up, inv, mag}, ""},
		{"qr and code128, no trace", nil, noise(300, 300), []decode.Stage{fast, th, gl, con, inv}, ""},
		{"code128 only, no trace", []decode.Symbology{decode.Code128}, noise(300, 300), []decode.Stage{fast, th, con}, ""},
		{"a tiny code128", nil, tiny.Img, []decode.Stage{fast, th, up}, tiny.Text},
		{"wide range, no trace", nil, ramp(300, 300), []decode.Stage{fast, th, inv}, ""},
		{"code128 only, wide range, no trace", []decode.Symbology{decode.Code128}, ramp(300, 300), []decode.Stage{fast, th}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := newDecoder(t, decode.Config{Budget: time.Minute, Symbologies: tt.syms})
			var got []decode.Stage
			decode.SetAttemptHook(d, func(s decode.Stage) { got = append(got, s) })
			res, err := d.DecodeImage(context.Background(), tt.img)
			switch {
			case tt.text == "" && !errors.Is(err, decode.ErrNotFound):
				t.Fatalf("err %v, want ErrNotFound", err)
			case tt.text != "" && (err != nil || res.Text != tt.text):
				t.Fatalf("got %v, %v; want %s", res, err, decode.Mask(tt.text))
			}
			if fmt.Sprint(got) != fmt.Sprint(tt.want) {
				t.Errorf("attempts %v, want %v", got, tt.want)
			}
		})
	}
}

// TestLargeFrameFallbacksDownscaled: above DownscaleAbove the fallback
// stages skip upscaling (the frame is already large).
func TestLargeFrameFallbacksDownscaled(t *testing.T) {
	d := newDecoder(t, decode.Config{Budget: time.Minute, DownscaleAbove: 100 * 100})
	var got []decode.Stage
	decode.SetAttemptHook(d, func(s decode.Stage) { got = append(got, s) })
	if _, err := d.DecodeImage(context.Background(), noise(400, 400)); !errors.Is(err, decode.ErrNotFound) {
		t.Fatalf("err %v, want ErrNotFound", err)
	}
	for _, s := range got {
		if s == decode.StageUpscale {
			t.Fatalf("attempts %v: upscale ran on a large frame", got)
		}
	}
}

func TestFastOnly(t *testing.T) {
	d := newDecoder(t, decode.Config{FastOnly: true})
	var got []decode.Stage
	decode.SetAttemptHook(d, func(s decode.Stage) { got = append(got, s) })
	if _, err := d.DecodeImage(context.Background(), noise(200, 200)); !errors.Is(err, decode.ErrNotFound) {
		t.Fatalf("err %v, want ErrNotFound", err)
	}
	if len(got) != 1 || got[0] != decode.StageFast {
		t.Errorf("attempts %v, want only fast", got)
	}
}

// TestBudgetExceeded: with a safety net shorter than any attempt, the fast
// stage still runs (it always does) and nothing after it; the error names
// the stage it stopped, and the metric counts it.
func TestBudgetExceeded(t *testing.T) {
	d := newDecoder(t, decode.Config{Budget: time.Nanosecond})
	var got []decode.Stage
	decode.SetAttemptHook(d, func(s decode.Stage) { got = append(got, s) })
	res, err := d.DecodeImage(context.Background(), noise(200, 200))
	if !errors.Is(err, decode.ErrBudget) {
		t.Fatalf("err %v, want ErrBudget", err)
	}
	if res.Stage != decode.StageTryHarder {
		t.Errorf("stopped in stage %v, want tryharder (the first after fast)", res.Stage)
	}
	if n := d.SafetyNetFired(); n != 1 {
		t.Errorf("SafetyNetFired %d, want 1", n)
	}
	if len(got) != 1 || got[0] != decode.StageFast {
		t.Errorf("attempts %v, want only fast", got)
	}
	// A code the fast stage can read is still read.
	res, err = d.DecodeImage(context.Background(), qrFixture(t))
	if err != nil || res.Text != payCode {
		t.Errorf("fast stage under exhausted budget: %v, %v", res, err)
	}
}

// TestWorkBudget: the work account, not the clock, decides how far the
// search goes: with room for the try-harder attempt only (twice the frame's
// pixels) a frame without a code runs fast and tryharder and ends
// ErrNotFound, every time; with the default it runs every stage.
func TestWorkBudget(t *testing.T) {
	img := noise(200, 200)
	for _, tt := range []struct {
		work int
		want []decode.Stage
	}{
		{2 * 200 * 200, []decode.Stage{decode.StageFast, decode.StageTryHarder}},
		{0, []decode.Stage{decode.StageFast, decode.StageTryHarder, decode.StageGlobal, decode.StageDownscale, decode.StageDownscale,
			decode.StageUpscale, decode.StageUpscale, decode.StageContrast, decode.StageInverted, decode.StageMagnify}},
	} {
		d := newDecoder(t, decode.Config{Work: tt.work, Budget: time.Minute})
		for range 3 {
			var got []decode.Stage
			decode.SetAttemptHook(d, func(s decode.Stage) { got = append(got, s) })
			if _, err := d.DecodeImage(context.Background(), img); !errors.Is(err, decode.ErrNotFound) {
				t.Fatalf("work %d: err %v, want ErrNotFound", tt.work, err)
			}
			if !slices.Equal(got, tt.want) {
				t.Fatalf("work %d: attempts %v, want %v", tt.work, got, tt.want)
			}
		}
		if n := d.SafetyNetFired(); n != 0 {
			t.Errorf("work %d: the safety net fired %d times", tt.work, n)
		}
	}
}

// blocker is an attempt hook that holds the first attempt it sees until
// released, and tells the test when that attempt has started.
type blocker struct {
	once    sync.Once
	entered chan struct{}
	release chan struct{}
}

func newBlocker() *blocker {
	return &blocker{entered: make(chan struct{}), release: make(chan struct{})}
}

func (b *blocker) hook(decode.Stage) {
	first := false
	b.once.Do(func() { first = true })
	if first {
		close(b.entered)
		<-b.release
	}
}

// TestBusy: one worker, no queue; while it is held, a second call fails at
// once with ErrBusy, and succeeds once the worker is free.
func TestBusy(t *testing.T) {
	d := newDecoder(t, decode.Config{Workers: 1, QueueSize: decode.NoQueue})
	b := newBlocker()
	decode.SetAttemptHook(d, b.hook)
	img := qrFixture(t)
	ctx := context.Background()

	first := make(chan error, 1)
	go func() {
		_, err := d.DecodeImage(ctx, img)
		first <- err
	}()
	<-b.entered
	if _, err := d.DecodeImage(ctx, img); !errors.Is(err, decode.ErrBusy) {
		t.Fatalf("second call while the worker is held: err %v, want ErrBusy", err)
	}
	close(b.release)
	if err := <-first; err != nil {
		t.Fatalf("first call: %v", err)
	}
	if res, err := d.DecodeImage(ctx, img); err != nil || res.Text != payCode {
		t.Fatalf("after release: %v, %v", res, err)
	}
}

// TestQueueAndAbandon: with one worker (held) and one queue slot, of two
// further calls one waits and the other is refused at once; cancelling the
// waiting call returns it immediately, while the worker is still held, and
// its slot comes back once the worker has dropped it.
func TestQueueAndAbandon(t *testing.T) {
	d := newDecoder(t, decode.Config{Workers: 1, QueueSize: 1})
	b := newBlocker()
	decode.SetAttemptHook(d, b.hook)
	img := qrFixture(t)
	bg := context.Background()

	first := make(chan error, 1)
	go func() {
		_, err := d.DecodeImage(bg, img)
		first <- err
	}()
	<-b.entered

	ctx, cancel := context.WithCancel(bg)
	defer cancel()
	later := make(chan error, 2)
	for range 2 {
		go func() {
			_, err := d.DecodeImage(ctx, img)
			later <- err
		}()
	}
	// The queued call cannot return before cancel or release, so the first
	// to return is the refused one.
	if err := <-later; !errors.Is(err, decode.ErrBusy) {
		t.Fatalf("call beyond the queue: err %v, want ErrBusy", err)
	}
	cancel()
	if err := <-later; !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled queued call: err %v, want context.Canceled", err)
	}
	close(b.release)
	if err := <-first; err != nil {
		t.Fatalf("first call: %v", err)
	}
	if res, err := d.DecodeImage(bg, img); err != nil || res.Text != payCode {
		t.Fatalf("after release: %v, %v", res, err)
	}
}

// TestCancelWhileRunning: a caller whose context ends mid-decode gets the
// context error once the current attempt ends; no later stage runs.
func TestCancelWhileRunning(t *testing.T) {
	d := newDecoder(t, decode.Config{Workers: 1, Budget: time.Minute})
	b := newBlocker()
	var stages []decode.Stage
	var mu sync.Mutex
	decode.SetAttemptHook(d, func(s decode.Stage) {
		mu.Lock()
		stages = append(stages, s)
		mu.Unlock()
		b.hook(s)
	})
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() {
		_, err := d.DecodeImage(ctx, noise(200, 200))
		errc <- err
	}()
	<-b.entered
	cancel()
	close(b.release)
	if err := <-errc; !errors.Is(err, context.Canceled) {
		t.Fatalf("err %v, want context.Canceled", err)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(stages) != 1 {
		t.Errorf("attempts after cancellation: %v", stages)
	}
}

func TestCancelledBeforeCall(t *testing.T) {
	d := newDecoder(t, decode.Config{})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := d.DecodeImage(ctx, qrFixture(t)); !errors.Is(err, context.Canceled) {
		t.Fatalf("err %v, want context.Canceled", err)
	}
}

// TestPanicRecovered: a panic inside an attempt (injected through the hook,
// which runs where gozxing does) costs that attempt only; panics in every
// attempt surface as ErrInternal. The worker survives both.
func TestPanicRecovered(t *testing.T) {
	d := newDecoder(t, decode.Config{Workers: 1, Budget: time.Minute})
	var mode string
	decode.SetAttemptHook(d, func(s decode.Stage) {
		if mode == "all" || (mode == "fast" && s == decode.StageFast) {
			panic("injected")
		}
	})
	img, ctx := qrFixture(t), context.Background()

	mode = "fast"
	res, err := d.DecodeImage(ctx, img)
	if err != nil || res.Text != payCode || res.Stage != decode.StageTryHarder {
		t.Fatalf("panic in fast stage only: %v, %v; want a tryharder result", res, err)
	}
	mode = "all"
	_, err = d.DecodeImage(ctx, img)
	if !errors.Is(err, decode.ErrInternal) {
		t.Fatalf("panic in every stage: err %v, want ErrInternal", err)
	}
	mode = ""
	if res, err := d.DecodeImage(ctx, img); err != nil || res.Stage != decode.StageFast {
		t.Fatalf("after panics: %v, %v", res, err)
	}
}

func TestClose(t *testing.T) {
	d, err := decode.New(decode.Config{Workers: 1})
	if err != nil {
		t.Fatal(err)
	}
	d.Close()
	d.Close() // idempotent
	if _, err := d.DecodeImage(context.Background(), qrFixture(t)); !errors.Is(err, decode.ErrClosed) {
		t.Fatalf("err %v, want ErrClosed", err)
	}
}

// TestConcurrentUse hammers one Decoder from many goroutines with both
// symbologies and every input path; run under -race it checks that no
// gozxing object is shared between workers.
func TestConcurrentUse(t *testing.T) {
	// A generous budget: this test is about sharing, not timing, and the
	// rotated Code 128 needs a fallback stage.
	cfg := decode.Config{Workers: 3, QueueSize: 3, Budget: time.Minute}
	d := newDecoder(t, cfg)
	qr, c128 := qrFixture(t), c128Fixture(t)
	inputs := []func() (decode.Result, error){
		func() (decode.Result, error) { return d.DecodeImage(context.Background(), qr) },
		func() (decode.Result, error) { return d.DecodeImage(context.Background(), c128) },
		func() (decode.Result, error) { return d.DecodeImage(context.Background(), rotateCW(c128, 1)) },
		func() (decode.Result, error) {
			return d.DecodeGray(context.Background(), c128.Pix, c128.Rect.Dx(), c128.Rect.Dy())
		},
	}
	rounds := 8
	if decode.RaceEnabled {
		rounds = 3
	}
	var wg sync.WaitGroup
	for g := range cfg.Workers + cfg.QueueSize { // never more callers than slots
		wg.Go(func() {
			for i := range rounds * len(inputs) {
				res, err := inputs[(g+i)%len(inputs)]()
				if err != nil || res.Text != payCode {
					t.Errorf("goroutine %d call %d: %v, %v", g, i, res, err)
					return
				}
			}
		})
	}
	wg.Wait()
}

// TestResultMasked: printing a Result never shows the whole code.
func TestResultMasked(t *testing.T) {
	r := decode.Result{Text: payCode, Symbology: decode.QRCode, Stage: decode.StageFast}
	for _, s := range []string{r.String(), r.GoString()} {
		if containsCode(s) {
			t.Errorf("%q leaks the code", s)
		}
	}
}

func containsCode(s string) bool {
	for i := 0; i+len(payCode) <= len(s); i++ {
		if s[i:i+len(payCode)] == payCode {
			return true
		}
	}
	return false
}
