package decode

import (
	"bytes"
	"context"
	"encoding/binary"
	"hash/crc32"
	"io"
	"sync"

	"github.com/klauspost/compress/zlib"
)

// pngLuma decodes the common PNG straight into a luminance plane: 8-bit
// gray, RGB or RGBA, not interlaced, with no PLTE or tRNS chunk (what
// cameras, screenshots and the project's generators write). It gives the
// plane image/png followed by lumaOf would, bit for bit
// (TestPNGLumaExact, FuzzPNGLuma), without the intermediate image: an RGB
// or RGBA frame is converted row by row as it is unfiltered, a gray one is
// the unfiltered rows. Inflating is klauspost/compress's, which reads a
// byte slice without an interface call per byte (image/png's zlib reads
// through a bufio.Reader): on generated 640×480 frames it takes about
// 0.7× image/png's CPU time (BenchmarkPNGLuma).
//
// ok is false, with nothing decoded, for anything else or anything
// irregular (another layout, a bad CRC or checksum, chunks out of order,
// too much or too little pixel data, more pixels than maxPixels, less
// data than the rows need even at deflate's best ratio: pngRowsFit): the
// caller then decodes with image/png, which gives the precise error. So
// this path accepts no file image/png rejects and reads none differently.
// err is only the caller's context ending. The plane is in mem.
func pngLuma(ctx context.Context, data []byte, maxPixels int, mem *arena) (p plane, ok bool, err error) {
	const sigLen = 8
	if !bytes.HasPrefix(data, []byte("\x89PNG\r\n\x1a\n")) {
		return plane{}, false, nil
	}
	var (
		w, h, bpp int
		idat      []byte // the IDAT chunks, consecutive, whole (length, type, payload, CRC)
		nIDAT     int    // how many
		idatDone  bool   // a chunk other than IDAT followed them
		seenIEND  bool
	)
	rest := data[sigLen:]
	for first := true; !seenIEND; first = false {
		if len(rest) < 12 {
			return plane{}, false, nil
		}
		n := binary.BigEndian.Uint32(rest[:4])
		if n > 0x7fffffff || uint64(n) > uint64(len(rest)-12) {
			return plane{}, false, nil
		}
		typ, body, chunk := string(rest[4:8]), rest[8:8+n], rest[:12+n]
		if crc32.ChecksumIEEE(rest[4:8+n]) != binary.BigEndian.Uint32(rest[8+n:12+n]) {
			return plane{}, false, nil
		}
		rest = rest[12+n:]
		if first != (typ == "IHDR") {
			return plane{}, false, nil
		}
		switch typ {
		case "IHDR":
			if n != 13 {
				return plane{}, false, nil
			}
			w32, h32 := binary.BigEndian.Uint32(body[0:4]), binary.BigEndian.Uint32(body[4:8])
			depth, ct := body[8], body[9]
			// compression, filter method, interlace
			if depth != 8 || body[10] != 0 || body[11] != 0 || body[12] != 0 {
				return plane{}, false, nil
			}
			switch ct {
			case 0:
				bpp = 1
			case 2:
				bpp = 3
			case 6:
				bpp = 4
			default:
				return plane{}, false, nil
			}
			if w32 == 0 || h32 == 0 || w32 > 0x7fffffff || h32 > 0x7fffffff {
				return plane{}, false, nil
			}
			w, h = int(w32), int(h32)
			if checkDims(w, h, maxPixels) != nil {
				return plane{}, false, nil
			}
		case "IDAT":
			if idatDone {
				return plane{}, false, nil // image/png ignores such chunks; leave them to it
			}
			if nIDAT == 0 {
				idat = chunk
			} else {
				idat = idat[:len(idat)+len(chunk)] // the next bytes of data
			}
			nIDAT++
		case "IEND":
			seenIEND = true
		case "PLTE", "tRNS":
			return plane{}, false, nil
		default:
			if nIDAT > 0 {
				idatDone = true
			}
		}
	}
	if nIDAT == 0 {
		return plane{}, false, nil
	}
	if !pngRowsFit(len(idat)-12*nIDAT, w, h, 8*bpp, false) {
		return plane{}, false, nil // image/png's path refuses it (pngPlausible)
	}
	var z []byte
	if nIDAT == 1 {
		z = idat[8 : len(idat)-4]
	} else {
		z = mem.get(len(idat) - 12*nIDAT)[:0]
		for c := idat; len(c) > 0; { // lengths checked above
			n := binary.BigEndian.Uint32(c[:4])
			z = append(z, c[8:8+n]...)
			c = c[12+n:]
		}
	}
	f, err := getZlib(z)
	if err != nil {
		return plane{}, false, nil
	}
	defer putZlib(f)
	zr := f.zr

	rowBytes := w * bpp
	p = plane{pix: mem.get(w * h), stride: w, w: w, h: h}
	buf := mem.get(2 * (rowBytes + 1))
	cur, prev := buf[:rowBytes+1], buf[rowBytes+1:]
	clear(prev)
	for y := range h {
		if y&63 == 0 && ctx.Err() != nil {
			return plane{}, false, ctxError(ctx.Err())
		}
		if _, err := io.ReadFull(zr, cur); err != nil {
			return plane{}, false, nil
		}
		if !unfilter(cur[0], cur[1:], prev[1:], bpp) {
			return plane{}, false, nil
		}
		lumaRow(p.pix[y*w:(y+1)*w], cur[1:], bpp)
		cur, prev = prev, cur
	}
	// The stream must end here, checksum verified, as image/png requires.
	if n, err := zr.Read(f.one[:]); n != 0 || err != io.EOF {
		return plane{}, false, nil
	}
	return p, true, nil
}

