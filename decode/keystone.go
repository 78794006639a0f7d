package decode

import (
	"github.com/makiuchi-d/gozxing"
	multidetector "github.com/makiuchi-d/gozxing/multi/qrcode/detector"
	qrdecoder "github.com/makiuchi-d/gozxing/qrcode/decoder"
	"github.com/makiuchi-d/gozxing/qrcode/detector"
)

// keystoneQR re-reads a QR code whose finder patterns were found but whose
// grid gozxing sampled wrongly. Without an alignment pattern (version 1,
// which is what a 24-digit payment code is, or a version-2+ pattern it
// missed), gozxing's detector puts the fourth corner where it would be in
// a parallelogram, and its dimension estimate drifts, so a symbol seen
// under strong perspective is sampled askew. This tries the dimensions of
// versions 1 and 2 and searches the fourth anchor (module (d-6.5, d-6.5))
// outwards from the parallelogram guess in half-module steps, up to three
// modules away (at most 2 x 169 candidates, a few ms); each candidate
// grid must pass format-information BCH and Reed-Solomon checks, as every
// QR read does. The triple is the finder's; when it finds none (it
// rejects three patterns whose sizes differ as much as strong
// perspective makes them), the first few of the multi-code finder's.
//
// It runs in the tryharder and global stages only (full-size frame, both
// binarizers), after the QR reader failed on the same bitmap, and stops
// with the budget (checked every few candidates).
func keystoneQR(bmp *gozxing.BinaryBitmap, hints map[gozxing.DecodeHintType]interface{}, stop *stopper) (found, bool) {
	m, err := bmp.GetBlackMatrix()
	if err != nil {
		return found{}, false
	}
	infos := make([]*detector.FinderPatternInfo, 0, 1)
	if info, err := detector.NewFinderPatternFinder(m, finderCallback(hints)).Find(hints); err == nil {
		infos = append(infos, info)
	} else if multi, err := multidetector.NewMultiFinderPatternFinder(m, finderCallback(hints)).FindMulti(hints); err == nil {
		// The single finder rejects a triple whose patterns differ in size
		// as much as strong perspective makes them; the multi-code finder
		// is looser.
		infos = append(infos, multi[:min(len(multi), maxKeystoneTriples)]...)
	}
	for _, info := range infos {
		if f, ok := keystoneInfo(m, info, hints, stop); ok {
			return f, true
		}
	}
	return found{}, false
}

// maxKeystoneTriples bounds the triples of the multi-code finder the
// keystone search tries: each costs up to 2 x 169 grid samplings.
const maxKeystoneTriples = 4

// keystoneInfo is keystoneQR's search for one finder-pattern triple.
func keystoneInfo(m *gozxing.BitMatrix, info *detector.FinderPatternInfo, hints map[gozxing.DecodeHintType]interface{}, stop *stopper) (found, bool) {
	tl, tr, bl := info.GetTopLeft(), info.GetTopRight(), info.GetBottomLeft()
	ms := (tl.GetEstimatedModuleSize() + tr.GetEstimatedModuleSize() + bl.GetEstimatedModuleSize()) / 3
	if ms < 1 {
		return found{}, false
	}
	dec := qrdecoder.NewDecoder()
	trials := 0
	for _, dim := range [...]int{21, 25} {
		k := (float64(dim) - 10) / float64(dim-7) // anchor 6.5 modules in from the far corner
		px := tl.GetX() + (tr.GetX()-tl.GetX()+bl.GetX()-tl.GetX())*k
		py := tl.GetY() + (tr.GetY()-tl.GetY()+bl.GetY()-tl.GetY())*k
		for ring := 0; ring <= 6; ring++ { // ring r: Chebyshev distance r/2 modules
			for iy := -ring; iy <= ring; iy++ {
				for ix := -ring; ix <= ring; ix++ {
					if max(abs(ix), abs(iy)) != ring {
						continue
					}
					if trials++; trials%16 == 0 && stop != nil && stop.done() {
						return found{}, false
					}
					ap := detector.NewAlignmentPattern(px+float64(ix)*ms/2, py+float64(iy)*ms/2, ms)
					bits, err := detector.Detector_sampleGrid(m, detector.Detector_createTransform(tl, tr, bl, ap, dim), dim)
					if err != nil || !timingOK(bits, dim) {
						continue
					}
					dr, err := dec.Decode(bits, hints)
					if err != nil {
						continue
					}
					points := []gozxing.ResultPoint{bl, tl, tr}
					return convert(gozxing.NewResult(dr.GetText(), dr.GetRawBytes(), points, gozxing.BarcodeFormat_QR_CODE))
				}
			}
		}
	}
	return found{}, false
}

// timingOK reports whether a sampled grid of dim modules shows the
// timing patterns of a QR code (row and column 6 alternate dark and
// light between the finder patterns, dark on even modules) with at most a
// quarter of their modules wrong. Decoding a grid costs a
// format-information and a Reed-Solomon decode, and format information
// alone lets most random grids through (any 15 bits within 3 of one of
// 32 codewords): a texture's finder-like marks cost the keystone search
// up to 1,352 such decodes. The timing patterns lie between the three
// finder patterns, which the search does not move, so a grid that reads
// has them nearly intact, while a random grid matches half of them.
func timingOK(bits *gozxing.BitMatrix, dim int) bool {
	wrong, n := 0, 0
	for i := 8; i < dim-8; i++ {
		dark := i%2 == 0
		if bits.Get(i, 6) != dark {
			wrong++
		}
		if bits.Get(6, i) != dark {
			wrong++
		}
		n += 2
	}
	return 4*wrong <= n
}

func abs(i int) int {
	if i < 0 {
		return -i
	}
	return i
}
