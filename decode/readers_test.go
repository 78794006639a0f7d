package decode

import (
	"math/rand/v2"
	"testing"

	"github.com/makiuchi-d/gozxing"
	"github.com/makiuchi-d/gozxing/oned"
)

// testCode is a 24-digit payment code.
const testCode = "281001020123456789012345"

// rowOf builds a binarized row from run lengths, starting with a white run.
func rowOf(runs ...int) *gozxing.BitArray {
	n := 0
	for _, r := range runs {
		n += r
	}
	row := gozxing.NewBitArray(n)
	x := 0
	for i, r := range runs {
		if i%2 == 1 {
			for k := range r {
				row.Set(x + k)
			}
		}
		x += r
	}
	return row
}

// code128Row is the runs of a rendered Code 128 symbol of text at module
// px per module: a quiet zone of 10 modules, then the symbol, ending with
// its last bar.
func code128Row(t *testing.T, text string, module int) []int {
	t.Helper()
	m, err := oned.NewCode128Writer().Encode(text, gozxing.BarcodeFormat_CODE_128, 0, 0, nil)
	if err != nil {
		t.Fatal(err)
	}
	var runs []int
	last, n := false, 0
	for x := range m.GetWidth() {
		if b := m.Get(x, 0); b != last {
			runs = append(runs, n*module)
			last, n = b, 0
		}
		n++
	}
	if last {
		runs = append(runs, n*module)
	}
	return append([]int{10 * module}, runs[1:]...)
}

// TestCode128StartsExact: a row where startsIn finds no start pattern
// is one gozxing's Code 128 reader fails on with NotFound, so skipping it
// changes nothing; and on the rows of real symbols, dark or light, it finds
// the start. Random rows mix runs of 1 to 12 pixels with occasional long
// white runs (quiet zones), which is where false starts come from.
func TestCode128StartsExact(t *testing.T) {
	rd := oned.NewCode128Reader().(oned.RowDecoder)
	r := rand.New(rand.NewPCG(7, 8))
	var starts, runs []int
	found := 0
	for range 20000 {
		rs := make([]int, 1+r.IntN(120))
		for i := range rs {
			rs[i] = 1 + r.IntN(4)*r.IntN(4)
			if r.IntN(15) == 0 {
				rs[i] = 10 + r.IntN(40)
			}
		}
		row := rowOf(rs...)
		runs = rowRuns(row, runs)
		starts = startsIn(runs, row.Get(0), false, starts)
		if len(starts) > 0 {
			found++
			continue
		}
		if _, err := rd.DecodeRow(0, row, nil); err == nil {
			t.Fatalf("runs %v: no start found, the reader read %v", rs, err)
		} else if _, ok := err.(gozxing.NotFoundException); !ok {
			t.Fatalf("runs %v: no start found, the reader got past one: %T", rs, err)
		}
	}
	if found == 0 {
		t.Fatal("no random row had a start pattern: the fixture tests nothing")
	}
	for _, module := range []int{1, 2, 3} {
		row := rowOf(append(code128Row(t, testCode, module), 10*module)...)
		if s := startsIn(rowRuns(row, runs), row.Get(0), false, nil); len(s) == 0 || s[0] != 10*module {
			t.Errorf("module %d: starts %v, want the symbol's at %d", module, s, 10*module)
		}
		light := rowOf(append([]int{0}, append(code128Row(t, testCode, module), 10*module)...)...)
		if s := startsIn(rowRuns(light, runs), light.Get(0), true, nil); len(s) == 0 || s[0] != 10*module {
			t.Errorf("module %d, light: starts %v, want the symbol's at %d", module, s, 10*module)
		}
	}
}

// TestDecode128 reads what gozxing's reader alone does not: a symbol after
// a false start (a bezel's edge with a quiet zone before it), a light
// symbol, and the second of two symbols on one row (passing over the
// first, as worker.unique's second look does). Such reads need a second
// row of the pass to agree before they are returned; the stock reader's
// own read is returned at once.
func TestDecode128(t *testing.T) {
	const other = "281001020123456789099999"
	sym := code128Row(t, testCode, 2)
	// 40 white, then six runs that pass as start C (2,1,1,2,3,2 modules of
	// 2 px), then junk, then the symbol after its quiet zone.
	falseStart := append([]int{40, 4, 2, 2, 4, 6, 4, 30, 3}, sym...)
	falseStart = append(falseStart, 20)
	light := append([]int{0}, append(sym, 20)...) // the same runs, colours swapped
	two := append(append([]int{}, sym...), code128Row(t, other, 2)...)
	two = append(two, 20)
	tests := []struct {
		name      string
		runs      []int
		skip      string
		want      string
		stockRead bool // gozxing's reader alone reads want: no second row needed
	}{
		{"plain", append(append([]int{}, sym...), 20), "", testCode, true},
		{"after a false start", falseStart, "", testCode, false},
		{"light on dark", light, "", testCode, false},
		{"the second of two side by side", two, testCode, other, false},
	}
	set := setOf(DefaultSymbologies())
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			row := rowOf(tt.runs...)
			res, err := oned.NewCode128Reader().(oned.RowDecoder).DecodeRow(0, row, nil)
			if stock := err == nil && res.GetText() == tt.want; stock != tt.stockRead {
				t.Fatalf("gozxing alone: read %v (%v), fixture expects %v", stock, err, tt.stockRead)
			}
			m := newMultiRowDecoder(set, false)
			m.startPass(nil, false, tt.skip)
			got, err := m.DecodeRow(0, row, nil)
			if !tt.stockRead {
				if err == nil {
					t.Fatalf("first row: read %s without a second row", got.GetText())
				}
				got, err = m.DecodeRow(1, row, nil)
			}
			if err != nil || got.GetText() != tt.want {
				t.Fatalf("DecodeRow: %v, %v; want %s", got, err, tt.want)
			}
			m.startPass(nil, true, tt.skip) // a matrix pass: even the stock read waits
			if got, err := m.DecodeRow(0, row, nil); err == nil {
				t.Fatalf("matrix pass, first row: read %s without a second row", got.GetText())
			}
		})
	}
}

// TestLinedUp: start patterns that line up over rows (the same x, or a
// tilt within a few rows) are a symbol's; scattered ones, ones at a
// row's ends (a texture meeting the frame's edge) and ones on rows of
// the frame and of the frame turned are not.
func TestLinedUp(t *testing.T) {
	tests := []struct {
		name string
		ts   []trace
		want bool
	}{
		{"none", nil, false},
		{"one", []trace{{128, 300, 640}}, false},
		{"same x, far apart", []trace{{324, 179, 640}, {324, 130, 640}}, true},
		{"tilted, near", []trace{{100, 50, 640}, {106, 65, 640}}, true},
		{"tilted, far", []trace{{367, 174, 640}, {359, 346, 640}}, false},
		{"scattered", []trace{{97, 452, 640}, {359, 346, 640}, {478, 306, 480}}, false},
		{"at the row's ends", []trace{{0, 345, 640}, {1, 193, 640}, {638, 249, 640}, {638, 293, 640}}, false},
		{"frame and frame turned", []trace{{60, 10, 640}, {60, 12, 480}}, false},
	}
	for _, tt := range tests {
		if got := linedUp(tt.ts); got != tt.want {
			t.Errorf("%s: linedUp = %v, want %v", tt.name, got, tt.want)
		}
	}
}
