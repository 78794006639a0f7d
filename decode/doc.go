// Package decode reads payment codes (QR and Code 128, optionally other 1D
// barcodes) from images: PNG, JPEG and GIF bytes, already decoded
// image.Image values, and raw 8-bit grayscale frames.
//
// # What it owns
//
// The package wraps gozxing (github.com/makiuchi-d/gozxing) completely: no
// gozxing type, hint map or exception appears in its API. Callers get a
// Result (text, Symbology, the Stage that found it, the symbol's rotation,
// elapsed time) or one of the sentinel errors in errors.go, matched with
// errors.Is. A panic inside gozxing or an image decoder is recovered at the
// attempt (or the image) and reported as ErrInternal; it never reaches the
// caller's goroutine.
//
// It also owns the conversion from pixels to luminance. gozxing's stock
// path calls At(x, y).RGBA() for every pixel; here Gray images and the Y
// plane of JPEGs are read in place and other layouts are converted in one
// loop over their Pix slice (see lumaOf).
//
// # Stages
//
// Each image first gets one cheap attempt, then harder ones while its time
// budget lasts:
//
//	fast       native luminance, hybrid binarizer, no TRY_HARDER
//	tryharder  TRY_HARDER: QR scans every row; 1D scans every row, both
//	           directions, and the frame turned 90° (vertical barcodes)
//	global     global-histogram binarizer (QR only; 1D rows are the same)
//	downscale  frame halved with a box filter, hybrid then global
//	upscale    small frame enlarged 3/2, hybrid then global
//	contrast   1st..99th luminance percentile stretched to 0..255
//	inverted   black and white swapped (dark-mode screens)
//
// In the tryharder and global stages, a QR code whose finder patterns were
// found but which did not decode is sampled again with its fourth corner
// searched rather than guessed (keystone.go): strong perspective.
//
// Frames above Config.DownscaleAbove pixels are halved (box filter) until
// they are not, after the fast stage and before the others, which bounds
// the cost of each later attempt (up to about 70 ms on one core at the
// default, BenchmarkFallbackAttempt) whatever the photo's size. Most images
// decode in the fast stage; Result.Stage says which one did, so its
// distribution is a useful metric.
//
// # Limits and guarantees
//
//   - Input bytes are capped (Config.MaxBytes) before anything is parsed.
//   - Pixel counts are capped (Config.MaxPixels) from the image header
//     (image.DecodeConfig), before the stdlib decoder allocates the raster,
//     so a decompression bomb costs a header read. Peak memory per image is
//     then bounded by roughly MaxPixels times 4 to 12 bytes (RGBA PNG to
//     progressive JPEG) plus about 2 bytes per pixel of scratch planes.
//   - Concurrency is bounded by Config.Workers, waiting by
//     Config.QueueSize; beyond that, ErrBusy at once (retryable).
//   - Time: the budget (Config.Budget) starts when a worker picks the image
//     up, and covers image decoding. The fast stage always completes, so a
//     code in a huge frame is not lost to a tight budget; every later
//     attempt starts only with budget left, and 1D row scans check it on
//     each row. A call can therefore overrun by one attempt: fast-stage
//     time (about 10 ns per pixel) or one bounded fallback attempt. The
//     caller's context is checked at the same points and while the image is
//     decoded; a caller whose image is still queued returns immediately.
//   - Inputs are read, never modified, and not retained after the call
//     returns: a call waits for the worker to let go of its input.
//   - Decoded text never appears in errors; Result prints it masked (Mask).
//
// # Concurrency inside gozxing
//
// A gozxing BinaryBitmap caches its black matrix and its binarizer keeps
// row buffers, so one is built per attempt and never shared. Several 1D
// readers (Code 39, Code 93, Codabar, ITF, UPC/EAN, RSS-14) keep scratch
// state in the reader and race (Codabar panics) when shared between
// goroutines; each worker therefore has its own readers, and rebuilds them
// after a recovered panic.
package decode
