// Command compare generates lane-like test images per distortion class and
// scores the outputs of paycode, zbarimg and ZXingReader on them. run.sh
// drives it; see the README's "Decoding" section.
//
//	compare gen -dir DIR [-n 20] [-seed 1]
//	    writes DIR/<class>/NNN.png|jpeg and DIR/manifest.tsv
//	    (file, class, symbology, expected text)
//	compare report -dir DIR -out OUT
//	    reads OUT/times.tsv and OUT/<decoder>/<class>.out and prints a
//	    Markdown table: decode rate, wrong texts, ms per image, time ratios
package main

import (
	"bufio"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/paycode/paycode/decode/internal/lanegen"
)

func main() {
	if len(os.Args) < 2 {
		usage()
	}
	var err error
	switch os.Args[1] {
	case "gen":
		err = gen(os.Args[2:])
	case "report":
		err = report(os.Args[2:])
	case "classes":
		for _, c := range lanegen.Classes() {
			fmt.Println(dirName(c.Name))
		}
	default:
		usage()
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "compare:", err)
		os.Exit(1)
	}
}

func usage() {
	fmt.Fprintln(os.Stderr, "usage: compare gen -dir DIR [-n 20] [-seed 1] | compare report -dir DIR -out OUT | compare classes")
	os.Exit(2)
}

// dirName turns "qr/blur" into "qr_blur".
func dirName(class string) string { return strings.ReplaceAll(class, "/", "_") }

func gen(args []string) error {
	fs := flag.NewFlagSet("gen", flag.ExitOnError)
	dir := fs.String("dir", "", "output directory")
	n := fs.Int("n", 20, "images per class")
	seed := fs.Uint64("seed", 1, "seed")
	_ = fs.Parse(args)
	if *dir == "" {
		return fmt.Errorf("gen: -dir is required")
	}
	type job struct {
		c lanegen.Class
		i int
	}
	type row struct {
		c    lanegen.Class
		i    int
		line string
	}
	jobs := make(chan job)
	var (
		mu   sync.Mutex
		rows []row
		errs []error
		wg   sync.WaitGroup
	)
	for _, c := range lanegen.Classes() {
		if err := os.MkdirAll(filepath.Join(*dir, dirName(c.Name)), 0o755); err != nil {
			return err
		}
	}
	for range runtime.GOMAXPROCS(0) {
		wg.Go(func() {
			for j := range jobs {
				s, err := lanegen.Generate(j.c, *seed, j.i)
				var data []byte
				if err == nil {
					data, err = s.Encode()
				}
				name := filepath.Join(dirName(j.c.Name), fmt.Sprintf("%03d.%s", j.i, s.Format))
				if err == nil {
					err = os.WriteFile(filepath.Join(*dir, name), data, 0o644)
				}
				mu.Lock()
				if err != nil {
					errs = append(errs, fmt.Errorf("%s %d: %w", j.c.Name, j.i, err))
				} else {
					rows = append(rows, row{j.c, j.i, fmt.Sprintf("%s\t%s\t%s\t%s", name, j.c.Name, s.Class.Symbology, s.Text)})
				}
				mu.Unlock()
			}
		})
	}
	classes := lanegen.Classes()
	for _, c := range classes {
		for i := range *n {
			jobs <- job{c, i}
		}
	}
	close(jobs)
	wg.Wait()
	if len(errs) > 0 {
		return errs[0]
	}
	order := map[string]int{}
	for k, c := range classes {
		order[c.Name] = k
	}
	slices.SortFunc(rows, func(a, b row) int {
		if d := order[a.c.Name] - order[b.c.Name]; d != 0 {
			return d
		}
		return a.i - b.i
	})
	var b strings.Builder
	for _, r := range rows {
		b.WriteString(r.line)
		b.WriteByte('\n')
	}
	return os.WriteFile(filepath.Join(*dir, "manifest.tsv"), []byte(b.String()), 0o644)
}

// decoders in report order, with the name of their output files.
var decoders = []string{"paycode", "zbarimg", "zxing"}

type outcome struct {
	text string
	ok   bool // a code was reported
	n    int  // distinct texts reported for the file
}

