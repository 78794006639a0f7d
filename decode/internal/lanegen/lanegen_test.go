package lanegen

import (
	"bytes"
	"math"
	"testing"
)

// TestDeterministic: the same (class, seed, index) gives the same pixels
// and text; another index gives another frame.
func TestDeterministic(t *testing.T) {
	for _, c := range Classes() {
		if c.Distortion == "large" {
			continue // slow, and drawn by the same code
		}
		a, err := Generate(c, 1, 3)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := Generate(c, 1, 3)
		o, _ := Generate(c, 1, 4)
		if a.Text != b.Text || !bytes.Equal(a.Img.Pix, b.Img.Pix) {
			t.Errorf("%s: two renderings of frame 3 differ", c.Name)
		}
		if bytes.Equal(a.Img.Pix, o.Img.Pix) {
			t.Errorf("%s: frames 3 and 4 are identical", c.Name)
		}
		if c.Negative() != (a.Text == "") || (!c.Negative() && len(a.Text) != 24) {
			t.Errorf("%s: text %q", c.Name, a.Text)
		}
	}
}

// TestHomography maps the four source corners onto the destination ones
// and back.
func TestHomography(t *testing.T) {
	src := [4][2]float64{{0, 0}, {10, 0}, {10, 5}, {0, 5}}
	dst := [4][2]float64{{100, 50}, {300, 70}, {280, 180}, {90, 150}}
	h := homography(src, dst)
	inv := invert3(h)
	for i := range 4 {
		x, y := apply(h, src[i][0], src[i][1])
		u, v := apply(inv, dst[i][0], dst[i][1])
		if math.Hypot(x-dst[i][0], y-dst[i][1]) > 1e-6 || math.Hypot(u-src[i][0], v-src[i][1]) > 1e-6 {
			t.Errorf("corner %d: forward (%g,%g) want %v; back (%g,%g) want %v", i, x, y, dst[i], u, v, src[i])
		}
	}
}
