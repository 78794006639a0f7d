package decode

import "github.com/makiuchi-d/gozxing"

// fastRows is a gozxing binarizer (hybrid or global) whose GetBlackRow,
// the 1D readers' whole view of a frame, is computed in place on the
// plane. gozxing's (GlobalHistogramBinarizer.GetBlackRow, which its
// hybrid binarizer also uses for rows) copies the row, then sets the
// row's bits one call at a time; a try-harder pass asks for every row of
// the frame and of the frame turned, twice the frame's pixels. The
// result is bit for bit gozxing's (TestFastRowsExact): the same 32-bucket
// histogram and black point, the same -1 4 -1 sharpening filter.
type fastRows struct {
	gozxing.Binarizer // the black matrix, luminance source and size
	src               *lumSource
}

var _ gozxing.Binarizer = (*fastRows)(nil)

// withFastRows wraps b, a binarizer over src, in fastRows.
func withFastRows(b gozxing.Binarizer, src *lumSource) gozxing.Binarizer {
	return &fastRows{Binarizer: b, src: src}
}

// errNoBlackPoint is gozxing's "not found" for a row whose histogram has
// too little contrast for a black point: a NotFoundException, so that
// OneDReader moves on to the next row, and one value for every row
// (gozxing builds a new one, with a stack trace, per row).
var errNoBlackPoint = gozxing.NewNotFoundException("no black point")

// GetBlackRow returns row y thresholded at the row's own black point, in
// row if it is long enough (cleared first) or in a new one.
func (f *fastRows) GetBlackRow(y int, row *gozxing.BitArray) (*gozxing.BitArray, error) {
	s := f.src
	width := s.width
	if y < 0 || y >= s.height {
		return nil, errRowRange
	}
	if s.stop != nil && s.stop.done() {
		return nil, errStopped
	}
	if row == nil || row.GetSize() < width {
		row = gozxing.NewBitArray(width)
	} else {
		row.Clear()
	}
	o := (s.top+y)*s.p.stride + s.left
	lum := s.p.pix[o : o+width : o+width]
	// Four histograms, summed: consecutive pixels of one level (most of
	// a frame) would otherwise wait on each other's increment.
	var h4 [4][gozxing.LUMINANCE_BUCKETS]int32
	i := 0
	for ; i+4 <= len(lum); i += 4 {
		q := lum[i : i+4 : i+4]
		h4[0][q[0]>>gozxing.LUMINANCE_SHIFT]++
		h4[1][q[1]>>gozxing.LUMINANCE_SHIFT]++
		h4[2][q[2]>>gozxing.LUMINANCE_SHIFT]++
		h4[3][q[3]>>gozxing.LUMINANCE_SHIFT]++
	}
	for ; i < len(lum); i++ {
		h4[0][lum[i]>>gozxing.LUMINANCE_SHIFT]++
	}
	var b [gozxing.LUMINANCE_BUCKETS]int
	for k := range b {
		b[k] = int(h4[0][k] + h4[1][k] + h4[2][k] + h4[3][k])
	}
	blackPoint, ok := estimateBlackPoint(&b)
	if !ok {
		return nil, errNoBlackPoint
	}
	bits := row.GetBitArray()
	if width < 3 {
		for x, v := range lum {
			if int(v) < blackPoint {
				bits[x/32] |= 1 << uint(x%32)
			}
		}
		return row, nil
	}
	// gozxing: black where (4c-l-r)/2 < blackPoint, with Go's division
	// rounding towards zero; blackPoint is at least 8 (a valley above the
	// first bucket), so that is 4c-l-r < 2*blackPoint.
	thr := 2 * blackPoint
	for w := range (width + 31) / 32 {
		x0, x1 := max(1, w*32), min(width-1, w*32+32)
		var word uint32
		for x := x0; x < x1; x++ {
			v := 4*int(lum[x]) - int(lum[x-1]) - int(lum[x+1]) - thr
			word |= uint32(uint64(v)>>63) << uint(x-w*32)
		}
		bits[w] = word
	}
	return row, nil
}

// CreateBinarizer keeps the fast rows for a rotated source (the frame
// turned 90° that OneDReader scans under TRY_HARDER).
func (f *fastRows) CreateBinarizer(src gozxing.LuminanceSource) gozxing.Binarizer {
	b := f.Binarizer.CreateBinarizer(src)
	if ls, ok := src.(*lumSource); ok {
		return withFastRows(b, ls)
	}
	return b
}

// estimateBlackPoint is gozxing's GlobalHistogramBinarizer.estimateBlackPoint
// over a 32-bucket histogram: the valley between the two highest peaks,
// closer to the white one; false when the peaks are too close for a
// meaningful black point.
func estimateBlackPoint(buckets *[gozxing.LUMINANCE_BUCKETS]int) (int, bool) {
	const numBuckets = gozxing.LUMINANCE_BUCKETS
	maxBucketCount, firstPeak, firstPeakSize := 0, 0, 0
	for x, n := range buckets {
		if n > firstPeakSize {
			firstPeak, firstPeakSize = x, n
		}
		if n > maxBucketCount {
			maxBucketCount = n
		}
	}
	secondPeak, secondPeakScore := 0, 0
	for x, n := range buckets {
		d := x - firstPeak
		if score := n * d * d; score > secondPeakScore {
			secondPeak, secondPeakScore = x, score
		}
	}
	if firstPeak > secondPeak {
		firstPeak, secondPeak = secondPeak, firstPeak
	}
	if secondPeak-firstPeak <= numBuckets/16 {
		return 0, false
	}
	bestValley, bestValleyScore := secondPeak-1, -1
	for x := secondPeak - 1; x > firstPeak; x-- {
		fromFirst := x - firstPeak
		score := fromFirst * fromFirst * (secondPeak - x) * (maxBucketCount - buckets[x])
		if score > bestValleyScore {
			bestValley, bestValleyScore = x, score
		}
	}
	return bestValley << gozxing.LUMINANCE_SHIFT, true
}