// parsers read one decoder's output for one class into file -> outcome
// (file names as given on the command line: relative to the image dir).
var parsers = map[string]func(string) (map[string]outcome, error){
	"paycode": parsePaycode,
	"zbarimg": parseZbar,
	"zxing":   parseZXing,
}

// paycode decode -reveal: name \t "text" \t SYMBOLOGY \t 1.2ms; failures
// go to stderr.
func parsePaycode(out string) (map[string]outcome, error) {
	m := map[string]outcome{}
	for line := range strings.Lines(out) {
		f := strings.Split(strings.TrimRight(line, "\n"), "\t")
		if len(f) < 3 {
			continue
		}
		text, err := strconv.Unquote(f[1])
		if err != nil {
			return nil, fmt.Errorf("paycode output %q: %w", line, err)
		}
		o, dup := m[f[0]]
		if !dup {
			o = outcome{text: text, ok: true}
		}
		if !dup || o.text != text {
			o.n++
		}
		m[f[0]] = o
	}
	return m, nil
}

var (
	zbarSource = regexp.MustCompile(`<source href='([^']*)'>`)
	zbarData   = regexp.MustCompile(`<data><!\[CDATA\[(.*?)\]\]></data>`)
)

// zbarimg --xml: <source href='file'> ... <data><![CDATA[text]]></data>.
// The first symbol of each source counts.
func parseZbar(out string) (map[string]outcome, error) {
	m := map[string]outcome{}
	cur := ""
	for line := range strings.Lines(out) {
		if s := zbarSource.FindStringSubmatch(line); s != nil {
			cur = s[1]
			continue
		}
		if d := zbarData.FindStringSubmatch(line); d != nil && cur != "" {
			o, dup := m[cur]
			if !dup {
				o = outcome{text: d[1], ok: true}
			}
			if !dup || o.text != d[1] {
				o.n++
			}
			m[cur] = o
		}
	}
	return m, nil
}

// ZXingReader -1: `file Format "text"` per symbol, `file None` if none.
func parseZXing(out string) (map[string]outcome, error) {
	m := map[string]outcome{}
	for line := range strings.Lines(out) {
		line = strings.TrimRight(line, "\n")
		file, rest, ok := strings.Cut(line, " ")
		if !ok {
			continue
		}
		_, q, ok := strings.Cut(rest, " ")
		if !ok || !strings.HasPrefix(q, `"`) {
			continue
		}
		text, err := strconv.Unquote(q)
		if err != nil {
			text = strings.Trim(q, `"`)
		}
		o, dup := m[file]
		if !dup {
			o = outcome{text: text, ok: true}
		}
		if !dup || o.text != text {
			o.n++
		}
		m[file] = o
	}
	return m, nil
}

type manifestRow struct{ file, class, symbology, text string }

