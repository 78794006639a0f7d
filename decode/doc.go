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
// plane of JPEGs are read in place, other layouts are converted in one
// loop over their Pix slice (see lumaOf), and the common PNGs (8-bit gray,
// RGB, RGBA) are unfiltered straight into the plane (pngLuma), bit for bit
// what image/png and lumaOf give.
//
// # Stages
//
// Each image first gets one cheap attempt, then harder ones while its work
// account (Config.Work) lasts:
//
//	fast       native luminance, hybrid binarizer, no TRY_HARDER
//	tryharder  TRY_HARDER: QR scans every row; 1D scans every row, both
//	           directions, and the frame turned 90° (vertical barcodes; the
//	           later stages do not turn it again)
//	global     global-histogram binarizer (QR only; 1D rows are the same)
//	downscale  frame halved with a box filter, hybrid then global
//	upscale    small frame enlarged 3/2, hybrid then global
//	contrast   1st..99th luminance percentile stretched to 0..255
//	inverted   black and white swapped (dark-mode screens)
//	magnify    frame enlarged 5/2, hybrid, QR only, when the fast stage saw
//	           two or more finder candidates (QR codes at 1 to 2 px per
//	           module)
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
//     so a decompression bomb costs a header read. A PNG whose image data
//     could not hold its declared rows even at deflate's best ratio
//     (1032:1) is refused before either PNG decoder allocates anything by
//     the declared size (pngRowsFit): a tiny PNG cannot claim MaxPixels.
//     JPEG has no such bound (a progressive scan can cover thousands of
//     blocks in a few bits): a few hundred bytes of JPEG may still cost a
//     MaxPixels raster. Peak memory per image is
//     then bounded by roughly MaxPixels times 4 to 12 bytes (RGBA PNG to
//     progressive JPEG) plus about 2 bytes per pixel of scratch planes,
//     and in flight by Workers such images (queued ones hold their bytes).
//   - Concurrency is bounded by Config.Workers, waiting by
//     Config.QueueSize; beyond that, ErrBusy at once (retryable).
//   - Work: after the fast stage, each attempt is charged the pixels it
//     binarizes against Config.Work before it runs, and a frame in which
//     the fast stage saw no QR finder candidate runs a lean plan (no
//     downscale or magnify stage, no QR pass in tryharder and upscale,
//     upscale only where Code 128 start patterns line up on several
//     rows). Both depend on the frame only, so
//     the verdict is the same on an idle and a busy machine. QR passes
//     stop past 80 finder candidates (gozxing pairs them in O(n³); a
//     texture would cost seconds).
//   - Time: Config.Budget is a wall-time safety net far above the normal
//     cost, from when a worker picks the image up (image decoding
//     included). It is polled between attempts and on every 1D row; when
//     it fires the call fails with ErrBudget, Result.Stage names the stage
//     it stopped, and Decoder.SafetyNetFired counts it. The fast stage
//     always completes. The caller's context is checked at the same points
//     and while the image is decoded; a caller whose image is still queued
//     returns immediately.
//   - Results: a 1D symbol whose text is not a payment code (16 to 32
//     digits) is a miss unless Config.AnyText; empty text is never
//     returned; two different payment codes in one frame are ErrAmbiguous.
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
//
// It imports nothing of paycode outside decode/: a decoder knows images
// and symbols, not payments.
package decode
