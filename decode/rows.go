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
	buckets           [gozxing.LUMINANCE_BUCKETS]int
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
	if row == nil || row.GetSize() < width {
		row = gozxing.NewBitArray(width)
	} else {
		row.Clear()
	}
	if y < 0 || y >= s.height {
		return nil, errRowRange
	}
	if s.stop != nil && s.stop.done() {
		return nil, errStopped
	}
	o := (s.top+y)*s.p.stride + s.left
	lum := s.p.pix[o : o+width : o+width]
	b := &f.buckets
	clear(b[:])
	for _, v := range lum {
		b[v>>gozxing.LUMINANCE_SHIFT]++
	}
	blackPoint, ok := estimateBlackPoint(b)
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
	left, center := int(lum[0]), int(lum[1])
	var word uint32
	for x := 1; x < width-1; x++ {
		right := int(lum[x+1])
		if (center*4-left-right)/2 < blackPoint {
			word |= 1 << uint(x%32)
		}
		if x%32 == 31 {
			bits[x/32] = word
			word = 0
		}
		left, center = center, right
	}
	if (width-2)%32 != 31 {
		bits[(width-2)/32] = word
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