func report(args []string) error {
	fs := flag.NewFlagSet("report", flag.ExitOnError)
	dir := fs.String("dir", "", "image directory (with manifest.tsv)")
	out := fs.String("out", "", "results directory (times.tsv, <decoder>/<class>.out)")
	_ = fs.Parse(args)
	if *dir == "" || *out == "" {
		return fmt.Errorf("report: -dir and -out are required")
	}
	man, err := os.ReadFile(filepath.Join(*dir, "manifest.tsv"))
	if err != nil {
		return err
	}
	byClass := map[string][]manifestRow{}
	for line := range strings.Lines(string(man)) {
		f := strings.Split(strings.TrimRight(line, "\n"), "\t")
		if len(f) != 4 {
			continue
		}
		byClass[f[1]] = append(byClass[f[1]], manifestRow{f[0], f[1], f[2], f[3]})
	}
	// times.tsv: decoder class images nanoseconds, one line per repetition;
	// the median repetition counts.
	runs := map[[2]string][]float64{}
	tf, err := os.Open(filepath.Join(*out, "times.tsv"))
	if err != nil {
		return err
	}
	sc := bufio.NewScanner(tf)
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) != 4 {
			continue
		}
		n, _ := strconv.ParseFloat(f[2], 64)
		ns, _ := strconv.ParseFloat(f[3], 64)
		if n > 0 {
			k := [2]string{f[0], f[1]}
			runs[k] = append(runs[k], ns/n/1e6)
		}
	}
	tf.Close()
	times := map[[2]string]float64{}
	for k, v := range runs {
		slices.Sort(v)
		times[k] = v[len(v)/2]
	}

	fmt.Println("| class | n | paycode | zbarimg | ZXingReader | wrong p/z/x | ms/img paycode | zbarimg | ZXingReader | paycode/ZXing | paycode/zbar |")
	fmt.Println("|---|---:|---:|---:|---:|:-:|---:|---:|---:|---:|---:|")
	type total struct{ hit, n, wrong int }
	tot := map[string]*total{}
	sumMs := map[string]float64{}
	for _, d := range decoders {
		tot[d] = &total{}
	}
	for _, c := range lanegen.Classes() {
		rows := byClass[c.Name]
		if len(rows) == 0 {
			continue
		}
		cells := []string{c.Name, strconv.Itoa(len(rows))}
		var wrongs []string
		for _, d := range decoders {
			raw, err := os.ReadFile(filepath.Join(*out, d, dirName(c.Name)+".out"))
			if err != nil {
				cells = append(cells, "—")
				wrongs = append(wrongs, "—")
				continue
			}
			res, err := parsers[d](string(raw))
			if err != nil {
				return err
			}
			hit, wrong := 0, 0
			for _, r := range rows {
				o, ok := res[r.file]
				if !ok {
					o = res[filepath.Base(r.file)]
				}
				switch {
				case c.Two() && (!o.ok || o.n >= 2):
					hit++ // refused, or both codes reported: the caller sees two
				case c.Two():
					wrong++ // one of two codes, as if it were the only one
				case c.Negative() && !o.ok:
					hit++
				case c.Negative():
					wrong++
				case o.ok && o.text == r.text:
					hit++
				case o.ok:
					wrong++
				}
			}
			t := tot[d]
			t.hit += hit
			t.n += len(rows)
			t.wrong += wrong
			cells = append(cells, fmt.Sprintf("%d%%", 100*hit/len(rows)))
			wrongs = append(wrongs, strconv.Itoa(wrong))
		}
		cells = append(cells, strings.Join(wrongs, "/"))
		ms := make([]float64, len(decoders))
		for k, d := range decoders {
			ms[k] = times[[2]string{d, dirName(c.Name)}]
			sumMs[d] += ms[k] * float64(len(rows))
			cells = append(cells, fmtMs(ms[k]))
		}
		cells = append(cells, ratio(ms[0], ms[2]), ratio(ms[0], ms[1]))
		fmt.Println("| " + strings.Join(cells, " | ") + " |")
	}
	if raw, err := os.ReadFile(filepath.Join(*out, "zxing", "noscale")); err == nil {
		seen := map[string]bool{}
		var list []string
		for _, l := range strings.Fields(string(raw)) {
			if !seen[l] {
				seen[l] = true
				list = append(list, l)
			}
		}
		defer fmt.Printf("\nZXingReader aborted (assertion in its downscale pass) on %s: counted and timed with -noscale there.\n", strings.Join(list, ", "))
	}
	cells := []string{"**all**", strconv.Itoa(tot["paycode"].n)}
	var wrongs []string
	for _, d := range decoders {
		t := tot[d]
		if t.n == 0 {
			cells = append(cells, "—")
			wrongs = append(wrongs, "—")
			continue
		}
		cells = append(cells, fmt.Sprintf("%d%%", 100*t.hit/t.n))
		wrongs = append(wrongs, strconv.Itoa(t.wrong))
	}
	cells = append(cells, strings.Join(wrongs, "/"))
	var avg [3]float64
	for k, d := range decoders {
		if n := tot["paycode"].n; n > 0 {
			avg[k] = sumMs[d] / float64(n)
		}
		cells = append(cells, fmtMs(avg[k]))
	}
	cells = append(cells, ratio(avg[0], avg[2]), ratio(avg[0], avg[1]))
	fmt.Println("| " + strings.Join(cells, " | ") + " |")
	return nil
}

func fmtMs(ms float64) string {
	if ms == 0 {
		return "—"
	}
	return fmt.Sprintf("%.1f", ms)
}

func ratio(a, b float64) string {
	if a == 0 || b == 0 {
		return "—"
	}
	return fmt.Sprintf("%.2f×", a/b)
}
