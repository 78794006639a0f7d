package decode_test

import (
	"bytes"
	"context"
	"fmt"
	"image"
	_ "image/png" // corpus images, decoded here to be rotated
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/paycode/paycode/decode"
	"github.com/paycode/paycode/decode/decodetest"
)

// corpusMinimums are ZXing's own blackbox-test minimum pass counts, quoted
// in testdata/corpus/README.md, per set at 0°, 90°, 180°, 270° (clockwise).
// -1: not tried (1D sets are tried at 0° and 180° only).
var corpusMinimums = map[string][4]int{
	"qrcode-1":  {17, 14, 17, 14},
	"qrcode-2":  {32, 30, 31, 31},
	"qrcode-3":  {38, 39, 36, 39},
	"code128-1": {7, -1, 7, -1},
}

type corpusImage struct {
	set, name string
	data      []byte // the file, for the 0° case (full Decode path)
	img       image.Image
	want      []byte
}

func loadCorpus(tb testing.TB) []corpusImage {
	tb.Helper()
	dir := decodetest.CorpusDir(tb)
	var out []corpusImage
	sets := make([]string, 0, len(corpusMinimums))
	for set := range corpusMinimums {
		sets = append(sets, set)
	}
	slices.Sort(sets)
	for _, set := range sets {
		files, err := filepath.Glob(filepath.Join(dir, set, "*.png"))
		if err != nil || len(files) == 0 {
			tb.Fatalf("corpus set %s: no images in %s (%v)", set, filepath.Join(dir, set), err)
		}
		slices.Sort(files)
		for _, f := range files {
			data, err := os.ReadFile(f)
			if err != nil {
				tb.Fatal(err)
			}
			want, err := os.ReadFile(strings.TrimSuffix(f, ".png") + ".txt")
			if err != nil {
				tb.Fatal(err)
			}
			img, _, err := image.Decode(bytes.NewReader(data))
			if err != nil {
				tb.Fatalf("%s: %v", f, err)
			}
			out = append(out, corpusImage{set: set, name: filepath.Base(f), data: data, img: img, want: want})
		}
	}
	return out
}

// TestCorpusAccuracy decodes every corpus image as is and turned by 90°,
// 180° and 270° (1D sets: 0° and 180°) and fails if any set falls below
// ZXing's minimum for that rotation. The 0° case goes through Decode on the
// file's bytes; rotations go through DecodeImage on the rotated pixels.
// The counts are logged and, if $PAYCODE_SUMMARY names a file, appended
// there as a Markdown table (CI can print or publish it).
//
// The gate measures what the stages can read, so it runs with a budget far
// above the default: on a loaded CI machine the default 200 ms could cut
// fallback stages short and make the counts depend on the neighbours'
// load. How many successes came in within the default budget is reported
// alongside (the budget itself is tested in TestBudgetExceeded). Under
// -race only 0° and 180° are run (the detector slows gozxing tenfold).
func TestCorpusAccuracy(t *testing.T) {
	images := loadCorpus(t)
	// AnyText: the sets' texts are URLs and words, not payment codes.
	cfg := decode.Config{Workers: runtime.GOMAXPROCS(0), Budget: time.Minute, AnyText: true}
	rotations := []int{0, 1, 2, 3}
	if decode.RaceEnabled {
		rotations = []int{0, 2}
	}
	d := newDecoder(t, cfg)

	type task struct {
		img      *corpusImage
		quarters int
	}
	type outcome struct {
		task
		res decode.Result
		err error
	}
	var tasks []task
	for i := range images {
		for _, q := range rotations {
			if corpusMinimums[images[i].set][q] >= 0 {
				tasks = append(tasks, task{&images[i], q})
			}
		}
	}
	outcomes := make([]outcome, len(tasks))
	var wg sync.WaitGroup
	next := make(chan int)
	// As many submitters as workers, so the pool is never over-full.
	for range cfg.Workers {
		wg.Go(func() {
			for i := range next {
				tk := tasks[i]
				var res decode.Result
				var err error
				if tk.quarters == 0 {
					res, err = d.Decode(context.Background(), tk.img.data)
				} else {
					res, err = d.DecodeImage(context.Background(), rotateCW(tk.img.img, tk.quarters))
				}
				outcomes[i] = outcome{tk, res, err}
			}
		})
	}
	for i := range tasks {
		next <- i
	}
	close(next)
	wg.Wait()

	passed := map[string]*[4]int{}
	stages := map[decode.Stage]int{}
	var slowest time.Duration
	var slowestName string
	withinDefault, successes := 0, 0
	for set := range corpusMinimums {
		passed[set] = &[4]int{}
	}
	for _, o := range outcomes {
		name := fmt.Sprintf("%s/%s@%d", o.img.set, o.img.name, o.quarters*90)
		switch {
		case o.err != nil:
			t.Logf("miss %s: %v", name, o.err)
		case o.res.Text != string(o.img.want):
			t.Logf("WRONG %s: got %s, want %s", name, decode.Mask(o.res.Text), decode.Mask(string(o.img.want)))
		default:
			passed[o.img.set][o.quarters]++
			stages[o.res.Stage]++
			successes++
			if o.res.Elapsed <= decode.DefaultBudget {
				withinDefault++
			}
			if o.res.Elapsed > slowest {
				slowest, slowestName = o.res.Elapsed, name
			}
		}
	}

	var table strings.Builder
	fmt.Fprintf(&table, "| set | images | 0° | 90° | 180° | 270° |\n|---|---|---|---|---|---|\n")
	sets := make([]string, 0, len(passed))
	for set := range passed {
		sets = append(sets, set)
	}
	slices.Sort(sets)
	for _, set := range sets {
		n := 0
		for _, im := range images {
			if im.set == set {
				n++
			}
		}
		fmt.Fprintf(&table, "| %s | %d |", set, n)
		for q := range 4 {
			switch minimum := corpusMinimums[set][q]; {
			case minimum < 0:
				table.WriteString(" – |")
			case !slices.Contains(rotations, q):
				table.WriteString(" not run |")
			default:
				fmt.Fprintf(&table, " %d (min %d) |", passed[set][q], minimum)
				if passed[set][q] < minimum {
					t.Errorf("%s at %d°: %d of %d decoded, ZXing's minimum is %d", set, q*90, passed[set][q], n, minimum)
				}
			}
		}
		table.WriteByte('\n')
	}
	fmt.Fprintf(&table, "\nfound by stage:")
	for st := decode.StageFast; st <= decode.StageMagnify; st++ {
		fmt.Fprintf(&table, " %s=%d", st, stages[st])
	}
	fmt.Fprintf(&table, "\n%d of %d successes within the default budget (%v); slowest %v (%s); race=%v\n",
		withinDefault, successes, decode.DefaultBudget, slowest, slowestName, decode.RaceEnabled)
	t.Logf("corpus accuracy:\n%s", table.String())
	if path := os.Getenv("PAYCODE_SUMMARY"); path != "" {
		f, err := os.OpenFile(path, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
		if err != nil {
			t.Fatalf("PAYCODE_SUMMARY: %v", err)
		}
		fmt.Fprintf(f, "### decode: corpus accuracy\n\n%s\n", table.String())
		if err := f.Close(); err != nil {
			t.Fatal(err)
		}
	}
}
