package decode

import (
	"encoding/binary"

	"github.com/makiuchi-d/gozxing"
)

// fastHybrid is gozxing's HybridBinarizer with GetBlackMatrix computed
// over flat slices: gozxing builds its black points as one slice per block
// row and sets the matrix one bit at a call, which made thresholding a
// fifth of the CPU time of a frame without a code (the fast stage, and
// inverted on every frame the lean plan searches). The matrix is bit for
// bit gozxing's (TestFastHybridExact): the same 8×8 blocks (the last row
// and column clamped onto the frame, overlapping the one before), the
// same black point per block (the mean, or for a block spanning at most
// 24 levels half its minimum, corrected towards its neighbours'), the
// same 5×5 average of black points as the threshold, black where the
// pixel is at or below it.
type fastHybrid struct {
	*gozxing.HybridBinarizer // rows, source, size; small frames' matrix
	src                      gozxing.LuminanceSource
	matrix                   *gozxing.BitMatrix
}

var _ gozxing.Binarizer = (*fastHybrid)(nil)

func newFastHybrid(src gozxing.LuminanceSource) gozxing.Binarizer {
	return &fastHybrid{
		HybridBinarizer: gozxing.NewHybridBinarizer(src).(*gozxing.HybridBinarizer),
		src:             src,
	}
}

// CreateBinarizer keeps the fast matrix for a derived source.
func (h *fastHybrid) CreateBinarizer(src gozxing.LuminanceSource) gozxing.Binarizer {
	return newFastHybrid(src)
}

// GetBlackMatrix returns the thresholded frame, computed once.
func (h *fastHybrid) GetBlackMatrix() (*gozxing.BitMatrix, error) {
	if h.matrix != nil {
		return h.matrix, nil
	}
	const (
		bs  = gozxing.BLOCK_SIZE
		bp  = gozxing.BLOCK_SIZE_POWER
		dyn = gozxing.MIN_DYNAMIC_RANGE
	)
	width, height := h.src.GetWidth(), h.src.GetHeight()
	if width < gozxing.MINIMUM_DIMENSION || height < gozxing.MINIMUM_DIMENSION {
		m, err := h.HybridBinarizer.GetBlackMatrix()
		if err != nil {
			return nil, err
		}
		h.matrix = m
		return m, nil
	}
	lum := h.src.GetMatrix()
	lum = lum[:width*height]
	subW, subH := (width+bs-1)>>bp, (height+bs-1)>>bp
	maxX, maxY := width-bs, height-bs

	// Black point per block.
	points := make([]int, subW*subH)
	for y := range subH {
		yo := min(y<<bp, maxY)
		for x := range subW {
			xo := min(x<<bp, maxX)
			sum, lo, hi := 0, 0xff, 0
			for yy := range bs {
				o := (yo+yy)*width + xo
				r := lum[o : o+bs : o+bs]
				sum += sum8(binary.LittleEndian.Uint64(r))
				// Like gozxing, stop tracking the range once it
				// exceeds the floor: only a narrow block uses it.
				if hi-lo <= dyn {
					for _, v := range r {
						lo = min(lo, int(v))
						hi = max(hi, int(v))
					}
				}
			}
			avg := sum >> (2 * bp)
			if hi-lo <= dyn {
				avg = lo / 2
				if y > 0 && x > 0 {
					nb := (points[(y-1)*subW+x] + 2*points[y*subW+x-1] + points[(y-1)*subW+x-1]) / 4
					if lo < nb {
						avg = nb
					}
				}
			}
			points[y*subW+x] = avg
		}
	}

	// Threshold per block, then the pixels, ORed into whole words so that
	// the clamped last row and column of blocks add to what the blocks
	// before them set, as gozxing's Set does.
	rowSize := (width + 31) / 32
	bits := make([]uint32, rowSize*height)
	for y := range subH {
		yo := min(y<<bp, maxY)
		top := min(max(y, 2), subH-3)
		for x := range subW {
			xo := min(x<<bp, maxX)
			left := min(max(x, 2), subW-3)
			sum := 0
			for z := -2; z <= 2; z++ {
				r := points[(top+z)*subW+left-2 : (top+z)*subW+left+3]
				sum += r[0] + r[1] + r[2] + r[3] + r[4]
			}
			thr := sum / 25
			for yy := range bs {
				o := (yo+yy)*width + xo
				r := lum[o : o+bs : o+bs]
				run := atMost8(binary.LittleEndian.Uint64(r), thr)
				// The eight bits may straddle two words.
				w, s := xo>>5, uint(xo&31)
				row := bits[(yo+yy)*rowSize : (yo+yy+1)*rowSize]
				row[w] |= run << s
				if s > 24 {
					row[w+1] |= run >> (32 - s)
				}
			}
		}
	}
	m, err := gozxing.NewBitMatrix(width, height)
	if err != nil {
		return nil, err
	}
	ba := gozxing.NewBitArray(width)
	words := ba.GetBitArray()
	for y := range height {
		copy(words, bits[y*rowSize:(y+1)*rowSize])
		m.SetRow(y, ba)
	}
	h.matrix = m
	return m, nil
}

const (
	lanes16 = 0x0001000100010001 // 1 in each 16-bit lane
	lowByte = 0x00ff00ff00ff00ff // the low byte of each 16-bit lane
)

// sum8 is the sum of the eight bytes of x.
func sum8(x uint64) int {
	pairs := x&lowByte + x>>8&lowByte // four sums of two, each under 512
	return int(pairs * lanes16 >> 48)
}

// atMost8 returns bit i set where byte i of x (pixel i of eight, little
// endian) is at or below thr (0 to 255). Each byte is widened to a 16-bit
// lane with bit 8 set, thr+1 is subtracted (no lane borrows from the
// next), and bit 8 stays set where the byte exceeds thr; the four bits of
// the even and of the odd bytes are then gathered by a multiply whose
// cross terms land below bit 56 or beyond bit 63.
func atMost8(x uint64, thr int) uint32 {
	t := uint64(thr+1) * lanes16
	even := (x&lowByte | lanes16<<8) - t
	odd := (x>>8&lowByte | lanes16<<8) - t
	even = ^even >> 8 & lanes16 // bit 16k: byte 2k is black
	odd = ^odd >> 8 & lanes16   // bit 16k: byte 2k+1 is black
	const gather = 1<<56 | 1<<42 | 1<<28 | 1<<14
	return uint32(even*gather>>56) | uint32(odd*gather>>56)<<1
}
