package sign

import (
	"encoding/base64"
	"errors"
	"slices"
)

// AlgRSA256 is the only algorithm name the Antom and Alipay+ APIs use.
const AlgRSA256 = "RSA256"

// DefaultKeyVersion is the keyVersion assumed when a header names none.
const DefaultKeyVersion = "1"

// MaxHeaderLen bounds a signature header. An RSA-4096 signature is 684
// base64 characters, ~760 URL-encoded; the rest is a few dozen bytes.
const MaxHeaderLen = 1024

// Errors of signature headers and verification. Callers map ErrKeyNotFound
// to KEY_NOT_FOUND and every other error of this package to
// INVALID_SIGNATURE.
var (
	ErrNoSignature  = errors.New("sign: signature header is missing")
	ErrMalformed    = errors.New("sign: signature header is malformed")
	ErrAlgorithm    = errors.New("sign: signature algorithm is not the key's")
	ErrEncoding     = errors.New("sign: signature is not url-encoded base64")
	ErrKeyNotFound  = errors.New("sign: no key for this keyVersion")
	ErrBadSignature = errors.New("sign: signature does not match the content")
)

// Header is a parsed signature header. Its slices point into the parsed
// value and live as long as it does.
type Header struct {
	Algorithm  []byte // as sent; empty if absent
	KeyVersion []byte // DefaultKeyVersion when absent
	Signature  []byte // still URL-encoded base64; see DecodeSignature
}

// ParseSignatureHeader parses `algorithm=RSA256,keyVersion=1,signature=…`:
// items split on ',' and trimmed of spaces, each split on its first '='.
// Item names are matched exactly, unknown items ignored, a repeated item
// or a missing signature is ErrMalformed. It does not allocate.
func ParseSignatureHeader(v []byte, h *Header) error {
	*h = Header{}
	if len(v) == 0 {
		return ErrNoSignature
	}
	if len(v) > MaxHeaderLen {
		return ErrMalformed
	}
	var haveAlg, haveVer, haveSig bool
	for len(v) > 0 {
		var item []byte
		if i := indexByte(v, ','); i >= 0 {
			item, v = v[:i], v[i+1:]
		} else {
			item, v = v, nil
		}
		item = trimSpace(item)
		if len(item) == 0 {
			continue
		}
		eq := indexByte(item, '=')
		if eq <= 0 {
			return ErrMalformed
		}
		name, val := trimSpace(item[:eq]), trimSpace(item[eq+1:])
		switch string(name) {
		case "algorithm":
			if haveAlg {
				return ErrMalformed
			}
			haveAlg, h.Algorithm = true, val
		case "keyVersion":
			if haveVer {
				return ErrMalformed
			}
			haveVer, h.KeyVersion = true, val
		case "signature":
			if haveSig {
				return ErrMalformed
			}
			haveSig, h.Signature = true, val
		}
	}
	if !haveSig || len(h.Signature) == 0 {
		return ErrMalformed
	}
	if len(h.KeyVersion) == 0 {
		h.KeyVersion = []byte(DefaultKeyVersion)
	}
	return nil
}

// AppendSignatureHeader appends `algorithm=RSA256,keyVersion=<v>,signature=<enc>`
// where enc is sig in standard base64 with padding, URL form-encoded
// (+ / = as %2B %2F %3D) like the SDKs' url.QueryEscape / URLEncoder /
// quote_plus, so the Java SDK's split on ',' and '=' sees exactly three
// items of two parts each.
func AppendSignatureHeader(dst []byte, keyVersion string, sig []byte) []byte {
	dst = append(dst, "algorithm="+AlgRSA256+",keyVersion="...)
	dst = append(dst, keyVersion...)
	dst = append(dst, ",signature="...)
	return AppendEncodedSignature(dst, sig)
}

// AppendEncodedSignature appends sig as URL-encoded standard base64.
func AppendEncodedSignature(dst []byte, sig []byte) []byte {
	var tmp [1024]byte
	n := base64.StdEncoding.EncodedLen(len(sig))
	var b []byte
	if n <= len(tmp) {
		b = tmp[:n]
	} else {
		b = make([]byte, n)
	}
	base64.StdEncoding.Encode(b, sig)
	for _, c := range b {
		switch c {
		case '+':
			dst = append(dst, "%2B"...)
		case '/':
			dst = append(dst, "%2F"...)
		case '=':
			dst = append(dst, "%3D"...)
		default:
			dst = append(dst, c)
		}
	}
	return dst
}

// DecodeSignature appends the raw signature bytes of enc (URL-encoded
// base64) to dst. Percent escapes are decoded; a literal '+' is kept as
// '+' (base64 has no spaces, and some clients do not URL-encode), then
// the result must be strict padded standard base64.
func DecodeSignature(dst, enc []byte) ([]byte, error) {
	var tmp [1024]byte
	b := tmp[:0]
	if len(enc) > len(tmp) {
		return dst, ErrEncoding
	}
	for i := 0; i < len(enc); i++ {
		c := enc[i]
		if c == '%' {
			if i+2 >= len(enc) {
				return dst, ErrEncoding
			}
			hi, ok1 := unhex(enc[i+1])
			lo, ok2 := unhex(enc[i+2])
			if !ok1 || !ok2 {
				return dst, ErrEncoding
			}
			c = hi<<4 | lo
			i += 2
		}
		b = append(b, c)
	}
	n := base64.StdEncoding.DecodedLen(len(b))
	start := len(dst)
	dst = slices.Grow(dst, n)[:start+n]
	m, err := base64.StdEncoding.Strict().Decode(dst[start:], b)
	if err != nil || m == 0 {
		return dst[:start], ErrEncoding
	}
	return dst[:start+m], nil
}

func unhex(c byte) (byte, bool) {
	switch {
	case '0' <= c && c <= '9':
		return c - '0', true
	case 'a' <= c && c <= 'f':
		return c - 'a' + 10, true
	case 'A' <= c && c <= 'F':
		return c - 'A' + 10, true
	}
	return 0, false
}

func indexByte(b []byte, c byte) int {
	for i := range b {
		if b[i] == c {
			return i
		}
	}
	return -1
}

func trimSpace(b []byte) []byte {
	for len(b) > 0 && (b[0] == ' ' || b[0] == '\t') {
		b = b[1:]
	}
	for len(b) > 0 && (b[len(b)-1] == ' ' || b[len(b)-1] == '\t') {
		b = b[:len(b)-1]
	}
	return b
}
