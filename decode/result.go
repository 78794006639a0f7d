package decode

import (
	"fmt"
	"log/slog"
	"strings"
	"time"
	"unicode/utf8"
)

// Stage names the step of the search that found a code. The set is small
// and fixed, so it is safe as a metric label.
type Stage uint8

// Stages in the order they run (see the package comment).
const (
	StageNone      Stage = iota // nothing found
	StageFast                   // native luminance, no TRY_HARDER
	StageTryHarder              // TRY_HARDER; 1D readers also try the frame turned 90°
	StageGlobal                 // global-histogram binarizer (uneven light, low contrast)
	StageDownscale              // frame halved with a box filter (blur, oversized modules)
	StageUpscale                // small frame enlarged 3/2 (tiny modules)
	StageContrast               // luminance stretched to the full range
	StageInverted               // light code on dark ground
	StageMagnify                // frame enlarged 5/2 (QR codes at 1 to 2 px per module)
	stageEnd
)

var stageNames = [stageEnd]string{
	StageNone:      "none",
	StageFast:      "fast",
	StageTryHarder: "tryharder",
	StageGlobal:    "global",
	StageDownscale: "downscale",
	StageUpscale:   "upscale",
	StageContrast:  "contrast",
	StageInverted:  "inverted",
	StageMagnify:   "magnify",
}

// String returns the stage's lower-case name, e.g. "fast".
func (s Stage) String() string {
	if s < stageEnd {
		return stageNames[s]
	}
	return fmt.Sprintf("Stage(%d)", uint8(s))
}

// Result is one decoded barcode.
//
// Text may be a payment code, which is a bearer token: String, GoString and
// LogValue print it masked (see Mask), so a Result can be logged with fmt or
// slog without leaking it. Read Text only to hand it on.
type Result struct {
	// Text is the decoded content, UTF-8. Code 128 extended (FNC4)
	// characters are ISO-8859-1 and converted accordingly.
	Text string

	// Symbology is the barcode type that was read.
	Symbology Symbology

	// Stage is the search step that found it.
	Stage Stage

	// Rotated is the symbol's orientation in the frame, clockwise degrees
	// from upright, rounded to 0, 90, 180 or 270.
	Rotated int

	// Elapsed is the wall time of the call, queueing included.
	Elapsed time.Duration
}

// String prints the result with Text masked.
func (r Result) String() string {
	return fmt.Sprintf("%s %q stage=%s rotated=%d elapsed=%v",
		r.Symbology, Mask(r.Text), r.Stage, r.Rotated, r.Elapsed)
}

// GoString keeps %#v from printing Text whole.
func (r Result) GoString() string { return "decode.Result{" + r.String() + "}" }

// LogValue makes slog print Text masked.
func (r Result) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("text", Mask(r.Text)),
		slog.String("symbology", r.Symbology.String()),
		slog.String("stage", r.Stage.String()),
		slog.Int("rotated", r.Rotated),
		slog.Duration("elapsed", r.Elapsed),
	)
}

// Mask returns text in a form safe to log or print.
//
// A payment code (16 to 32 ASCII digits) keeps its first 6 and last 4 digits
// and every digit between becomes '*', so its length stays visible, as with
// masked card numbers. Any other text longer than 10 runes is cut to its
// first 6 and last 4 runes joined by a single '*'; shorter text is returned
// unchanged, as it is too short to be a payment code.
func Mask(text string) string {
	if isPaymentCode(text) {
		var b strings.Builder
		b.Grow(len(text))
		b.WriteString(text[:6])
		for range len(text) - 10 {
			b.WriteByte('*')
		}
		b.WriteString(text[len(text)-4:])
		return b.String()
	}
	n := utf8.RuneCountInString(text)
	if n <= 10 {
		return text
	}
	// Walk to the byte offsets of rune 6 and of rune n-4.
	head, tail, i := 0, 0, 0
	for off := range text {
		if i == 6 {
			head = off
		}
		if i == n-4 {
			tail = off
			break
		}
		i++
	}
	return text[:head] + "*" + text[tail:]
}

// isPaymentCode reports whether text has the shape of a payment code: 16 to
// 32 ASCII digits.
func isPaymentCode(text string) bool {
	if len(text) < 16 || len(text) > 32 {
		return false
	}
	for i := 0; i < len(text); i++ {
		if text[i] < '0' || text[i] > '9' {
			return false
		}
	}
	return true
}
