package decode

// Plane transforms used by the fallback stages, and the per-worker arena
// they draw their buffers from. All are plain loops over []byte.

// arena recycles a worker's scratch buffers between images: converted
// planes, downscaled and stretched copies, GetMatrix copies and rotations.
// It is owned by one worker and never shared. Buffers handed out during an
// image stay valid until reset, which the worker calls when the image is
// done; gozxing keeps no reference to them past an attempt (its Results
// hold text and points only).
//
// Only a few buffers of bounded size are retained, so one huge image does
// not pin its memory for the life of the worker.
type arena struct {
	free, used [][]byte
	retained   int // bytes in free and used together
}

const (
	arenaMaxBuf    = 4 << 20 // larger buffers are allocated and dropped
	arenaMaxRetain = 12 << 20
)

// get returns a buffer of length n with unspecified contents. A nil arena
// allocates.
func (a *arena) get(n int) []byte {
	if a == nil {
		return make([]byte, n)
	}
	for i, b := range a.free {
		if cap(b) >= n {
			a.free[i] = a.free[len(a.free)-1]
			a.free = a.free[:len(a.free)-1]
			a.used = append(a.used, b)
			return b[:n]
		}
	}
	b := make([]byte, n)
	if n <= arenaMaxBuf && a.retained+n <= arenaMaxRetain {
		a.retained += n
		a.used = append(a.used, b)
	}
	return b
}

// reset makes every buffer handed out since the last reset reusable.
func (a *arena) reset() {
	a.free = append(a.free, a.used...)
	clear(a.used)
	a.used = a.used[:0]
}

// halve returns p downscaled by two in each direction with a 2x2 box filter,
// which averages away sensor noise and JPEG ringing instead of aliasing it.
func halve(p plane, mem *arena) plane {
	w, h := p.w/2, p.h/2
	out := plane{pix: mem.get(w * h), stride: w, w: w, h: h}
	for y := 0; y < h; y++ {
		r0, r1 := p.row(2*y), p.row(2*y+1)
		dst := out.pix[y*w : (y+1)*w]
		for x := range dst {
			s := uint(r0[2*x]) + uint(r0[2*x+1]) + uint(r1[2*x]) + uint(r1[2*x+1])
			dst[x] = uint8((s + 2) / 4)
		}
	}
	return out
}

// resize returns p resampled to w x h with bilinear interpolation (8-bit
// fixed point), sampling at pixel centres.
func resize(p plane, w, h int, mem *arena) plane {
	out := plane{pix: mem.get(w * h), stride: w, w: w, h: h}
	// Per column: left source index and weight of the right neighbour.
	xs := make([]int32, w)
	xf := make([]uint32, w)
	for x := range w {
		x0, f := srcCoord(x, w, p.w)
		xs[x], xf[x] = int32(x0), f
	}
	for y := 0; y < h; y++ {
		y0, fy := srcCoord(y, h, p.h)
		y1 := min(y0+1, p.h-1)
		r0, r1 := p.row(y0), p.row(y1)
		dst := out.pix[y*w : (y+1)*w]
		for x := range dst {
			x0 := int(xs[x])
			x1 := min(x0+1, p.w-1)
			fx := xf[x]
			top := uint32(r0[x0])*(256-fx) + uint32(r0[x1])*fx
			bot := uint32(r1[x0])*(256-fx) + uint32(r1[x1])*fx
			dst[x] = uint8((top*(256-fy) + bot*fy + 1<<15) >> 16)
		}
	}
	return out
}

// srcCoord maps destination index d (of dn) to the source index (of sn) at
// or left of its centre and the 8-bit weight of the next source pixel.
func srcCoord(d, dn, sn int) (int, uint32) {
	// centre = (d+0.5)*sn/dn - 0.5, in 1/256 units.
	c := ((2*d+1)*sn*256/dn - 256) / 2
	if c <= 0 {
		return 0, 0
	}
	i := c >> 8
	if i >= sn-1 {
		return sn - 1, 0
	}
	return i, uint32(c & 0xff)
}

// narrowRange is the widest 1st..99th percentile luminance range of a
// frame that the contrast stage stretches, and that the global stage is
// tried on in the lean plan: at most 100 levels, so a stretch multiplies
// contrast by 2.5 or more. A faint code filling the frame (a dim screen)
// spans 30 to 65 levels in the generated classes, a frame without a code
// 70 to 250; a stretch by less lifts only blocks already near the hybrid
// binarizer's floor (24 levels), and no generated frame was read so.
const narrowRange = 100

// lumRange returns the 1st and 99th percentile of p's luminance.
func lumRange(p plane) (lo, hi int) {
	var hist [256]int
	for y := 0; y < p.h; y++ {
		for _, v := range p.row(y) {
			hist[v]++
		}
	}
	cut := p.pixels() / 100
	lo, hi = 0, 255
	for n := 0; lo < 255; lo++ {
		if n += hist[lo]; n > cut {
			break
		}
	}
	for n := 0; hi > 0; hi-- {
		if n += hist[hi]; n > cut {
			break
		}
	}
	return lo, hi
}

// stretch maps lo..hi (p's 1st..99th percentile, lumRange) onto 0..255.
// It reports false when the range is wider than narrowRange (a stretch
// would change little) or under 8 levels (nothing to stretch), so the
// stage can be skipped. gozxing's hybrid binarizer ignores blocks whose
// range is below 24 levels; stretching lifts faint codes over that
// threshold.
func stretch(p plane, lo, hi int, mem *arena) (plane, bool) {
	if hi-lo < 8 || hi-lo > narrowRange {
		return plane{}, false
	}
	var lut [256]uint8
	for v := range lut {
		s := (v - lo) * 255 / (hi - lo)
		lut[v] = uint8(max(0, min(255, s)))
	}
	return mapPlane(p, &lut, mem), true
}

// invert returns p with black and white swapped, for light codes on a dark
// ground (dark-mode wallet screens).
func invert(p plane, mem *arena) plane {
	var lut [256]uint8
	for v := range lut {
		lut[v] = uint8(255 - v)
	}
	return mapPlane(p, &lut, mem)
}

func mapPlane(p plane, lut *[256]uint8, mem *arena) plane {
	out := plane{pix: mem.get(p.pixels()), stride: p.w, w: p.w, h: p.h}
	for y := 0; y < p.h; y++ {
		dst := out.pix[y*p.w : (y+1)*p.w]
		for x, v := range p.row(y) {
			dst[x] = lut[v]
		}
	}
	return out
}
