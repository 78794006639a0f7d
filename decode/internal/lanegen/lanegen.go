// Package lanegen renders lane-like camera frames of payment codes for the
// decoder's accuracy tests and the comparison with other decoders
// (decode/compare). It is test tooling, not part of the decoder.
//
// Codes are rendered with github.com/boombuler/barcode, not with gozxing's
// writers, so the decoder is not checked against its own encoder. A frame
// is a "phone screen" (the symbol on a light card, sometimes inside a dark
// bezel) placed in a camera frame by a homography, over a plain or
// cluttered background, then lit unevenly, blurred, made noisy and encoded.
// Every distortion is plain Go and every random choice comes from one PCG
// stream seeded by (seed, class, index): the same arguments give the same
// pixels on every machine.
package lanegen

import (
	"bytes"
	"fmt"
	"hash/fnv"
	"image"
	"image/color"
	"image/draw"
	"image/jpeg"
	"image/png"
	"math"
	"math/rand/v2"

	"github.com/boombuler/barcode/code128"
	"github.com/boombuler/barcode/qr"
)

// Symbology names as the decode package prints them.
const (
	QR      = "QR_CODE"
	Code128 = "CODE_128"
)

// Class is one distortion class for one symbology (or the negatives).
type Class struct {
	// Name is "qr/blur", "code128/tilt", ..., or "negative".
	Name string
	// Symbology is QR, Code128, or "" for frames without a code.
	Symbology string
	// Distortion is the part of Name after the slash.
	Distortion string
	// About says in a few words what the class does.
	About string
}

// Negative reports whether frames of this class contain no code.
func (c Class) Negative() bool { return c.Symbology == "" }

// distortions in report order, with a short description each.
var distortions = []struct{ name, about string }{
	{"plain", "upright ±2°, even light, mild blur and noise"},
	{"tilt", "rotated ±3..30° (QR), ±3..10° (Code 128)"},
	{"quarter", "rotated 90/180/270° ±2°"},
	{"perspective", "corners moved up to 18% of the card, ±6°"},
	{"blur", "Gaussian blur, sigma 0.3..0.6 module"},
	{"noise", "Gaussian noise, sigma 15..35 levels"},
	{"lowcontrast", "code 25..50 levels darker than the card"},
	{"jpeg", "colour JPEG, quality 8..30"},
	{"small", "320x240 frame, QR 1.6..2.5 px, Code 128 1.1..1.6 px per module"},
	{"tiny", "drawn large, then shrunk with the frame to 1.0..3 px per module (area filter)"},
	{"steep", "corners moved 12..20% of the card: strong perspective, a third as JPEG"},
	{"large", "1920x1080 or 2560x1440 frame, large code"},
	{"clutter", "busy background, smaller code"},
}

// Classes returns every class: each distortion for QR, then for Code 128,
// then the two-code frames, then the negatives.
func Classes() []Class {
	var out []Class
	for _, sym := range []struct{ prefix, name string }{{"qr", QR}, {"code128", Code128}} {
		for _, d := range distortions {
			out = append(out, Class{Name: sym.prefix + "/" + d.name, Symbology: sym.name, Distortion: d.name, About: d.about})
		}
	}
	out = append(out,
		Class{Name: "two", Symbology: QR, Distortion: "two", About: "two different payment codes side by side (QR + QR or Code 128 + QR); the right answer is a refusal"},
		Class{Name: "negative", Distortion: "negative", About: "clutter, text, random module grids and stripes; no code"},
		Class{Name: "negative/texture", Distortion: "texture", About: "whole-frame textures: woven fabric, brick, keyboard, bar-like stripes, printed digits; no code"},
	)
	return out
}

// Two reports whether frames of this class hold two different codes.
func (c Class) Two() bool { return c.Distortion == "two" }

// ClassByName finds a class by its Name.
func ClassByName(name string) (Class, bool) {
	for _, c := range Classes() {
		if c.Name == name {
			return c, true
		}
	}
	return Class{}, false
}