// zlibs pools inflaters (*inflater).
var zlibs sync.Pool

// inflater is a pooled zlib reader, with the reader of its input: the
// zlib reader holds a 32 KiB window and its tables.
type inflater struct {
	zr  io.ReadCloser
	src bytes.Reader
	one [1]byte // pngLuma's read past the last row
}

// getZlib returns a pooled inflater reset to read z (or a new one).
func getZlib(z []byte) (*inflater, error) {
	f, ok := zlibs.Get().(*inflater)
	if !ok {
		f = new(inflater)
	}
	f.src.Reset(z)
	if f.zr == nil {
		zr, err := zlib.NewReader(&f.src)
		if err != nil {
			return nil, err
		}
		f.zr = zr
		return f, nil
	}
	if err := f.zr.(zlib.Resetter).Reset(&f.src, nil); err != nil {
		return nil, err
	}
	return f, nil
}

// emptyZlib is a zlib stream of no bytes.
var emptyZlib = []byte{0x78, 0x9c, 0x03, 0x00, 0x00, 0x00, 0x00, 0x01}

// putZlib pools f once it reads emptyZlib, so that the pool does not
// keep the caller's bytes alive after the call.
func putZlib(f *inflater) {
	f.src.Reset(emptyZlib)
	if f.zr.(zlib.Resetter).Reset(&f.src, nil) == nil {
		zlibs.Put(f)
	}
}

// unfilter undoes PNG filter ft on the row cdat, pdat being the previous
// row unfiltered (zeros above the first), as image/png does. false for an
// unknown filter type.
func unfilter(ft byte, cdat, pdat []byte, bpp int) bool {
	pdat = pdat[:len(cdat)]
	switch ft {
	case 0:
	case 1: // sub
		for i := bpp; i < len(cdat); i++ {
			cdat[i] += cdat[i-bpp]
		}
	case 2: // up
		for i, p := range pdat {
			cdat[i] += p
		}
	case 3: // average
		for i := 0; i < bpp && i < len(cdat); i++ {
			cdat[i] += pdat[i] / 2
		}
		for i := bpp; i < len(cdat); i++ {
			cdat[i] += uint8((int(cdat[i-bpp]) + int(pdat[i])) / 2)
		}
	case 4: // Paeth
		paeth(cdat, pdat, bpp)
	default:
		return false
	}
	return true
}

// paeth undoes the Paeth filter: each byte predicted by whichever of the
// byte to its left (a), above (b) and above-left (c) is nearest a+b-c,
// preferring a, then b.
func paeth(cdat, pdat []byte, bpp int) {
	for i := range bpp {
		a, c := 0, 0
		for j := i; j < len(cdat); j += bpp {
			b := int(pdat[j])
			pa, pb := b-c, a-c
			pc := abs(pa + pb)
			pa, pb = abs(pa), abs(pb)
			if pa <= pb && pa <= pc {
				// a
			} else if pb <= pc {
				a = b
			} else {
				a = c
			}
			a = (a + int(cdat[j])) & 0xff
			cdat[j] = uint8(a)
			c = b
		}
	}
}

// lumaRow writes the luminance of one unfiltered row of bpp-byte pixels
// (gray, RGB, non-premultiplied RGBA) to dst, as lumaOf does for the
// image image/png returns (Gray, RGBA opaque, NRGBA).
func lumaRow(dst, src []byte, bpp int) {
	switch bpp {
	case 1:
		copy(dst, src)
	case 3:
		for x := range dst {
			p := src[3*x : 3*x+3 : 3*x+3]
			dst[x] = uint8((uint32(p[0]) + 2*uint32(p[1]) + uint32(p[2])) / 4)
		}
	case 4:
		for x := range dst {
			p := src[4*x : 4*x+4 : 4*x+4]
			if p[3] == 0xff {
				dst[x] = uint8((uint32(p[0]) + 2*uint32(p[1]) + uint32(p[2])) / 4)
				continue
			}
			dst[x] = lumNRGBA(p[0], p[1], p[2], p[3])
		}
	}
}
