package decode

import (
	"math"

	"github.com/makiuchi-d/gozxing"
	"github.com/makiuchi-d/gozxing/qrcode/detector"
)

// crossingOutside reports whether the multi-code finder could find a
// finder pattern outside the QR symbol just read, whose finder centres
// are pts (gozxing's result points: bottom-left, top-left, top-right).
// If it could not, the one-code check's finder pass (a tenth to a fifth
// of a successful fast read, every pixel of every third row fetched one
// at a time) is skipped: a second symbol needs three finder patterns of
// its own, and a finder pattern lying outside the symbol read crosses
// some row that pass scans outside it.
//
// The finder (MultiFinderPatternFinder.FindMulti) keeps a candidate only
// where, on one of the rows it scans (every third from row 2, as under
// TRY_HARDER), five consecutive runs, dark light dark light dark, pass
// FinderPatternFinder_foundPatternCross; its state machine tests a subset
// of the runs' quintuples. This tests every quintuple, word by word on
// the row (rowRuns), and true means one lies outside the symbol: the
// parallelogram the three centres span, widened by 4.5 modules (3.5 to
// the symbol's edge, one for perspective and the module size's
// estimate). A second code that fitted inside that would overlap the
// first. Any doubt (no module size, a degenerate triple) is true.
func (w *worker) crossingOutside(m *gozxing.BitMatrix, pts []gozxing.ResultPoint) bool {
	type moduled interface{ GetEstimatedModuleSize() float64 }
	if len(pts) < 3 {
		return true
	}
	mod := 0.0
	for _, p := range pts[:3] {
		fp, ok := p.(moduled)
		if !ok {
			return true
		}
		mod = max(mod, fp.GetEstimatedModuleSize())
	}
	bl, tl, tr := pts[0], pts[1], pts[2]
	// P - tl = u·(tr - tl) + v·(bl - tl); the symbol spans u and v from
	// 0 to 1 between the centres.
	ux, uy := float64(tr.GetX()-tl.GetX()), float64(tr.GetY()-tl.GetY())
	vx, vy := float64(bl.GetX()-tl.GetX()), float64(bl.GetY()-tl.GetY())
	det := ux*vy - uy*vx
	du, dv := ux*ux+uy*uy, vx*vx+vy*vy
	if mod <= 0 || du < 1 || dv < 1 || det*det < 0.25*du*dv { // under 30° between the sides
		return true
	}
	const margin = 4.5 // modules
	eu, ev := margin*mod/math.Sqrt(du), margin*mod/math.Sqrt(dv)
	inside := func(x, y float64) bool {
		px, py := x-float64(tl.GetX()), y-float64(tl.GetY())
		u := (px*vy - py*vx) / det
		v := (ux*py - uy*px) / det
		return u >= -eu && u <= 1+eu && v >= -ev && v <= 1+ev
	}

	width, height := m.GetWidth(), m.GetHeight()
	if w.crossRow == nil || w.crossRow.GetSize() != width {
		w.crossRow = gozxing.NewBitArray(width)
	}
	for y := detector.FinderPatternFinder_MIN_SKIP - 1; y < height; y += detector.FinderPatternFinder_MIN_SKIP {
		row := m.GetRow(y, w.crossRow)
		w.crossRuns = rowRuns(row, w.crossRuns)
		runs := w.crossRuns
		x, k := 0, 0
		if len(runs) > 0 && !row.Get(0) { // the quintuples start on a dark run
			x, k = runs[0], 1
		}
		for ; k+4 < len(runs); k += 2 {
			q := runs[k : k+5]
			if detector.FinderPatternFinder_foundPatternCross(q) {
				end := x + q[0] + q[1] + q[2] + q[3] + q[4]
				if !inside(float64(x), float64(y)) || !inside(float64(end-1), float64(y)) {
					return true
				}
			}
			x += runs[k] + runs[k+1]
		}
	}
	return false
}