// Sample is one generated frame.
type Sample struct {
	Class Class
	Index int
	// Text is the encoded payment code ("" for negatives). For a two-code
	// frame it is the left code, Other the right one.
	Text, Other string
	// Img is the frame as rendered. For JPEG samples it is the image before
	// compression; decode Encoded instead to see the artefacts.
	Img *image.Gray
	// Format is "png" or "jpeg": how Encode stores the frame. JPEG frames
	// are colour (YCbCr 4:2:0), as a phone camera sends them.
	Format  string
	quality int
}

// Lossless reports whether Img is exactly what Encode's bytes decode to,
// so a test may hand Img to the decoder and skip the PNG round trip.
func (s Sample) Lossless() bool { return s.Format == "png" }

// Encode returns the frame as the file a lane would upload.
func (s Sample) Encode() ([]byte, error) {
	var b bytes.Buffer
	if s.Format == "jpeg" {
		rgba := image.NewRGBA(s.Img.Rect)
		draw.Draw(rgba, rgba.Rect, s.Img, image.Point{}, draw.Src)
		if err := jpeg.Encode(&b, rgba, &jpeg.Options{Quality: s.quality}); err != nil {
			return nil, err
		}
		return b.Bytes(), nil
	}
	enc := png.Encoder{CompressionLevel: png.BestSpeed}
	if err := enc.Encode(&b, s.Img); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// Generate renders frame i of class c from seed. It is deterministic and
// safe for concurrent use.
func Generate(c Class, seed uint64, i int) (Sample, error) {
	return GenerateFrame(c, seed, i, 0, 0)
}

// GenerateFrame is Generate with the frame size set to w x h (0, 0: the
// class's own), the code scaled with the frame width; for benchmarks at
// fixed camera resolutions.
func GenerateFrame(c Class, seed uint64, i, w, h int) (Sample, error) {
	hash := fnv.New64a()
	hash.Write([]byte(c.Name))
	r := rand.New(rand.NewPCG(seed, hash.Sum64()^uint64(i)*0x9e3779b97f4a7c15))
	s := Sample{Class: c, Index: i, Format: "png"}
	if c.Two() {
		return generateTwo(c, r, s, w, h)
	}
	var sym symbol
	if !c.Negative() {
		s.Text = paymentCode(r)
		var err error
		if sym, err = render(c.Symbology, s.Text, r); err != nil {
			return Sample{}, err
		}
	}
	sc := plan(c, sym, r, w, h)
	if c.Distortion == "jpeg" {
		s.Format, s.quality = "jpeg", 8+r.IntN(23)
	}
	if c.Distortion == "steep" && r.IntN(3) == 0 {
		s.Format, s.quality = "jpeg", 30+r.IntN(40)
	}
	s.Img = sc.draw(r)
	return s, nil
}

// generateTwo renders two codes, each on its own card in one half of the
// frame (a phone showing two codes, or two phones): QR and QR, or a Code
// 128 on the left and a QR on the right.
func generateTwo(c Class, r *rand.Rand, s Sample, w, h int) (Sample, error) {
	if w == 0 || h == 0 {
		w, h = 640, 480
	}
	s.Text, s.Other = paymentCode(r), paymentCode(r)
	leftSym := QR
	if r.IntN(3) == 0 {
		leftSym = Code128
	}
	half := w / 2
	img := image.NewGray(image.Rect(0, 0, w, h))
	for k, part := range []struct{ sym, text string }{{leftSym, s.Text}, {QR, s.Other}} {
		sym, err := render(part.sym, part.text, r)
		if err != nil {
			return Sample{}, err
		}
		sub := Class{Name: c.Name, Symbology: part.sym, Distortion: "two"}
		sc := plan(sub, sym, r, half, h)
		m := sc.draw(r)
		for y := range h {
			copy(img.Pix[y*img.Stride+k*half:], m.Pix[y*m.Stride:y*m.Stride+half])
		}
	}
	s.Img = img
	return s, nil
}

// paymentCode is 24 random digits.
func paymentCode(r *rand.Rand) string {
	b := make([]byte, 24)
	for i := range b {
		b[i] = byte('0' + r.IntN(10))
	}
	return string(b)
}

// symbol is a module grid, quiet zone included: dark(u, v) for integer
// module coordinates 0 <= u < w, 0 <= v < h.
type symbol struct {
	w, h int
	dark func(u, v int) bool
}

func isDark(c color.Color) bool {
	r, _, _, _ := c.RGBA()
	return r < 0x8000
}

// render encodes text with boombuler/barcode and wraps it in its quiet
// zone (4 modules for QR, 10 for Code 128).
func render(symbology, text string, r *rand.Rand) (symbol, error) {
	switch symbology {
	case QR:
		level := []qr.ErrorCorrectionLevel{qr.L, qr.M, qr.Q}[r.IntN(3)]
		bc, err := qr.Encode(text, level, qr.Auto)
		if err != nil {
			return symbol{}, err
		}
		n := bc.Bounds().Dx()
		grid := make([]bool, n*n)
		for y := range n {
			for x := range n {
				grid[y*n+x] = isDark(bc.At(x, y))
			}
		}
		const q = 4
		return symbol{w: n + 2*q, h: n + 2*q, dark: func(u, v int) bool {
			u, v = u-q, v-q
			return u >= 0 && v >= 0 && u < n && v < n && grid[v*n+u]
		}}, nil
	case Code128:
		bc, err := code128.Encode(text)
		if err != nil {
			return symbol{}, err
		}
		n := bc.Bounds().Dx()
		bars := make([]bool, n)
		for x := range n {
			bars[x] = isDark(bc.At(x, 0))
		}
		const q = 10
		h := int(float64(n) * (0.2 + 0.15*r.Float64())) // bar height 20..35% of the width
		return symbol{w: n + 2*q, h: h, dark: func(u, v int) bool {
			u -= q
			return u >= 0 && u < n && bars[u]
		}}, nil
	}
	return symbol{}, fmt.Errorf("lanegen: unknown symbology %q", symbology)
}

// scene is everything needed to draw one frame.
type scene struct {
	w, h      int
	sym       symbol // zero w for a card without a code
	filler    func(u, v float64) (float64, bool)
	cardW     float64 // card size in modules (symbol plus margin)
	cardH     float64
	margin    float64 // card margin around the symbol, modules
	bezel     float64 // dark bezel width in modules, 0 for none
	hinv      [9]float64
	corners   [4][2]float64
	light     float64 // card white
	dark      float64 // symbol black
	bezelLum  float64
	clutter   bool
	texture   func(x, y float64) float64 // whole-frame luminance, nil for none
	bgLevel   float64
	gradX     float64 // illumination gain slope across the frame
	gradY     float64
	blur      float64 // Gaussian sigma, pixels
	noise     float64 // Gaussian sigma, levels
	supersamp int
}

// plan draws the random parameters of a frame for class c.
func plan(c Class, sym symbol, r *rand.Rand, w, h int) *scene {
	sc := &scene{w: 640, h: 480, sym: sym, supersamp: 3}
	qrSym := c.Symbology == QR
	between := func(lo, hi float64) float64 { return lo + (hi-lo)*r.Float64() }
	sign := func() float64 {
		if r.IntN(2) == 0 {
			return -1
		}
		return 1
	}

	// Module size in pixels for a 640x480 frame.
	module := between(4, 7)
	if !qrSym {
		module = between(1.8, 3.0)
	}
	angle := between(-2, 2)
	var jitter float64 // perspective: corner displacement, fraction of card size
	sc.light, sc.dark = between(200, 245), between(10, 45)
	sc.bgLevel = between(50, 200)
	sc.gradX, sc.gradY = between(-0.15, 0.15), between(-0.15, 0.15)
	sc.blur, sc.noise = between(0.4, 0.7), between(1, 4)
	sc.margin = between(1, 4)
	if r.IntN(2) == 0 {
		sc.bezel, sc.bezelLum = between(2, 6), between(10, 40)
	}

	switch c.Distortion {
	case "plain":
	case "tilt":
		if qrSym {
			angle = sign() * between(3, 30)
		} else {
			angle = sign() * between(3, 10)
		}
	case "quarter":
		angle = float64(90*(1+r.IntN(3))) + between(-2, 2)
	case "perspective":
		jitter = between(0.08, 0.18)
		angle = between(-6, 6)
	case "blur":
		sc.blur = module * between(0.3, 0.6)
	case "noise":
		sc.noise = between(15, 35)
	case "lowcontrast":
		mid := between(90, 180)
		delta := between(25, 50)
		sc.light, sc.dark = mid+delta/2, mid-delta/2
		sc.bezel = 0
		sc.bgLevel = mid + between(-30, 30)
	case "jpeg":
	case "tiny":
		// A large rendering shrunk with the frame: the supersampled draw
		// is that area filter. Blur is what the optics added before.
		if qrSym {
			module = between(1.0, 3.0)
		} else {
			module = between(1.0, 1.5)
		}
		sc.blur = module * between(0.15, 0.3)
		sc.supersamp = 4
	case "steep":
		jitter = between(0.12, 0.20)
		angle = between(-8, 8)
	case "small":
		sc.w, sc.h = 320, 240
		module = between(1.6, 2.5)
		if !qrSym {
			module = between(1.1, 1.6)
		}
		sc.blur = between(0.3, 0.5)
	case "large":
		if r.IntN(2) == 0 {
			sc.w, sc.h = 1920, 1080
		} else {
			sc.w, sc.h = 2560, 1440
		}
		f := float64(sc.w) / 640
		module *= f * between(0.6, 1)
		sc.blur *= f * 0.6
		sc.supersamp = 2
	case "clutter", "negative":
		sc.clutter = true
		module *= between(0.7, 0.9)
	}

	if w > 0 && h > 0 {
		if c.Distortion != "two" { // a half frame at the full frame's scale
			module *= float64(w) / float64(sc.w)
		}
		sc.w, sc.h = w, h
	}

	if c.Distortion == "texture" {
		sc.texture = textureOf(r, sc.w)
		sc.cardW = 0
	} else if c.Negative() {
		// A card the size of a QR code's, holding no code (or no card).
		cells := 25 + r.IntN(8)
		module = between(3, 6)
		switch r.IntN(4) {
		case 0: // background only
			sc.cardW = 0
		case 1: // text lines
			sc.cardW, sc.cardH = float64(cells)*1.6, float64(cells)
			sc.filler = textFiller(r, sc.cardW, sc.cardH)
		case 2: // random module grid without finder patterns
			sc.cardW, sc.cardH = float64(cells), float64(cells)
			sc.filler = gridFiller(r, cells)
		case 3: // random stripes, like a 1D symbol that is none
			module = between(1.8, 3)
			sc.cardW, sc.cardH = 180, 50
			sc.filler = stripeFiller(r, 180)
		}
	} else {
		sc.cardW, sc.cardH = float64(sym.w)+2*sc.margin, float64(sym.h)+2*sc.margin
	}
	if sc.cardW > 0 {
		sc.place(module, angle, jitter, r)
	}
	return sc
}

// place positions the card (with its bezel) in the frame: scaled to module
// pixels, rotated by angle degrees about its centre, corners moved by up
// to jitter of the card's size, and shifted at random as far as it still
// fits (shrunk if it would not).
func (sc *scene) place(module, angle, jitter float64, r *rand.Rand) {
	tw, th := sc.cardW+2*sc.bezel, sc.cardH+2*sc.bezel
	src := [4][2]float64{{-sc.bezel, -sc.bezel}, {sc.cardW + sc.bezel, -sc.bezel}, {sc.cardW + sc.bezel, sc.cardH + sc.bezel}, {-sc.bezel, sc.cardH + sc.bezel}}
	for {
		sin, cos := math.Sincos(angle * math.Pi / 180)
		var dst [4][2]float64
		minX, minY, maxX, maxY := math.Inf(1), math.Inf(1), math.Inf(-1), math.Inf(-1)
		for k, p := range src {
			x := (p[0] - tw/2 + sc.bezel) * module
			y := (p[1] - th/2 + sc.bezel) * module
			x += jitter * tw * module * (2*r.Float64() - 1)
			y += jitter * th * module * (2*r.Float64() - 1)
			dst[k] = [2]float64{x*cos - y*sin, x*sin + y*cos}
			minX, maxX = min(minX, dst[k][0]), max(maxX, dst[k][0])
			minY, maxY = min(minY, dst[k][1]), max(maxY, dst[k][1])
		}
		spanX, spanY := maxX-minX, maxY-minY
		if spanX > float64(sc.w)*0.96 || spanY > float64(sc.h)*0.96 {
			module *= 0.95
			continue
		}
		ox := -minX + 0.02*float64(sc.w) + r.Float64()*(float64(sc.w)*0.96-spanX)
		oy := -minY + 0.02*float64(sc.h) + r.Float64()*(float64(sc.h)*0.96-spanY)
		for k := range dst {
			dst[k][0] += ox
			dst[k][1] += oy
		}
		sc.corners = dst
		sc.hinv = invert3(homography(src, dst))
		return
	}
}

// cardValue is the card's luminance at card coordinates (u, v), in
// modules from the card's top-left corner; ok is false outside the card
// and its bezel.
func (sc *scene) cardValue(u, v float64) (float64, bool) {
	if u < -sc.bezel || v < -sc.bezel || u >= sc.cardW+sc.bezel || v >= sc.cardH+sc.bezel {
		return 0, false
	}
	if u < 0 || v < 0 || u >= sc.cardW || v >= sc.cardH {
		return sc.bezelLum, true
	}
	if sc.filler != nil {
		if _, d := sc.filler(u, v); d {
			return sc.dark, true
		}
		return sc.light, true
	}
	su, sv := u-sc.margin, v-sc.margin
	if su >= 0 && sv >= 0 && su < float64(sc.sym.w) && sv < float64(sc.sym.h) && sc.sym.dark(int(su), int(sv)) {
		return sc.dark, true
	}
	return sc.light, true
}

// draw renders the frame: background, card (supersampled), lighting, blur
// and noise.
func (sc *scene) draw(r *rand.Rand) *image.Gray {
	w, h := sc.w, sc.h
	buf := make([]float32, w*h)
	for y := range h {
		for x := range w {
			buf[y*w+x] = float32(sc.bgLevel)
		}
	}
	if sc.clutter {
		drawClutter(buf, w, h, r)
	}
	if sc.texture != nil {
		for y := range h {
			for x := range w {
				buf[y*w+x] = float32(sc.texture(float64(x)+0.5, float64(y)+0.5))
			}
		}
	}
	if sc.cardW > 0 {
		x0, y0, x1, y1 := w, h, 0, 0
		for _, c := range sc.corners {
			x0, y0 = min(x0, int(c[0])-1), min(y0, int(c[1])-1)
			x1, y1 = max(x1, int(c[0])+2), max(y1, int(c[1])+2)
		}
		x0, y0, x1, y1 = max(x0, 0), max(y0, 0), min(x1, w), min(y1, h)
		n := sc.supersamp
		inv := 1 / float64(n*n)
		for y := y0; y < y1; y++ {
			for x := x0; x < x1; x++ {
				var sum float64
				hits := 0
				for j := range n {
					for i := range n {
						px := float64(x) + (float64(i)+0.5)/float64(n)
						py := float64(y) + (float64(j)+0.5)/float64(n)
						u, v := apply(sc.hinv, px, py)
						if val, ok := sc.cardValue(u, v); ok {
							sum += val
							hits++
						}
					}
				}
				if hits > 0 {
					bg := float64(buf[y*w+x])
					buf[y*w+x] = float32((sum + bg*float64(n*n-hits)) * inv)
				}
			}
		}
	}
	// Uneven light: a linear gain across the frame.
	for y := range h {
		gy := sc.gradY * (float64(y)/float64(h) - 0.5)
		for x := range w {
			g := 1 + sc.gradX*(float64(x)/float64(w)-0.5) + gy
			buf[y*w+x] *= float32(g)
		}
	}
	if sc.blur > 0 {
		gaussianBlur(buf, w, h, sc.blur)
	}
	img := image.NewGray(image.Rect(0, 0, w, h))
	for i, v := range buf {
		f := float64(v) + sc.noise*r.NormFloat64()
		img.Pix[i] = uint8(math.Max(0, math.Min(255, math.Round(f))))
	}
	return img
}

// drawClutter paints a busy scene: boxes, discs, thick lines, text-like
// rows of glyphs and a few fine checkerboards.
func drawClutter(buf []float32, w, h int, r *rand.Rand) {
	fill := func(x0, y0, x1, y1 int, f func(x, y int) (float32, bool)) {
		x0, y0, x1, y1 = max(x0, 0), max(y0, 0), min(x1, w), min(y1, h)
		for y := y0; y < y1; y++ {
			for x := x0; x < x1; x++ {
				if v, ok := f(x, y); ok {
					buf[y*w+x] = v
				}
			}
		}
	}
	scale := float64(w) / 640
	n := 30 + r.IntN(30)
	for range n {
		lum := float32(r.IntN(256))
		cx, cy := r.IntN(w), r.IntN(h)
		size := int(scale * float64(10+r.IntN(120)))
		switch r.IntN(5) {
		case 0: // box
			sw, sh := size, int(scale*float64(10+r.IntN(120)))
			fill(cx, cy, cx+sw, cy+sh, func(int, int) (float32, bool) { return lum, true })
		case 1: // disc
			rad := size / 2
			fill(cx-rad, cy-rad, cx+rad+1, cy+rad+1, func(x, y int) (float32, bool) {
				dx, dy := x-cx, y-cy
				return lum, dx*dx+dy*dy <= rad*rad
			})
		case 2: // thick line
			ang := r.Float64() * math.Pi
			dx, dy := math.Cos(ang), math.Sin(ang)
			length := float64(size) * 2
			thick := scale * (1 + 4*r.Float64())
			fill(cx-int(length)-1, cy-int(length)-1, cx+int(length)+2, cy+int(length)+2, func(x, y int) (float32, bool) {
				px, py := float64(x-cx), float64(y-cy)
				along := px*dx + py*dy
				across := math.Abs(-px*dy + py*dx)
				return lum, along >= -length && along <= length && across <= thick
			})
		case 3: // text: rows of glyph-sized blocks
			gh := int(scale * float64(5+r.IntN(8)))
			rows := 1 + r.IntN(5)
			for row := range rows {
				x := cx
				y := cy + row*gh*2
				for range 5 + r.IntN(25) {
					gw := max(1, gh*(2+r.IntN(5))/6)
					if r.IntN(6) > 0 {
						fill(x, y, x+gw, y+gh, func(int, int) (float32, bool) { return lum, true })
					}
					x += gw + max(1, gh/4)
				}
			}
		case 4: // checkerboard patch
			cell := max(1, int(scale*float64(2+r.IntN(5))))
			other := float32(r.IntN(256))
			fill(cx, cy, cx+size, cy+size, func(x, y int) (float32, bool) {
				if ((x-cx)/cell+(y-cy)/cell)%2 == 0 {
					return lum, true
				}
				return other, true
			})
		}
	}
}

// textureOf returns a whole-frame texture, photographed at an angle: the
// kinds of surface a lane camera sees when no phone is in front of it and
// that fake the transitions of a barcode or the blobs of a QR code.
func textureOf(r *rand.Rand, frameW int) func(x, y float64) float64 {
	scale := float64(frameW) / 640
	between := func(lo, hi float64) float64 { return lo + (hi-lo)*r.Float64() }
	ang := between(-0.6, 0.6)
	if r.IntN(4) == 0 {
		ang += math.Pi / 2
	}
	sin, cos := math.Sincos(ang)
	lo, hi := between(20, 90), between(150, 240)
	rot := func(x, y float64) (float64, float64) { return x*cos - y*sin, x*sin + y*cos }
	mix := func(t float64) float64 { return lo + (hi-lo)*math.Max(0, math.Min(1, t)) }
	switch r.IntN(5) {
	case 0: // woven fabric: threads over and under, alternating per cell
		p := scale * between(3, 9)
		return func(x, y float64) float64 {
			u, v := rot(x, y)
			cu, cv := math.Floor(u/p), math.Floor(v/p)
			fu, fv := u/p-cu, v/p-cv
			var t float64
			if int(cu+cv)&1 == 0 { // warp on top: shaded across its width
				t = 0.5 + 0.5*math.Sin(fu*math.Pi)
			} else {
				t = 0.35 * math.Sin(fv*math.Pi)
			}
			return mix(t)
		}
	case 1: // brick: courses offset by half a brick, dark mortar
		bw, bh := scale*between(20, 60), scale*between(8, 22)
		m := math.Max(1, scale*between(1, 3))
		return func(x, y float64) float64 {
			u, v := rot(x, y)
			row := math.Floor(v / bh)
			off := 0.0
			if int(row)&1 == 1 {
				off = bw / 2
			}
			fu, fv := math.Mod(u+off+1e6*bw, bw), math.Mod(v+1e6*bh, bh)
			if fu < m || fv < m {
				return lo
			}
			return mix(0.7 + 0.3*math.Sin(row*1.7+math.Floor((u+off)/bw)*2.3))
		}
	case 2: // keyboard: keys with a light cap and a dark glyph
		k := scale * between(18, 40)
		gap := k * 0.15
		return func(x, y float64) float64 {
			u, v := rot(x, y)
			cu, cv := math.Floor(u/k), math.Floor(v/k)
			fu, fv := u-cu*k, v-cv*k
			if fu < gap || fv < gap {
				return lo
			}
			// A glyph: two strokes, chosen by the key.
			seed := int(cu*7+cv*13) & 7
			gu, gv := (fu-gap)/(k-gap), (fv-gap)/(k-gap)
			if (seed&1 == 1 && gu > 0.3 && gu < 0.4 && gv > 0.25 && gv < 0.75) ||
				(seed&2 == 2 && gv > 0.45 && gv < 0.55 && gu > 0.25 && gu < 0.75) ||
				(seed&4 == 4 && gu > 0.6 && gu < 0.7 && gv > 0.25 && gv < 0.75) {
				return lo + 20
			}
			return hi
		}
	case 3: // stripes like a barcode: random bar widths over the frame
		unit := scale * between(1.5, 4)
		bars := make([]bool, 512)
		dark := true
		for i := 0; i < len(bars); {
			run := 1 + r.IntN(4)
			for k := 0; k < run && i < len(bars); k++ {
				bars[i] = dark
				i++
			}
			dark = !dark
		}
		return func(x, y float64) float64 {
			u, _ := rot(x, y)
			i := int(math.Floor(u/unit)) % len(bars)
			if i < 0 {
				i += len(bars)
			}
			if bars[i] {
				return lo
			}
			return hi
		}
	default: // printed digits: rows of seven-segment numerals, like a receipt
		gh := scale * between(10, 24)
		gw := gh * 0.6
		digits := make([]uint8, 4096)
		for i := range digits {
			digits[i] = uint8(r.IntN(10))
		}
		seg := [10]uint8{0x3f, 0x06, 0x5b, 0x4f, 0x66, 0x6d, 0x7d, 0x07, 0x7f, 0x6f}
		return func(x, y float64) float64 {
			u, v := rot(x, y)
			row, col := math.Floor(v/(gh*1.5)), math.Floor(u/(gw*1.3))
			fu, fv := (u-col*gw*1.3)/gw, (v-row*gh*1.5)/gh
			if fu < 0 || fu > 1 || fv < 0 || fv > 1 {
				return hi
			}
			d := seg[digits[(int(row)*61+int(col)*7)&4095]]
			t := 0.18 // stroke width, fraction of the glyph
			on := (d&1 != 0 && fv < t) || (d&8 != 0 && fv > 1-t) || (d&64 != 0 && math.Abs(fv-0.5) < t/2) ||
				(d&32 != 0 && fu < t && fv < 0.5) || (d&2 != 0 && fu > 1-t && fv < 0.5) ||
				(d&16 != 0 && fu < t && fv > 0.5) || (d&4 != 0 && fu > 1-t && fv > 0.5)
			if on {
				return lo
			}
			return hi
		}
	}
}

// textFiller: dark glyph-like blocks in lines.
func textFiller(r *rand.Rand, cw, ch float64) func(u, v float64) (float64, bool) {
	type box struct{ u0, v0, u1, v1 float64 }
	var boxes []box
	for line := 2.0; line+2 < ch; line += 3.5 {
		for u := 2.0; u+1 < cw-2; {
			gw := 0.6 + 1.4*r.Float64()
			if r.IntN(6) > 0 {
				boxes = append(boxes, box{u, line, u + gw, line + 2})
			}
			u += gw + 0.5
		}
	}
	return func(u, v float64) (float64, bool) {
		for _, b := range boxes {
			if u >= b.u0 && u < b.u1 && v >= b.v0 && v < b.v1 {
				return 0, true
			}
		}
		return 0, false
	}
}

// gridFiller: random modules, half dark, with a 2-module light border.
func gridFiller(r *rand.Rand, cells int) func(u, v float64) (float64, bool) {
	grid := make([]bool, cells*cells)
	for i := range grid {
		grid[i] = r.IntN(2) == 0
	}
	return func(u, v float64) (float64, bool) {
		iu, iv := int(u), int(v)
		if iu < 2 || iv < 2 || iu >= cells-2 || iv >= cells-2 {
			return 0, false
		}
		return 0, grid[iv*cells+iu]
	}
}

// stripeFiller: bars of random widths 1..4 modules, like a 1D symbol.
func stripeFiller(r *rand.Rand, width int) func(u, v float64) (float64, bool) {
	bars := make([]bool, width)
	dark := true
	for u := 10; u < width-10; {
		run := 1 + r.IntN(4)
		for k := 0; k < run && u < width-10; k++ {
			bars[u] = dark
			u++
		}
		dark = !dark
	}
	return func(u, v float64) (float64, bool) {
		iu := int(u)
		return 0, iu >= 0 && iu < width && v >= 4 && v < 46 && bars[iu]
	}
}

// gaussianBlur blurs buf (w x h) in place with a separable kernel,
// clamping at the edges.
func gaussianBlur(buf []float32, w, h int, sigma float64) {
	rad := int(math.Ceil(3 * sigma))
	k := make([]float32, 2*rad+1)
	var sum float32
	for i := range k {
		d := float64(i - rad)
		k[i] = float32(math.Exp(-d * d / (2 * sigma * sigma)))
		sum += k[i]
	}
	for i := range k {
		k[i] /= sum
	}
	tmp := make([]float32, len(buf))
	for y := range h {
		row := buf[y*w : (y+1)*w]
		out := tmp[y*w : (y+1)*w]
		for x := range w {
			var acc float32
			for i, kv := range k {
				xx := min(max(x+i-rad, 0), w-1)
				acc += kv * row[xx]
			}
			out[x] = acc
		}
	}
	for y := range h {
		out := buf[y*w : (y+1)*w]
		for x := range w {
			var acc float32
			for i, kv := range k {
				yy := min(max(y+i-rad, 0), h-1)
				acc += kv * tmp[yy*w+x]
			}
			out[x] = acc
		}
	}
}

// homography returns the 3x3 matrix (row-major, h[8] = 1) mapping each
// src point to its dst point.
func homography(src, dst [4][2]float64) [9]float64 {
	var a [8][9]float64
	for i := range 4 {
		x, y := src[i][0], src[i][1]
		u, v := dst[i][0], dst[i][1]
		a[2*i] = [9]float64{x, y, 1, 0, 0, 0, -u * x, -u * y, u}
		a[2*i+1] = [9]float64{0, 0, 0, x, y, 1, -v * x, -v * y, v}
	}
	// Gauss-Jordan with partial pivoting.
	for col := range 8 {
		p := col
		for row := col + 1; row < 8; row++ {
			if math.Abs(a[row][col]) > math.Abs(a[p][col]) {
				p = row
			}
		}
		a[col], a[p] = a[p], a[col]
		for row := range 8 {
			if row == col {
				continue
			}
			f := a[row][col] / a[col][col]
			for k := col; k < 9; k++ {
				a[row][k] -= f * a[col][k]
			}
		}
	}
	var m [9]float64
	for i := range 8 {
		m[i] = a[i][8] / a[i][i]
	}
	m[8] = 1
	return m
}

// invert3 inverts a 3x3 matrix.
func invert3(m [9]float64) [9]float64 {
	a, b, c, d, e, f, g, h, i := m[0], m[1], m[2], m[3], m[4], m[5], m[6], m[7], m[8]
	A, B, C := e*i-f*h, -(d*i - f*g), d*h-e*g
	det := a*A + b*B + c*C
	return [9]float64{
		A / det, -(b*i - c*h) / det, (b*f - c*e) / det,
		B / det, (a*i - c*g) / det, -(a*f - c*d) / det,
		C / det, -(a*h - b*g) / det, (a*e - b*d) / det,
	}
}

// apply maps (x, y) through the homography m.
func apply(m [9]float64, x, y float64) (float64, float64) {
	w := m[6]*x + m[7]*y + m[8]
	return (m[0]*x + m[1]*y + m[2]) / w, (m[3]*x + m[4]*y + m[5]) / w
}
