package decode_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/paycode/paycode/decode"
	"github.com/paycode/paycode/decode/internal/lanegen"
)

// laneSeed fixes the generated images; changing it is a new data set (and
// may need new floors).
const laneSeed = 1

// laneFloors is the minimum decode rate, in percent, per generated class
// (20 images each, seed laneSeed): a little below what the decoder reads
// (measured 2026-11; the comparison with zbarimg and ZXingReader on the
// same images is decode/compare/run.sh, figures in the README). Negatives
// must all come back ErrNotFound.
var laneFloors = map[string]int{
	"qr/plain":            95,
	"qr/tilt":             95,
	"qr/quarter":          95,
	"qr/perspective":      95,
	"qr/blur":             70,
	"qr/noise":            95,
	"qr/lowcontrast":      95,
	"qr/jpeg":             95,
	"qr/small":            90,
	"qr/large":            95,
	"qr/clutter":          95,
	"code128/plain":       95,
	"code128/tilt":        95,
	"code128/quarter":     95,
	"code128/perspective": 95,
	"code128/blur":        85,
	"code128/noise":       90,
	"code128/lowcontrast": 95,
	"code128/jpeg":        95,
	"code128/small":       80,
	"code128/large":       95,
	"code128/clutter":     95,
	"qr/tiny":             80,
	"qr/steep":            90,
	"code128/tiny":        80,
	"code128/steep":       95,
	"two":                 100,
	"negative":            100,
	"negative/texture":    100,
}

