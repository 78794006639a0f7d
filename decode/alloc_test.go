//go:build !race

package decode

import (
	"context"
	"image"
	"testing"
	"time"
)

// TestNoAllocs pins the zero-allocation paths this package controls: the
// luminance source's per-row and whole-frame reads, plane extraction, the
// transforms once the worker's arena is warm, and the budget check polled
// on every 1D row. (gozxing itself allocates per attempt; that is measured
// by the benchmarks, not asserted.) Not built under -race, which
// instruments allocations.
func TestNoAllocs(t *testing.T) {
	imgs := randomImages(320, 240, true)
	var mem arena
	gray := lumaOf(imgs["gray"], nil)
	tight := plane{pix: make([]byte, 320*240), stride: 320, w: 320, h: 240}
	src := newSource(tight, nil, &mem)
	row := make([]byte, 320)
	stop := &stopper{ctx: context.Background(), deadline: time.Now().Add(time.Hour)}
	stopping := newSource(tight, stop, &mem)
	sub := imgs["gray"].(*image.Gray).SubImage(image.Rect(10, 10, 200, 200))
	strided := lumaOf(sub, nil) // stride 320, width 190: GetMatrix must copy
	if strided.stride == strided.w {
		t.Fatal("fixture is not strided")
	}

	warm := func(f func()) func() {
		f()
		mem.reset()
		return func() { f(); mem.reset() }
	}
	tests := []struct {
		name string
		f    func()
	}{
		{"GetRow", func() { row, _ = src.GetRow(100, row) }},
		{"GetRow with stopper", func() { row, _ = stopping.GetRow(100, row) }},
		{"GetMatrix packed", func() { _ = src.GetMatrix() }},
		{"lumaOf gray", func() { _ = lumaOf(imgs["gray"], &mem) }},
		{"lumaOf ycbcr", func() { _ = lumaOf(imgs["ycbcr"], &mem) }},
		{"lumaOf rgba", warm(func() { _ = lumaOf(imgs["rgba"], &mem) })},
		{"lumaOf paletted", warm(func() { _ = lumaOf(imgs["paletted"], &mem) })},
		{"GetMatrix strided", warm(func() { _ = newSource(strided, nil, &mem).GetMatrix() })},
		{"halve", warm(func() { _ = halve(gray, &mem) })},
		{"lumRange", func() { _, _ = lumRange(gray) }},
		{"stretch", warm(func() { _, _ = stretch(gray, 100, 180, &mem) })},
		{"invert", warm(func() { _ = invert(gray, &mem) })},
		{"stopper", func() { _ = stop.done() }},
	}
	for _, tt := range tests {
		if n := testing.AllocsPerRun(50, tt.f); n != 0 {
			t.Errorf("%s: %v allocs per run, want 0", tt.name, n)
		}
	}
}
