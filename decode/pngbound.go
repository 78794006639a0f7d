package decode

import "encoding/binary"

// maxDeflateRatio is the most bytes one byte of deflate data can inflate
// to: a 258-byte match coded in 2 bits (RFC 1951) is 1032:1. A PNG whose
// IDAT data, so expanded, cannot hold the rows its header declares is
// broken however it continues, and both decoders would allocate the whole
// raster (by the declared size) before finding out; pngRowsFit refuses it
// first, so a few hundred bytes of PNG cost at most about 1032 times
// their size in pixels, not MaxPixels.
const maxDeflateRatio = 1032

// pngRowsFit reports whether idatBytes of zlib data can hold the filtered
// rows of a w×h PNG of bitsPerPixel bits per pixel: each row a filter
// byte and its pixels' bytes, rounded up (fewer in all when interlaced,
// never fewer than w×h×bitsPerPixel/8). A zlib header and a deflate
// block's header are some bytes of the data that inflate to nothing; the
// slack of one ratio's worth keeps the bound a bound.
func pngRowsFit(idatBytes, w, h, bitsPerPixel int, interlaced bool) bool {
	need := uint64(w) * uint64(h) * uint64(bitsPerPixel) / 8
	if !interlaced {
		need = uint64(h) * ((uint64(w)*uint64(bitsPerPixel)+7)/8 + 1)
	}
	return uint64(idatBytes)*maxDeflateRatio+maxDeflateRatio >= need
}

// pngChannels is the samples per pixel of each PNG colour type (0 for
// none: pngPlausible leaves such a file to image/png).
var pngChannels = [...]int{0: 1, 2: 3, 3: 1, 4: 2, 6: 4}

// pngPlausible is pngRowsFit for a PNG that image/png's DecodeConfig read
// (its chunks walked without checksums, IHDR first): false when the IDAT
// chunks cannot hold the declared rows, true otherwise (image/png then
// gives any other error).
func pngPlausible(data []byte) bool {
	rest := data[8:]
	var w, h, bits int
	var interlaced bool
	idat := 0
	for len(rest) >= 12 {
		n := int(binary.BigEndian.Uint32(rest[:4]))
		if n < 0 || n > len(rest)-12 {
			break
		}
		body := rest[8 : 8+n]
		switch string(rest[4:8]) {
		case "IHDR":
			if n != 13 {
				return true
			}
			w, h = int(binary.BigEndian.Uint32(body[0:4])), int(binary.BigEndian.Uint32(body[4:8]))
			if ct := body[9]; int(ct) < len(pngChannels) {
				bits = int(body[8]) * pngChannels[ct]
			}
			interlaced = body[12] != 0
		case "IDAT":
			idat += n
		case "IEND":
			rest = nil
			continue
		}
		rest = rest[12+n:]
	}
	return bits == 0 || w <= 0 || h <= 0 || pngRowsFit(idat, w, h, bits, interlaced)
}
