package decode

import (
	"fmt"
	"runtime"
	"strings"
	"time"
)

// Defaults applied by [Config.EnsureDefaults] to zero-valued fields. They are
// exported so that flag help texts and documentation can quote them.
const (
	// DefaultBudget is the wall-time safety net of one image after a worker
	// picked it up. It is not what bounds a decode (Work does, the same on
	// a busy and an idle machine): it sits far above the normal cost (every
	// stage of a 640x480 frame takes about 10 ms on one idle core, of a
	// DownscaleAbove-size frame a few hundred), so it fires only when the
	// machine is starved, and then says so (ErrBudget, the stage in
	// Result.Stage, Decoder.SafetyNetFired).
	DefaultBudget = 2 * time.Second

	// DefaultWork is the work one image may do after the fast stage, in
	// pixels examined: every attempt charges the pixels of the plane it
	// binarizes (twice for the try-harder stage, whose 1D pass also scans
	// the frame turned 90°). A frame's plan is a fixed list of attempts, so
	// whether a stage runs depends on the frame only, never on the clock.
	// 24 Mpx covers every stage of a frame at DownscaleAbove (2 Mpx), the
	// largest a fallback stage works on.
	DefaultWork = 24 << 20

	// DefaultMaxBytes caps encoded input. A phone screenshot or photo of a
	// payment code is well below it; anything larger is more likely abuse.
	DefaultMaxBytes = 8 << 20

	// DefaultMaxPixels caps the declared size of an image (and the size of a
	// raw frame). 16 Mpx covers a 12 Mpx phone camera with margin while
	// bounding the memory one decode can take (see the package comment).
	DefaultMaxPixels = 16 << 20

	// DefaultQueueSize is how many images may wait for a busy worker before
	// Decode answers ErrBusy. A small queue absorbs bursts without letting
	// latency grow unbounded.
	DefaultQueueSize = 4

	// DefaultDownscaleAbove is the frame size (pixels) above which the
	// fallback stages work on a box-filtered half (quarter, ...) size copy.
	// On a frame of this size with no code in it, one gozxing attempt costs
	// about 10 (fast) to 35 (tryharder) ns per pixel, 20 to 70 ms on one
	// core (BenchmarkFallbackAttempt), however large the photo was.
	DefaultDownscaleAbove = 2 << 20
)

// NoQueue as [Config.QueueSize] disables the waiting room: a call that finds
// every worker busy fails with ErrBusy at once. (Zero selects the default.)
const NoQueue = -1

// Config tunes a [Decoder]. The zero value is usable: [New] fills zero fields
// with the Default constants above. A Config is plain data; it holds no
// secrets, so it can be printed and logged as is.
type Config struct {
	// Workers is the number of images decoded concurrently. Zero means
	// runtime.GOMAXPROCS(0), so decoding can use every core but never more.
	Workers int

	// QueueSize is how many further images may wait for a worker. Zero
	// means DefaultQueueSize, NoQueue means none.
	QueueSize int

	// Budget is the wall-time safety net of one image after a worker
	// picked it up, image decoding included: past it the image stops with
	// ErrBudget whatever stage it is in (checked between attempts and on
	// every 1D row). Keep it far above the normal cost; Work is what bounds
	// a decode. Zero means DefaultBudget.
	Budget time.Duration

	// Work bounds the fallback stages of one image in pixels examined (see
	// DefaultWork): deterministic for a given frame and Config. An image
	// whose next attempt would exceed it ends with ErrNotFound. Zero means
	// DefaultWork.
	Work int

	// AnyText returns 1D symbols whatever their text. By default a 1D
	// symbol whose text is not a payment code (16 to 32 ASCII digits) is
	// a miss and the search goes on: a short or empty Code 128 is what a
	// texture (fabric, brick, a keyboard) most often fakes. QR codes carry
	// Reed-Solomon checks and are returned whatever their text, so a
	// caller can say "this QR code is not a payment code". Empty text is
	// never returned.
	AnyText bool

	// MaxBytes caps the encoded input of Decode. Zero means DefaultMaxBytes.
	MaxBytes int

	// MaxPixels caps width*height of any image, as declared in its header,
	// and of raw frames. Zero means DefaultMaxPixels.
	MaxPixels int

	// DownscaleAbove is the frame size in pixels above which fallback stages
	// run on a downscaled copy. Zero means DefaultDownscaleAbove.
	DownscaleAbove int

	// Symbologies lists what to look for. Nil means DefaultSymbologies (QR
	// and Code 128, the payment-code carriers); every extra 1D symbology
	// costs time on every image and raises the chance of a false read.
	Symbologies []Symbology

	// FastOnly skips every fallback stage: one cheap attempt, then
	// ErrNotFound. Useful for live camera frames, where the next frame is a
	// better retry than a harder look at this one.
	FastOnly bool
}

