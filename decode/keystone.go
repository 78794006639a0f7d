package decode

import (
	"github.com/makiuchi-d/gozxing"
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
// modules away (at most 2 x 169 candidates, a few ms); each candidate grid must pass format-information BCH and
// Reed-Solomon checks, as every QR read does.
//
// It runs in the tryharder and global stages only (full-size frame, both
// binarizers), after the QR reader failed on the same bitmap, and stops
// with the budget (checked every few candidates).
func keystoneQR(bmp *gozxing.BinaryBitmap, hints map[gozxing.DecodeHintType]interface{}, stop *stopper) (found, bool) {
	m, err := bmp.GetBlackMatrix()
	if err != nil {
		return found{}, false
	}
	info, nferr := detector.NewFinderPatternFinder(m, finderCallback(hints)).Find(hints)
	if nferr != nil {
		return found{}, false
	}
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
					if err != nil {
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

func abs(i int) int {
	if i < 0 {
		return -i
	}
	return i
}
