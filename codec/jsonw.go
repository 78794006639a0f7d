package codec

import (
	"strconv"
	"time"
	"unicode/utf8"
)

// Append-style JSON writing helpers. They write into caller-owned buffers
// and never allocate beyond the buffer's own growth.

const hexDigits = "0123456789abcdef"

// jsonPlain marks the bytes AppendJSONString copies as they are: ASCII
// from space up, except the quote, the backslash and <, > and &. One table
// load per byte instead of six comparisons: every id, name and message
// of every answer and wallet request goes through this loop.
var jsonPlain = func() (t [256]bool) {
	for c := 0x20; c < utf8.RuneSelf; c++ {
		t[c] = c != '"' && c != '\\' && c != '<' && c != '>' && c != '&'
	}
	return t
}()

// AppendJSONString appends s as a JSON string with quotes, byte for byte
// what encoding/json writes: quotes, backslashes and control characters are
// escaped (\b \f \n \r \t short, the rest as \u00XX); <, > and & plus
// U+2028/U+2029 are escaped so the output is safe to embed anywhere; and
// invalid UTF-8 becomes \ufffd, one per bad byte. The last rule matters
// because lanes' JSON parsers (Jackson among them) reject a body that is
// not UTF-8, and a wallet's message is not ours to trust.
func AppendJSONString[S ~string | ~[]byte](dst []byte, s S) []byte {
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if jsonPlain[c] {
			i++
			continue
		}
		if c < utf8.RuneSelf {
			dst = append(dst, s[start:i]...)
			switch c {
			case '"', '\\':
				dst = append(dst, '\\', c)
			case '\b':
				dst = append(dst, '\\', 'b')
			case '\f':
				dst = append(dst, '\\', 'f')
			case '\n':
				dst = append(dst, '\\', 'n')
			case '\r':
				dst = append(dst, '\\', 'r')
			case '\t':
				dst = append(dst, '\\', 't')
			default:
				dst = append(dst, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xF])
			}
			i++
			start = i
			continue
		}
		// A conversion of at most 4 bytes that does not escape stays on
		// the stack, so decoding a []byte does not allocate.
		n := min(len(s)-i, utf8.UTFMax)
		r, size := utf8.DecodeRuneInString(string(s[i : i+n]))
		if r == utf8.RuneError && size == 1 {
			dst = append(dst, s[start:i]...)
			dst = append(dst, `\ufffd`...)
			i++
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			dst = append(dst, s[start:i]...)
			dst = append(dst, '\\', 'u', '2', '0', '2', hexDigits[r&0xF])
			i += size
			start = i
			continue
		}
		i += size
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}

// AppendKey appends `"key":` (key must need no escaping) preceded by a comma
// unless dst ends with '{' or '['.
func AppendKey(dst []byte, key string) []byte {
	if n := len(dst); n > 0 && dst[n-1] != '{' && dst[n-1] != '[' {
		dst = append(dst, ',')
	}
	dst = append(dst, '"')
	dst = append(dst, key...)
	return append(dst, '"', ':')
}

// AppendStringField appends `,"key":"value"`.
func AppendStringField[S ~string | ~[]byte](dst []byte, key string, v S) []byte {
	return AppendJSONString(AppendKey(dst, key), v)
}

// optStringField appends `,"key":"v"`, or nothing when v is empty: both
// APIs leave optional fields out rather than send them as "" (see the
// lane writers and the MPP messages for why).
func optStringField[S ~string | ~[]byte](dst []byte, key string, v S) []byte {
	if len(v) == 0 {
		return dst
	}
	return AppendStringField(dst, key, v)
}

// optAmountField appends `,"key":{amount}`, or nothing when a has no
// currency.
func optAmountField(dst []byte, key string, a Amount) []byte {
	if !a.Currency.Valid() {
		return dst
	}
	return AppendAmountField(dst, key, a)
}

// optTimeField appends t as an RFC 3339 datetime in its own offset (spec
// §1.4), to the second, e.g. "2019-11-27T12:01:01+08:00", or nothing for
// the zero time.
func optTimeField(dst []byte, key string, t time.Time) []byte {
	if t.IsZero() {
		return dst
	}
	dst = append(AppendKey(dst, key), '"')
	dst = t.AppendFormat(dst, time.RFC3339)
	return append(dst, '"')
}

// AppendAmount appends an Amount object `{"currency":"HKD","value":"100"}`
// (value as a string of minor units, as Antom sends it).
func AppendAmount(dst []byte, a Amount) []byte {
	dst = append(dst, `{"currency":"`...)
	dst = a.Currency.AppendCode(dst)
	dst = append(dst, `","value":"`...)
	dst = strconv.AppendInt(dst, a.Value, 10)
	return append(dst, `"}`...)
}

// AppendAmountField appends `,"key":{amount}`.
func AppendAmountField(dst []byte, key string, a Amount) []byte {
	return AppendAmount(AppendKey(dst, key), a)
}

// AppendResult appends the Antom result object for r with message msg (the
// code's default message when msg is empty). A code outside the table
// (ResultNone included) is a bug upstream; it is written as
// UNKNOWN_EXCEPTION (U) rather than as invalid JSON, because U makes a lane
// inquire again instead of concluding anything about the money.
func AppendResult[S ~string | ~[]byte](dst []byte, r ResultCode, msg S) []byte {
	if r == ResultNone || r >= resultCount {
		r = UnknownException
	}
	dst = append(dst, `{"resultCode":"`...)
	dst = append(dst, r.String()...)
	dst = append(dst, `","resultStatus":"`...)
	dst = append(dst, r.Status())
	dst = append(dst, `","resultMessage":`...)
	if len(msg) == 0 {
		dst = AppendJSONString(dst, r.Message())
	} else {
		dst = AppendJSONString(dst, msg)
	}
	return append(dst, '}')
}