// DefaultConfig returns a Config with every default filled in, for callers
// who want to start from the defaults and print or adjust them.
func DefaultConfig() Config {
	var c Config
	c.EnsureDefaults()
	return c
}

// EnsureDefaults replaces zero-valued fields with their defaults. It leaves
// invalid (negative) values alone so that Validate can report them.
func (c *Config) EnsureDefaults() {
	if c.Workers == 0 {
		c.Workers = runtime.GOMAXPROCS(0)
	}
	if c.QueueSize == 0 {
		c.QueueSize = DefaultQueueSize
	}
	if c.Budget == 0 {
		c.Budget = DefaultBudget
	}
	if c.Work == 0 {
		c.Work = DefaultWork
	}
	if c.MaxBytes == 0 {
		c.MaxBytes = DefaultMaxBytes
	}
	if c.MaxPixels == 0 {
		c.MaxPixels = DefaultMaxPixels
	}
	if c.DownscaleAbove == 0 {
		c.DownscaleAbove = DefaultDownscaleAbove
	}
	if c.Symbologies == nil {
		c.Symbologies = DefaultSymbologies()
	}
}

// Validate reports the first field that cannot work. It expects defaults to
// have been applied; New does both.
func (c *Config) Validate() error {
	switch {
	case c.Workers < 1:
		return fmt.Errorf("%w: Workers %d < 1", ErrConfig, c.Workers)
	case c.QueueSize < NoQueue:
		return fmt.Errorf("%w: QueueSize %d (use NoQueue for none)", ErrConfig, c.QueueSize)
	case c.Budget < 0:
		return fmt.Errorf("%w: negative Budget %v", ErrConfig, c.Budget)
	case c.Work < 0:
		return fmt.Errorf("%w: negative Work %d", ErrConfig, c.Work)
	case c.MaxBytes < 1:
		return fmt.Errorf("%w: MaxBytes %d < 1", ErrConfig, c.MaxBytes)
	case c.MaxPixels < 1:
		return fmt.Errorf("%w: MaxPixels %d < 1", ErrConfig, c.MaxPixels)
	case c.DownscaleAbove < minDownscaleAbove:
		return fmt.Errorf("%w: DownscaleAbove %d < %d", ErrConfig, c.DownscaleAbove, minDownscaleAbove)
	case len(c.Symbologies) == 0:
		return fmt.Errorf("%w: no Symbologies", ErrConfig)
	}
	for _, s := range c.Symbologies {
		if !s.valid() {
			return fmt.Errorf("%w: unknown symbology %d", ErrConfig, uint8(s))
		}
	}
	return nil
}

// minDownscaleAbove keeps the downscaled frame large enough that a QR code
// filling it still has a few pixels per module.
const minDownscaleAbove = 64 * 64

// queue returns the number of waiting slots, resolving NoQueue.
func (c *Config) queue() int {
	if c.QueueSize < 0 {
		return 0
	}
	return c.QueueSize
}

// String prints the configuration on one line, for startup logs.
func (c Config) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "workers=%d queue=%d budget=%v work=%d any_text=%t max_bytes=%d max_pixels=%d downscale_above=%d fast_only=%t symbologies=",
		c.Workers, c.QueueSize, c.Budget, c.Work, c.AnyText, c.MaxBytes, c.MaxPixels, c.DownscaleAbove, c.FastOnly)
	for i, s := range c.Symbologies {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(s.String())
	}
	return b.String()
}