// TestLaneImages decodes generated lane-like frames (lanegen: codes drawn
// by boombuler/barcode, not gozxing, then rotated, warped, blurred, made
// noisy, faint, JPEG-compressed, small, large or cluttered) and fails on
// any wrong text, on a negative that is not ErrNotFound, and on a class
// below its floor. Rates and stages are logged (and appended to
// $PAYCODE_SUMMARY if set).
//
// Like the corpus gate, it runs with a budget far above the default, so
// the rates measure the stages, not the machine's load. Under -race it
// runs 3 images per class and checks only correctness (wrong text,
// negatives), not the floors; -short runs 5 per class, floors unchecked.
func TestLaneImages(t *testing.T) {
	n := 20
	switch {
	case decode.RaceEnabled:
		n = 3
	case testing.Short():
		n = 5
	}
	checkFloors := n == 20
	cfg := decode.Config{Workers: runtime.GOMAXPROCS(0), Budget: time.Minute}
	d := newDecoder(t, cfg)
	classes := lanegen.Classes()
	for _, c := range classes {
		if _, ok := laneFloors[c.Name]; !ok {
			t.Fatalf("class %s has no floor in laneFloors", c.Name)
		}
	}

	type task struct {
		class lanegen.Class
		i     int
	}
	type outcome struct {
		hit   bool
		stage decode.Stage
		ms    float64
	}
	var (
		mu       sync.Mutex
		results  = map[string][]outcome{}
		wg       sync.WaitGroup
		tasks    = make(chan task)
		ctx      = context.Background()
		failures []string
	)
	fail := func(format string, args ...any) {
		mu.Lock()
		failures = append(failures, fmt.Sprintf(format, args...))
		mu.Unlock()
	}
	for range cfg.Workers {
		wg.Go(func() {
			for tk := range tasks {
				s, err := lanegen.Generate(tk.class, laneSeed, tk.i)
				if err != nil {
					fail("%s #%d: generate: %v", tk.class.Name, tk.i, err)
					continue
				}
				var res decode.Result
				if s.Lossless() {
					res, err = d.DecodeImage(ctx, s.Img)
				} else {
					data, eerr := s.Encode()
					if eerr != nil {
						fail("%s #%d: encode: %v", tk.class.Name, tk.i, eerr)
						continue
					}
					res, err = d.Decode(ctx, data)
				}
				o := outcome{stage: res.Stage, ms: float64(res.Elapsed) / 1e6}
				switch {
				case tk.class.Two():
					switch {
					case errors.Is(err, decode.ErrAmbiguous):
						o.hit = true
					case err == nil && res.Text != s.Text && res.Text != s.Other:
						fail("%s #%d: WRONG TEXT: read %s, encoded %s and %s", tk.class.Name, tk.i,
							decode.Mask(res.Text), decode.Mask(s.Text), decode.Mask(s.Other))
					case err != nil && !errors.Is(err, decode.ErrNotFound):
						fail("%s #%d: %v, want ErrAmbiguous", tk.class.Name, tk.i, err)
					}
				case tk.class.Negative():
					if err == nil {
						fail("%s #%d: read %s %s from a frame without a code", tk.class.Name, tk.i, res.Symbology, decode.Mask(res.Text))
					} else if !errors.Is(err, decode.ErrNotFound) {
						fail("%s #%d: %v, want ErrNotFound", tk.class.Name, tk.i, err)
					} else {
						o.hit = true
					}
				case err != nil:
					if !errors.Is(err, decode.ErrNotFound) {
						fail("%s #%d: %v, want a result or ErrNotFound", tk.class.Name, tk.i, err)
					}
				case res.Text != s.Text || res.Symbology.String() != tk.class.Symbology:
					fail("%s #%d: WRONG TEXT: read %s %s, encoded %s %s", tk.class.Name, tk.i,
						res.Symbology, decode.Mask(res.Text), tk.class.Symbology, decode.Mask(s.Text))
				default:
					o.hit = true
				}
				mu.Lock()
				results[tk.class.Name] = append(results[tk.class.Name], o)
				mu.Unlock()
			}
		})
	}
	for _, c := range classes {
		for i := range n {
			tasks <- task{c, i}
		}
	}
	close(tasks)
	wg.Wait()
	for _, f := range failures {
		t.Error(f)
	}

	var table strings.Builder
	fmt.Fprintf(&table, "| class | decoded | floor | stages | max ms |\n|---|---:|---:|---|---:|\n")
	for _, c := range classes {
		outs := results[c.Name]
		hits := 0
		stages := map[decode.Stage]int{}
		var maxMs float64
		for _, o := range outs {
			if o.hit {
				hits++
				if !c.Negative() {
					stages[o.stage]++
				}
			}
			maxMs = max(maxMs, o.ms)
		}
		var st []string
		for s := decode.StageFast; s <= decode.StageMagnify; s++ {
			if stages[s] > 0 {
				st = append(st, fmt.Sprintf("%s=%d", s, stages[s]))
			}
		}
		rate := 100 * hits / max(len(outs), 1)
		fmt.Fprintf(&table, "| %s | %d/%d (%d%%) | %d%% | %s | %.0f |\n", c.Name, hits, len(outs), rate, laneFloors[c.Name], strings.Join(st, " "), maxMs)
		if checkFloors && rate < laneFloors[c.Name] {
			t.Errorf("%s: %d of %d decoded (%d%%), floor %d%%", c.Name, hits, len(outs), rate, laneFloors[c.Name])
		}
	}
	fmt.Fprintf(&table, "\n%d images per class, seed %d, race=%v, floors checked=%v\n", n, laneSeed, decode.RaceEnabled, checkFloors)
	t.Logf("generated lane images:\n%s", table.String())
	if path := os.Getenv("PAYCODE_SUMMARY"); path != "" {
		f, err := os.OpenFile(path, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
		if err != nil {
			t.Fatalf("PAYCODE_SUMMARY: %v", err)
		}
		fmt.Fprintf(f, "### decode: generated lane images\n\n%s\n", table.String())
		if err := f.Close(); err != nil {
			t.Fatal(err)
		}
	}
}

// TestVerdictsUnderLoad decodes a sample of every generated class twice,
// on an idle machine and with every core kept busy by spinning goroutines,
// with the default Config, and requires the same verdict (text or error)
// and the same stage for every frame: what the decoder does is fixed by
// the frame and its work account, not by the clock. The safety net must
// not fire. One frame per class; under -race, which slows gozxing tenfold,
// at 320x240 (the class's distortions at half scale) and without the
// large frames.
//
// The safety net is set to a minute here: the machines that run these
// tests are shared (a load average of 8 per core was seen) and can starve
// a decoder more than a lane ever should; what is under test is that
// nothing but the safety net depends on time. TestBudgetExceeded covers
// the safety net itself.
func TestVerdictsUnderLoad(t *testing.T) {
	const n = 1
	type frame struct {
		name string
		data []byte
	}
	var frames []frame
	for _, c := range lanegen.Classes() {
		if c.Distortion == "large" && decode.RaceEnabled {
			continue
		}
		for i := range n {
			w, h := 0, 0
			if decode.RaceEnabled {
				w, h = 320, 240
			}
			s, err := lanegen.GenerateFrame(c, laneSeed+1, i, w, h)
			if err != nil {
				t.Fatal(err)
			}
			data, err := s.Encode()
			if err != nil {
				t.Fatal(err)
			}
			frames = append(frames, frame{fmt.Sprintf("%s #%d", c.Name, i), data})
		}
	}
	d := newDecoder(t, decode.Config{Workers: 1, Budget: time.Minute})
	verdicts := func() []string {
		out := make([]string, len(frames))
		for i, f := range frames {
			res, err := d.Decode(context.Background(), f.data)
			if err != nil {
				out[i] = fmt.Sprintf("%v (stage %v)", err, res.Stage)
			} else {
				out[i] = fmt.Sprintf("%s %s stage %v", res.Symbology, decode.Mask(res.Text), res.Stage)
			}
		}
		return out
	}
	idle := verdicts()

	var stop atomic.Bool
	var spinners sync.WaitGroup
	for range 2 * runtime.GOMAXPROCS(0) {
		spinners.Go(func() {
			x := 0
			for !stop.Load() {
				x++
			}
			_ = x
		})
	}
	busy := verdicts()
	stop.Store(true)
	spinners.Wait()

	for i, f := range frames {
		if idle[i] != busy[i] {
			t.Errorf("%s: idle %s, busy %s", f.name, idle[i], busy[i])
		}
	}
	if n := d.SafetyNetFired(); n != 0 {
		t.Errorf("the safety net fired %d times", n)
	}
	t.Logf("%d frames, the same verdicts idle and with %d spinning goroutines", len(frames), 2*runtime.GOMAXPROCS(0))
}
