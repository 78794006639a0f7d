package decode

import (
	"bytes"
	"context"
	"fmt"
	"image"
	"image/gif"
	"image/jpeg"
	"image/png"
	"io"
	"strings"
)

// imageFormat is a supported container, recognised by its magic bytes.
type imageFormat struct {
	name   string
	config func(io.Reader) (image.Config, error)
	decode func(io.Reader) (image.Image, error)
}

var (
	formatPNG  = imageFormat{"png", png.DecodeConfig, png.Decode}
	formatJPEG = imageFormat{"jpeg", jpeg.DecodeConfig, jpeg.Decode}
	formatGIF  = imageFormat{"gif", gif.DecodeConfig, gif.Decode}
)

// sniff picks the decoder by magic bytes rather than through image.Decode,
// whose process-wide registry may hold formats that some other package
// registered (WebP, BMP, TIFF, ...): the attack surface stays the three
// formats this package documents.
func sniff(data []byte) (imageFormat, bool) {
	switch {
	case bytes.HasPrefix(data, []byte("\x89PNG\r\n\x1a\n")):
		return formatPNG, true
	case bytes.HasPrefix(data, []byte("\xff\xd8")):
		return formatJPEG, true
	case bytes.HasPrefix(data, []byte("GIF87a")), bytes.HasPrefix(data, []byte("GIF89a")):
		return formatGIF, true
	}
	return imageFormat{}, false
}

// decodeImage decodes data after checking, from the header alone, that the
// pixel count is within maxPixels: a few hundred bytes of PNG can declare
// gigapixels, and the stdlib decoders allocate the whole raster up front.
// Decoding stops early if ctx is cancelled (the reader fails).
func decodeImage(ctx context.Context, data []byte, maxPixels int) (image.Image, error) {
	f, ok := sniff(data)
	if !ok {
		return nil, fmt.Errorf("%w: not PNG, JPEG or GIF", ErrFormat)
	}
	c, err := f.config(bytes.NewReader(data))
	if err != nil {
		return nil, f.malformed(" header", err)
	}
	if err := checkDims(c.Width, c.Height, maxPixels); err != nil {
		return nil, err
	}
	if f.name == formatPNG.name && !pngPlausible(data) {
		// image/png's own words for rows cut short, before it would
		// allocate the raster to find out.
		return nil, f.malformed("", png.FormatError("not enough pixel data"))
	}
	img, err := f.decode(&ctxReader{ctx: ctx, r: bytes.NewReader(data)})
	if err != nil {
		if e := ctx.Err(); e != nil {
			return nil, ctxError(e)
		}
		return nil, f.malformed("", err)
	}
	// The decoders size the raster from the header; check again so that a
	// decoder change can never slip a larger image past the cap.
	b := img.Bounds()
	if err := checkDims(b.Dx(), b.Dy(), maxPixels); err != nil {
		return nil, err
	}
	return img, nil
}

// malformed is ErrFormat for err from f's standard-library decoder,
// which already names its format in its text ("png: invalid format: …",
// "gif: …"): the format is named once ("png: invalid format: …", "png
// header: invalid format: …"), whichever decoder failed. It wraps err too.
func (f imageFormat) malformed(where string, err error) error {
	return fmt.Errorf("%w: %s%s: %w", ErrFormat, f.name, where, trimmedError{err, f.name + ": "})
}

// trimmedError is err with its leading prefix dropped from its text.
type trimmedError struct {
	err    error
	prefix string
}

func (e trimmedError) Error() string { return strings.TrimPrefix(e.err.Error(), e.prefix) }
func (e trimmedError) Unwrap() error { return e.err }

// checkDims rejects empty frames (ErrFormat) and frames over maxPixels
// (ErrTooLarge) without overflowing on absurd dimensions.
func checkDims(w, h, maxPixels int) error {
	if w < 1 || h < 1 {
		return fmt.Errorf("%w: empty %dx%d frame", ErrFormat, w, h)
	}
	if w > maxPixels/h {
		return fmt.Errorf("%w: %dx%d pixels exceeds the limit of %d", ErrTooLarge, w, h, maxPixels)
	}
	return nil
}

// ctxReader fails reads once ctx is done, so that decoding a large image
// for a caller who has gone away ends at the next read.
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c *ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}
